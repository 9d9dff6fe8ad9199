import C4CSRCore
import C4CSRCurl
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// Real daemons in this process: Hummingbird with TLS, the libcurl client, loopback
/// and ephemeral ports. Each test stops every daemon it starts.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DaemonTests {
    @Test func entriesRelayAlongALine() async throws {
        try await withNetwork(["aa", "bb", "cc"], edges: [("aa", "bb"), ("bb", "cc")]) { n in
            let (a, b, c) = (n["aa"]!, n["bb"]!, n["cc"]!)
            let published = try a.city.publish(practice("From A"))
            _ = try c.city.publish(practice("From C"))
            try await eventually("C holds A's entry, relayed by B") { try c.city.store.contains(published.id) }
            try await eventually("three equal digests") {
                let d = try [a, b, c].map { try $0.heads().digest }
                return try Set(d).count == 1 && a.heads().entries == 2
            }
            // The merged log, as the CLI prints it, is byte-identical in all three cities.
            var logs = [(status: Int32, stdout: [UInt8], stderr: String)]()
            for node in [a, b, c] { logs.append(try await runBinary(["log", "--data-dir", node.city.directory.root.path])) }
            #expect(logs.allSatisfy { $0.status == 0 })
            #expect(!logs[0].stdout.isEmpty)
            #expect(logs[0].stdout == logs[1].stdout && logs[1].stdout == logs[2].stdout)
            // A and C never spoke: nothing in A's status about C.
            #expect(try a.city.store.peerStatuses().map(\.city) == [b.id])
        }
    }

    /// Issue 13 on loopback: a sealed contact travels with its entry through running
    /// daemons (A → B → C over HTTPS, `/v1/content` and `/v1/content/push`), and an
    /// erasure by A removes it from every store and comes back confirmed by B and C.
    @Test func sealedContentRelaysAndIsErasedThroughRunningDaemons() async throws {
        try await withNetwork(["aa", "bb", "cc"], edges: [("aa", "bb"), ("bb", "cc")]) { n in
            let (a, b, c) = (n["aa"]!, n["bb"]!, n["cc"]!)
            var p = practice("Sealed on the wire")
            p.contact = "Ina Wire, +359 88 000 1111"
            let published = try a.city.publish(p)
            func contact(_ node: TestNode) throws -> String? {
                try node.city.store.contents(of: [published.id]).first { $0.field == .contact }?.value.stringValue
            }
            try await eventually("C holds A's sealed contact, relayed by B") { try contact(c) == "Ina Wire, +359 88 000 1111" }
            #expect(try contact(b) == "Ina Wire, +359 88 000 1111")
            let erase = try a.city.erase(published.id.hex, fields: [.contact], reason: "Request DPO-2026-9")
            try await eventually("B and C confirm the erasure in A's log") {
                let confirmed = try a.city.store.erasures().first { $0.erasure.entry == erase.id }?.erasure.confirmedBy ?? []
                return Set(confirmed) == [a.id, b.id, c.id]
            }
            for node in [a, b, c] {
                #expect(try contact(node) == nil && node.city.store.isErased(published.id, .contact), "\(node.id)")
            }
        }
    }

    /// Issue 12, rotation on loopback: the admin rotates A's key with the CLI while A's
    /// daemon runs; A's next entry, signed with the new key, reaches C through B; every
    /// city follows the key from the log (no card edited) and audits clean.
    @Test func aKeyRotationTravelsThroughRunningDaemons() async throws {
        try await withNetwork(["aa", "bb", "cc"], edges: [("aa", "bb"), ("bb", "cc")]) { n in
            let (a, b, c) = (n["aa"]!, n["bb"]!, n["cc"]!)
            _ = try a.city.publish(practice("Before"))
            let dir = a.city.directory.root.path
            let rotated = try await runBinary(["key", "rotate", "--data-dir", dir, "--json"])
            #expect(rotated.status == 0, "\(rotated.stderr)")
            let answer = try JSONSerialization.jsonObject(with: Data(rotated.stdout)) as? [String: Any]
            let key = try #require(CityPublicKey(base64: answer?["key"] as? String ?? ""), "\(String(decoding: rotated.stdout, as: UTF8.self))")
            let added = try await runBinary([
                "add", "--data-dir", dir, "--title", "After", "--title-en", "After", "--summary", "s", "--summary-en", "s", "--challenge", "c",
            ])
            #expect(added.status == 0, "\(added.stderr)")
            try await eventually("C follows A's rotation and holds A's entry after it") {
                try c.city.store.keyInForce(nextOf: a.id) == key && c.heads().entries == 3
            }
            try await eventually("three equal digests") { try Set([a, b, c].map { try $0.heads().digest }).count == 1 }
            for node in [a, b, c] {
                let audit = try node.city.audit()
                #expect(audit.findings.isEmpty, "\(node.id): \(audit.findings)")
            }
        }
    }

    @Test func concurrentAddsAndAPartitionConverge() async throws {
        try await withNetwork(["aa", "bb", "cc"], edges: [("aa", "bb"), ("bb", "cc"), ("aa", "cc")]) { n in
            let nodes = [n["aa"]!, n["bb"]!, n["cc"]!]
            // Every city adds while the daemons sync.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in nodes {
                    group.addTask {
                        for i in 0..<6 {
                            _ = try node.city.publish(practice("\(node.name) \(i)"))
                            try await Task.sleep(for: .milliseconds(30))
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Partition: B stops; A and C go on, and B's officer adds offline.
            let b = n["bb"]!
            await b.stop()
            _ = try b.city.publish(practice("bb offline"))
            let partitionEntries = try [n["aa"]!, n["cc"]!].map { node in try node.city.publish(practice("\(node.name) during the partition")) }
            try await eventually("A and C agree without B") {
                try n["aa"]!.heads().digest == n["cc"]!.heads().digest && partitionEntries.allSatisfy { try n["aa"]!.city.store.contains($0.id) }
            }
            // Heal: B comes back on its port.
            try await b.start()
            try await eventually("all converge after the partition heals") {
                let h = try nodes.map { try $0.heads() }
                return Set(h.map(\.digest)).count == 1 && h[0].entries == 3 * 6 + 3
            }
            for node in nodes {
                let report = try node.city.audit()
                #expect(report.errors.isEmpty, "\(node.name): \(report.errors)")
            }
        }
    }

    @Test func unknownClientIsRefusedAndWrongPinIsRefusedByTheClient() async throws {
        try await withNetwork(["aa", "bb"], edges: [("aa", "bb")]) { n in
            let (a, b) = (n["aa"]!, n["bb"]!)
            // A stranger with a valid certificate whose pin no card of A carries.
            let root = a.city.directory.root.deletingLastPathComponent()
            let stranger = try makeCity("zz", in: root)
            let t = try HTTPPeerTransport(card: a.card, city: stranger, connectTimeoutMS: 2_000, requestTimeoutMS: 3_000)
            await #expect(throws: TransportError.self) { _ = try await t.heads() }
            #expect(!a.logs.contains("bad request"), "no handler ran for the stranger")

            // A server whose key is not the pinned one: A's card carrying B's pin.
            var impostor = a.card
            impostor.tlsPin = b.card.tlsPin
            let t2 = try HTTPPeerTransport(card: impostor, city: b.city, connectTimeoutMS: 2_000, requestTimeoutMS: 3_000)
            do {
                _ = try await t2.heads()
                Issue.record("a server with the wrong key was accepted")
            } catch let e as TransportError {
                #expect(e.kind == .pinMismatch)
                #expect(e.description.contains("tls_pin"), "\(e)")
            }
            // The right pin works.
            #expect(try await b.transport(to: a).heads().city == a.id)
        }
    }

    @Test func hostilePushesStoreNothingAndShowInStatus() async throws {
        try await withNetwork(["aa", "xx"], edges: [("aa", "xx")], interval: 60) { n in
            let (a, x) = (n["aa"]!, n["xx"]!)
            let key = try signingKey(of: x.city)
            let before = try a.heads()
            let t = try x.transport(to: a)
            func entry(seq: Int64, prev: EntryID?, clock: [String: Int64]) throws -> Entry {
                let draft = EntryDraft(
                    origin: x.id, seq: seq, prev: prev, clock: VectorClock(Dictionary(uniqueKeysWithValues: clock.map { (CityID($0.key)!, $0.value) })),
                    time: 1_764_061_200_000, kind: .publish, payload: PracticeAction.publish(practice("Hostile")).payload)
                return try draft.sign(with: key)
            }
            let good1 = try entry(seq: 1, prev: nil, clock: ["xx": 1])
            var forged = good1.signature
            forged[5] ^= 0x40
            let cases: [(String, SignedEntry)] = [
                ("bad signature", SignedEntry(body: good1.body, signature: forged)),
                ("broken chain", SignedEntry(entry: try entry(seq: 2, prev: EntryID.of(body: [1, 2, 3]), clock: ["xx": 2]))),
                ("gap", SignedEntry(entry: try entry(seq: 3, prev: EntryID.of(body: [4]), clock: ["xx": 3]))),
                ("clock claims missing entries", SignedEntry(entry: try entry(seq: 1, prev: nil, clock: ["xx": 1, "aa": 99]))),
            ]
            for (name, bad) in cases {
                let result = try await t.push([bad])
                #expect(result.inserted == 0, "\(name) was stored")
                #expect(result.refused.count == 1, "\(name): \(result.refused)")
            }
            #expect(try a.heads() == before, "nothing of it is stored")
            // Garbage that is not an entry stream: a clear 400, and the daemon keeps serving.
            let garbage = try await rawPost(from: x, to: a, path: "/v1/push", body: Array("not an entry stream".utf8))
            #expect(garbage.status == 400 && String(decoding: garbage.body, as: UTF8.self).contains("malformed_message"))
            #expect(try await t.heads().city == a.id)
            // The refusals are logged and visible in A's status for X.
            #expect(a.logs.contains("refused entries pushed by peer"))
            let status = try #require(try a.city.store.peerStatus(x.id))
            #expect(status.refused >= 4)
            #expect(status.lastRefusal != nil)
        }
    }

    @Test func aHangingOrDeadPeerDoesNotHoldUpTheOthers() async throws {
        let hang = try HangingListener()
        defer { hang.close() }
        try await withNetwork(["aa", "bb", "hh", "dd"], edges: [("aa", "bb"), ("aa", "hh"), ("aa", "dd")], interval: 30) { c in
            // H never finishes the TLS handshake, so libcurl's connect limit ends its round:
            // long enough that B's round finishes inside it even on a machine loaded by
            // other suites (1.5 s was once too short for that).
            c.connectTimeoutMS = 8_000
            c.requestTimeoutMS = 10_000
        } _: { n in
            let (a, b, h, d) = (n["aa"]!, n["bb"]!, n["hh"]!, n["dd"]!)
            // H's endpoint accepts TCP and never answers; D is down.
            await h.stop()
            await d.stop()
            var hCard = h.card
            hCard.endpoint = "https://127.0.0.1:\(hang.port)"
            try Data(hCard.toml.utf8).write(to: a.city.directory.peersDirectory.appendingPathComponent("hh.toml"))
            a.reload()
            let entry = try a.city.publish(practice("while a peer hangs"))
            a.daemon!.sync.syncNow()  // every peer now, H included even if it was backing off
            try await eventually("B receives A's entry") { try b.city.store.contains(entry.id) }
            // B got it before A's round with H ran into its connect timeout (that round may
            // still be waiting, or, on a loaded machine, not have started yet: either way
            // B's round did not wait for it).
            let hBefore = try a.city.store.peerStatus(h.id)?.lastError ?? ""
            #expect(!hBefore.contains("did not answer"), "B's round waited for H's timeout: \(hBefore)")
            try await eventually("H's round fails by timeout", within: 20) {
                (try a.city.store.peerStatus(h.id))?.lastError?.contains("did not answer") == true
            }
            let hs = try #require(try a.city.store.peerStatus(h.id))
            #expect(hs.lastError!.contains("did not answer"), "\(hs.lastError!)")
            let ds = try #require(try a.city.store.peerStatus(d.id))
            #expect(ds.lastError?.contains("cannot connect") == true, "\(String(describing: ds.lastError))")
        }
    }

    @Test func aRoundWithNothingNewTransfersOnlyHeads() async throws {
        try await withNetwork(["aa", "bb"], edges: [("aa", "bb")], interval: 3600) { c in
            c.only = []
        } _: { n in
            let (a, b) = (n["aa"]!, n["bb"]!)
            let synthetic = SyntheticLog(origins: 10)
            try synthetic.introduce(to: [a.city, b.city])
            var costs = [Int: (requests: Int, bytes: Int)]()
            var held = 0
            for size in [1_000, 10_000] {
                let batch = synthetic.entries(from: held, count: size - held)
                held = size
                for node in [a, b] {
                    let r = try node.city.receive(batch.map { ($0.body, $0.signature) })
                    #expect(r.inserted == batch.count)
                }
                #expect(try a.heads().digest == b.heads().digest)
                let t = try a.transport(to: b)
                let report = await SyncRound(city: a.city, peer: b.id, transport: t).run()
                #expect(report.succeeded && report.inSync, "\(String(describing: report.error))")
                costs[size] = (t.traffic.requests, t.traffic.bytesSent + t.traffic.bytesReceived)
            }
            let small = try #require(costs[1_000]), large = try #require(costs[10_000])
            #expect(small.requests == 1 && large.requests == 1, "a no-op round is one heads request")
            #expect(large.bytes < 2_048, "no-op round moved \(large.bytes) bytes")
            // Ten times the log: the same bytes, give or take the digits of the counts.
            #expect(abs(large.bytes - small.bytes) <= 16, "\(small.bytes) bytes at 1,000 entries, \(large.bytes) at 10,000")
        }
    }

    @Test func initialCatchUpInPages() async throws {
        // The daemons serve but run no rounds of their own: the test's round is the only one.
        try await withNetwork(["aa", "bb"], edges: [("aa", "bb")], interval: 3600) { c in
            c.only = []
        } _: { n in
            let (a, b) = (n["aa"]!, n["bb"]!)
            let synthetic = SyntheticLog(origins: 4)
            try synthetic.introduce(to: [a.city, b.city])
            let seeded = try a.city.receive(synthetic.entries(from: 0, count: 2_000).map { ($0.body, $0.signature) })
            #expect(seeded.inserted == 2_000)
            let t = try b.transport(to: a)
            var round = SyncRound(city: b.city, peer: a.id, transport: t)
            round.pageLimit = 300
            let report = await round.run()
            #expect(report.succeeded && report.inSync, "\(String(describing: report.error)) \(report.refusedFromPeer)")
            #expect(report.received == 2_000)
            #expect(t.traffic.requests >= 1 + 2_000 / 300, "pages are bounded: \(t.traffic.requests) requests")
            #expect(t.traffic.connections == 1, "one TLS connection for the whole round")
            #expect(try b.city.audit().errors.isEmpty)
        }
    }
}

/// A TCP listener on loopback that never accepts: connections complete in the kernel
/// and then hang, as a stuck peer would.
final class HangingListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0, listen(fd, 16) == 0 else { throw SyncRoundError("cannot listen") }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: bound.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}

