import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// The convergence simulation: cities as in-process nodes with their real stores,
/// random adds, revisions and adoptions, random sync rounds over a network that
/// drops, duplicates, delays and reorders messages, partitions that form and heal,
/// nodes that crash and restart from their store. Deterministic for a seed: a failing
/// seed is printed so it can be replayed.
///
///     C4CSR_SIM_SEEDS=1000 C4CSR_SIM_NODES=30 swift test --filter Simulation   # the long run
///     C4CSR_SIM_SEED=42 swift test --filter Simulation                          # replay one seed
///
/// scripts/simulate.sh runs the long version.
@Suite(.serialized, .timeLimit(.minutes(timeLimitMinutes(10))))
struct SimulationTests {
    static var seeds: [UInt64] {
        let env = ProcessInfo.processInfo.environment
        if let one = env["C4CSR_SIM_SEED"].flatMap(UInt64.init) { return [one] }
        let count = env["C4CSR_SIM_SEEDS"].flatMap(Int.init) ?? 6
        let first = env["C4CSR_SIM_FIRST_SEED"].flatMap(UInt64.init) ?? 1
        return (0..<UInt64(count)).map { first + $0 }
    }

    @Test func citiesConvergeWhateverTheNetworkDoes() async throws {
        let env = ProcessInfo.processInfo.environment
        let nodes = env["C4CSR_SIM_NODES"].flatMap(Int.init) ?? 6
        let steps = env["C4CSR_SIM_STEPS"].flatMap(Int.init) ?? 250
        var failures = [UInt64]()
        var stats = SimStats()
        for seed in Self.seeds {
            let sim = try Simulation(seed: seed, nodes: nodes)
            defer { sim.destroy() }
            do {
                try await sim.run(steps: steps)
                try await sim.settleAndCheck()
                stats.add(sim.stats)
            } catch {
                failures.append(seed)
                Issue.record("simulation seed \(seed) failed: \(error)\n  replay: C4CSR_SIM_SEED=\(seed) C4CSR_SIM_NODES=\(nodes) C4CSR_SIM_STEPS=\(steps) swift test --filter Simulation")
            }
        }
        #expect(failures.isEmpty, "failing seeds: \(failures)")
        // The faults really happened (a simulation that never drops anything proves little).
        #expect(stats.dropped > 0 && stats.duplicated > 0 && stats.delayed > 0 && stats.crashes > 0 && stats.partitions > 0 && stats.erasures > 0, "\(stats)")
        #expect(stats.thefts > 0 && stats.vouches > 0 && stats.recoveries > 0 && stats.revoked > 0, "\(stats)")
        print("simulation: \(Self.seeds.count) seeds × \(nodes) nodes × \(steps) steps: \(stats)")
    }
}

struct SimStats: CustomStringConvertible {
    var entries = 0, rounds = 0, failedRounds = 0, blocked = 0, dropped = 0, duplicated = 0, delayed = 0, reordered = 0, truncated = 0
    var crashes = 0, partitions = 0, settleSweeps = 0, erasures = 0, thefts = 0, vouches = 0, recoveries = 0, revoked = 0
    mutating func add(_ o: SimStats) {
        thefts += o.thefts; vouches += o.vouches; recoveries += o.recoveries; revoked += o.revoked
        entries += o.entries; rounds += o.rounds; failedRounds += o.failedRounds; blocked += o.blocked; dropped += o.dropped
        duplicated += o.duplicated; delayed += o.delayed; reordered += o.reordered; truncated += o.truncated
        crashes += o.crashes; partitions += o.partitions; settleSweeps += o.settleSweeps; erasures += o.erasures
    }
    var description: String {
        "\(entries) entries, \(rounds) rounds (\(failedRounds) failed by faults), \(blocked) blocked by partitions or crashes, "
            + "\(dropped) messages dropped, \(duplicated) duplicated, "
            + "\(delayed) delayed, \(reordered) reordered, \(truncated) truncated, \(crashes) crashes, \(partitions) partitions, "
            + "\(settleSweeps) settling sweeps, \(erasures) erasures, \(thefts) stolen keys, \(vouches) vouches, "
            + "\(recoveries) recoveries, \(revoked) revoked entries"
    }
}

