import Testing
@testable import C4CSRCore

@Suite struct VectorClockTests {
    func clock(_ c: [String: Int64]) -> VectorClock {
        VectorClock(Dictionary(uniqueKeysWithValues: c.map { (CityID($0.key)!, $0.value) }))
    }

    @Test(arguments: [
        // (a, b, a→b, b→a, concurrent)
        (["aa": 1], ["aa": 2], true, false, false),
        (["aa": 1], ["aa": 1], false, false, false),
        (["aa": 1], ["bb": 1], false, false, true),
        (["aa": 2, "bb": 1], ["aa": 1, "bb": 2], false, false, true),
        (["aa": 1], ["aa": 1, "bb": 3], true, false, false),
        ([:], ["aa": 1], true, false, false),
        (["aa": 3, "bb": 3], ["aa": 3, "bb": 2], false, true, false),
    ])
    func handMadeCases(_ a: [String: Int64], _ b: [String: Int64], _ ab: Bool, _ ba: Bool, _ conc: Bool) {
        #expect(clock(a).happenedBefore(clock(b)) == ab)
        #expect(clock(b).happenedBefore(clock(a)) == ba)
        #expect(clock(a).isConcurrent(with: clock(b)) == conc)
        #expect(clock(b).isConcurrent(with: clock(a)) == conc)
    }

    @Test func zeroComponentsAreAbsent() {
        #expect(clock(["aa": 0, "bb": 1]) == clock(["bb": 1]))
        var c = clock(["aa": 2])
        c[CityID("aa")!] = 0
        #expect(c.components.isEmpty)
    }
}

/// Property-style tests over random histories of simulated cities.
@Suite struct HistoryPropertyTests {
    /// Happened-before by clocks equals reachability in the real causal graph
    /// (chain predecessor and the clock's dependencies), and is a strict partial order.
    @Test(arguments: 0..<40)
    func happenedBeforeMatchesCausalGraph(seed: UInt64) {
        let net = randomHistory(seed: seed, cities: 4, steps: 60)
        var all = MemoryLog()
        for c in net { all.merge(c.log.entries) }
        let entries = all.entries
        // Ground truth: the causal past of e = everything the origin held when writing e.
        var past = [EntryID: Set<EntryID>]()
        for e in entries {  // arrival order is causal
            var p = Set<EntryID>()
            if let prev = e.prev { p.insert(prev); p.formUnion(past[prev]!) }
            for (city, n) in e.clock.components where city != e.origin {
                let dep = all.positions(origin: city, seq: n)[0].id
                p.insert(dep)
                p.formUnion(past[dep]!)
            }
            past[e.id] = p
        }
        for a in entries {
            #expect(!a.clock.happenedBefore(a.clock))
            for b in entries {
                #expect(a.clock.happenedBefore(b.clock) == past[b.id]!.contains(a.id), "seed \(seed): \(a) vs \(b)")
            }
        }
    }

    /// Invariant 5: whatever the arrival order, the merged order is identical, and it
    /// is a linear extension of happened-before. Heads and digest agree too.
    @Test(arguments: 0..<300)
    func mergedOrderIndependentOfArrival(seed: UInt64) {
        var rng = SeededRNG(seed: seed ^ 0xC4C5)
        let net = randomHistory(seed: seed, cities: Int.random(in: 2...6, using: &rng), steps: Int.random(in: 5...50, using: &rng))
        var reference = MemoryLog()
        for c in net { reference.merge(c.log.entries) }
        let expected = reference.entries.mergedOrder().map(\.id)

        // One shuffled batch.
        var a = MemoryLog()
        let plan = a.merge(reference.entries.shuffled(using: &rng))
        #expect(plan.refused.isEmpty && plan.accepted.count == expected.count)

        // Entries trickling in one by one in random order, refused ones retried later.
        var b = MemoryLog()
        var pending = reference.entries.shuffled(using: &rng)
        var rounds = 0
        while !pending.isEmpty && rounds < 10_000 {
            let e = pending.removeFirst()
            if b.merge([e]).accepted.isEmpty, !b.contains(e.id) { pending.append(e) }
            rounds += 1
        }
        #expect(pending.isEmpty, "seed \(seed): not everything became ready")
        for log in [a, b] {
            let order = log.entries.mergedOrder()
            #expect(order.map(\.id) == expected, "seed \(seed)")
            for i in order.indices {
                for j in order.indices where j < i {
                    #expect(!order[i].clock.happenedBefore(order[j].clock), "seed \(seed): order violates happened-before")
                }
            }
            #expect(NetworkDigest(heads: log.heads, forks: log.forks) == NetworkDigest(heads: reference.heads, forks: reference.forks))
        }
    }

