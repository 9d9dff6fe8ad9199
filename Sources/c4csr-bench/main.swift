// c4csr-bench: the measurements `scripts/bench.sh` cannot take from outside the
// process. Each subcommand prints one JSON object per line.
//
//   c4csr-bench ceilings [--seconds S]        Ed25519 verify (one core, all cores),
//                                              SQLite insert of entry-sized rows,
//                                              libcurl HTTPS throughput on loopback
//   c4csr-bench noop --data-dir D --peer ID [--rounds N]
//                                              no-op sync rounds over one connection
//
// Release builds only (`swift build -c release --product c4csr-bench`): debug builds
// measure the compiler, not the code.
import C4CSRCore
import C4CSRCurl
import C4CSRNode
import C4CSRStore
import Crypto
import Dispatch
import Foundation
import GRDB
import Hummingbird
import Logging
import HummingbirdTLS
import NIOSSL
import Synchronization

func emit(_ fields: [String: JSONValue]) {
    FileHandle.standardOutput.write(Data((CanonicalJSON.string(.object(fields)) + "\n").utf8))
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func seconds(_ f: () throws -> Void) rethrows -> Double {
    let t = DispatchTime.now().uptimeNanoseconds
    try f()
    return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
}

// MARK: Ceilings

/// Ed25519 verifications per second of entry-sized messages, on one core and on all.
func ed25519(duration: Double) {
    let key = Curve25519.Signing.PrivateKey()
    let messages = (0..<512).map { i in Array(repeating: UInt8(i & 0xFF), count: 700) }
    let signatures = messages.map { Array(try! key.signature(for: $0)) }
    let pub = key.publicKey
    @Sendable func run(until deadline: UInt64) -> Int {
        var n = 0
        while DispatchTime.now().uptimeNanoseconds < deadline {
            for i in 0..<messages.count where pub.isValidSignature(signatures[i], for: messages[i]) { n += 1 }
        }
        return n
    }
    var t0 = DispatchTime.now().uptimeNanoseconds
    let one = run(until: t0 + UInt64(duration * 1e9))
    let oneRate = Double(one) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let counts = Mutex([Int](repeating: 0, count: cores))
    t0 = DispatchTime.now().uptimeNanoseconds
    let deadline = t0 + UInt64(duration * 1e9)
    DispatchQueue.concurrentPerform(iterations: cores) { w in
        let n = run(until: deadline)
        counts.withLock { $0[w] = n }
    }
    let allRate = Double(counts.withLock { $0.reduce(0, +) }) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    emit(["ceiling": .string("ed25519_verify"), "per_second_one_core": .int(Int64(oneRate)),
          "per_second_all_cores": .int(Int64(allRate)), "cores": .int(Int64(cores)), "message_bytes": .int(700)])
}

/// Rows of an entry's size inserted in one transaction (WAL, synchronous FULL,
/// prepared statement, a UNIQUE blob key like the log's).
func sqliteInsert(rows: Int) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-bench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let pool = try DatabasePool(path: dir.appendingPathComponent("b.sqlite").path)
    try pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
        try db.execute(sql: "CREATE TABLE t (position INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, body BLOB NOT NULL, sig BLOB NOT NULL)")
    }
    let body = Data(repeating: 0x61, count: 700), sig = Data(repeating: 0x62, count: 64)
    let ids = (0..<rows).map { Data(SHA256.hash(data: withUnsafeBytes(of: $0) { Array($0) })) }
    let s = try seconds {
        try pool.write { db in
            let st = try db.cachedStatement(sql: "INSERT INTO t (id, body, sig) VALUES (?, ?, ?)")
            for id in ids { try st.execute(arguments: [id, body, sig]) }
        }
    }
    emit(["ceiling": .string("sqlite_insert"), "rows": .int(Int64(rows)), "row_bytes": .int(796),
          "per_second": .int(Int64(Double(rows) / s))])
}

