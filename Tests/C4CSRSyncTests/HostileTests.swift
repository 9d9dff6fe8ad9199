import C4CSRCore
import C4CSRCurl
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// A test peer written in Python from docs/PROTOCOL.md (scripts/test_peer.py), so that
/// what it sends does not come from our own encoder.
func runPeerScript(_ arguments: [String]) throws -> Process {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", repository.appendingPathComponent("scripts/test_peer.py").path] + arguments
    return p
}

/// `scripts/test_peer.py serve --mode MODE` as `evil`'s endpoint on `victim`'s peer
/// card, which the victim has re-read.
struct TestPeerServer {
    let process: Process

    init(mode: String, evil: City, other: City, victim: TestNode) throws {
        process = try runPeerScript(["serve", "--mode", mode, "--dir", evil.directory.root.path, "--other-dir", other.directory.root.path])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let portLine = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(portLine) else {
            kill(process.processIdentifier, SIGKILL)
            throw SyncRoundError("test peer did not start: \(portLine)")
        }
        var card = evil.card
        card.endpoint = "https://127.0.0.1:\(port)"
        try Data(card.toml.utf8).write(to: victim.city.directory.peersDirectory.appendingPathComponent("evil.toml"))
        victim.reload()
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Runs a process to its end (bounded), its standard output and error together, without
/// blocking a thread of the cooperative pool.
func output(of p: Process, timeout: Double = 120) async throws -> (Int32, String) {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-output-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: file.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: file) }
    let handle = try FileHandle(forWritingTo: file)
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    await waitForExit(p, seconds: timeout)
    return (p.terminationStatus, String(decoding: try Data(contentsOf: file), as: UTF8.self))
}

@Suite(.serialized, .timeLimit(.minutes(5)))
struct HostileTests {
    /// Every kind of bad input from an authenticated peer; strangers refused at the
    /// handshake. Nothing bad is stored, the fork is kept as evidence and reported by
    /// audit, and the daemon never stops serving.
    @Test func hostilePeerStoresNothingBad() async throws {
        try await withServiceCity { root, victim in
            let hostile = try makeCity("hostile", in: root)
            let stranger = try makeCity("stranger", in: root)
            try exchangeCards(victim, hostile, serverEndpoint: nil)
            let serve = try ServeProcess(city: victim, extra: ["--interval", "1h", "--peer", "hostile"])
            defer { serve.kill() }
            let port = try #require(try await serve.waitForPort())
            let (status, text) = try await output(of: try runPeerScript([
                "attack", "--target", "https://127.0.0.1:\(port)", "--pin", victim.card.tlsPin!,
                "--dir", hostile.directory.root.path, "--stranger", stranger.directory.root.path,
            ]))
            let summary = try #require(text.split(separator: "\n").last.flatMap { try? JSONParser.parse(String($0)).objectValue }, "\(text)")
            #expect(status == 0, "\(text)")
            #expect((summary["tried"]?.intValue ?? 0) >= 25, "\(text)")
            #expect(serve.isRunning, "the daemon survived")
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
            // What stayed: the valid entry and the fork evidence, and audit says so.
            let audit = try City.open(victim.directory).audit()
            #expect(audit.checked == 2, "\(audit.checked) entries stored")
            #expect(audit.errors.isEmpty, "\(audit.errors)")
            #expect(Set(audit.violations.map(\.code)) == ["fork"], "\(audit.violations)")
            #expect(try victim.store.integrityProblems().isEmpty)
            #expect(serve.log().contains("refused entries pushed by peer"))
            print("hostile peer: \(summary["tried"]?.intValue ?? 0) hostile inputs and checks tried, \(summary["failed"]?.arrayValue?.count ?? -1) failed; \(audit.checked) entries stored (the valid one and its fork)")
        }
    }
}

