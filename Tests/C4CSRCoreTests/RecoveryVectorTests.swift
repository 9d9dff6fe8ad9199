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

    /// An entry of the vector as the verdicts read it, its signature checked with the key
    /// its chain names: the card's key for a generation-1 chain, the motion's for a recover.
    static func facts(_ line: Line, keys: [String: String], network: String) throws -> MembershipFacts {
        let body = Array(line.body.utf8)
        #expect(EntryID.of(body: body).hex == line.id)
        guard case .object(let o) = try JSONParser.parse(body) else { throw EntryError.malformed("not an object") }
        let origin = try #require(o["origin"]?.stringValue.flatMap(CityID.chain))
        let seq = try #require(o["seq"]?.intValue)
        let prev = o["prev"]?.stringValue.flatMap { Hex.decode($0) }.flatMap { EntryID(bytes: $0) }
        guard case .object(let clockObject)? = o["clock"] else { throw EntryError.malformed("clock") }
        var clock = [CityID: Int64]()
        for (chain, value) in clockObject { clock[try #require(CityID.chain(chain))] = try #require(value.intValue) }
        let kind = try #require(o["kind"]?.stringValue)
        var statement: MembershipStatement? = nil
        if MembershipStatement.kinds.contains(kind), case .object(let payload)? = o["payload"] {
            let decoded = try MembershipStatement.decode(kind: kind, payload: payload, origin: origin, seq: seq)
            #expect(decoded.network == network)
            statement = decoded.statement
        }
        // The key in force: a recover's motion names it; every other chain here is its city's card.
        var key = try #require(CityPublicKey(base64: keys[origin.rawValue] ?? ""), "no key for \(origin)")
        if case .recover(let r)? = statement { key = r.key }
        let signature = try #require(Data(base64Encoded: line.sig))
        #expect(key.isValidSignature(Array(signature), for: body), "the signature of \(origin)#\(seq)")
        return MembershipFacts(id: try #require(EntryID(bytes: Hex.decode(line.id)!)), origin: origin, seq: seq,
                               prev: prev, clock: VectorClock(clock), statement: statement)
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
        let founding = Dictionary(uniqueKeysWithValues: try ["sofia", "milano", "nantes"].map {
            (CityID($0)!, try #require(CityPublicKey(base64: v.keys[$0]!)))
        })
        #expect(v.histories.count == 2)
        for history in v.histories {
            let facts = try history.entries.map { try Self.facts($0, keys: v.keys, network: v.network) }
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
