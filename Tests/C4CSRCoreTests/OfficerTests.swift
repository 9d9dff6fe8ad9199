import Foundation
import Testing

@testable import C4CSRCore

extension SimCity {
    /// Enrols or removes an officer (docs/PROTOCOL.md §13), signed with the city key.
    @discardableResult
    mutating func change(_ change: OfficerChange) -> Entry {
        sign(kind: .officer, payload: change.payload, author: nil)
    }

    /// Signs an entry whose content `officer` wrote and signed with `officerKey`. The
    /// entry is signed and appended whatever the officers in force say: what a hostile
    /// city key holder could do. Returns it without merging when `merge` is false.
    @discardableResult
    mutating func writeAuthored(_ action: PracticeAction, officer: OfficerID, officerKey: CitySigningKey, merge: Bool = true) -> Entry {
        let clock = log.nextClock(for: id)
        let message = Author.contentMessage(city: id, kind: action.kind, officer: officer, payload: action.payload, time: time + 1000)
        let author = Author(officer: officer, signature: officerKey.signature(for: message))
        return sign(kind: action.kind, payload: action.payload, author: author, clock: clock, merge: merge)
    }

    @discardableResult
    private mutating func sign(kind: EntryKind, payload: [String: JSONValue], author: Author?, clock: VectorClock? = nil, merge: Bool = true) -> Entry {
        let clock = clock ?? log.nextClock(for: id)
        let top = log.heads.first { $0.origin == id }
        time += 1000
        let e = try! EntryDraft(origin: id, seq: clock[id], prev: top?.id, clock: clock, time: time, kind: kind, payload: payload, author: author)
            .sign(with: key)
        if merge {
            let plan = log.merge([e])
            precondition(plan.accepted.count == 1, "local write refused: \(plan.refused)")
        }
        return e
    }
}

@Suite struct OfficerTests {
    struct Vector: Decodable {
        struct Line: Decodable { let body: String, id: String, sig: String }
        let city_seed: String, officer_seed: String, officer_public_key: String, stranger_seed: String
        let content_message: String, author_sig: String
        let entries: [Line]
        let forged_author: Line, removed_remove: Line, removed_retract: Line
        let digest: String
    }