    /// Invariant 4: a log only ever holds entries whose causal past it holds.
    @Test(arguments: 0..<50)
    func logsStayCausallyClosed(seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        let net = randomHistory(seed: seed, cities: 5, steps: 40)
        var all = MemoryLog()
        for c in net { all.merge(c.log.entries) }
        var partial = MemoryLog()
        let subset = all.entries.filter { _ in Bool.random(using: &rng) }
        partial.merge(subset)
        for e in partial.entries {
            if let prev = e.prev { #expect(partial.contains(prev)) }
            for (city, n) in e.clock.components { #expect(partial.maxSeq(of: city) >= n) }
        }
    }
}

@Suite struct MergePlannerTests {
    @Test func refusesGapsMissingDependenciesAndRegressedClocks() throws {
        var a = SimCity("sofia"), b = SimCity("milano")
        let a1 = a.write(.publish(samplePractice()))
        let a2 = a.write(.publish(samplePractice()))
        b.pull(from: a)
        let b1 = b.write(.adopt(practice: a1.id, version: a1.id, mode: .adopted, notes: nil))

        var log = MemoryLog()
        var plan = log.merge([a2])
        #expect(plan.refused.first?.reason == .missingPredecessor(origin: a.id, seq: 1))
        plan = log.merge([b1, a1])
        #expect(plan.accepted.map(\.id) == [a1.id])
        #expect(plan.refused.first?.reason == .missingDependency(origin: a.id, seq: 2))
        #expect(log.merge([a1]).duplicates == 1)

        // seq 2 whose clock forgets what seq 1 knew.
        var c = SimCity("vratsa")
        c.pull(from: a)
        let c1 = c.write(.publish(samplePractice()))
        let bad = try EntryDraft(origin: c.id, seq: 2, prev: c1.id, clock: VectorClock([c.id: 2]), time: 0, kind: .publish,
                                 payload: PracticeAction.publish(samplePractice()).payload).sign(with: c.key)
        var log2 = MemoryLog()
        log2.merge(a.log.entries + [c1])
        #expect(log2.merge([bad]).refused.first?.reason == .clockRegressed(prev: c1.id))
    }

    /// Invariant 2: two different entries at one (origin, seq) are both kept and reported.
    @Test func forksAreKeptAsEvidence() throws {
        var a = SimCity("sofia")
        a.write(.publish(samplePractice("one")))
        var twin = a  // the same key and state, as after restoring an old backup
        let x = a.write(.publish(samplePractice("two")))
        let y = twin.write(.publish(samplePractice("three")))
        #expect(x.seq == y.seq && x.id != y.id)
        var log = MemoryLog()
        log.merge(a.log.entries)
        let plan = log.merge([y])
        #expect(plan.forks == [y.id])
        #expect(log.contains(x.id) && log.contains(y.id))
        #expect(Set(log.forks.map(\.id)) == [x.id, y.id])
        #expect(log.heads.count == 2)

        // The auditor reports it too.
        var auditor = LogAuditor()
        for e in log.entries {
            auditor.check(StoredRow(position: 0, id: e.id.bytes, origin: e.origin.rawValue, seq: e.seq, prev: e.prev?.bytes, rank: e.clock.sum,
                                    clock: CanonicalJSON.string(e.clock.json), kind: e.kind.rawValue, subject: PracticeAction.subject(of: e)?.bytes,
                                    body: e.body, signature: e.signature), signature: .success(e))
        }
        #expect(auditor.findings.map(\.code) == ["fork"])
        // A log without the fork differs in digest from one with it.
        var noFork = MemoryLog()
        noFork.merge(a.log.entries)
        #expect(NetworkDigest(heads: noFork.heads, forks: noFork.forks) != NetworkDigest(heads: log.heads, forks: log.forks))
    }
}