/// Posts raw bytes with the node's client certificate (through libcurl), for requests
/// no transport method would send.
func rawPost(from node: TestNode, to other: TestNode, path: String, body: [UInt8]) async throws -> CurlResponse {
    let config = CurlConfiguration(
        pinnedPublicKey: other.card.tlsPin!, clientCertificate: node.city.directory.tlsCertificateFile.path,
        clientKey: node.city.directory.tlsKeyFile.path)
    let easy = try CurlEasy(config)
    return try easy.perform(url: other.endpoint + path, body: body, binary: true)
}

/// Signed entries from synthetic origins, generated in memory: a large valid log in
/// seconds, for tests that need size.
struct SyntheticLog {
    let keys: [(CityID, CitySigningKey)]

    init(origins: Int) {
        keys = (1...origins).map { i in
            var seed = [UInt8](repeating: UInt8(i), count: 32)
            seed[0] = 0xC4
            return (CityID(String(format: "syn-%02d", i))!, CitySigningKey(rawRepresentation: seed)!)
        }
    }

    /// Entries `from ..< from + count` of one deterministic history: origins write in
    /// turn, each having seen everything before it.
    func entries(from: Int, count: Int) -> [SignedEntry] {
        var clock = VectorClock()
        var prev = [CityID: EntryID]()
        var out = [SignedEntry]()
        for n in 0..<(from + count) {
            let (origin, key) = keys[n % keys.count]
            clock[origin] += 1
            let draft = EntryDraft(
                origin: origin, seq: clock[origin], prev: prev[origin], clock: clock, time: 1_764_061_200_000 + Int64(n), kind: .publish,
                payload: PracticeAction.publish(practice("Synthetic practice \(n)")).payload)
            let body = draft.body
            prev[origin] = EntryID.of(body: body)
            if n >= from { out.append(SignedEntry(body: body, signature: key.signature(for: body))) }
        }
        return out
    }

    /// Writes the synthetic origins' cards into the cities' peers directories.
    func introduce(to cities: [City]) throws {
        for city in cities {
            for (id, key) in keys {
                let card = PeerCard(city: id, name: id.rawValue, localName: id.rawValue, country: "EU", language: "en", publicKey: key.publicKey)
                try Data(card.toml.utf8).write(to: city.directory.peersDirectory.appendingPathComponent("\(id).toml"))
            }
            city.reloadPeers()
        }
    }
}

extension SignedEntry {
    init(entry: Entry) { self.init(body: entry.body, signature: entry.signature) }
}
