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
        // Both streams into one file: a failed demo's error follows what it printed.
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        p.standardOutput = out
        p.standardError = out
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
        #expect(urls.count == 10, "\(text)\n\(Self.serveLogs(under: dir))")
        #expect(Self.daemons(under: dir).count == 10, "the daemons stay")
        let port = try #require(urls.first.flatMap { Int($0.dropFirst("http://127.0.0.1:".count).dropLast()) })
        let page = Self.get(port: port, path: "/")
        #expect(page.hasPrefix("HTTP/1.1 200") && page.contains("· The network</span></h1>"), "\(page.prefix(300))")

        kill(p.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(40)
        while p.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!p.isRunning)
        if !p.isRunning { #expect(p.terminationStatus == 0, "Ctrl-C is how --stay ends") }
        let gone = Date().addingTimeInterval(30)
        while !Self.daemons(under: dir).isEmpty, Date() < gone { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.daemons(under: dir).isEmpty, "daemons outlived the demo")
    }

    /// A demo that fails says where its logs are, and they are there: its directory
    /// stays even without --keep or --dir (a timeout too short to converge fails it). The
    /// temporary directory is deep: too deep for the officers' sockets inside it.
    @Test func aFailedDemoKeepsItsLogs() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-demo-fail-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer {
            for pid in Self.daemons(under: tmp) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: tmp)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: c4csrBinary)
        p.arguments = ["demo", "--timeout", "0.001", "--samples", "1"]
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_CONFIG"] = ""
        env["TMPDIR"] = tmp
        p.environment = env
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0, "\(message)")
        #expect(message.contains("did not converge"), "\(message)")
        let said = try #require(message.range(of: "logs in ").map { message[$0.upperBound...].prefix { $0 != ")" && $0 != "\n" && $0 != ";" } }, "\(message)")
        #expect(said.hasPrefix(tmp), "\(message)")
        #expect(FileManager.default.fileExists(atPath: "\(said)/sofia/serve.log"), "the logs it names are gone: \(message)")
        #expect(Self.daemons(under: tmp).isEmpty, "daemons outlived the failed demo")
        // Its officers' sockets went to /tmp (the directory is too deep) and go with it.
        let left = (try FileManager.default.contentsOfDirectory(atPath: "/tmp")).filter { $0.hasPrefix("c4csr-demo-\(p.processIdentifier)-") }
        #expect(left.isEmpty, "sockets left in /tmp: \(left)")
    }

    /// A demo's daemon dies with the demo's process, not with the thread that started it:
    /// threads of the demo's pool come and go (more of them on a loaded machine), and
    /// `PR_SET_PDEATHSIG` fires when the creating *thread* exits, which stopped daemons in
    /// the middle of a demo. The daemon here is started from a thread that exits once the
    /// daemon listens; the daemon must keep running, and stop when told.
    @Test func aDaemonOutlivesTheThreadThatStartedIt() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-thread-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try run(["init", "--data-dir", dir, "--city", "sofia", "--name", "Sofia", "--local-name", "София", "--country", "BG", "--language", "bg"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: c4csrBinary)
        p.arguments = ["serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--web-listen", "", "--metrics-listen", ""]
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_CONFIG"] = ""
        env["C4CSR_DIE_WITH_PARENT"] = "\(getpid())"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let thread = Thread {
            try? p.run()
            started.signal()
            release.wait()  // the thread ends when the test says so
        }
        thread.start()
        started.wait()
        defer { for pid in Self.daemons(under: dir) { kill(pid, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while FileManager.default.contents(atPath: dir + "/serve.json").flatMap({ String(decoding: $0, as: UTF8.self).contains("\"port\"") ? $0 : nil }) == nil,
              p.isRunning, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(p.isRunning, "the daemon did not start")
        release.signal()
        while !thread.isFinished { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .seconds(2))
        #expect(p.isRunning, "the daemon stopped when the thread that started it ended")
        kill(p.processIdentifier, SIGTERM)
        let gone = Date().addingTimeInterval(30)
        while p.isRunning, Date() < gone { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!p.isRunning)
    }

    /// The last lines of each city's serve.log under a demo's directory (for a failure).
    static func serveLogs(under directory: String, lines: Int = 15) -> String {
        let cities = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return cities.compactMap { city in
            guard let log = try? String(contentsOfFile: "\(directory)/\(city)/serve.log", encoding: .utf8) else { return nil }
            return "-- \(city)/serve.log\n" + log.split(separator: "\n").suffix(lines).joined(separator: "\n")
        }.joined(separator: "\n")
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
