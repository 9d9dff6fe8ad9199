import Testing
@testable import C4CSRCore

@Suite struct PracticeRulesTests {
    func project(_ log: MemoryLog, _ practice: EntryID) -> (PracticeRecord?, [PracticeProblem]) {
        let related = log.entries.filter { $0.kind != .publish && PracticeAction.subject(of: $0) == practice }
        return PracticeRules.project(publish: log.entry(practice), related: related)
    }

    @Test func revisionsRetractionAndAdoptions() {
        var sofia = SimCity("sofia"), milano = SimCity("milano")
        let p = sofia.write(.publish(samplePractice("v1")))
        milano.pull(from: sofia)
        milano.write(.adopt(practice: p.id, version: p.id, mode: .adapted, notes: "with our schools"))
        let r = sofia.write(.revise(practice: p.id, base: [p.id], fields: samplePractice("v2", status: .completed)))
        sofia.pull(from: milano)
        var (record, problems) = project(sofia.log, p.id)
        #expect(problems.isEmpty)
        #expect(record?.current.title.en == "v2" && record?.current.status == .completed && record?.conflict == false)
        #expect(record?.adoptions.map(\.city.rawValue) == ["milano"])
        #expect(record?.adoptions.first?.version == p.id && record?.currentVersion == r.id)
        sofia.write(.retract(practice: p.id, base: [r.id], reason: "done"))
        (record, problems) = project(sofia.log, p.id)
        #expect(record?.retracted == true && record?.current.title.en == "v2" && record?.retractReason == "done")
    }

    /// Two revisions written from the same base are concurrent: both stay, `show` and
    /// `audit` see a conflict, and a revision based on both resolves it.
    @Test func concurrentRevisionsAreAConflict() {
        var sofia = SimCity("sofia")
        let p = sofia.write(.publish(samplePractice("v1")))
        let r1 = sofia.write(.revise(practice: p.id, base: [p.id], fields: samplePractice("officer A")))
        let r2 = sofia.write(.revise(practice: p.id, base: [p.id], fields: samplePractice("officer B")))
        var (record, _) = project(sofia.log, p.id)
        #expect(record?.conflict == true)
        #expect(Set(record?.heads ?? []) == [r1.id, r2.id])
        #expect(record?.current.title.en == "officer B")  // the merged-order-latest head is shown
        var auditor = LogAuditor()
        auditor.checkPractice(publish: p, related: [r1, r2])
        #expect(auditor.findings.map(\.code) == ["conflict"] && auditor.findings[0].severity == .warning)

        sofia.write(.revise(practice: p.id, base: [r1.id, r2.id], fields: samplePractice("merged")))
        (record, _) = project(sofia.log, p.id)
        #expect(record?.conflict == false && record?.current.title.en == "merged")
    }

    /// §15: the publisher is a city. Its later generation's chain revises its practice and
    /// may not adopt it; a revoked entry is read as if it were not in the log, and a
    /// practice whose publish is revoked is not one.
    @Test func aLaterGenerationActsForItsCityAndRevokedEntriesAreNotRead() throws {
        var sofia = SimCity("sofia")
        let p = sofia.write(.publish(samplePractice("original")))
        let chain = CityID.chain("sofia~2")!
        let key = TestKeys.key("sofia-new")
        let motion = Motion.Recovery(city: sofia.id, generation: 2, key: key.publicKey, lastSeq: 1, lastID: p.id)
        var seq: Int64 = 0
        var prev: EntryID?
        func write(_ kind: EntryKind, _ payload: [String: JSONValue]) throws -> Entry {
            seq += 1
            let e = try EntryDraft(origin: chain, seq: seq, prev: prev, clock: VectorClock([sofia.id: 1, chain: seq]),
                                   time: p.time + seq, kind: kind, payload: payload).sign(with: key)
            prev = e.id
            return e
        }
        _ = try write(.recover, MembershipStatement.recover(motion).payload(network: String(repeating: "ab", count: 32)))
        let revise = try write(.revise, PracticeAction.revise(practice: p.id, base: [p.id], fields: samplePractice("by generation 2")).payload)
        let adopt = try write(.adopt, PracticeAction.adopt(practice: p.id, version: revise.id, mode: .adopted, notes: nil).payload)

        var (record, problems) = PracticeRules.project(publish: p, related: [revise, adopt])
        #expect(record?.current.title.en == "by generation 2" && record?.publisher == sofia.id)
        #expect(problems.map(\.kind) == [.invalidAdoption] && problems.first?.message.contains("sofia cannot adopt its own practice") == true, "\(problems)")
        #expect(record?.adoptions.isEmpty == true)

        (record, problems) = PracticeRules.project(publish: p, related: [revise, adopt], revoked: [revise.id, adopt.id])
        #expect(record?.current.title.en == "original" && record?.versions.count == 1 && problems.isEmpty)
        (record, problems) = PracticeRules.project(publish: p, related: [revise], revoked: [p.id])
        #expect(record == nil && problems.map(\.kind) == [.unknownPractice])
    }

