import Testing
@testable import C4CSRCore

/// What a member holding a valid key can sign or answer, fed through decode, the merge
/// planner, the merged order and the heads comparison: never a trap, always a clean
/// refusal with a stable code (issue: the hostile member).
@Suite struct HostileInputTests {
    static let maxValue = ProtocolLimits.maxInteger

    /// A city id for component i ("c0", "c1", …: 2–32 characters, starting with a letter).
    static func city(_ i: Int) -> CityID { CityID("c\(i)")! }

    /// Signs a seq-1 entry of `origin` whose clock names `others` components at `value`.
    static func entry(origin: String = "sofia", others: Int, value: Int64) throws -> Entry {
        var clock = VectorClock([CityID(origin)!: 1])
        for i in 0..<others { clock[city(i)] = value }
        let draft = EntryDraft(
            origin: CityID(origin)!, seq: 1, prev: nil, clock: clock, time: 0, kind: .publish,
            payload: ["fields": samplePractice().json])
        return try Entry.decode(body: draft.body, signature: TestKeys.key(origin).signature(for: draft.body))
    }

    @Test func aClockWithTooManyComponentsIsRefusedAtDecode() throws {
        let n = ProtocolLimits.maxClockComponents  // with the origin's own component: one too many
        #expect(throws: EntryError.self) { try Self.entry(others: n, value: Self.maxValue) }
        do {
            _ = try Self.entry(others: n, value: Self.maxValue)
        } catch let e as EntryError {
            #expect(e.codeName == "entry_out_of_range")
            #expect(e.message.contains("\(ProtocolLimits.maxClockComponents)"))
        }
        // The sort of the issue: 1,100 components near 2⁵³.
        #expect(throws: EntryError.self) { try Self.entry(others: 1_100, value: Self.maxValue) }
    }

    /// The largest clock decode admits, at the largest values, goes through the merged
    /// order and the planner: no trap, and it waits for its (absent) dependencies.
    @Test func theLargestAdmissibleClockNeitherTrapsNorIsAccepted() throws {
        let big = try Self.entry(others: ProtocolLimits.maxClockComponents - 1, value: Self.maxValue)
        #expect(big.clock.sum > 0 && big.clock.sum < Int64.max)
        let small = try Self.entry(origin: "milano", others: 0, value: 0)
        #expect([big, small].mergedOrder().map(\.id) == [small.id, big.id])
        let plan = try MergePlanner.plan([big, small], into: MemoryLog())
        #expect(plan.accepted.map(\.id) == [small.id])
        #expect(plan.refused.count == 1)
        #expect(plan.refused.first?.reason.isNotReady == true)
    }

    @Test func clockSumSaturatesInsteadOfTrapping() {
        var c = VectorClock()
        for i in 0..<2_000 { c[Self.city(i)] = Int64.max / 2 }
        #expect(c.sum == Int64.max)
        #expect(Int64.max.addingSaturating(1) == .max)
        #expect(Int64.min.addingSaturating(-1) == .min)
        #expect(Int64(5).addingSaturating(-7) == -2)
    }

    /// A heads answer with thousands of heads at 2⁵³ − 1 (what crashed the daemon's
    /// comparison and `status --probe`): decoded, compared, no trap.
    @Test func hugeHeadsCompareWithoutTrapping() throws {
        let id = EntryID.of(body: [1])
        let heads = (0..<ProtocolLimits.maxHeads).map { Head(origin: Self.city($0), seq: Self.maxValue, id: id) }
        let remote = try PeerHeads.decode(PeerHeads(city: CityID("rijeka")!, heads: heads, digest: String(repeating: "0", count: 64), entries: Self.maxValue, forks: 0).encoded)
        let local = PeerHeads(city: CityID("sofia")!, heads: [], digest: String(repeating: "1", count: 64), entries: 0, forks: 0)
        let c = HeadsComparison(local: local, remote: remote)
        #expect(c.weLack == Int64.max)
        #expect(c.theyLack == 0)
        let back = HeadsComparison(local: remote, remote: local)
        #expect(back.theyLack == Int64.max)
        // Divergence over 10,000 origins at one seq each: answered (linear, not quadratic).
        let other = PeerHeads(city: CityID("nantes")!, heads: heads.map { Head(origin: $0.origin, seq: $0.seq, id: EntryID.of(body: [2])) },
                              digest: String(repeating: "2", count: 64), entries: 1, forks: 0)
        #expect(HeadsComparison(local: other, remote: remote).divergent.count == ProtocolLimits.maxHeads)
    }

