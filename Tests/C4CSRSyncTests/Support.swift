import C4CSRCore
import C4CSRCurl
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Log lines a test can read back (and print when `C4CSR_TEST_LOG` is set).
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])
    func contains(_ s: String) -> Bool { lines.withLock { $0.contains { $0.contains(s) } } }

    func logger(_ label: String) -> Logger {
        var l = Logger(label: label) { _ in CapturingHandler(capture: self, label: label) }
        l.logLevel = .debug
        return l
    }
}

struct CapturingHandler: LogHandler {
    let capture: LogCapture
    let label: String
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let meta = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line = "[\(label)] \(event.level) \(event.message) \(meta)"
        capture.lines.withLock { $0.append(line) }
        if ProcessInfo.processInfo.environment["C4CSR_TEST_LOG"] != nil { print(line) }
    }
}

/// One city with its daemon running in this process, on an ephemeral loopback port.
final class TestNode: @unchecked Sendable {
    // @unchecked: mutated only by the test's own task (start/stop are awaited in sequence).
    let city: City
    let name: String
    var configuration: DaemonConfiguration
    private(set) var daemon: Daemon?
    private(set) var port = 0
    private var group: ServiceGroup?
    private var task: Task<Void, any Error>?
    let logs: LogCapture

    init(city: City, configuration: DaemonConfiguration, logs: LogCapture) {
        self.city = city
        self.name = city.id.rawValue
        self.configuration = configuration
        self.logs = logs
    }

    var id: CityID { city.id }
    var endpoint: String { "https://127.0.0.1:\(port)" }

    /// Starts the daemon (on its previous port after a restart) and waits until it listens.
    func start() async throws {
        var c = configuration
        c.host = "127.0.0.1"
        c.port = port
        let bound = Mutex<Int?>(nil)
        let daemon = try Daemon(city: city, configuration: c, logger: logs.logger(name), onListening: { p in bound.withLock { $0 = p } })
        let group = daemon.serviceGroup(signals: false)
        self.daemon = daemon
        self.group = group
        task = Task { try await group.run() }
        let deadline = Date().addingTimeInterval(10)
        while bound.withLock({ $0 }) == nil {
            guard Date() < deadline else { throw SyncRoundError("\(name) did not start listening within 10 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
        port = bound.withLock { $0! }
    }

    /// Graceful shutdown, as on SIGTERM; waits for it to finish.
    func stop() async {
        guard let group, let task else { return }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        self.group = nil
        self.task = nil
        daemon = nil
    }

    var isRunning: Bool { task != nil }

    /// This city's card as peers should hold it: with the endpoint it listens on.
    var card: PeerCard {
        var c = city.card
        c.endpoint = endpoint
        return c
    }

    func reload() { daemon?.sync.reload() }

    func heads() throws -> PeerHeads { try city.localHeads() }

    /// A libcurl transport from this city to `other`, as the daemon would build it.
    func transport(to other: TestNode, connectTimeoutMS: Int = 5_000, requestTimeoutMS: Int = 20_000) throws -> HTTPPeerTransport {
        try HTTPPeerTransport(card: other.card, city: city, connectTimeoutMS: connectTimeoutMS, requestTimeoutMS: requestTimeoutMS)
    }
}

/// A set of cities on loopback, each knowing every other's card (keys and pins), each
/// syncing only with its neighbours in `edges`. Always stops every daemon it started.
func withNetwork(
    _ names: [String], edges: [(String, String)], interval: Double = 0.5,
    configure: (inout DaemonConfiguration) -> Void = { _ in },
    _ body: ([String: TestNode]) async throws -> Void
) async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-net-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    let logs = LogCapture()
    var nodes = [String: TestNode]()
    for name in names {
        let city = try makeCity(name, in: root)
        var c = DaemonConfiguration()
        c.intervalMS = Int64(interval * 1000)
        c.pollIntervalMS = 50
        c.backoffBaseMS = 200
        c.backoffCapMS = 1_000
        c.connectTimeoutMS = 2_000
        c.requestTimeoutMS = 5_000
        c.shutdownGraceSeconds = 10
        var neighbours = Set<CityID>()
        for (a, b) in edges {
            if a == name { neighbours.insert(CityID(b)!) }
            if b == name { neighbours.insert(CityID(a)!) }
        }
        c.only = neighbours
        configure(&c)
        nodes[name] = TestNode(city: city, configuration: c, logs: logs)
    }
    do {
        for n in nodes.values { try await n.start() }
        try introduce(Array(nodes.values))
        try await body(nodes)
    } catch {
        for n in nodes.values { await n.stop() }
        throw error
    }
    for n in nodes.values { await n.stop() }
}

/// Writes every node's card (with its current endpoint) into every other's peers
/// directory, and makes the running daemons re-read them (as SIGHUP does).
func introduce(_ nodes: [TestNode]) throws {
    for a in nodes {
        for b in nodes where a.id != b.id {
            try Data(b.card.toml.utf8).write(to: a.city.directory.peersDirectory.appendingPathComponent("\(b.id).toml"))
        }
    }
    for n in nodes {
        if n.isRunning { n.reload() } else { n.city.reloadPeers() }
    }
}

/// Creates a city in `root/<name>` (keys, TLS identity, empty store).
func makeCity(_ name: String, in root: URL) throws -> City {
    let dir = DataDirectory(root.appendingPathComponent(name).path)
    let card = PeerCard(city: CityID(name)!, name: name.capitalized, localName: name.capitalized, country: "EU", language: "en")
    return try City.create(at: dir, card: card)
}

/// Polls `condition` every 50 ms until it holds; fails the test after `seconds`.
func eventually(_ what: String, within seconds: Double = 30, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    if try condition() { return }
    Issue.record("timed out after \(seconds) s waiting for: \(what)")
    throw SyncRoundError("timed out waiting for: \(what)")
}

func practice(_ title: String, language: String = "en") -> Practice {
    Practice(
        language: language, title: .init(local: title, en: title), summary: .init(local: "Summary of \(title).", en: "Summary of \(title)."),
        challenge: "A local challenge", themes: ["environment"], sdgs: [11], status: .running)
}

/// The city's signing key, read from its data directory (tests craft entries with it).
func signingKey(of city: City) throws -> CitySigningKey {
    let text = try String(contentsOf: city.directory.signingKeyFile, encoding: .utf8)
    return CitySigningKey(rawRepresentation: Array(Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))!))!
}