/// libcurl HTTPS throughput for a large body over one reused loopback connection,
/// from a Hummingbird TLS server in this process.
func curlThroughput(megabytes: Int, requests: Int) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-bench-tls-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let identity = try TLSIdentity.generate(city: CityID("bench")!)
    let certFile = dir.appendingPathComponent("tls.crt"), keyFile = dir.appendingPathComponent("tls.key")
    try identity.certificatePEM.write(to: certFile, atomically: true, encoding: .utf8)
    try identity.privateKeyPEM.write(to: keyFile, atomically: true, encoding: .utf8)
    let blob = ByteBuffer(repeating: 0x5A, count: megabytes << 20)
    let router = Router()
    router.get("blob") { _, _ in Response(status: .ok, body: ResponseBody(byteBuffer: blob)) }
    var tls = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)))
    tls.minimumTLSVersion = .tlsv12
    let port = Mutex<Int?>(nil)
    let app = Application(
        router: router, server: try .tls(.http1(), tlsConfiguration: tls),
        configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { ch in port.withLock { $0 = ch.localAddress?.port } },
        logger: { var l = Logger(label: "bench"); l.logLevel = .critical; return l }())
    let server = Task { try await app.run() }
    while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
    var config = CurlConfiguration(pinnedPublicKey: identity.pin, clientCertificate: certFile.path, clientKey: keyFile.path)
    config.maxResponseBytes = (megabytes + 1) << 20
    config.requestTimeoutMS = 120_000
    let easy = try CurlEasy(config)
    let url = "https://127.0.0.1:\(port.withLock { $0! })/blob"
    _ = try easy.perform(url: url, body: nil)  // connect and warm up
    var bytes = 0
    let s = try seconds {
        for _ in 0..<requests { bytes += try easy.perform(url: url, body: nil).body.count }
    }
    server.cancel()
    emit(["ceiling": .string("curl_https"), "body_megabytes": .int(Int64(megabytes)), "requests": .int(Int64(requests)),
          "megabytes_per_second": .int(Int64(Double(bytes) / s / 1e6))])
}

// MARK: No-op rounds

/// Rounds with nothing new over one transport (connection reused, as in the daemon).
func noop(dataDir: String, peer: String, rounds: Int) async throws {
    let city = try City.open(DataDirectory(dataDir))
    guard let card = city.peers.cards.first(where: { $0.city.rawValue == peer }) else { fatalError("no card for \(peer)") }
    let transport = try HTTPPeerTransport(card: card, city: city)
    _ = await SyncRound(city: city, peer: card.city, transport: transport).run()  // connect, and check in sync
    var times = [Double]()
    var first = transport.traffic
    var bytes = [Int]()
    for _ in 0..<rounds {
        let t = DispatchTime.now().uptimeNanoseconds
        let r = await SyncRound(city: city, peer: card.city, transport: transport).run()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
        guard r.succeeded, r.inSync, r.received == 0, r.sent == 0 else { fatalError("not a no-op round: \(r)") }
        let now = transport.traffic
        bytes.append(now.bytesSent + now.bytesReceived - first.bytesSent - first.bytesReceived)
        first = now
    }
    times.sort()
    emit(["measure": .string("noop_round"), "entries": .int(try city.localHeads().entries), "rounds": .int(Int64(rounds)),
          "median_ms": .string(String(format: "%.2f", times[times.count / 2])),
          "p90_ms": .string(String(format: "%.2f", times[times.count * 9 / 10])),
          "bytes_per_round": .int(Int64(bytes.max() ?? 0)), "requests_per_round": .int(1)])
}

// MARK: Main

let command = CommandLine.arguments.dropFirst().first ?? ""
switch command {
case "ceilings":
    let duration = Double(option("--seconds") ?? "3") ?? 3
    ed25519(duration: duration)
    try sqliteInsert(rows: Int(option("--rows") ?? "100000") ?? 100_000)
    try await curlThroughput(megabytes: 32, requests: 8)
case "noop":
    guard let dir = option("--data-dir"), let peer = option("--peer") else {
        FileHandle.standardError.write(Data("usage: c4csr-bench noop --data-dir D --peer ID [--rounds N]\n".utf8))
        exit(64)
    }
    try await noop(dataDir: dir, peer: peer, rounds: Int(option("--rounds") ?? "50") ?? 50)
default:
    FileHandle.standardError.write(Data("usage: c4csr-bench ceilings | noop --data-dir D --peer ID\n".utf8))
    exit(64)
}
