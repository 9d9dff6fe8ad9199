import Foundation
import Testing

@testable import C4CSRCore

/// The worked example of docs/PROTOCOL.md §15, written by Python from the text
/// (scripts/make_recovery_vector.py): the charter's network id, the motion's canonical
/// form, every signature (a recover verifies with the key its motion names), and the
/// verdicts the pure core reaches on each history, in any order of arrival.
@Suite struct RecoveryVectorTests {
    struct Line: Decodable { let body: String; let id: String; let sig: String }
    struct History: Decodable {
        let name: String
        let entries: [Line]
        let valid_recovers: [String]
        let invalid: [String]
        let revoked: [String]
        let digest: String
    }
    struct Vector: Decodable {
        let charter_canonical: String
        let network: String
        let keys: [String: String]
        let seeds: [String: String]
        let motion_canonical: String
        let histories: [History]
    }

    static func vector() throws -> Vector {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/recovery-vector", withExtension: "json"))
        return try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
    }

    /// The entries of a history, read by the node's decoder.
    static func entries(_ history: History) throws -> [Entry] {
        try history.entries.map { line in
            let body = Array(line.body.utf8)
            let e = try Entry.decode(body: body, signature: Array(try #require(Data(base64Encoded: line.sig))))
            #expect(e.id.hex == line.id)
            return e
        }
    }

    static func founding(_ v: Vector) throws -> [CityID: CityPublicKey] {
        Dictionary(uniqueKeysWithValues: try ["sofia", "milano", "nantes"].map {
            (CityID($0)!, try #require(CityPublicKey(base64: v.keys[$0]!)))
        })
    }

    /// Every signature verifies with the key in force at its position — the card's key for
    /// a generation-1 chain, the motion's for a recover — on a node holding the charter, in
    /// any order of arrival; on a node without it, the membership entries wait.
    @Test func everyEntryVerifiesWithItsKeyInForceOnANodeWithTheCharter() throws {
        let v = try Self.vector()
        let verifier = EntryVerifier(keys: try Self.founding(v), network: v.network)
        var rng = SeededRNG(seed: 12)
        for history in v.histories {
            let entries = try Self.entries(history)
            for order in [entries, entries.reversed(), entries.shuffled(using: &rng)] {
                var fold = KeysInForce()
                let inForce = fold.assign(order, verifier: verifier)
                for e in order {
                    let key = try verifier.verify(e, inForce: try #require(inForce[e.id]))
                    #expect(key.base64 == v.keys[e.origin.rawValue], "\(history.name): \(e)")
                }
            }
            let noCharter = EntryVerifier(keys: verifier.keys, network: nil)
            for e in entries where e.kind.isMembership {
                #expect(throws: EntryError.unknownNetwork(v.network, ours: nil)) { try noCharter.verify(e, inForce: .start(of: e)) }
            }
        }
        // The recover signed by the old key (a thief's) does not verify: it is not the key it names.
        let recover = try #require(try Self.entries(v.histories[0]).first { $0.kind == .recover })
        let old = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.seeds["sofia"]!)!))
        let stolen = try Entry.decode(body: recover.body, signature: old.signature(for: recover.body))
        #expect(throws: EntryError.self) { try verifier.verify(stolen, inForce: .start(of: stolen)) }
    }

    /// The planner requires, at seq 1 of `sofia~2`, the key its recover names, and after it
    /// that key: an entry verified with sofia's card key there is not accepted.
    @Test func theLogTakesALaterGenerationWithTheKeyItsRecoverNames() throws {
        let v = try Self.vector()
        let verifier = EntryVerifier(keys: try Self.founding(v), network: v.network)
        let entries = try Self.entries(v.histories[0])
        let recover = try #require(entries.first { $0.kind == .recover })
        let newKey = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.seeds["sofia~2"]!)!))
        let oldKey = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.seeds["sofia"]!)!))
        var clock = recover.clock
        clock[recover.origin] = 2
        func next(signedBy key: CitySigningKey, time: Int64) throws -> Entry {
            try EntryDraft(origin: recover.origin, seq: 2, prev: recover.id, clock: clock, time: time, kind: .publish,
                           payload: PracticeAction.publish(samplePractice()).payload).sign(with: key)
        }
        let good = try next(signedBy: newKey, time: recover.time + 1), bad = try next(signedBy: oldKey, time: recover.time + 2)
        var fold = KeysInForce()
        let inForce = fold.assign(entries + [good], verifier: verifier)
        var signers = [EntryID: CityPublicKey]()
        for e in entries + [good] { signers[e.id] = try verifier.verify(e, inForce: try #require(inForce[e.id])) }
        #expect(signers[recover.id] == newKey.publicKey && signers[good.id] == newKey.publicKey)
        signers[bad.id] = oldKey.publicKey  // as a verifier that took sofia's card would have said
        var log = MemoryLog()
        let plan = log.merge(entries + [good, bad], signatures: SignatureCheck(founding: verifier.keys, signers: signers))
        #expect(Set(plan.accepted.map(\.id)) == Set((entries + [good]).map(\.id)))
        #expect(plan.refused.map(\.entry.id) == [bad.id] && plan.refused.first?.reason == .notVerifiedWithKeyInForce)
        #expect(log.state(after: recover.id)?.key == newKey.publicKey)
    }

    @Test func theCharterTheMotionAndTheKeysAreTheDocumentsBytes() throws {
        let v = try Self.vector()
        let charter = try Charter(name: "CITIES4CSR test", founders: ["sofia", "nantes", "milano"].map { CityID($0)! })
        #expect(String(decoding: charter.canonical, as: UTF8.self) == v.charter_canonical)
        #expect(charter.networkID == v.network)
        for (chain, seed) in v.seeds {
            let key = try #require(CitySigningKey(rawRepresentation: Hex.decode(seed)!))
            #expect(key.publicKey.base64 == v.keys[chain], "\(chain)")
        }
        let motion = try Motion(json: try JSONParser.parse(v.motion_canonical))
        #expect(String(decoding: CanonicalJSON.encode(motion.json), as: UTF8.self) == v.motion_canonical)
        guard case .recover(let r) = motion else { Issue.record("a recover motion"); return }
        #expect(r.newChain.rawValue == "sofia~2" && r.key.base64 == v.keys["sofia~2"] && r.lastSeq == 1)
    }

    @Test func eachHistoryReachesTheDocumentsVerdictsInAnyOrder() throws {
        let v = try Self.vector()
        let charter = try Charter(name: "CITIES4CSR test", founders: ["sofia", "nantes", "milano"].map { CityID($0)! })
        let founding = try Self.founding(v)
        #expect(v.histories.count == 2)
        for history in v.histories {
            let facts = try Self.entries(history).map(MembershipFacts.init)
            // §5 over chains: revoked entries stay in heads and the digest.
            let heads = Dictionary(grouping: facts, by: \.origin).values.map { chain in
                let top = chain.max { $0.seq < $1.seq }!
                return Head(origin: top.origin, seq: top.seq, id: top.id)
            }
            #expect(NetworkDigest(heads: heads, forks: []).hex == history.digest, "\(history.name)")
            var rng = SeededRNG(seed: 15)
            for order in [facts, facts.reversed()] + (0..<4).map({ _ in facts.shuffled(using: &rng) }) {
                let verdicts = MembershipVerdicts(charter: charter, entries: order, foundingKeys: founding)
                #expect(verdicts.validRecovers.values.flatMap { $0.map(\.id.hex) }.sorted() == history.valid_recovers.sorted(), "\(history.name)")
                #expect(verdicts.invalid.keys.map(\.hex).sorted() == history.invalid.sorted(), "\(history.name)")
                #expect(facts.filter(verdicts.isRevoked).map(\.id.hex).sorted() == history.revoked.sorted(), "\(history.name)")
            }
        }
    }
}