struct SimFault: Error, CustomStringConvertible {
    let description: String
}

/// The whole simulated network; confined to the test's task.
final class Simulation: @unchecked Sendable {
    var rng: SplitMix64
    let root: URL
    var cities: [City?]
    let dirs: [DataDirectory]
    var group: [Int]  // partition: nodes talk only within their group
    var inFlight: [(to: Int, entries: [SignedEntry], at: Int)] = []
    var step = 0
    var stats = SimStats()
    var faultsOn = true

    init(seed: UInt64, nodes: Int) throws {
        rng = SplitMix64(seed: seed)
        root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-sim-\(seed)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var made = [City]()
        var dirs = [DataDirectory]()
        let now = SimClock()
        for i in 0..<nodes {
            let id = CityID(String(format: "sim-%02d", i))!
            let dir = DataDirectory(root.appendingPathComponent(id.rawValue).path)
            dirs.append(dir)
            made.append(try City.create(
                at: dir, card: PeerCard(city: id, name: id.rawValue, localName: id.rawValue, country: "EU", language: "en"), now: now.read))
        }
        // Every city holds the network's charter (§15): members can recover a city.
        let charter = try Charter(name: "Simulated network", founders: made.map(\.id))
        for a in made {
            for b in made where a.id != b.id {
                try Data(b.card.toml.utf8).write(to: a.directory.peersDirectory.appendingPathComponent("\(b.id).toml"))
            }
            try Data(charter.toml.utf8).write(to: a.directory.peersDirectory.appendingPathComponent("network.toml"))
            a.reloadPeers()
        }
        self.charter = charter
        self.dirs = dirs
        cities = made
        group = Array(repeating: 0, count: nodes)
        simClock = now
    }

    let simClock: SimClock
    let charter: Charter
    /// A stolen key (§15): the victim's node goes on writing with it (the thief, before,
    /// during and after the recovery); the other members vouch for a new key standing by
    /// the victim's entry at the theft; once one of them holds a majority of vouches, the
    /// victim's officers open its next generation with the new key.
    var theft: (victim: Int, motion: Motion, key: CitySigningKey, vouched: Set<Int>, recovered: Bool)?

    func destroy() { try? FileManager.default.removeItem(at: root) }

    func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    func chance(_ percent: Int) -> Bool { random(100) < percent }

    func run(steps: Int) async throws {
        for _ in 0..<steps {
            step += 1
            simClock.advance(by: 1_000)
            deliverDue()
            let roll = random(100)
            switch roll {
            case 0..<25:
                do { try localWrite() } catch let e as NodeError where e.kind == .forbidden && e.message.contains("recovered") {
                    // The victim's old node once its recovery reached it: it signs nothing.
                }
            case 25..<85: await randomRound()
            case 85..<90: reshapePartitions()
            case 90..<94: try crashOrRestart()
            case 94..<96: try stealVouchOrRecover()
            default: await randomRound()
            }
            if step % 50 == 0 { try checkCausalClosure() }
        }
    }

    /// A city adds, revises or adopts (the officer's CLI path: `City`).
    func localWrite() throws {
        let i = random(cities.count)
        guard let city = cities[i] else { return }
        let practices = try city.store.practices()
        let own = practices.filter { $0.publisher == city.id }
        let others = practices.filter { $0.publisher != city.id }
        switch random(11) {
        case 0..<6, _ where practices.isEmpty:
            // Some practices name a contact: sealed (§14), erasable.
            var p = practice("step \(step) by \(city.id)")
            if chance(40) { p.contact = "Contact person \(step), +359 2 \(step)" }
            _ = try city.publish(p)
        case 6..<8 where !own.isEmpty:
            let p = own[random(own.count)]
            _ = try city.revise(p.id.hex, with: practice("revised at step \(step)"))
        case 8..<10 where !others.isEmpty:
            let p = others[random(others.count)]
            _ = try? city.adopt(p.id.hex, mode: .adapted, notes: "adopted at step \(step)")
        case 10 where !own.isEmpty:
            // An erasure request: refused (and nothing written) when nothing sealed is left.
            let p = own[random(own.count)]
            if (try? city.erase(p.id.hex, reason: "request at step \(step)")) != nil { stats.erasures += 1 }
        default:
            _ = try city.publish(practice("step \(step) by \(city.id)"))
        }
        stats.entries += 1
    }