    @Test func oneHeadTooManyIsRefused() {
        let id = EntryID.of(body: [1])
        let heads = (0...ProtocolLimits.maxHeads).map { Head(origin: Self.city($0), seq: 1, id: id) }
        let bytes = PeerHeads(city: CityID("rijeka")!, heads: heads, digest: String(repeating: "0", count: 64), entries: 1, forks: 0).encoded
        #expect(throws: SyncProtocolError.self) { try PeerHeads.decode(bytes) }
    }
}

/// §4 rule 3: an entry that names X#k must cover X#k's own causal past.
@Suite struct CausalClosureTests {
    /// sofia#1; milano#1 after it; then vratsa signs an entry naming milano#1 but not
    /// sofia#1 (milano#1's past). Today's rule accepted it and it sorted before its
    /// dependency; it must be refused, and the log stays closed.
    @Test func anEntryNamingADependencyWithoutItsPastIsRefused() throws {
        var sofia = SimCity("sofia"), milano = SimCity("milano")
        let s1 = sofia.write(.publish(samplePractice("s")))
        milano.pull(from: sofia)
        let m1 = milano.write(.adopt(practice: s1.id, version: s1.id, mode: .adopted, notes: nil))
        #expect(m1.clock[CityID("sofia")!] == 1)

        let forged = EntryDraft(
            origin: CityID("vratsa")!, seq: 1, prev: nil, clock: VectorClock([CityID("vratsa")!: 1, CityID("milano")!: 1]),
            time: 0, kind: .publish, payload: ["fields": samplePractice("v").json])
        let v1 = try forged.sign(with: TestKeys.key("vratsa"))
        // Its clock sum (2) equals milano#1's: the merged order cannot put it after.
        var log = MemoryLog()
        let plan = log.merge([s1, m1, v1])
        #expect(plan.accepted.map(\.id) == [s1.id, m1.id])
        #expect(plan.refused.count == 1)
        #expect(plan.refused.first?.reason == .dependencyNotCovered(origin: CityID("milano")!, seq: 1))
        #expect(plan.refused.first?.reason.code == "dependency_not_covered")
        #expect(plan.refused.first?.reason.isNotReady == false)
    }

    /// The honest version of the same entry (clock covers sofia#1 too) is accepted.
    @Test func theHonestEntryIsAccepted() throws {
        var sofia = SimCity("sofia"), milano = SimCity("milano"), vratsa = SimCity("vratsa")
        sofia.write(.publish(samplePractice("s")))
        milano.pull(from: sofia)
        milano.write(.publish(samplePractice("m")))
        vratsa.pull(from: milano)
        let v1 = vratsa.write(.publish(samplePractice("v")))
        #expect(v1.clock[CityID("sofia")!] == 1)
        var log = MemoryLog()
        #expect(log.merge(milano.log.entries + [v1]).refused.isEmpty)
    }