    /// Only the publishing city may change a practice: another city's signed revise stays
    /// in the log but is ignored by the view and reported as an error.
    @Test func unauthorisedRevisionIsIgnoredAndReported() {
        var sofia = SimCity("sofia"), milano = SimCity("milano")
        let p = sofia.write(.publish(samplePractice("original")))
        milano.pull(from: sofia)
        let bad = milano.write(.revise(practice: p.id, base: [p.id], fields: samplePractice("hijacked")))
        let badRetract = milano.write(.retract(practice: p.id, base: [p.id], reason: nil))
        let (record, problems) = project(milano.log, p.id)
        #expect(record?.current.title.en == "original" && record?.retracted == false)
        #expect(problems.map(\.entry) == [bad.id, badRetract.id])
        #expect(problems.allSatisfy { $0.kind == .unauthorisedChange })
        var auditor = LogAuditor()
        auditor.checkPractice(publish: p, related: [bad, badRetract])
        // A member's protocol violation, recorded by the log: not tampering.
        #expect(auditor.findings.filter { $0.severity == .violation }.count == 2)
        #expect(auditor.findings.allSatisfy { $0.category == "member" })
    }

    @Test func invalidAdoptionsAndBases() {
        var sofia = SimCity("sofia"), milano = SimCity("milano")
        let p = sofia.write(.publish(samplePractice()))
        let own = sofia.write(.adopt(practice: p.id, version: p.id, mode: .adopted, notes: nil))
        let badBase = sofia.write(.revise(practice: p.id, base: [own.id], fields: samplePractice()))
        milano.pull(from: sofia)
        let r = sofia.write(.revise(practice: p.id, base: [p.id], fields: samplePractice("later")))
        // Milano adopts a version it has never seen (not in its causal past).
        let future = milano.write(.adopt(practice: p.id, version: r.id, mode: .adopted, notes: nil))
        var all = MemoryLog()
        all.merge(sofia.log.entries + milano.log.entries)
        let (_, problems) = project(all, p.id)
        #expect(Set(problems.map(\.entry)) == [own.id, badBase.id, future.id])
        #expect(Set(problems.map(\.kind)) == [.invalidAdoption, .invalidBase])
    }

    @Test func entriesNamingAMissingPracticeAreReported() {
        var sofia = SimCity("sofia")
        let p = sofia.write(.publish(samplePractice()))
        let r = sofia.write(.revise(practice: p.id, base: [p.id], fields: samplePractice()))
        let (record, problems) = PracticeRules.project(publish: nil, related: [r])
        #expect(record == nil && problems.map(\.kind) == [.unknownPractice])
    }

    @Test func validationNamesEveryBadField() {
        let json: JSONValue = .object([
            "language": .string("Bulgarian"), "title": .object(["local": .string("x")]), "summary": .string("no"),
            "challenge": .string("  "), "sdgs": .array([.int(0), .int(18)]), "status": .string("done"),
            "period": .object(["start": .string("2024-13")]), "colour": .string("green"),
        ])
        do {
            _ = try Practice(json: json)
            Issue.record("invalid practice accepted")
        } catch {
            let fields = Set(error.errors.map(\.field))
            #expect(fields == ["language", "title.en", "summary", "challenge", "sdgs[0]", "sdgs[1]", "status", "period.start", "colour"])
        }
    }

    @Test func practiceJSONRoundTrips() throws {
        let p = Practice(
            language: "hu", title: .init(local: "Zöld udvarok", en: "Green yards"), summary: .init(local: "Ő", en: "E"),
            challenge: "c", themes: ["environment"], companies: ["Kft"], partners: ["NGO"], sdgs: [11, 3], area: "Budaörs",
            period: .init(start: "2023", end: "2024-06"), status: .completed, outcomes: "o", links: ["https://budaors.hu"], contact: "x@y.hu")
        let back = try Practice(json: p.json)
        var expected = p
        expected.sdgs = [3, 11]  // validation sorts SDGs
        #expect(back == expected)
        #expect(try Practice(json: back.json) == back)
    }
}
