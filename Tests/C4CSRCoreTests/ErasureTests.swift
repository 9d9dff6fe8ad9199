import Foundation
import Testing

@testable import C4CSRCore

extension SimCity {
    /// Signs and appends an `erase` or `ack` (docs/PROTOCOL.md §14) with the city key.
    @discardableResult
    mutating func state(_ kind: EntryKind, _ payload: [String: JSONValue]) -> Entry {
        let clock = log.nextClock(for: id)
        let top = log.heads.first { $0.origin == id }
        time += 1000
        let e = try! EntryDraft(origin: id, seq: clock[id], prev: top?.id, clock: clock, time: time, kind: kind, payload: payload)
            .sign(with: key)
        let plan = log.merge([e])
        precondition(plan.accepted.count == 1, "local write refused: \(plan.refused)")
        return e
    }
}

@Suite struct ErasureTests {
    struct Vector: Decodable {
        struct Line: Decodable { let body: String, id: String, sig: String }
        let sofia_seed: String, milano_seed: String, milano_public_key: String
        let salt: String, commit_message: String, commit: String
        let content: [String: String]
        let entries: [Line]
        let wrong_salt_content: [String: String], untrimmed_revise: Line, untrimmed_content: [String: String]
        let v1_revise: Line, milano_erase: Line, self_ack: Line
        let digest: String
    }

    static func vector() throws -> Vector {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/erasure-vector", withExtension: "json"))
        return try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
    }

    static func decode(_ l: Vector.Line) throws -> Entry {
        try Entry.decode(body: Array(l.body.utf8), signature: Array(try #require(Data(base64Encoded: l.sig))))
    }

    static func content(_ o: [String: String]) throws -> PersonalContent {
        try PersonalContent(json: .object(o.mapValues { .string($0) }))
    }

    static func project(_ log: MemoryLog, _ practice: EntryID) -> (PracticeRecord?, [PracticeProblem]) {
        let related = log.entries.filter { $0.kind != .publish && PracticeAction.subject(of: $0) == practice }
        return PracticeRules.project(publish: log.entry(practice), related: related)
    }

    /// The worked example of PROTOCOL.md §14, written by Python: Swift seals the same
    /// contact with the same salt into the same revise, writes the same content, erase
    /// and ack; the log verifies with the same digest; the erasure erased the contact of
    /// the revise and is confirmed by both cities.
    @Test func theWorkedExampleOfSection14() throws {
        let v = try Self.vector()
        let sofiaKey = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.sofia_seed)!))
        let milanoKey = try #require(CitySigningKey(rawRepresentation: Hex.decode(v.milano_seed)!))
        #expect(milanoKey.publicKey.base64 == v.milano_public_key)
        let sofia = CityID("sofia")!, milano = CityID("milano")!
        let lines = try v.entries.map(Self.decode)
        let publish = lines[0]
        let salt = try #require(Hex.decode(v.salt))
        let contact = "Maria Petrova, +359 2 123 4567"

        // The seal: message and commitment.
        #expect(Seal.message(field: .contact, salt: salt, value: .string(contact)) == Array(try #require(Data(base64Encoded: v.commit_message))))
        #expect(Hex.encode(Seal(field: .contact, salt: salt, value: .string(contact)).commit) == v.commit)

        // The revise, sealed by Swift from the publish's fields and the contact.
        guard case .publish(var fields) = try PracticeAction(entry: publish) else { Issue.record("not a publish"); return }
        fields.contact = contact
        let (sealed, values) = fields.sealing([.contact], salt: { _ in salt })
        #expect(sealed.contact == nil && sealed.sealed[.contact] != nil && values[.contact]?.value == .string(contact))
        let revise = try EntryDraft(
            origin: sofia, seq: 2, prev: publish.id, clock: VectorClock([sofia: 2]), time: 1_764_064_800_000, kind: .revise,
            payload: PracticeAction.revise(practice: publish.id, base: [publish.id], fields: sealed).payload
        ).sign(with: sofiaKey)
        #expect(revise.body == lines[1].body && revise.format == .v2)

        // Its content, as the section writes it, checked against the revise.
        let content = PersonalContent(entry: revise.id, field: .contact, salt: salt, value: .string(contact))
        #expect(CanonicalJSON.encode(content.json) == CanonicalJSON.encode(try Self.content(v.content).json))
        #expect(try Self.content(v.content) == content)
        try content.check(against: revise)

