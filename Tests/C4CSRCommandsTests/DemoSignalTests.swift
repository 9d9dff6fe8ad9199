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

extension DemoSignalTests {
    /// `demo --stay`: after the run the ten daemons keep serving, each city's portal
    /// address is printed and answers; Ctrl-C (SIGINT) stops every daemon and exits 0.
    @Test func stayKeepsEachCitysPortalUntilCtrlC() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-demo-stay-\(UUID().uuidString)").path
        let output = dir + ".out"
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: output)
        }
        FileManager.default.createFile(atPath: output, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: c4csrBinary)
        p.arguments = ["demo", "--stay", "--samples", "1", "--dir", dir]
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_CONFIG"] = ""
        p.environment = env
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            for pid in Self.daemons(under: dir) { kill(pid, SIGKILL) }
        }
        func printed() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        let started = Date()
        while !printed().contains("Ctrl-C stops them"), p.isRunning, Date().timeIntervalSince(started) < 240 {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(300))  // the ten address lines follow
        let text = printed()
        let urls = text.split(separator: "\n").compactMap { line in line.split(separator: " ").last.flatMap { $0.hasPrefix("http://127.0.0.1:") ? String($0) : nil } }
        #expect(urls.count == 10, "\(text)")
        #expect(Self.daemons(under: dir).count == 10, "the daemons stay")
        let port = try #require(urls.first.flatMap { Int($0.dropFirst("http://127.0.0.1:".count).dropLast()) })
        let page = Self.get(port: port, path: "/")
        #expect(page.hasPrefix("HTTP/1.1 200") && page.contains("<h1>The network</h1>"), "\(page.prefix(300))")

        kill(p.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(40)
        while p.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!p.isRunning)
        if !p.isRunning { #expect(p.terminationStatus == 0, "Ctrl-C is how --stay ends") }
        let gone = Date().addingTimeInterval(30)
        while !Self.daemons(under: dir).isEmpty, Date() < gone { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.daemons(under: dir).isEmpty, "daemons outlived the demo")
    }

    /// One GET on loopback, the whole response ("" if nothing answered within 5 s).
    static func get(port: Int, path: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return "" }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response = [UInt8](), buffer = [UInt8](repeating: 0, count: 65536)
        while case let n = recv(fd, &buffer, buffer.count, 0), n > 0 { response += buffer[0..<n] }
        return String(decoding: response, as: UTF8.self)
    }
}
