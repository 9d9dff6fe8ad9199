import Foundation
import Testing

@testable import C4CSRCore

/// Receives `batch` the way a node does (docs/PROTOCOL.md §12): each entry's key in force
/// from its ancestry (the batch, then the log), its signature checked with that key,
/// then the planner, which accepts only entries verified with the key in force.
@discardableResult
func deliver(_ batch: [Entry], to log: inout MemoryLog, verifier: EntryVerifier) -> (plan: MergePlan, invalid: [Entry]) {
    var held = [EntryID: ChainState]()
    for id in KeysInForce.predecessorsOutside(batch) { held[id] = log.state(after: id) }
    let keyAt = KeysInForce.assign(batch, held: held, verifier: verifier)
    var signers = [EntryID: CityPublicKey]()
    var rolls = [EntryID: OfficerRoll]()
    var valid = [Entry](), invalid = [Entry]()
    for e in batch {
        // Its key is not known before its predecessor: not verified, refused as not ready.
        guard let known = keyAt[e.id] else {
            valid.append(e)
            continue
        }
        if let key = try? verifier.verify(e, inForce: known) {
            signers[e.id] = key
            rolls[e.id] = known.officers
            valid.append(e)
        } else {
            invalid.append(e)
        }
    }
    return (log.merge(valid, signatures: SignatureCheck(founding: verifier.keys, signers: signers, rolls: rolls)), invalid)
}

/// `everything` received by a fresh log in random order and random batches, as rounds
/// do: what is not ready is sent again the next round, until a round accepts nothing.
func deliverInRandomBatches(_ everything: [Entry], verifier: EntryVerifier, using rng: inout SeededRNG) -> MemoryLog {
    var log = MemoryLog()
    var pending = everything.shuffled(using: &rng)
    var progress = true
    while progress, !pending.isEmpty {
        progress = false
        var next = [Entry]()
        while !pending.isEmpty {
            let n = Int.random(in: 1...pending.count, using: &rng)
            let batch = Array(pending.prefix(n))
            pending.removeFirst(n)
            let (plan, _) = deliver(batch, to: &log, verifier: verifier)
            if !plan.accepted.isEmpty { progress = true }
            next += plan.refused.filter { $0.reason.isNotReady }.map(\.entry)
        }
        pending = next.shuffled(using: &rng)
    }
    return log
}

@Suite struct RotationTests {
    struct Vector: Decodable {
        struct Line: Decodable { let body: String, id: String, sig: String }
        let old_seed: String, new_seed: String, old_public_key: String, new_public_key: String
        let proof_message: String, proof: String
        let entries: [Line]
        let entry3_signed_by_old_key: String
        let digest: String
    }

    static func vector() throws -> Vector {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/rotation-vector", withExtension: "json"))
        return try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
    }