/// The built `c4csr` binary (next to the test bundle), or `$C4CSR_BINARY`.
let c4csrBinary: String = {
    if let p = ProcessInfo.processInfo.environment["C4CSR_BINARY"] { return p }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("c4csr").path), dir.path != "/" {
        dir.deleteLastPathComponent()
    }
    return dir.appendingPathComponent("c4csr").path
}()

/// Waits for a process without holding a thread: async tests run on Swift's cooperative
/// pool (one thread per core), which the daemons of the other tests in this process need.
func waitForExit(_ p: Process, seconds: Double) async {
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    while p.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
}

/// The binary started on `arguments`, its output going to two temporary files.
private struct BinaryRun {
    let process = Process()
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-out-\(UUID().uuidString)")
    var err: URL { out.appendingPathExtension("err") }

    init(_ arguments: [String]) throws {
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: c4csrBinary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_CONFIG"] = ""  // never the machine's /etc/c4csr
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
    }

    /// Status and output, once the process has exited; the files are removed.
    func result() throws -> (status: Int32, stdout: [UInt8], stderr: String) {
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        return (process.terminationStatus, Array(try Data(contentsOf: out)), String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }
}

/// `runBinary` for async tests: the same, without blocking a thread of the cooperative pool.
func runBinary(_ arguments: [String]) async throws -> (status: Int32, stdout: [UInt8], stderr: String) {
    let run = try BinaryRun(arguments)
    await waitForExit(run.process, seconds: 60)
    return try run.result()
}

/// Runs the binary and returns its standard output (bounded to 60 s).
func runBinary(_ arguments: [String]) throws -> (status: Int32, stdout: [UInt8], stderr: String) {
    let run = try BinaryRun(arguments)
    let deadline = Date().addingTimeInterval(60)
    while run.process.isRunning && Date() < deadline { usleep(10_000) }
    if run.process.isRunning { kill(run.process.processIdentifier, SIGKILL) }
    run.process.waitUntilExit()
    return try run.result()
}

/// A test's time limit in minutes: `minutes` for the bounded run in CI, or the value of
/// C4CSR_TIME_LIMIT_MINUTES for the long runs (thousands of seeds, hundreds of kills),
/// which would otherwise be stopped by the CI-sized limit.
func timeLimitMinutes(_ minutes: Int) -> Int {
    ProcessInfo.processInfo.environment["C4CSR_TIME_LIMIT_MINUTES"].flatMap(Int.init).map { max($0, minutes) } ?? minutes
}