    func randomRound() async {
        let i = random(cities.count)
        var j = random(cities.count - 1)
        if j >= i { j += 1 }
        await round(i, j)
    }

    func round(_ i: Int, _ j: Int, contentRound: Bool = false) async {
        guard let a = cities[i], let b = cities[j], group[i] == group[j] else {
            stats.blocked += 1
            return
        }
        stats.rounds += 1
        var r = SyncRound(city: a, peer: b.id, transport: FaultyTransport(sim: self, target: j, responder: SyncResponder(city: b)))
        r.pageLimit = 1 + random(40)  // small pages: many page boundaries
        r.contentRound = contentRound || chance(10)
        let report = await r.run()
        if !report.succeeded { stats.failedRounds += 1 }
    }

    /// The theft, then a vouch by one more member, then the recovery once a member holds a
    /// majority of vouches (more than half of the members other than the victim).
    func stealVouchOrRecover() throws {
        guard let t = theft else {
            let v = random(cities.count)
            guard let victim = cities[v], let top = try victim.localHeads().heads.first(where: { $0.origin == victim.id }) else { return }
            let key = CitySigningKey()
            let motion = Motion.recover(.init(city: victim.id, generation: 2, key: key.publicKey, lastSeq: top.seq, lastID: top.id))
            theft = (v, motion, key, [], false)
            stats.thefts += 1
            return
        }
        guard !t.recovered, case .recover(let r) = t.motion else { return }
        let others = cities.indices.filter { $0 != t.victim }
        // A member that holds the entry the motion stands by vouches.
        let yet = others.filter { !t.vouched.contains($0) }
        if !yet.isEmpty, let city = cities[yet[random(yet.count)]],
           try city.store.contains(r.lastID!) {
            _ = try city.vouch(t.motion)
            theft?.vouched.insert(cities.firstIndex { $0?.id == city.id }!)
            stats.vouches += 1
        }
        // A member holding a majority of the vouches (and the entry stood by) carries the
        // recover entry, signed by the new key, into the log.
        for i in others {
            guard let city = cities[i] else { continue }
            let heads = try city.localHeads().heads
            var clock = VectorClock(Dictionary(heads.map { ($0.origin, $0.seq) }, uniquingKeysWith: max))
            let held = try city.store.membershipEntries().filter { $0.membership?.statement == .vouch(t.motion) }.count
            guard 2 * held > others.count, clock[r.city] >= r.lastSeq else { continue }
            clock[r.newChain] = 1
            let recover = try EntryDraft(
                origin: r.newChain, seq: 1, prev: nil, clock: clock, time: simClock.read(), kind: .recover,
                payload: MembershipStatement.recover(r).payload(network: charter.networkID)
            ).sign(with: t.key)
            let report = try city.receive([(recover.body, recover.signature)])
            guard report.inserted == 1 else { throw SimFault(description: "\(city.id) refused the recover: \(report.invalid) \(report.outcome.refused)") }
            theft?.recovered = true
            stats.recoveries += 1
            return
        }
    }

    /// Splits the network in two (one time in three) or heals it.
    func reshapePartitions() {
        if group.allSatisfy({ $0 == 0 }) && chance(33) {
            stats.partitions += 1
            for k in group.indices { group[k] = random(2) }
        } else {
            for k in group.indices { group[k] = 0 }
        }
    }

    /// A node stops abruptly (its handle dropped mid-run) or comes back from its store.
    func crashOrRestart() throws {
        let down = cities.indices.filter { cities[$0] == nil }
        if !down.isEmpty && chance(70) {
            let i = down[random(down.count)]
            cities[i] = try City.open(dirs[i], now: simClock.read)
        } else {
            let up = cities.indices.filter { cities[$0] != nil }
            guard up.count > 1 else { return }
            cities[up[random(up.count)]] = nil
            stats.crashes += 1
        }
    }