/// Peers that fail in every way a network or a broken program can: each failure is a
/// clear sentence in the log and `status`, nothing is lost, and the daemon keeps
/// syncing with the healthy peer.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FaultTests {
    static let modes: [(String, String)] = [
        ("close", "before the whole answer arrived"),
        ("truncated", "before the whole answer arrived"),
        ("slow", "did not answer within"),
        ("oversized", "larger than"),
        ("http500", "HTTP 500 internal: the test peer is broken"),
        ("garbage", "not the c4csr protocol"),
        ("wrongcert", "does not match the tls_pin"),
    ]

    @Test func misbehavingPeersDoNotHurt() async throws {
        try await withNetwork(["victim", "good"], edges: [("victim", "good")], interval: 0.5) { c in
            c.connectTimeoutMS = 1_000
            c.requestTimeoutMS = 2_500
            c.backoffBaseMS = 100
            c.backoffCapMS = 300
            c.only = nil  // every card with an endpoint: the good peer and the bad one
        } _: { n in
            let (victim, good) = (n["victim"]!, n["good"]!)
            let root = victim.city.directory.root.deletingLastPathComponent()
            let evil = try makeCity("evil", in: root)
            let other = try makeCity("other", in: root)
            try Data(victim.card.toml.utf8).write(to: evil.directory.peersDirectory.appendingPathComponent("victim.toml"))
            for (mode, sentence) in Self.modes {
                let server = try TestPeerServer(mode: mode, evil: evil, other: other, victim: victim)
                defer { server.stop() }
                victim.daemon!.sync.syncNow()
                let entry = try victim.city.publish(practice("while evil is \(mode)"))
                try await eventually("\(mode): the good peer still gets entries", within: 20) { try good.city.store.contains(entry.id) }
                try await eventually("\(mode): the failure is recorded as a sentence", within: 20) {
                    (try victim.city.store.peerStatus(evil.id))?.lastError?.contains(sentence) == true
                }
                let status = try #require(try victim.city.store.peerStatus(evil.id))
                #expect(status.lastError?.contains(sentence) == true, "\(mode): \(status.lastError ?? "")")
                try await eventually("\(mode): the failure is logged", within: 10) { victim.logs.contains("sync round failed") }
            }
            // Nothing was lost or damaged along the way.
            #expect(try victim.city.audit().errors.isEmpty)
            #expect(try victim.heads().digest == good.heads().digest)
        }
    }

    /// A hostile member's answers: 10,000 heads at 2⁵³ − 1, and a pulled entry whose clock
    /// has 1,100 components near 2⁵³ (each crashed the daemon, `status --probe` and
    /// `audit --peers` before the bounds). The daemon (this process) stays up, stores
    /// nothing of it, and `status` names the refusal; the CLI exits without a trap.
    @Test func hostileAnswersNeitherCrashNorPoison() async throws {
        try await withNetwork(["victim", "good"], edges: [("victim", "good")], interval: 0.5, configure: { c in
            c.connectTimeoutMS = 1_000
            c.requestTimeoutMS = 5_000
            // One round with the hostile member is enough; retrying it every 100 ms would
            // only load the machine the other suites share.
            c.backoffBaseMS = 5_000
            c.backoffCapMS = 10_000
            c.only = nil
        }) { n in
            let victim = n["victim"]!
            let root = victim.city.directory.root.deletingLastPathComponent()
            let evil = try makeCity("evil", in: root)
            try Data(victim.card.toml.utf8).write(to: evil.directory.peersDirectory.appendingPathComponent("victim.toml"))
            for mode in ["hugeheads", "hugeclock"] {
                let server = try TestPeerServer(mode: mode, evil: evil, other: evil, victim: victim)
                defer { server.stop() }
                let before = try victim.heads().digest
                victim.daemon!.sync.syncNow()
                try await eventually("\(mode): a round with the hostile member ran", within: 20) {
                    (try victim.city.store.peerStatus(evil.id))?.lastAttempt != nil
                }
                if mode == "hugeclock" {
                    try await eventually("hugeclock: status names the refusal", within: 20) {
                        (try victim.city.store.peerStatus(evil.id))?.lastRefusal?.contains("entry_out_of_range") == true
                    }
                }
                #expect(try victim.heads().digest == before, "\(mode): nothing of it was stored")
                for command in [["status", "--probe"], ["audit", "--peers"]] {
                    let r = try await runBinary(command + ["--data-dir", victim.city.directory.root.path])
                    #expect(r.status < 128, "\(mode): c4csr \(command.joined(separator: " ")) died (\(r.status)): \(r.stderr)")
                }
                // Forget it before the next mode.
                try FileManager.default.removeItem(at: victim.city.directory.peersDirectory.appendingPathComponent("evil.toml"))
                victim.reload()
            }
            #expect(try victim.city.audit().errors.isEmpty)
        }
    }

    /// The disk fills up during a write: a clear sentence, nothing half-written, and
    /// the store is whole afterwards.
    @Test func aFullDiskRefusesTheWriteWhole() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let source = try makeCity("source", in: root)
        let target = try makeCity("target", in: root)
        let synthetic = SyntheticLog(origins: 2)
        try synthetic.introduce(to: [source, target])
        _ = try source.receive(synthetic.entries(from: 0, count: 3_000).map { ($0.body, $0.signature) })
        let export = root.appendingPathComponent("big.jsonl")
        try source.exportJSONL { try? $0.appendToFile(export) }
        _ = try target.publish(practice("before the disk filled"))
        let before = try target.localHeads()
        // The child may write files of at most 1 MiB: the import cannot fit.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "trap '' XFSZ; ulimit -f 1024; exec \"$0\" import --data-dir \"$1\" \"$2\"", c4csrBinary, target.directory.root.path, export.path]
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_CONFIG"] = ""
        p.environment = env
        let (status, text) = try await output(of: p)
        #expect(status == 1, "\(text)")
        #expect(text.contains("nothing was written") && (text.contains("full") || text.contains("size limit")), "\(text)")
        let after = try City.open(target.directory)
        #expect(try after.localHeads() == before, "nothing of the import is in")
        #expect(try after.audit().errors.isEmpty)
        #expect(try after.store.integrityProblems().isEmpty)
    }

    /// The data directory's file system is read-only: every command says so in one
    /// sentence and changes nothing; once writable again the store is whole. (Linux will
    /// not remount a file system read-only while the daemon holds files open for writing,
    /// so the read-only state is set between runs: docs/RELIABILITY.md.) Uses a small
    /// tmpfs: the test needs the right to mount, as root in CI.
    @Test func aReadOnlyDataDirectoryIsReportedAndLosesNothing() async throws {
        let mountpoint = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-ro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountpoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountpoint) }
        func sh(_ command: String) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", command]
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        try #require(try sh("mount -t tmpfs -o size=64m c4csr-test '\(mountpoint.path)'") == 0, "mounting a tmpfs needs root (CI runs as root)")
        defer { _ = try? sh("umount -l '\(mountpoint.path)'") }
        let dir: String
        do {
            let city = try makeCity("served", in: mountpoint)
            for i in 0..<3 { _ = try city.publish(practice("held \(i)")) }
            dir = city.directory.root.path
        }
        let before = try await runBinary(["heads", "--data-dir", dir, "--json"])
        try #require(try sh("mount -o remount,ro '\(mountpoint.path)'") == 0)
        for arguments in [["add", "--data-dir", dir, "--title", "T", "--title-en", "T", "--summary", "S", "--summary-en", "S", "--challenge", "C"],
                          ["serve", "--data-dir", dir, "--listen", "127.0.0.1:0"], ["audit", "--data-dir", dir]] {
            let r = try await runBinary(arguments)
            #expect(r.status == 1, "\(arguments[0]): exit \(r.status), \(r.stderr)")
            #expect(r.stderr.contains("not writable") && r.stderr.contains("Read-only file system"), "\(arguments[0]): \(r.stderr)")
        }
        try #require(try sh("mount -o remount,rw '\(mountpoint.path)'") == 0)
        let after = try await runBinary(["heads", "--data-dir", dir, "--json"])
        #expect(after.stdout == before.stdout, "nothing changed")
        #expect(try await runBinary(["audit", "--data-dir", dir]).status == 0)
    }
}

