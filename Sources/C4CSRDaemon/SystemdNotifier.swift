import Foundation
import Synchronization

/// The sd_notify protocol, without libsystemd: datagrams such as `READY=1` sent to the
/// Unix socket named by `NOTIFY_SOCKET` (a path, or `@name` for the abstract
/// namespace). Without `NOTIFY_SOCKET` (not under systemd) every call does nothing.
///
/// The watchdog interval comes from `WATCHDOG_USEC` (systemd sets it from
/// `WatchdogSec=`); `watchdogIfDue` pings at half of it, and must be called from the
/// code path that proves the daemon alive — the sync loop — never from a timer of its own.
public final class SystemdNotifier: Sendable {
    private let address: [UInt8]?
    private let fd: Int32
    /// Milliseconds between watchdog pings (half of WATCHDOG_USEC), if the watchdog is on.
    public let watchdogIntervalMS: Int64?
    private let lastPing = Mutex<Int64>(0)
    private let lastStatus = Mutex<String>("")

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.hasPrefix("/") || path.hasPrefix("@") {
            var bytes = Array(path.utf8)
            if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
            address = bytes
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        } else {
            address = nil
            fd = -1
        }
        // WATCHDOG_PID, if set, must be ours (systemd sets it for the main process).
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forUs, let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 {
            watchdogIntervalMS = max(1, usec / 2_000)
        } else {
            watchdogIntervalMS = nil
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    public var isActive: Bool { address != nil && fd >= 0 }

    /// Sends one message (`"READY=1"`, `"STATUS=…"`, newline-separated assignments).
    /// Failures are ignored: notification is best effort, as in sd_notify(3).
    public func send(_ message: String) {
        guard let address, fd >= 0 else { return }
        var sa = sockaddr_un()
        sa.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: sa.sun_path)
        guard address.count < capacity else { return }
        withUnsafeMutableBytes(of: &sa.sun_path) { raw in
            for (i, b) in address.enumerated() { raw[i] = b }
        }
        // Abstract addresses are not NUL-terminated: the length says where they end.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count + (address.first == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sp, length) }
            }
        }
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func stopping() { send("STOPPING=1\nSTATUS=stopping") }
    public func reloading() { send("RELOADING=1") }
    public func reloaded(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// Sends `STATUS=` when it changed.
    public func status(_ s: String) {
        let changed = lastStatus.withLock { last -> Bool in
            guard last != s else { return false }
            last = s
            return true
        }
        if changed { send("STATUS=\(s)") }
    }

    /// Pings the watchdog if half its interval has passed since the last ping.
    public func watchdogIfDue(now: Int64) {
        guard let interval = watchdogIntervalMS else { return }
        let due = lastPing.withLock { last -> Bool in
            guard now - last >= interval else { return false }
            last = now
            return true
        }
        if due { send("WATCHDOG=1") }
    }
}