    /// Delayed pushes arrive now, in whatever order they were delayed to.
    func deliverDue() {
        var keep = [(to: Int, entries: [SignedEntry], at: Int)]()
        for m in inFlight {
            if m.at <= step, let city = cities[m.to] {
                _ = try? SyncResponder(city: city).push(m.entries)
            } else if m.at <= step {
                continue  // the node is down: the message is lost
            } else {
                keep.append(m)
            }
        }
        inFlight = keep
    }

    /// No node ever holds an entry without its causal past (audit re-derives it from the bytes).
    func checkCausalClosure() throws {
        for case let city? in cities {
            let report = try city.audit()
            let causal = report.errors.filter { ["not_causal", "bad_clock", "fork", "duplicate", "heads_mismatch"].contains($0.code) }
            if !causal.isEmpty { throw SimFault(description: "\(city.id) at step \(step): \(causal)") }
        }
    }

    /// Heal everything, restart everyone, deliver what is in flight, then rounds over a
    /// ring without faults until quiet; then every node must hold the same log.
    func settleAndCheck() async throws {
        for k in group.indices { group[k] = 0 }
        for i in cities.indices where cities[i] == nil { cities[i] = try City.open(dirs[i], now: simClock.read) }
        step += 1_000_000
        deliverDue()
        faultsOn = false
        let n = cities.count
        // Twice round the ring and more: an erasure's acks (§14) are written as it
        // arrives, and travel after it.
        for sweep in 0..<(2 * n + 2) {
            stats.settleSweeps += 1
            for i in 0..<n { await round(i, (i + 1) % n) }
            let digests = try Set(cities.map { try $0!.localHeads().digest })
            if digests.count == 1 && sweep > 0 { break }
        }
        let all = cities.map { $0! }
        let heads = try all.map { try $0.localHeads() }
        guard Set(heads.map(\.digest)).count == 1 else {
            let tops = heads.map { h in h.heads.map { "\($0.origin)#\($0.seq)" }.sorted().joined(separator: " ") }
            throw SimFault(description: "did not converge: \(heads.map { "\($0.city) \($0.entries) \($0.digest.prefix(8))" }) heads: \(tops)")
        }
        var exports = [String]()
        for city in all {
            var text = ""
            // Entries only: content is held where it has travelled (§14), not in the log.
            try city.exportJSONL(content: false) { text += $0 }
            exports.append(text)
        }
        guard Set(exports).count == 1 else { throw SimFault(description: "equal digests but different merged logs") }
        // The verdicts (§15) and what every city shows of every practice are the same
        // everywhere, whatever order the theft, the vouches and the recovery arrived in.
        let revoked = try all.map { try $0.store.revokedEntries() }
        guard Set(revoked).count == 1 else { throw SimFault(description: "different revoked entries: \(revoked.map(\.count))") }
        let shown = try all.map { try $0.store.practices().map { "\($0.id.short) \($0.status) \($0.versions) \($0.adoptions) \($0.conflict)" } }
        guard Set(shown).count == 1 else { throw SimFault(description: "equal logs but different practices shown") }
        if let t = theft, t.recovered, case .recover(let r) = t.motion {
            // What the thief wrote after the entry the members stood by is revoked everywhere.
            let top = try all[0].store.summary().heads.filter { $0.origin == r.city }.map(\.seq).max() ?? 0
            guard top <= r.lastSeq || !revoked[0].isEmpty else {
                throw SimFault(description: "\(r.city) wrote up to seq \(top) after the recovery stood by seq \(r.lastSeq), and nothing is revoked")
            }
        }
        stats.revoked += revoked[0].count
        for city in all {
            let report = try city.audit()
            guard report.errors.isEmpty else { throw SimFault(description: "\(city.id) audit: \(report.errors)") }
        }
        // Content rounds between every pair: every city then holds the content of every
        // sealed field that is not erased (§10), however it travelled or was lost on the way.
        for i in 0..<n { for j in 0..<n where i != j { await round(i, j, contentRound: true) } }
        for city in all {
            let lacking = try city.store.lackingContent(after: 0, limit: 10)
            guard lacking.entries.isEmpty else {
                throw SimFault(description: "\(city.id) lacks the content of \(lacking.entries.map(\.short)) after content rounds with every city")
            }
        }
        // Every erasure is confirmed by every city, and no city holds what it erased.
        // (A recovered city confirms from its new generation's chain, which no node of this
        // simulation writes yet: its old node signs nothing after the recovery.)
        let members = Set(all.map(\.id)).subtracting(theft?.recovered == true ? [all[theft!.victim].id] : [])
        for city in all {
            for (practice, e) in try city.store.erasures() {
                guard members.isSubset(of: Set(e.confirmedBy)) else {
                    throw SimFault(description: "\(city.id): erasure \(e.entry.short) of \(practice.short) confirmed by \(e.confirmedBy) only")
                }
                for pair in e.erased where try city.store.contents(of: [pair.entry]).contains(where: { $0.field == pair.field }) {
                    throw SimFault(description: "\(city.id) still holds the \(pair.field.rawValue) of \(pair.entry.short), erased by \(e.entry.short)")
                }
            }
        }
    }
}