    /// Over random histories, every accepted log's merged order puts each entry after
    /// every entry its clock names (a linear extension, verifiable in one pass).
    @Test(arguments: 0..<20)
    func mergedOrderIsALinearExtension(seed: UInt64) {
        let net = randomHistory(seed: seed, cities: 5, steps: 80)
        var all = MemoryLog()
        for c in net { all.merge(c.log.entries) }
        var seen = [String: VectorClock]()
        for e in all.entries.mergedOrder() {
            for (city, n) in e.clock.components where city != e.origin {
                let dep = seen["\(city)#\(n)"]
                #expect(dep != nil, "seed \(seed): \(e) comes before \(city)#\(n)")
                #expect(dep?.isDominated(by: e.clock) == true)
            }
            seen["\(e.origin)#\(e.seq)"] = e.clock
        }
    }
}

/// Equivocation evidence is bounded: two entries per position, 16 forked positions per
/// city; the rest is refused, so no sequence of signed entries grows a log or its heads
/// without bound.
@Suite struct BoundedEvidenceTests {
    static func variants(_ n: Int, seq: Int64 = 1, prev: EntryID? = nil, clock: VectorClock? = nil) throws -> [Entry] {
        let sofia = CityID("sofia")!
        return try (0..<n).map { i in
            try EntryDraft(
                origin: sofia, seq: seq, prev: prev, clock: clock ?? VectorClock([sofia: seq]), time: Int64(i), kind: .publish,
                payload: PracticeAction.publish(samplePractice("variant \(i)")).payload
            ).sign(with: TestKeys.key("sofia"))
        }
    }

    @Test func hundredsAtOneSeqKeepTwo() throws {
        let all = try Self.variants(500)
        var log = MemoryLog()
        let plan = log.merge(all)
        #expect(plan.accepted.count == ProtocolLimits.maxEntriesPerPosition)
        #expect(plan.forks.count == 1)
        #expect(plan.refused.count == 500 - 2)
        #expect(plan.refused.allSatisfy { $0.reason.code == "fork_evidence_full" && !$0.reason.isNotReady })
        #expect(log.heads.count == 2)
        // Offered again, one at a time, in another order: nothing more is kept.
        for e in all.reversed() { _ = log.merge([e]) }
        #expect(log.entries.count == 2)
    }

    @Test func forkedPositionsPerCityAreBounded() throws {
        // A chain of 20, then one fork at each of its positions 2…20.
        var sofia = SimCity("sofia")
        for i in 0..<20 { sofia.write(.publish(samplePractice("chain \(i)"))) }
        var log = MemoryLog()
        log.merge(sofia.log.entries)
        let chain = sofia.log.entries
        var forks = [Entry]()
        for k in 1..<20 {
            forks += try Self.variants(1, seq: chain[k].seq, prev: chain[k - 1].id, clock: chain[k].clock)
        }
        let plan = log.merge(forks)
        #expect(plan.forks.count == ProtocolLimits.maxForkedPositionsPerOrigin)
        #expect(plan.refused.count == 19 - ProtocolLimits.maxForkedPositionsPerOrigin)
        #expect(log.forks.count == 2 * ProtocolLimits.maxForkedPositionsPerOrigin)
    }

    /// Pushed to one node and relayed, the first two to reach it are the ones every node
    /// keeps: relays only pass on what they hold, and later variants are refused. (Pushed
    /// to several nodes at once, nodes may keep different pairs: docs/PROTOCOL.md §4.)
    @Test func relayedEvidenceConvergesOnTheSamePair() throws {
        let all = try Self.variants(50)
        var first = MemoryLog(), second = MemoryLog(), third = MemoryLog()
        first.merge(Array(all.prefix(30)))
        second.merge(first.entries)
        // The member pushes more variants to the second node afterwards: all refused.
        #expect(second.merge(Array(all.suffix(20))).accepted.isEmpty)
        third.merge(second.entries)
        #expect(Set(first.entries.map(\.id)) == Set(second.entries.map(\.id)))
        #expect(Set(third.entries.map(\.id)) == Set(first.entries.map(\.id)))
        #expect(NetworkDigest(heads: first.heads, forks: first.forks) == NetworkDigest(heads: third.heads, forks: third.forks))
    }
}