extension String {
    func appendToFile(_ url: URL) throws {
        if let h = try? FileHandle(forWritingTo: url) {
            h.seekToEndOfFile()
            h.write(Data(utf8))
            try h.close()
        } else {
            try write(to: url, atomically: false, encoding: .utf8)
        }
    }
}

/// A member signs thousands of entries at one seq and pushes them to one city; honest
/// daemons relay what they keep. Every city stays syncable, keeps the same two entries
/// as evidence and the same digest, and shows the equivocating city (issue: the hostile member).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ForkFloodTests {
    /// A load test (thousands of signatures made and verified): run alone by `make test`.
    @Test(.enabled(if: loadTestsEnabled, "run alone by make test (C4CSR_LOAD_TESTS=1)"))
    func aForkFloodKeepsEveryCitySyncableWithTheSameEvidence() async throws {
        try await withNetwork(["aa", "bb", "cc"], edges: [("aa", "bb"), ("bb", "cc")], interval: 0.5, configure: { c in
            c.only?.insert(CityID("evil")!)  // the member may push to each of them
        }) { n in
            let (a, b, c) = (n["aa"]!, n["bb"]!, n["cc"]!)
            let root = a.city.directory.root.deletingLastPathComponent()
            let evil = try makeCity("evil", in: root)
            for node in [a, b, c] {
                try Data(evil.card.toml.utf8).write(to: node.city.directory.peersDirectory.appendingPathComponent("evil.toml"))
                node.reload()
            }
            let key = try signingKey(of: evil)
            let variants = try (0..<3_000).map { i in
                try EntryDraft(
                    origin: evil.id, seq: 1, prev: nil, clock: VectorClock([evil.id: 1]), time: Int64(i), kind: .publish,
                    payload: PracticeAction.publish(practice("variant \(i)")).payload
                ).sign(with: key)
            }
            let signed = variants.map { SignedEntry(body: $0.body, signature: $0.signature) }
            let toA = try HTTPPeerTransport(card: a.card, city: evil, connectTimeoutMS: 2_000, requestTimeoutMS: 30_000)
            let first = try await toA.push(Array(signed.prefix(2_000)))
            #expect(first.inserted == 2 && first.forks == 1)
            #expect(first.refused.allSatisfy { $0.code == "fork_evidence_full" })
            // The rest, to the other end of the line, after A's pair has reached it.
            try await eventually("the evidence reaches C") { try c.heads().forks == 2 }
            let toC = try HTTPPeerTransport(card: c.card, city: evil, connectTimeoutMS: 2_000, requestTimeoutMS: 30_000)
            let later = try await toC.push(Array(signed.suffix(1_000)))
            #expect(later.inserted == 0)

            // Everyone stays syncable and converges on the same bounded evidence.
            let honest = try c.city.publish(practice("after the flood"))
            try await eventually("A gets C's entry") { try a.city.store.contains(honest.id) }
            try await eventually("three equal digests") { try Set([a, b, c].map { try $0.heads().digest }).count == 1 }
            for node in [a, b, c] {
                let h = try node.heads()
                #expect(h.forks == 2 && h.heads.filter { $0.origin == evil.id }.count == 2, "\(node.name): \(h)")
                let audit = try node.city.audit()
                #expect(audit.errors.isEmpty, "\(node.name): \(audit.errors)")
                #expect(audit.equivocations == [evil.id: [1]])
                let status = try await runBinary(["status", "--data-dir", node.city.directory.root.path])
                #expect(String(decoding: status.stdout, as: UTF8.self).contains("equivocation: evil signed two entries at seq 1"))
                let auditCLI = try await runBinary(["audit", "--data-dir", node.city.directory.root.path])
                #expect(auditCLI.status == 0, "a member's equivocation is not tampering: \(auditCLI.stderr)")
            }
            print("fork flood: 3,000 entries at evil#1 offered, 2 kept by each of 3 cities, digests equal")
        }
    }
}