        // The erase and the ack.
        let request = ErasureRequest(practice: publish.id, fields: [.contact], reason: "Erasure request SOF-2026-14 (GDPR Art. 17)")
        let erase = try EntryDraft(
            origin: sofia, seq: 3, prev: revise.id, clock: VectorClock([sofia: 3]), time: 1_764_151_200_000, kind: .erase, payload: request.payload
        ).sign(with: sofiaKey)
        #expect(try erase.body == lines[2].body && ErasureRequest(entry: erase) == request)
        let ack = try EntryDraft(
            origin: milano, seq: 1, prev: nil, clock: VectorClock([milano: 1, sofia: 3]), time: 1_764_151_260_000, kind: .ack,
            payload: Acknowledgement(erase: erase.id, practice: publish.id).payload
        ).sign(with: milanoKey)
        #expect(ack.body == lines[3].body)

        // The log: verified, digest, and the practice rules' verdict.
        let verifier = EntryVerifier(keys: [sofia: sofiaKey.publicKey, milano: milanoKey.publicKey])
        var log = MemoryLog()
        let (plan, invalid) = deliver(lines.shuffled(), to: &log, verifier: verifier)
        #expect(invalid.isEmpty && plan.refused.isEmpty && plan.accepted.count == 4)
        #expect(NetworkDigest(heads: log.heads, forks: log.forks).hex == v.digest)
        let (record, problems) = Self.project(log, publish.id)
        #expect(problems.isEmpty)
        let erasure = try #require(record?.erasures.first)
        #expect(record?.erasures.count == 1 && erasure.entry == erase.id && erasure.city == sofia && erasure.time == 1_764_151_200_000)
        #expect(erasure.erased == [ErasedField(entry: publish.id, field: .contact), ErasedField(entry: revise.id, field: .contact)])
        #expect(erasure.confirmedBy == [milano, sofia] && erasure.acks == [ack.id])
        #expect(record?.isErased(revise.id, .contact) == true && record?.isErased(revise.id, .summary) == false)
        #expect(record?.current.sealed[.contact] == Seal(field: .contact, salt: salt, value: .string(contact)))
        #expect(record?.current.revealing([content]).contact == contact)
    }

    /// What §14 refuses or ignores, from the vector: content with another salt, content
    /// whose commitment holds but whose value breaks §6, a seal in c4csr/1, an erasure of
    /// another city's practice, an ack of a city's own erasure.
    @Test func theRefusalsOfSection14() throws {
        let v = try Self.vector()
        let lines = try v.entries.map(Self.decode)
        let publish = lines[0], revise = lines[1], erase = lines[2]
        let wrongSalt = try Self.content(v.wrong_salt_content)
        #expect(throws: ContentError.invalid("the contact of \(revise.id.short) does not match its commitment")) { try wrongSalt.check(against: revise) }
        let untrimmedRevise = try Self.decode(v.untrimmed_revise)
        let untrimmed = try Self.content(v.untrimmed_content)
        #expect(Seal(field: .contact, salt: untrimmed.salt, value: untrimmed.value) == PersonalContent.seal(of: .contact, in: untrimmedRevise))
        do {
            try untrimmed.check(against: untrimmedRevise)
            Issue.record("an untrimmed value was accepted")
        } catch {
            #expect(error.code == "content_invalid" && error.description.contains("normal form"))
        }
        // Content for an entry that does not seal the field, or for another entry.
        #expect(throws: ContentError.self) { try PersonalContent(entry: publish.id, field: .contact, salt: untrimmed.salt, value: .string("x")).check(against: publish) }
        #expect(throws: ContentError.self) { try Self.content(v.content).check(against: untrimmedRevise) }

        let sofiaKey = CitySigningKey(rawRepresentation: Hex.decode(v.sofia_seed)!)!
        let milanoKey = CitySigningKey(rawRepresentation: Hex.decode(v.milano_seed)!)!
        let verifier = EntryVerifier(keys: [CityID("sofia")!: sofiaKey.publicKey, CityID("milano")!: milanoKey.publicKey])
        func problems(_ entries: [Entry]) -> [PracticeProblem.Kind] {
            var log = MemoryLog()
            let (plan, invalid) = deliver(entries, to: &log, verifier: verifier)
            #expect(invalid.isEmpty && plan.refused.isEmpty, "every entry is accepted: the rules, not §4, ignore these")
            return Self.project(log, publish.id).1.map(\.kind)
        }
        #expect(problems([publish, try Self.decode(v.v1_revise)]) == [.invalidPayload])
        #expect(problems([publish, revise, try Self.decode(v.milano_erase)]) == [.invalidErasure])
        #expect(problems([publish, revise, erase, try Self.decode(v.self_ack)]) == [.invalidAck])
    }

    /// A seal reveals nothing about a short value: the same contact under two fresh salts
    /// gives two unrelated commitments, and neither is the commitment without a salt (or
    /// with another field's name), which anyone could compute from a guess.
    @Test func commitmentsDoNotRevealShortValues() {
        let phone = JSONValue.string("+359 2 123 4567")
        let a = PersonalContent.freshSalt(), b = PersonalContent.freshSalt()
        #expect(a.count == 32 && a != b)
        let sa = Seal(field: .contact, salt: a, value: phone), sb = Seal(field: .contact, salt: b, value: phone)
        #expect(sa != sb)
        let guessable = Seal(field: .contact, salt: [UInt8](repeating: 0, count: 32), value: phone)
        #expect(sa != guessable && sb != guessable)
        #expect(Seal(field: .area, salt: a, value: phone) != sa)
        // A seal is 64 lowercase hex digits and nothing else.
        for bad: JSONValue in [
            .object(["commit": .string(String(repeating: "A", count: 64))]), .object(["commit": .string("00")]),
            .object(["commit": .string(Hex.encode(sa.commit)), "salt": .string("x")]), .string(Hex.encode(sa.commit)),
        ] {
            #expect(Seal(json: bad) == nil, "\(bad)")
        }
    }

    /// §6 with seals: a personal field may be sealed in c4csr/2 only; a title never; an
    /// ill-formed seal is an invalid payload; the normal form is the signed form.
    @Test func sealedPayloadsFollowTheRulesOfSection6() throws {
        var sofia = SimCity("sofia")
        var p = samplePractice()
        p.contact = "Ana, ana@example.org"
        let (sealed, _) = p.sealing([.contact, .summary, .outcomes])
        #expect(sealed.sealed.keys.sorted() == [.contact, .summary], "outcomes is absent: nothing to seal")
        let e = sofia.write(.publish(sealed))
        #expect(e.format == .v2)
        guard case .publish(let read) = try PracticeAction(entry: e) else { Issue.record("not a publish"); return }
        #expect(read == sealed && read.summary.en.isEmpty && read.contact == nil)
        // The same fields in c4csr/1, a sealed title, a malformed seal: invalid payloads.
        let fields = try #require(e.payload["fields"]?.objectValue)
        func publish(_ f: [String: JSONValue], format: String) throws -> Entry {
            let body = CanonicalJSON.encode(.object([
                "clock": VectorClock([sofia.id: 9]).json, "format": .string(format), "kind": .string("publish"), "origin": .string("sofia"),
                "payload": .object(["fields": .object(f)]), "prev": .string(e.id.hex), "seq": .int(9), "time": .int(1),
            ]))
            return try Entry.decode(body: body, signature: sofia.key.signature(for: body))
        }
        var titleSealed = fields
        titleSealed["title"] = .object(["commit": .string(String(repeating: "0", count: 64))])
        var badSeal = fields
        badSeal["contact"] = .object(["commit": .string("0")])
        for entry in [try publish(fields, format: "c4csr/1"), try publish(titleSealed, format: "c4csr/2"), try publish(badSeal, format: "c4csr/2")] {
            #expect(throws: ValidationErrors.self) { try PracticeAction(entry: entry) }
        }
        #expect(try PracticeAction(entry: try publish(fields, format: "c4csr/2")) == .publish(sealed))
    }

    /// Over random histories (sealed revisions, erasures, acks, syncs at random) every
    /// node reaches the same erasures, erased fields and confirmations, whatever order and
    /// batches the entries arrive in; and a city never confirms what it did not receive.
    /// A member that revises and erases in turn: each (version, field) pair is erased
    /// once, by the first erasure it happened before, so what every node derives grows
    /// with the versions, not with versions × erasures; every version stays erased.
    @Test func eachPairIsErasedOnceByTheFirstErasureAfterIt() {
        var sofia = SimCity("sofia")
        var p = samplePractice("Revised and erased in turn")
        p.contact = "Contact 0"
        let publish = sofia.write(.publish(p.sealing([.contact]).practice))
        var versions = [publish.id], erases = [Entry]()
        for i in 1...100 {
            erases.append(sofia.state(.erase, ErasureRequest(practice: publish.id, fields: [.contact], reason: "Request \(i)").payload))
            p.contact = "Contact \(i)"
            let heads = Self.project(sofia.log, publish.id).0!.heads
            versions.append(sofia.write(.revise(practice: publish.id, base: heads, fields: p.sealing([.contact]).practice)).id)
        }
        let record = Self.project(sofia.log, publish.id).0!
        #expect(record.erasures.count == 100)
        #expect(record.erasures.map(\.erased.count).reduce(0, +) == 100, "one pair each, not 1 + 2 + … + 100")
        for (k, e) in record.erasures.enumerated() {
            #expect(e.erased == [ErasedField(entry: versions[k], field: .contact)])
        }
        #expect(versions.dropLast().allSatisfy { record.isErased($0, .contact) } && !record.isErased(versions.last!, .contact))
    }

    @Test(arguments: 0..<40)
    func erasureVerdictsAreTheSameEverywhere(seed: UInt64) {
        var rng = SeededRNG(seed: seed &* 7919 &+ 3)
        var net = ["sofia", "milano", "vratsa"].map(SimCity.init)
        let verifier = TestKeys.verifier(["sofia", "milano", "vratsa"])
        func sealedPractice(_ title: String) -> Practice {
            var p = samplePractice(title)
            p.contact = "Contact \(Int.random(in: 0..<100, using: &rng))"
            return p.sealing([.contact, .summary]).practice
        }
        for _ in 0..<40 {
            let a = Int.random(in: 0..<net.count, using: &rng)
            let mine = net[a].log.entries.filter { $0.kind == .publish && $0.origin == net[a].id }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1:
                net[a].write(.publish(sealedPractice("p\(Int.random(in: 0..<1000, using: &rng))")))
            case 2:
                if let p = mine.randomElement(using: &rng) {
                    let heads = Self.project(net[a].log, p.id).0?.heads ?? [p.id]
                    net[a].write(.revise(practice: p.id, base: heads, fields: sealedPractice("rev")))
                }
            case 3:
                if let p = mine.randomElement(using: &rng) {
                    let fields = Bool.random(using: &rng) ? [PersonalField.contact] : [.contact, .summary]
                    net[a].state(.erase, ErasureRequest(practice: p.id, fields: fields, reason: "request \(seed)").payload)
                }
            case 4:
                // Acknowledge an erasure held (sometimes one's own: an invalid ack, ignored everywhere).
                if let e = net[a].log.entries.filter({ $0.kind == .erase }).randomElement(using: &rng), let r = try? ErasureRequest(entry: e) {
                    net[a].state(.ack, Acknowledgement(erase: e.id, practice: r.practice).payload)
                }
            default:
                let b = Int.random(in: 0..<net.count, using: &rng)
                if a != b { net[a].pull(from: net[b]) }
            }
        }
        var everything = [EntryID: Entry]()
        for c in net { for e in c.log.entries { everything[e.id] = e } }
        let all = Array(everything.values)
        func verdicts(_ log: MemoryLog) -> [EntryID: [PracticeRecord.Erasure]] {
            var out = [EntryID: [PracticeRecord.Erasure]]()
            for p in log.entries where p.kind == .publish { out[p.id] = Self.project(log, p.id).0?.erasures ?? [] }
            return out
        }
        var reference = MemoryLog()
        _ = reference.merge(all)
        let expected = verdicts(reference)
        for _ in 0..<2 {
            let log = deliverInRandomBatches(all, verifier: verifier, using: &rng)
            #expect(log.entries.count == all.count)
            #expect(verdicts(log) == expected)
        }
        // Each confirmation is the erasing city's or a valid ack's, whose clock covers the erasure.
        for erasures in expected.values {
            for e in erasures {
                for c in e.confirmedBy where c != e.city { #expect(e.acks.contains { reference.entry($0)?.origin == c }) }
                for ack in e.acks { #expect(reference.entry(e.entry)!.clock.happenedBefore(reference.entry(ack)!.clock)) }
            }
        }
    }
}
