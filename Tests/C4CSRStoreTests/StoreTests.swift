import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import GRDB
import Testing

@Suite struct StoreTests {
    /// The log is insert-only in the database itself: any SQL client is refused.
    @Test func updateAndDeleteAreRefusedBySQLite() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            _ = try city.publish(practice("Green schoolyards"))
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            for sql in ["UPDATE entry SET seq = 7", "UPDATE entry SET body = x'7b7d'", "DELETE FROM entry"] {
                do {
                    try db.write { try $0.execute(sql: sql) }
                    Issue.record("\(sql) succeeded")
                } catch let error as DatabaseError {
                    #expect(error.message?.contains("append-only") == true, "\(error)")
                }
            }
            // Inserting an entry whose predecessor is absent is refused too.
            do {
                try db.write {
                    try $0.execute(sql: """
                        INSERT INTO entry (id, origin, seq, prev, rank, clock, kind, body, sig, received_at)
                        VALUES (zeroblob(32), 'sofia', 5, zeroblob(32), 5, '{}', 'publish', x'7b7d', zeroblob(64), 0)
                        """)
                }
                Issue.record("insert before predecessor succeeded")
            } catch let error as DatabaseError {
                #expect(error.message?.contains("predecessor") == true)
            }
            #expect(try city.store.count() == 1)
            #expect(try city.audit().errors.isEmpty)
        }
    }

    /// One transaction per batch: the valid, causally ready entries go in; the bad one
    /// is reported; an entry depending on the bad one waits; nothing is half-written.
    @Test func batchWithOneBadEntryKeepsTheGoodOnes() throws {
        try withTemporaryDirectory { root in
            let a = try makeCity("sofia", in: root)
            let c = try makeCity("vratsa", in: root)
            let b = try makeCity("milano", in: root, peers: [a, c])
            let a1 = try a.publish(practice("one"))
            let a2 = try a.publish(practice("two"))
            let a3 = try a.publish(practice("three"))
            let c1 = try c.publish(practice("four"))
            var forged = a2.signature
            forged[10] ^= 0xFF
            let report = try b.receive([
                (a1.body, a1.signature), (a2.body, forged), (a3.body, a3.signature), (c1.body, c1.signature),
            ])
            #expect(report.inserted == 2)
            #expect(report.invalid.map(\.index) == [1])
            #expect(report.invalid.first?.error.isBadSignature == true)
            #expect(report.outcome.refused.map(\.entry.id) == [a3.id])
            #expect(report.outcome.refused.first?.reason == .missingPredecessor(origin: a.id, seq: 2))
            #expect(try b.store.count() == 2)
            #expect(try b.store.entry(a1.id) != nil && b.store.entry(c1.id) != nil && b.store.entry(a3.id) == nil)
            #expect(try b.audit().errors.isEmpty)
            // The good a2 later completes the chain.
            #expect(try b.receive([(a2.body, a2.signature), (a3.body, a3.signature)]).inserted == 2)
            #expect(try b.store.heads().filter { $0.origin == a.id } == a.store.heads())
        }
    }

    /// Two connections (as the CLI and the daemon) adding at once get consecutive seqs.
    @Test func concurrentWritersShareOneStore() throws {
        try withTemporaryDirectory { root in
            let first = try makeCity("sofia", in: root)
            let second = try City.open(first.directory)
            let errors = ErrorBox()
            DispatchQueue.concurrentPerform(iterations: 2) { w in
                let city = w == 0 ? first : second
                for i in 0..<40 {
                    do { _ = try city.publish(practice("writer \(w) #\(i)")) } catch { errors.add("\(error)") }
                }
            }
            #expect(errors.all.isEmpty)
            #expect(try first.store.count() == 80)
            #expect(try first.store.heads().map(\.seq) == [80])
            #expect(try first.audit().errors.isEmpty)
        }
    }

    @Test func searchFoldsCaseAndDiacriticsInEveryScript() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            let bg = try city.publish(practice("Green schoolyards", local: "Зелени училищни дворове", summary: "Фирми осиновяват дворове"))
            let hu = try city.publish(practice("Budaörs employers' forum", local: "Budaörsi munkáltatói fórum", language: "hu", themes: ["employment"], sdgs: [8]))
            let lv = try city.publish(practice("Ķekava river clean-up", local: "Ķekavas upes tīrīšana", language: "lv", themes: ["environment"], sdgs: [6, 13], status: .completed))
            func ids(_ q: String) throws -> Set<EntryID> { Set(try city.store.search(q).map(\.id)) }
            #expect(try ids("зелени") == [bg.id])
            #expect(try ids("ДВОРОВЕ") == [bg.id])
            #expect(try ids("учил") == [bg.id])  // word prefix
            #expect(try ids("budaors") == [hu.id])
            #expect(try ids("MUNKÁLTATÓI") == [hu.id])
            #expect(try ids("kekavas tirisana") == [lv.id])
            #expect(try ids("green") == [bg.id])
            #expect(try ids("\" OR * NEAR(") == [])  // FTS syntax in user text is taken literally
            var filter = PracticeFilter()
            filter.theme = "environment"
            #expect(Set(try city.store.practices(filter).map(\.id)) == [bg.id, lv.id])
            filter.sdg = 6
            #expect(try city.store.practices(filter).map(\.id) == [lv.id])
            filter = PracticeFilter()
            filter.status = "completed"
            #expect(try city.store.practices(filter).map(\.id) == [lv.id])
        }
    }

    /// Two cities that exchange exports hold the same log: equal digests, identical
    /// merged order, identical export bytes.
    @Test func exchangeConverges() throws {
        try withTemporaryDirectory { root in
            var cities = try introduce([try makeCity("sofia", in: root), try makeCity("milano", in: root), try makeCity("nantes", in: root)])
            let p = try cities[0].publish(practice("Green schoolyards"))
            _ = try cities[1].publish(practice("CSR platform"))
            _ = try cities[1].receive(try exportLines(cities[0]))
            _ = try cities[1].adopt(p.id.hex, mode: .adapted, notes: "in Milano")
            _ = try cities[2].publish(practice("Co-designed plan"))
            for _ in 0..<2 {
                for a in cities { for b in cities where a.id != b.id { _ = try b.receive(try exportLines(a)) } }
            }
            cities = try cities.map(reopen)
            let digests = Set(try cities.map { try $0.store.summary().digest })
            #expect(digests.count == 1)
            var exports = Set<String>()
            for c in cities {
                var text = ""
                try c.exportJSONL { text += $0 }
                exports.insert(text)
                #expect(try c.audit().errors.isEmpty)
            }
            #expect(exports.count == 1)
            #expect(try cities[0].store.practice(p.id.hex).0.adoptions.map(\.city.rawValue) == ["milano"])
        }
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors = [String]()
    func add(_ e: String) { lock.lock(); errors.append(e); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return errors }
}

