import C4CSRCore
import C4CSRCurl
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// `c4csr serve` as systemd runs it: the built binary in a child process, signals,
/// sd_notify. Every test kills what it starts.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServiceTests {
    @Test func notifiesReadyOnlyWhenListeningThenWatchdogThenStopping() async throws {
        try await withServiceCity { root, city in
            let socket = try NotifySocket(path: root.appendingPathComponent("notify.sock").path)
            defer { socket.close() }
            let serve = try ServeProcess(city: city, extra: ["--interval", "60s"], environment: [
                "NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000",
            ])
            defer { serve.kill() }
            // First, before the store is opened (a migration may take minutes): more time to start.
            let opening = try #require(socket.receive(within: 20), "no message")
            #expect(opening.contains("EXTEND_TIMEOUT_USEC=600000000"), "\(opening)")
            // READY=1 comes only once the port accepts connections.
            let ready = try #require(socket.receive(until: { $0.contains("READY=1") }, within: 20), "no READY=1")
            #expect(ready.contains("STATUS="))
            let port = try #require(serve.port(), "serve.json has the port when READY=1 is sent")
            #expect(tcpConnects(port: port), "the port accepts connections when READY=1 arrives")
            // WATCHDOG=1 every ~0.2 s (half of WATCHDOG_USEC), from the sync loop.
            var pings = 0
            let deadline = Date().addingTimeInterval(10)
            while pings < 4, Date() < deadline {
                if let m = socket.receive(within: 2), m.contains("WATCHDOG=1") { pings += 1 }
            }
            #expect(pings >= 4, "watchdog pings: \(pings)")
            serve.signal(SIGTERM)
            #expect(socket.receive(until: { $0.contains("STOPPING=1") }, within: 10) != nil, "no STOPPING=1")
            let status = try #require(serve.wait(seconds: 30), "did not exit within 30 s of SIGTERM")
            #expect(status == 0)
            #expect(!FileManager.default.fileExists(atPath: city.directory.serveFile.path), "serve.json is removed on exit")
        }
    }

    /// SIGTERM while a peer pushes large batches: the daemon finishes what it is merging,
    /// exits 0 in bounded time, and its store holds every acknowledged batch whole and
    /// no batch in part.
    @Test func sigtermDuringALargePushLosesNothingAcknowledged() async throws {
        try await withServiceCity { root, server in
            let pusher = try makeCity("pusher", in: root)
            let synthetic = SyntheticLog(origins: 5)
            try synthetic.introduce(to: [server, pusher])
            try exchangeCards(server, pusher, serverEndpoint: nil)
            let serve = try ServeProcess(city: server, extra: ["--interval", "1h", "--peer", "pusher"])
            defer { serve.kill() }
            let port = try #require(try await serve.waitForPort())
            var card = server.card
            card.endpoint = "https://127.0.0.1:\(port)"
            let transport = try HTTPPeerTransport(card: card, city: pusher, connectTimeoutMS: 2_000, requestTimeoutMS: 60_000)
            let batchSize = 1_500
            let batches = (0..<6).map { synthetic.entries(from: $0 * batchSize, count: batchSize) }
            let acknowledged = AckList()
            let pushing = Task {
                for (i, batch) in batches.enumerated() {
                    do {
                        let r = try await transport.push(batch)
                        if r.inserted == batch.count { acknowledged.add(i) }
                    } catch { break }
                }
            }
            // Wait for the first batch to be acknowledged, then stop the daemon mid-stream.
            let t0 = Date()
            while acknowledged.count == 0, Date().timeIntervalSince(t0) < 60 { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(30))
            serve.signal(SIGTERM)
            let status = try #require(serve.wait(seconds: 40), "did not exit within 40 s of SIGTERM")
            #expect(status == 0)
            await pushing.value
            #expect(acknowledged.count >= 1)

            let store = try LogStore(path: server.directory.storeFile.path)
            for (i, batch) in batches.enumerated() {
                let held = try batch.filter { try store.contains(EntryID.of(body: $0.body)) }.count
                #expect(held == 0 || held == batch.count, "batch \(i): \(held) of \(batch.count) entries")
                if acknowledged.contains(i) { #expect(held == batch.count, "acknowledged batch \(i) lost entries") }
            }
            let reopened = try City.open(server.directory)
            #expect(try reopened.audit().errors.isEmpty)
        }
    }

    /// SIGHUP re-reads the configuration and the peer cards: a new peer is synced with
    /// at the next round; a broken configuration is reported and the old one kept.
    @Test func sighupAddsAPeerAndSurvivesABrokenConfiguration() async throws {
        try await withNetwork(["newpeer"], edges: []) { n in
            let peer = n["newpeer"]!
            let root = peer.city.directory.root.deletingLastPathComponent()
            let city = try makeCity("served", in: root)
            let config = root.appendingPathComponent("c4csr.toml")
            try "[sync]\ninterval = \"1s\"\n".write(to: config, atomically: true, encoding: .utf8)
            let serve = try ServeProcess(city: city, extra: ["--config", config.path])
            defer { serve.kill() }
            let port = try #require(try await serve.waitForPort())
            // The served city's card, with its endpoint, for the peer (which then accepts its pin).
            var card = city.card
            card.endpoint = "https://127.0.0.1:\(port)"
            try Data(card.toml.utf8).write(to: peer.city.directory.peersDirectory.appendingPathComponent("served.toml"))
            peer.reload()
            let first = try peer.city.publish(practice("before SIGHUP"))
            // A new card, then SIGHUP: the next round fetches the peer's entry.
            try Data(peer.card.toml.utf8).write(to: city.directory.peersDirectory.appendingPathComponent("newpeer.toml"))
            serve.signal(SIGHUP)
            let store = try LogStore(path: city.directory.storeFile.path)
            try await eventually("the served city syncs with the new peer", within: 20) { try store.contains(first.id) }

            // A broken configuration on SIGHUP: logged, the daemon goes on with the old one.
            try "[sync]\ninterval = \"fast\"\n".write(to: config, atomically: true, encoding: .utf8)
            serve.signal(SIGHUP)
            try await eventually("the error is logged", within: 10) { serve.log().contains("the configuration is invalid; keeping the running one") }
            #expect(serve.log().contains("sync.interval"))
            #expect(serve.isRunning)
            let second = try peer.city.publish(practice("after the broken reload"))
            try await eventually("still syncing on the old configuration", within: 20) { try store.contains(second.id) }
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }

    /// One daemon per data directory: a second `serve` is refused (exit 77, not retried
    /// by systemd) and leaves the first one's serve.json alone.
    @Test func aSecondDaemonOnTheSameDataDirectoryIsRefused() async throws {
        try await withServiceCity { _, city in
            let first = try ServeProcess(city: city, extra: ["--interval", "60s"])
            defer { first.kill() }
            _ = try #require(try await first.waitForPort())
            let second = try ServeProcess(city: city, extra: ["--interval", "60s"])
            defer { second.kill() }
            let status = second.wait(seconds: 20)
            #expect(status == 77, "\(second.log())")
            #expect(second.log().contains("already runs for"))
            #expect(first.info()?["pid"]?.intValue == Int64(first.process.processIdentifier), "serve.json still names the first")
            first.signal(SIGTERM)
            #expect(first.wait(seconds: 30) == 0)
        }
    }

    /// `serve --web-listen` serves the portal from the store on loopback: the pages a
    /// person opens, the headers that keep a browser safe, 304 on an unchanged network,
    /// HEAD, and nothing but GET and HEAD.
    @Test func theWebPortalIsServedByTheDaemon() async throws {
        try await withServiceCity { _, city in
            let serve = try ServeProcess(city: city, extra: ["--interval", "60s", "--web-listen", "127.0.0.1:0"])
            defer { serve.kill() }
            _ = try #require(try await serve.waitForPort())
            let port = Int(try #require(serve.info()?["web_port"]?.intValue, "serve.json has web_port"))
            let p = try city.publish(practice("Зелени покриви <b>"))
            func get(_ target: String, _ extra: String = "") -> String {
                httpExchange(port: port, "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extra)Connection: close\r\n\r\n") ?? ""
            }
            let overview = get("/")
            #expect(overview.hasPrefix("HTTP/1.1 200"), "\(overview)")
            #expect(overview.contains("content-security-policy: default-src 'none'") || overview.contains("Content-Security-Policy: default-src 'none'"), "\(overview)")
            let found = get("/practices?q=" + "покриви".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(found.contains("/practices/\(p.id.hex)") && found.contains("Зелени покриви &lt;b&gt;"), "\(found)")
            let page = get("/practices/\(p.id.hex)")
            #expect(page.hasPrefix("HTTP/1.1 200"))
            let etag = try #require(page.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) })
            #expect(get("/practices/\(p.id.hex)", "If-None-Match: \(etag)\r\n").hasPrefix("HTTP/1.1 304"))
            #expect(get("/practices?sdg=99").hasPrefix("HTTP/1.1 400"))
            #expect(get("/no/such/page").hasPrefix("HTTP/1.1 404"))
            #expect(get("/practices?q=%E2%28").hasPrefix("HTTP/1.1 400"), "a query that is not UTF-8")
            let head = httpExchange(port: port, "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") ?? ""
            #expect(head.hasPrefix("HTTP/1.1 200") && !head.contains("<html"), "\(head)")
            let post = httpExchange(port: port, "POST /practices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}") ?? ""
            #expect(post.hasPrefix("HTTP/1.1 405"), "\(post)")
            #expect(try city.store.count() == 1, "the portal wrote nothing")
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }

    @Test func metricsAreServedInPrometheusFormat() async throws {
        try await withServiceCity { _, city in
            let serve = try ServeProcess(city: city, extra: ["--interval", "60s", "--metrics-listen", "127.0.0.1:0"])
            defer { serve.kill() }
            _ = try #require(try await serve.waitForPort())
            let metricsPort = try #require(serve.info()?["metrics_port"]?.intValue, "serve.json has metrics_port")
            _ = try city.publish(practice("counted"))
            var text = ""
            try await eventually("the entry shows in the metrics", within: 10) {
                text = httpGet(port: Int(metricsPort), path: "/metrics") ?? ""
                return text.contains("c4csr_entries 1")
            }
            #expect(text.contains("# HELP c4csr_entries"))
            #expect(text.contains("c4csr_origin_entries{origin=\"served\"} 1"))
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }

    /// A peer whose TLS key is not the pin on its card is named as such by
    /// `status --probe` (not "UNREACHABLE"), recorded with its kind by `sync`; a peer
    /// that agrees is shown with both digests by `audit --peers`.
    @Test func aPinMismatchIsNotUnreachableAndAgreementShowsBothDigests() async throws {
        try await withServiceCity { root, city in
            let client = try makeCity("client", in: root)
            let serve = try ServeProcess(city: city, extra: ["--interval", "60s"])
            defer { serve.kill() }
            let port = try #require(try await serve.waitForPort())
            try exchangeCards(city, client, serverEndpoint: "https://127.0.0.1:\(port)")
            serve.signal(SIGHUP)  // the daemon learns the client's card
            let dir = client.directory.root.path
            var synced = false
            for _ in 0..<40 where !synced {
                synced = try await runBinary(["sync", "--data-dir", dir]).status == 0
                if !synced { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(synced, "the client synced with the daemon")
            var r = try await runBinary(["audit", "--peers", "--data-dir", dir])
            let digest = try client.localHeads().digest
            #expect(String(decoding: r.stdout, as: UTF8.self).contains("agrees: both hold network digest \(digest.prefix(16))"),
                    "\(String(decoding: r.stdout, as: UTF8.self))")

            // The card now pins another city's key.
            var card = city.card
            card.endpoint = "https://127.0.0.1:\(port)"
            card.tlsPin = try makeCity("third", in: root).card.tlsPin
            try Data(card.toml.utf8).write(to: client.directory.peersDirectory.appendingPathComponent("\(city.id).toml"))
            r = try await runBinary(["status", "--probe", "--without-daemon", "--data-dir", dir])
            let text = String(decoding: r.stdout, as: UTF8.self)
            #expect(r.status == 2 && text.contains("WRONG TLS KEY") && !text.contains("UNREACHABLE"), "\(text)")
            #expect(!text.contains("last success never"), "the earlier sync's success is kept: \(text)")
            _ = try await runBinary(["sync", "--data-dir", dir])
            #expect(try client.store.peerStatus(city.id)?.lastErrorKind == "pin_mismatch")
            r = try await runBinary(["status", "--without-daemon", "--data-dir", dir])
            #expect(String(decoding: r.stdout, as: UTF8.self).contains("WRONG TLS KEY"))
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }

    /// What a monitoring system needs from the first scrape: the build, the process's
    /// own figures, each peer's series present at zero before any event, the listeners'
    /// connection counts, and a health check.
    @Test func metricsNameTheBuildTheProcessAndEveryPeerFromZeroAndHealthzAnswers() async throws {
        try await withServiceCity { root, city in
            // A peer nobody listens for: its rounds fail, nothing is ever received or refused.
            let other = try makeCity("other", in: root)
            try exchangeCards(other, city, serverEndpoint: "https://127.0.0.1:9")
            let serve = try ServeProcess(city: city, extra: ["--interval", "60s", "--metrics-listen", "127.0.0.1:0"])
            defer { serve.kill() }
            _ = try #require(try await serve.waitForPort())
            let metricsPort = Int(try #require(serve.info()?["metrics_port"]?.intValue, "serve.json has metrics_port"))
            var text = ""
            try await eventually("the metrics answer, the store read once", within: 10) {
                text = httpGet(port: metricsPort, path: "/metrics") ?? ""
                return text.contains("c4csr_build_info") && text.contains("\nc4csr_erasures 0")
            }
            #expect(text.contains("c4csr_erasures_unconfirmed{city=\"other\"} 0"), "every member's series from zero")
            #expect(text.contains("c4csr_build_info{version=\"\(C4CSRVersion.string)\",protocol=\"\(SyncAPI.version)\"} 1"), "\(text)")
            for name in ["process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_open_fds ", "process_max_fds ", "process_start_time_seconds "] {
                #expect(text.contains("\n" + name), "\(name) missing")
            }
            #expect(text.contains("c4csr_sync_rounds_total{peer=\"other\",result=\"ok\"} 0"))
            #expect(text.contains("c4csr_entries_received_total{peer=\"other\"} 0"))
            #expect(text.contains("c4csr_rejected_entries_total{peer=\"other\",reason=\"entry_bad_signature\"} 0"))
            #expect(text.contains("c4csr_rejected_entries_total{peer=\"other\",reason=\"dependency_not_covered\"} 0"))
            #expect(text.contains("c4csr_connections_refused_total{listener=\"sync\"} 0"))
            #expect(text.contains("c4csr_connections_open{listener=\"metrics\"} 1"), "this scrape is the one open connection")

            var health = ""
            try await eventually("healthz answers ok", within: 10) {
                health = httpGet(port: metricsPort, path: "/healthz") ?? ""
                return health.contains("\"status\":\"ok\"")
            }
            let body = try #require(try JSONParser.parse(Array(health.utf8)).objectValue)
            #expect(body["city"]?.stringValue == "served")
            #expect(body["peers"]?.intValue == 1)
            #expect(body["peers_in_sync"]?.intValue == 0)
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }
}

// MARK: - Helpers

func withServiceCity(_ body: (URL, City) async throws -> Void) async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-svc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    try await body(root, try makeCity("served", in: root))
}

/// Each city gets the other's card (the server's without endpoint: the test dials it).
func exchangeCards(_ server: City, _ client: City, serverEndpoint: String?) throws {
    try Data(client.card.toml.utf8).write(to: server.directory.peersDirectory.appendingPathComponent("\(client.id).toml"))
    var card = server.card
    card.endpoint = serverEndpoint
    try Data(card.toml.utf8).write(to: client.directory.peersDirectory.appendingPathComponent("\(server.id).toml"))
    server.reloadPeers()
    client.reloadPeers()
}

final class AckList: @unchecked Sendable {
    private let lock = NSLock()
    private var items = Set<Int>()
    func add(_ i: Int) { lock.withLock { _ = items.insert(i) } }
    func contains(_ i: Int) -> Bool { lock.withLock { items.contains(i) } }
    var count: Int { lock.withLock { items.count } }
}

/// `c4csr serve` in a child process on an ephemeral loopback port, logging to a file.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let city: City
    let logFile: URL

    init(city: City, extra: [String], environment: [String: String] = [:]) throws {
        self.city = city
        // A daemon killed with SIGKILL leaves its serve.json: never read a stale port
        // (but leave the file of a daemon that still runs).
        if let data = FileManager.default.contents(atPath: city.directory.serveFile.path),
           let pid = (try? JSONParser.parse(Array(data)))?["pid"]?.intValue, Foundation.kill(pid_t(pid), 0) != 0 {
            try? FileManager.default.removeItem(at: city.directory.serveFile)
        }
        logFile = city.directory.root.appendingPathComponent("serve-test.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: c4csrBinary)
        process.arguments = ["serve", "--data-dir", city.directory.root.path, "--listen", "127.0.0.1:0", "--log-level", "debug"] + extra
        var env = ProcessInfo.processInfo.environment
        for k in ["C4CSR_DATA_DIR", "C4CSR_PEERS_DIR", "C4CSR_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"] { env[k] = nil }
        env["C4CSR_CONFIG"] = ""
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    func signal(_ s: Int32) { Foundation.kill(process.processIdentifier, s) }
    func log() -> String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func info() -> [String: JSONValue]? {
        guard let data = FileManager.default.contents(atPath: city.directory.serveFile.path) else { return nil }
        return (try? JSONParser.parse(Array(data)))?.objectValue
    }

    func port() -> Int? { info()?["port"]?.intValue.map(Int.init) }

    func waitForPort(seconds: Double = 20) async throws -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let p = port() { return p }
            if !process.isRunning { Issue.record("serve exited: \(log())"); return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        // A loaded machine may wake this task only after the deadline: look once more.
        if let p = port() { return p }
        Issue.record("serve did not listen within \(seconds) s: \(log())")
        return nil
    }

    /// Waits for the exit; its status, or `nil` if still running after `seconds`.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A Unix datagram socket standing in for systemd's notify socket.
final class NotifySocket: @unchecked Sendable {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard ok == 0 else { throw SyncRoundError("cannot bind \(path)") }
    }

    /// One datagram, or `nil` after `seconds`.
    func receive(within seconds: Double) -> String? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(seconds * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    /// Datagrams until one satisfies `condition`; that one, or `nil` after `seconds`.
    func receive(until condition: (String) -> Bool, within seconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let m = receive(within: max(0.05, deadline.timeIntervalSinceNow)), condition(m) { return m }
        }
        return nil
    }

    func close() {
        _ = Glibc.close(fd)
        unlink(path)
    }
}

func tcpConnects(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
}

/// A plain HTTP GET on loopback (the metrics listener), body only.
func httpGet(port: Int, path: String) -> String? {
    guard let text = httpExchange(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
          let split = text.range(of: "\r\n\r\n") else { return nil }
    return String(text[split.upperBound...])
}

/// One raw HTTP/1.1 exchange on loopback (the request as written, `Connection: close`):
/// the whole response, head and body, or nil if nothing answered within 5 s.
func httpExchange(port: Int, _ requestText: String) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { return nil }
    let request = Array(requestText.utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    return response.isEmpty ? nil : String(decoding: response, as: UTF8.self)
}