/// Time in the simulation: advanced by the steps, never the wall clock.
final class SimClock: @unchecked Sendable {
    private let lock = NSLock()
    private var ms: Int64 = 1_764_061_200_000
    var read: @Sendable () -> Int64 { { [self] in lock.withLock { ms } } }
    func advance(by d: Int64) { lock.withLock { ms += d } }
}

/// A transport that loses, repeats, delays, truncates and reorders, at the
/// simulation's random choice.
struct FaultyTransport: PeerTransport, @unchecked Sendable {
    let sim: Simulation
    let target: Int
    let responder: SyncResponder

    func maybeDrop() throws {
        if sim.faultsOn && sim.chance(4) {
            sim.stats.dropped += 1
            throw SimFault(description: "request lost")
        }
    }

    func heads() async throws -> PeerHeads {
        try maybeDrop()
        return try responder.heads()
    }

    func pull(_ request: PullRequest) async throws -> (entries: [SignedEntry], more: Bool) {
        try maybeDrop()
        var page = try responder.pull(request)
        if sim.faultsOn && sim.chance(10) && page.entries.count > 1 {
            sim.stats.truncated += 1
            page = (Array(page.entries.prefix(1 + sim.random(page.entries.count - 1))), true)
        }
        if sim.faultsOn && sim.chance(10) && page.entries.count > 1 {
            sim.stats.reordered += 1
            page.entries.shuffle(using: &sim.rng)
        }
        return page
    }

    func push(_ entries: [SignedEntry]) async throws -> PushResult {
        guard sim.faultsOn else { return try responder.push(entries) }
        switch sim.random(100) {
        case 0..<5:
            sim.stats.dropped += 1
            throw SimFault(description: "push lost")
        case 5..<10:
            // Delivered, but the answer is lost.
            _ = try responder.push(entries)
            sim.stats.dropped += 1
            throw SimFault(description: "answer lost")
        case 10..<16:
            sim.stats.duplicated += 1
            _ = try responder.push(entries)
            return try responder.push(entries)
        case 16..<22:
            sim.stats.delayed += 1
            var shuffled = entries
            if sim.chance(50) { shuffled.shuffle(using: &sim.rng) }
            sim.inFlight.append((to: target, entries: shuffled, at: sim.step + 1 + sim.random(20)))
            throw SimFault(description: "push delayed")
        default:
            return try responder.push(entries)
        }
    }

    func forks() async throws -> ForkList {
        try maybeDrop()
        return try responder.forks()
    }

    func entries(_ request: IDsRequest) async throws -> [SignedEntry] {
        try maybeDrop()
        return try responder.entries(request)
    }

    func content(_ request: ContentRequest) async throws -> [PersonalContent] {
        try maybeDrop()
        return try responder.content(request).content
    }

    func pushContent(_ content: [PersonalContent]) async throws -> ContentPushResult {
        try maybeDrop()
        return try responder.pushContent(ContentList(content: content))
    }
}