    static func decode(_ l: Vector.Line) throws -> Entry {
        try Entry.decode(body: Array(l.body.utf8), signature: Array(try #require(Data(base64Encoded: l.sig))))
    }

    /// The worked example of PROTOCOL.md §13, written by Python: Swift builds the same
    /// enrolment, content message and authored body; the log verifies and has the same
    /// digest; an author signature by another key, and the same content after the
    /// officer's removal, are refused with `entry_bad_author`.
    @Test func theWorkedExampleOfSection13() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/officer-vector", withExtension: "json"))
        let v = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
        let city = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.city_seed)!))
        let officerKey = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.officer_seed)!))
        #expect(officerKey.publicKey.base64 == v.officer_public_key)
        let sofia = CityID("sofia")!, mpetrova = OfficerID("mpetrova")!
        let lines = try v.entries.map(Self.decode)
        #expect(lines.map(\.id.hex) == v.entries.map(\.id))

        let enrol = try EntryDraft(
            origin: sofia, seq: 2, prev: lines[0].id, clock: VectorClock([sofia: 2]), time: 1_764_064_800_000, kind: .officer,
            payload: OfficerChange.enrol(mpetrova, officerKey.publicKey).payload
        ).sign(with: city)
        #expect(enrol.body == lines[1].body && enrol.format == .v2)
        #expect(lines[1].officerChange == .enrol(mpetrova, officerKey.publicKey))

        let retract = PracticeAction.retract(practice: lines[0].id, base: [lines[0].id], reason: "Moved to the city parks programme.")
        let message = Author.contentMessage(city: sofia, kind: .retract, officer: mpetrova, payload: retract.payload, time: 1_764_068_400_000)
        #expect(message == Array(v.content_message.utf8))
        let signature = officerKey.signature(for: message)
        #expect(Data(signature).base64EncodedString() == v.author_sig)
        let authored = try EntryDraft(
            origin: sofia, seq: 3, prev: enrol.id, clock: VectorClock([sofia: 3]), time: 1_764_068_400_000, kind: .retract,
            payload: retract.payload, author: Author(officer: mpetrova, signature: signature)
        ).sign(with: city)
        #expect(authored.body == lines[2].body && authored.id.hex == v.entries[2].id)
        #expect(lines[2].author?.officer == mpetrova && lines[2].format == .v2)

        let verifier = EntryVerifier(keys: [sofia: city.publicKey])
        var log = MemoryLog()
        let (plan, invalid) = deliver(lines.shuffled(), to: &log, verifier: verifier)
        #expect(invalid.isEmpty && plan.refused.isEmpty && plan.accepted.count == 3)
        #expect(log.state(after: lines[2].id)?.officers.keys == [mpetrova: officerKey.publicKey])
        #expect(NetworkDigest(heads: log.heads, forks: log.forks).hex == v.digest)

        // Another key's signature over the same content.
        let forged = try Self.decode(v.forged_author)
        var other = MemoryLog()
        let forgedResult = deliver([lines[0], lines[1], forged], to: &other, verifier: verifier)
        #expect(forgedResult.invalid.map(\.id) == [forged.id])
        #expect(throws: EntryError.badAuthor("the signature of officer mpetrova does not verify over the entry's content")) {
            try verifier.verify(forged, inForce: ChainState(officers: OfficerRoll([mpetrova: officerKey.publicKey])))
        }
        // Removed at seq 3: the retract at seq 4 is refused; the removal itself is valid.
        let remove = try Self.decode(v.removed_remove), late = try Self.decode(v.removed_retract)
        var removed = MemoryLog()
        let lateResult = deliver([lines[0], lines[1], remove, late].shuffled(), to: &removed, verifier: verifier)
        #expect(lateResult.invalid.map(\.id) == [late.id])
        #expect(removed.entries.count == 3 && removed.state(after: remove.id)?.officers.isEmpty == true)
    }

    /// What the decoder and the verifier refuse: an author on a non-practice kind or in
    /// c4csr/1, a malformed author, the removal of an officer not in force, a 65th
    /// officer, an author not enrolled, content signed for another city.
    @Test func theRulesOfSection13() throws {
        var sofia = SimCity("sofia")
        sofia.write(.publish(samplePractice()))
        let verifier = TestKeys.verifier(["sofia", "milano"])
        let officer = OfficerID("officer-1")!, officerKey = TestKeys.key("officer-1")
        let top = sofia.log.heads[0]
        func body(_ kind: EntryKind, _ payload: [String: JSONValue], author: JSONValue?, format: String = "c4csr/2") -> [UInt8] {
            var o: [String: JSONValue] = [
                "clock": VectorClock([sofia.id: 2]).json, "format": .string(format), "kind": .string(kind.rawValue),
                "origin": .string("sofia"), "payload": .object(payload), "prev": .string(top.id.hex), "seq": .int(2), "time": .int(5),
            ]
            if let author { o["author"] = author }
            return CanonicalJSON.encode(.object(o))
        }
        let goodAuthor: JSONValue = .object(["officer": .string("officer-1"), "sig": .string(Data(repeating: 7, count: 64).base64EncodedString())])
        let enrolPayload = OfficerChange.enrol(officer, officerKey.publicKey).payload
        let practice = PracticeAction.publish(samplePractice("x")).payload
        // An author on an officer entry; an author in c4csr/1; an author without sig; extra members.
        for b in [
            body(.officer, enrolPayload, author: goodAuthor),
            body(.publish, practice, author: goodAuthor, format: "c4csr/1"),
            body(.publish, practice, author: .object(["officer": .string("officer-1")])),
            body(.publish, practice, author: .object(["officer": .string("Officer 1"), "sig": goodAuthor["sig"]!])),
            body(.officer, ["action": .string("enrol"), "officer": .string("officer-1")], author: nil),
            body(.officer, ["action": .string("promote"), "officer": .string("officer-1")], author: nil),
            body(.officer, ["action": .string("remove"), "officer": .string("officer-1"), "key": .string(officerKey.publicKey.base64)], author: nil),
            body(.officer, ["action": .string("enrol"), "officer": .string("officer-1"), "key": .string(Data(repeating: 0, count: 32).base64EncodedString())], author: nil),
        ] {
            #expect(throws: EntryError.self, "\(String(decoding: b, as: UTF8.self))") { try Entry.decode(body: b, signature: sofia.key.signature(for: b)) }
        }
        // A removal of an officer not in force.
        let removeBody = body(.officer, OfficerChange.remove(officer).payload, author: nil)
        let remove = try Entry.decode(body: removeBody, signature: sofia.key.signature(for: removeBody))
        #expect(throws: EntryError.badAuthor("officer officer-1 is not enrolled at this position, so cannot be removed")) {
            try verifier.verify(remove, inForce: .founding)
        }
        // A 65th officer; replacing the key of one of 64 is allowed.
        var full = OfficerRoll()
        for i in 0..<ProtocolLimits.maxOfficers { full = full.applying(.enrol(OfficerID("o\(i)")!, TestKeys.key("o\(i)").publicKey)) }
        let enrolBody = body(.officer, enrolPayload, author: nil)
        let enrol = try Entry.decode(body: enrolBody, signature: sofia.key.signature(for: enrolBody))
        #expect(throws: EntryError.self) { try verifier.verify(enrol, inForce: ChainState(officers: full)) }
        #expect(try verifier.verify(enrol, inForce: .founding) == sofia.key.publicKey)
        let rekey = try Entry.decode(
            body: body(.officer, OfficerChange.enrol(OfficerID("o3")!, officerKey.publicKey).payload, author: nil),
            signature: sofia.key.signature(for: body(.officer, OfficerChange.enrol(OfficerID("o3")!, officerKey.publicKey).payload, author: nil)))
        #expect(try verifier.verify(rekey, inForce: ChainState(officers: full)) == sofia.key.publicKey)
        // An author not enrolled; content signed for milano placed in sofia's chain.
        let forMilano = Author.contentMessage(city: CityID("milano")!, kind: .publish, officer: officer, payload: practice, time: 5)
        let misplaced: JSONValue = .object(["officer": .string("officer-1"), "sig": .string(Data(officerKey.signature(for: forMilano)).base64EncodedString())])
        let misplacedBody = body(.publish, practice, author: misplaced)
        let entry = try Entry.decode(body: misplacedBody, signature: sofia.key.signature(for: misplacedBody))
        let enrolled = ChainState(officers: OfficerRoll([officer: officerKey.publicKey]))
        #expect(throws: EntryError.badAuthor("officer officer-1 is not enrolled in sofia at sofia#2")) { try verifier.verify(entry, inForce: .founding) }
        #expect(throws: EntryError.badAuthor("the signature of officer officer-1 does not verify over the entry's content")) {
            try verifier.verify(entry, inForce: enrolled)
        }
        #expect(EntryError.badAuthor("x").codeName == "entry_bad_author")
    }

    /// Property (§13 over random histories): cities enrol and remove officers, officers
    /// author entries; a hostile city key also wraps content by an officer after their
    /// removal, by one never enrolled, and on a fork branch that never enrolled them.
    /// Whatever the arrival order and batching, every receiver accepts every honest
    /// entry, refuses each of those, and all end with the same log and officers in force.
    @Test(arguments: 0..<60)
    func officersInForceConvergeWhateverTheArrivalOrder(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed ^ 0x0FF1CE)
        let names = ["milano", "sofia", "vratsa"]
        var net = names.map(SimCity.init)
        let verifier = TestKeys.verifier(names)
        var enrolled = [[OfficerID: CitySigningKey]](repeating: [:], count: names.count)
        var removed = [(city: Int, officer: OfficerID, key: CitySigningKey)]()
        var hostile = [Entry]()
        var forks = [Entry]()
        for step in 0..<Int.random(in: 10...60, using: &rng) {
            let a = Int.random(in: 0..<net.count, using: &rng)
            switch Int.random(in: 0..<12, using: &rng) {
            case 0..<3: net[a].write(.publish(samplePractice("p\(step)")))
            case 3..<5:
                let o = OfficerID("o\(step)")!, k = TestKeys.key("\(names[a])-o\(step)")
                if Bool.random(using: &rng) {
                    // The city key also signs another entry at the enrolment's position (a
                    // fork, kept as evidence), and on that branch, where `o` was never
                    // enrolled, wraps content by `o`: refused.
                    var branch = net[a]
                    forks.append(branch.write(.publish(samplePractice("branch \(step)"))))
                    hostile.append(branch.writeAuthored(.publish(samplePractice("on the branch")), officer: o, officerKey: k, merge: false))
                }
                net[a].change(.enrol(o, k.publicKey))
                enrolled[a][o] = k
            case 5 where !enrolled[a].isEmpty:
                let (o, k) = enrolled[a].randomElement(using: &rng)!
                net[a].change(.remove(o))
                enrolled[a][o] = nil
                removed.append((a, o, k))
            case 6..<9 where !enrolled[a].isEmpty:
                let (o, k) = enrolled[a].randomElement(using: &rng)!
                net[a].writeAuthored(.publish(samplePractice("by \(o)")), officer: o, officerKey: k)
            default:
                let b = Int.random(in: 0..<net.count, using: &rng)
                if a != b { net[a].pull(from: net[b]) }
            }
        }
        // What a hostile city key holder wraps: content of each removed officer, and of an
        // officer never enrolled.
        for (city, o, k) in removed {
            hostile.append(net[city].writeAuthored(.publish(samplePractice("after removal")), officer: o, officerKey: k, merge: false))
        }
        hostile.append(net[1].writeAuthored(.publish(samplePractice("stranger")), officer: OfficerID("nobody")!, officerKey: TestKeys.key("nobody"), merge: false))
        var honest = MemoryLog()
        for c in net { honest.merge(c.log.entries) }
        let everything = honest.entries + hostile + forks
        let results = (0..<3).map { _ in deliverInRandomBatches(everything, verifier: verifier, using: &rng) }
        let honestIDs = Set(honest.entries.map(\.id))
        for log in results {
            let held = Set(log.entries.map(\.id))
            #expect(honestIDs.isSubset(of: held), "seed \(seed): an honest entry was not accepted")
            for f in forks { #expect(held.contains(f.id), "seed \(seed): the fork \(f) is kept as evidence") }
            for h in hostile { #expect(!held.contains(h.id), "seed \(seed): \(h) by \(h.author!.officer), not in force, was accepted") }
            #expect(log.entries.mergedOrder().map(\.id) == results[0].entries.mergedOrder().map(\.id), "seed \(seed)")
            for (i, c) in net.enumerated() {
                guard let top = c.log.heads.first(where: { $0.origin == c.id }) else { continue }
                #expect(Set(log.state(after: top.id)?.officers.keys.keys ?? [:].keys) == Set(enrolled[i].keys), "seed \(seed): \(c.id)'s officers")
            }
        }
    }
}