    /// The worked example of PROTOCOL.md §12, written by Python: the Swift code builds the
    /// same rotate body, proof and id from the same fields and seeds; the log of the three
    /// entries verifies with the keys in force and has the same digest; the seq-3 body
    /// signed by the old key is refused.
    @Test func theWorkedExampleOfSection12() throws {
        let v = try Self.vector()
        let old = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.old_seed)!))
        let new = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.new_seed)!))
        #expect(old.publicKey.base64 == v.old_public_key)
        #expect(new.publicKey.base64 == v.new_public_key)
        let sofia = CityID("sofia")!
        let lines = try v.entries.map { l in
            try Entry.decode(body: Array(l.body.utf8), signature: Array(try #require(Data(base64Encoded: l.sig))))
        }
        #expect(lines.map(\.id.hex) == v.entries.map(\.id))
        let first = lines[0]
        #expect(Array(v.proof_message.utf8) == Rotation.proofMessage(origin: sofia, seq: 2, prev: first.id))
        // The Swift encoder reproduces the rotate body byte for byte.
        let payload = Rotation.payload(origin: sofia, seq: 2, prev: first.id, newKey: new)
        #expect(payload["proof"]?.stringValue == v.proof)
        let draft = EntryDraft(origin: sofia, seq: 2, prev: first.id, clock: VectorClock([sofia: 2]), time: 1_764_064_800_000, kind: .rotate, payload: payload)
        let rotate = try draft.sign(with: old)
        #expect(rotate.body == lines[1].body)
        #expect(rotate.format == .v2 && lines[1].format == .v2 && lines[2].format == .v1)
        #expect(rotate.rotation?.key == new.publicKey)

        let verifier = EntryVerifier(keys: [sofia: old.publicKey])
        var log = MemoryLog()
        let (plan, invalid) = deliver(lines.shuffled(), to: &log, verifier: verifier)
        #expect(invalid.isEmpty && plan.refused.isEmpty && plan.accepted.count == 3)
        #expect(log.keyAfter(lines[1].id) == new.publicKey && log.keyAfter(lines[0].id) == nil)
        #expect(NetworkDigest(heads: log.heads, forks: log.forks).hex == v.digest)

        // The same seq-3 body under the old key: refused, on its own and with its past.
        let stale = try Entry.decode(body: lines[2].body, signature: Array(try #require(Data(base64Encoded: v.entry3_signed_by_old_key))))
        var other = MemoryLog()
        let result = deliver([lines[0], lines[1], stale], to: &other, verifier: verifier)
        #expect(result.invalid.map(\.id) == [stale.id])
        #expect(other.entries.count == 2)
        #expect(throws: EntryError.badSignature(sofia, rotated: true)) { try verifier.verify(stale, inForce: ChainState(key: new.publicKey)) }
        // Without sofia's card, sofia is unknown, whatever its chain rotated to.
        #expect(throws: EntryError.unknownOrigin(sofia)) { try EntryVerifier(keys: [:]).verify(lines[2], inForce: ChainState(key: new.publicKey)) }
    }

    /// A rotate is refused when its proof is not the new key's signature over its own
    /// position, when it is the first entry of a chain, or in format c4csr/1.
    @Test func aRotationMustBeProvenAndPlaced() throws {
        var sofia = SimCity("sofia")
        sofia.write(.publish(samplePractice()))
        let old = sofia.key
        let new = TestKeys.key("sofia-2")
        let top = sofia.log.heads[0]
        let verifier = TestKeys.verifier(["sofia"])
        // A proof made for another position (seq 3) does not verify at seq 2.
        var payload = Rotation.payload(origin: sofia.id, seq: 3, prev: top.id, newKey: new)
        let misplaced = try EntryDraft(origin: sofia.id, seq: 2, prev: top.id, clock: VectorClock([sofia.id: 2]), time: 1, kind: .rotate, payload: payload).sign(with: old)
        #expect(throws: EntryError.badSignature(sofia.id, proof: true)) { try verifier.verify(misplaced, inForce: .founding) }
        // A proof by a key other than the one named.
        payload = Rotation.payload(origin: sofia.id, seq: 2, prev: top.id, newKey: TestKeys.key("thief"))
        payload["key"] = .string(new.publicKey.base64)
        let unproven = try EntryDraft(origin: sofia.id, seq: 2, prev: top.id, clock: VectorClock([sofia.id: 2]), time: 1, kind: .rotate, payload: payload).sign(with: old)
        #expect(throws: EntryError.badSignature(sofia.id, proof: true)) { try verifier.verify(unproven, inForce: .founding) }
        // Not at seq 1; not with a weak key; not in c4csr/1.
        let weak: [String: JSONValue] = ["key": .string(Data(repeating: 0, count: 32).base64EncodedString()), "proof": .string(Data(repeating: 1, count: 64).base64EncodedString())]
        #expect(throws: EntryError.self) {
            try EntryDraft(origin: sofia.id, seq: 2, prev: top.id, clock: VectorClock([sofia.id: 2]), time: 1, kind: .rotate, payload: weak).sign(with: old)
        }
        let good = Rotation.payload(origin: sofia.id, seq: 2, prev: top.id, newKey: new)
        let body = Array(String(decoding: EntryDraft(origin: sofia.id, seq: 2, prev: top.id, clock: VectorClock([sofia.id: 2]), time: 1, kind: .rotate, payload: good).body, as: UTF8.self)
            .replacingOccurrences(of: "c4csr/2", with: "c4csr/1").utf8)
        #expect(throws: EntryError.self) { try Entry.decode(body: body, signature: old.signature(for: body)) }
        #expect(throws: EntryError.self) {
            try EntryDraft(origin: sofia.id, seq: 1, prev: nil, clock: VectorClock([sofia.id: 1]), time: 1, kind: .rotate, payload: good).sign(with: old)
        }
    }

    /// Property (§12 over random histories): cities rotate at random; whatever the
    /// arrival order and batching, every receiver accepts every honest entry, refuses
    /// every entry signed with a key not in force at its position (the old key after a
    /// rotation), keeps a fork signed with the old key before the rotation as evidence,
    /// and all receivers end with the same log, keys in force and digest.
    @Test(arguments: 0..<60)
    func keysInForceConvergeWhateverTheArrivalOrder(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed ^ 0x5EED)
        let names = ["milano", "sofia", "vratsa", "kekava"]
        var net = names.map(SimCity.init)
        let verifier = TestKeys.verifier(names)
        var rotations = [Entry]()
        var retiredKeys = [(city: Int, key: CitySigningKey, rotate: Entry)]()
        for step in 0..<Int.random(in: 10...60, using: &rng) {
            let a = Int.random(in: 0..<net.count, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5: net[a].write(.publish(samplePractice("p\(step)")))
            case 5...6 where !net[a].log.heads.filter({ $0.origin == net[a].id }).isEmpty:
                let old = net[a].key
                let r = net[a].rotate(to: TestKeys.key("\(names[a])-\(step)"))
                rotations.append(r)
                retiredKeys.append((a, old, r))
            default:
                let b = Int.random(in: 0..<net.count, using: &rng)
                if a != b { net[a].pull(from: net[b]) }
            }
        }
        var honest = MemoryLog()
        for c in net { honest.merge(c.log.entries) }
        // The thief holds a retired key: an entry after the rotation signed with it, and a
        // fork at the rotation's position (where that key was still in force).
        var forged = [Entry](), forks = [Entry]()
        for (city, old, r) in retiredKeys {
            let id = net[city].id
            var clock = r.clock
            clock[id] = r.seq + 1
            forged.append(
                try EntryDraft(origin: id, seq: r.seq + 1, prev: r.id, clock: clock, time: 7, kind: .publish, payload: PracticeAction.publish(samplePractice("thief")).payload)
                    .sign(with: old))
            let fork = try EntryDraft(origin: id, seq: r.seq, prev: r.prev, clock: r.clock, time: 8, kind: .publish, payload: PracticeAction.publish(samplePractice("fork")).payload).sign(with: old)
            forks.append(fork)
        }
        let everything = honest.entries + forged + forks
        let results = (0..<3).map { _ in deliverInRandomBatches(everything, verifier: verifier, using: &rng) }
        let honestIDs = Set(honest.entries.map(\.id))
        for log in results {
            let held = Set(log.entries.map(\.id))
            #expect(honestIDs.isSubset(of: held), "seed \(seed): an honest entry was not accepted")
            for f in forged { #expect(!held.contains(f.id), "seed \(seed): \(f) signed with a retired key was accepted") }
            #expect(held == honestIDs.union(forks.map(\.id)), "seed \(seed): the forks signed before each rotation are kept as evidence")
            #expect(log.entries.mergedOrder().map(\.id) == results[0].entries.mergedOrder().map(\.id), "seed \(seed)")
            #expect(NetworkDigest(heads: log.heads, forks: log.forks) == NetworkDigest(heads: results[0].heads, forks: results[0].forks))
            for r in rotations { #expect(log.keyAfter(r.id) == r.rotation?.key) }
        }
    }
}