/// Protocol v2 §15: a later generation's chain (`sofia~2`) is a chain like any other in the
/// store — heads, digest, clock, the entries a peer lacks, entries by id — once the node
/// accepts it. Read from the worked example's first history (recovery-vector.json), whose
/// digest the store must reproduce.
@Suite struct ChainIDStoreTests {
    struct Line: Decodable { let body: String; let sig: String }
    struct History: Decodable { let entries: [Line]; let digest: String }
    struct Vector: Decodable { let network: String; let keys: [String: String]; let histories: [History] }

    func history(_ v: Vector, _ n: Int) throws -> (entries: [Entry], check: SignatureCheck, membership: LogStore.Membership) {
        let entries = try v.histories[n].entries.map { try Entry.decode(body: Array($0.body.utf8), signature: Array(Data(base64Encoded: $0.sig)!)) }
        let founding = Dictionary(uniqueKeysWithValues: ["sofia", "milano", "nantes"].map { (CityID($0)!, CityPublicKey(base64: v.keys[$0]!)!) })
        let verifier = EntryVerifier(keys: founding, network: v.network)
        var fold = KeysInForce()
        let inForce = fold.assign(entries, verifier: verifier)
        var signers = [EntryID: CityPublicKey]()
        for e in entries { signers[e.id] = try verifier.verify(e, inForce: inForce[e.id]!) }
        let charter = try Charter(name: "CITIES4CSR test", founders: ["sofia", "nantes", "milano"].map { CityID($0)! })
        #expect(charter.networkID == v.network)
        return (entries, SignatureCheck(founding: founding, signers: signers), LogStore.Membership(charter: charter, foundingKeys: founding))
    }

