import Foundation
import Testing

/// `timeout 3 c4csr demo` (SIGTERM), or the demo killed outright: no daemon it started
/// may outlive it (issue: daily use, "the demo stops what it started on any signal").
@Suite(.serialized, .timeLimit(.minutes(6)))
struct DemoSignalTests {
    /// PIDs of `c4csr serve` processes whose command line names `directory`.
    static func daemons(under directory: String) -> [Int32] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.contains("serve") && args.contains { $0.hasPrefix(directory) }
        }
    }

    @Test(arguments: [SIGTERM, SIGKILL])
    func noDaemonOutlivesTheDemo(_ signal: Int32) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-demo-signal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: c4csrBinary)
        p.arguments = ["demo", "--dir", dir]
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_CONFIG"] = ""
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            // Whatever the outcome, nothing of this test keeps running.
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            for pid in Self.daemons(under: dir) { kill(pid, SIGKILL) }
        }
        // Wait until the demo has daemons running (ten cities' keys, certificates and
        // stores come first: slow on a loaded machine).
        let started = Date()
        while Self.daemons(under: dir).count < 3, p.isRunning, Date().timeIntervalSince(started) < 120 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(Self.daemons(under: dir).count >= 3, "the demo started no daemons")
        kill(p.processIdentifier, signal)
        while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let deadline = Date().addingTimeInterval(30)
        while !Self.daemons(under: dir).isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.daemons(under: dir).isEmpty, "daemons outlived the demo after signal \(signal)")
        if signal == SIGTERM { #expect(p.terminationStatus == 128 + SIGTERM) }
    }
}