    static func vector() throws -> Vector {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("C4CSRCoreTests/Fixtures/recovery-vector.json")
        return try JSONDecoder().decode(Vector.self, from: Data(contentsOf: file))
    }

    /// The worked example through the store: the thief's retraction (sofia#2) takes effect
    /// until the recovery arrives, which revokes it and shows the practice again; in one
    /// batch, the same. Without a majority (history 2) the recover is invalid, its chain
    /// revoked, and the retraction stands. Revoked entries stay in the heads and digest.
    @Test func aRecoveryRevokesTheThiefsEntriesInTheStoreWhateverTheOrder() throws {
        let v = try Self.vector()
        let (entries, check, membership) = try history(v, 0)
        let publish = try #require(entries.first { $0.kind == .publish })
        let thief = try #require(entries.first { $0.origin.rawValue == "sofia" && $0.seq == 2 })
        let recover = try #require(entries.first { $0.kind == .recover })
        try withTemporaryDirectory { root in
            let store = try LogStore(path: root.appendingPathComponent("a.sqlite").path)
            _ = try store.merge([publish, thief], signatures: check, membership: membership)
            #expect(try store.practices().map(\.status) == ["retracted"], "the thief's retraction, before the recovery")
            let outcome = try store.merge(entries, signatures: check, membership: membership)
            #expect(outcome.inserted.count == 3 && outcome.refused.isEmpty, "\(outcome.refused)")
            #expect(try store.revokedEntries() == [thief.id] && store.invalidMembership().isEmpty)
            #expect(try store.practices().map(\.status) == ["running"], "revoked: read as if it were not in the log")
            #expect(try store.practice(publish.id.hex).0.versions.count == 1)
            #expect(try store.summary().digest.hex == v.histories[0].digest)

            let together = try LogStore(path: root.appendingPathComponent("b.sqlite").path)
            _ = try together.merge(entries.reversed(), signatures: check, membership: membership)
            #expect(try together.revokedEntries() == [thief.id] && together.practices().map(\.status) == ["running"])

            // Without the charter (a node that has none) nothing is computed.
            let blind = try LogStore(path: root.appendingPathComponent("c.sqlite").path)
            _ = try blind.merge(entries, signatures: check)
            #expect(try blind.revokedEntries().isEmpty)
            _ = recover
        }
        let (second, check2, membership2) = try history(v, 1)
        try withTemporaryDirectory { root in
            let store = try LogStore(path: root.appendingPathComponent("d.sqlite").path)
            _ = try store.merge(second, signatures: check2, membership: membership2)
            let recover2 = try #require(second.first { $0.kind == .recover })
            #expect(try store.revokedEntries() == [recover2.id])
            let invalid = try store.invalidMembership()
            #expect(invalid[recover2.id]?.contains("1 of 2") == true, "\(invalid)")
            #expect(try store.practices().map(\.status) == ["retracted"], "no valid recovery: the old chain stands")
            #expect(try store.summary().digest.hex == v.histories[1].digest)
        }
    }

    @Test func aLaterGenerationsChainIsInTheHeadsTheClockAndThePulls() throws {
        let v = try Self.vector()
        let (entries, check, _) = try history(v, 0)
        let chain = CityID.chain("sofia~2")!
        let recover = try #require(entries.first { $0.origin == chain })

        try withTemporaryDirectory { root in
            let store = try LogStore(path: root.appendingPathComponent("store.sqlite").path)
            let outcome = try store.merge(entries, signatures: check)
            #expect(outcome.inserted.count == 5 && outcome.refused.isEmpty, "\(outcome.refused)")
            let summary = try store.summary()
            #expect(summary.heads.contains(Head(origin: chain, seq: 1, id: recover.id)), "\(summary.heads)")
            #expect(summary.digest.hex == v.histories[0].digest)
            let held = VectorClock(Dictionary(summary.heads.map { ($0.origin, $0.seq) }, uniquingKeysWith: max))
            var have = held
            have[chain] = 0
            #expect(try store.lacking(have, limit: 100, maxBytes: 1 << 20).entries.map { EntryID.of(body: $0.body) } == [recover.id])
            #expect(try store.lacking(held, limit: 100, maxBytes: 1 << 20).entries.isEmpty, "a peer holding sofia~2#1 is sent nothing")
            #expect(try store.entries(ids: [recover.id]).count == 1)
        }
    }
}
