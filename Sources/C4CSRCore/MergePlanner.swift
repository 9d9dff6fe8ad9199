/// An entry already held in a log, as the planner needs to see it.
public struct LogPosition: Sendable, Hashable {
    public let id: EntryID
    public let clock: VectorClock
    /// What is in force after this entry: the city's key (`nil`: the founding key) and
    /// its officers. docs/PROTOCOL.md §12, §13.
    public let stateAfter: ChainState
    public init(id: EntryID, clock: VectorClock, stateAfter: ChainState = .founding) {
        self.id = id
        self.clock = clock
        self.stateAfter = stateAfter
    }
}

/// What the caller of `MergePlanner.plan` checked of each entry's signature: the key
/// that verified it (`signers`), the founding keys it resolved "no rotation" to, and the
/// officers it judged an officer entry or an author by (`rolls`). The planner accepts an
/// entry only if these are what is in force at its position.
public struct SignatureCheck: Sendable {
    public var founding: [CityID: CityPublicKey]
    public var signers: [EntryID: CityPublicKey]
    public var rolls: [EntryID: OfficerRoll]
    public init(founding: [CityID: CityPublicKey], signers: [EntryID: CityPublicKey], rolls: [EntryID: OfficerRoll] = [:]) {
        self.founding = founding
        self.signers = signers
        self.rolls = rolls
    }
}

/// What the merge planner reads of the log it merges into. The store implements it
/// inside the write transaction; tests implement it in memory.
public protocol LogIndex {
    /// The highest seq held for `origin`, 0 if none.
    func maxSeq(of origin: CityID) throws -> Int64
    /// The entries held at (origin, seq): one normally, more after a fork.
    func positions(origin: CityID, seq: Int64) throws -> [LogPosition]
    func contains(_ id: EntryID) throws -> Bool
    /// How many positions of `origin` hold more than one entry.
    func forkedPositions(of origin: CityID) throws -> Int
}

/// Why the planner did not accept an entry of a batch.
public enum MergeRejection: Sendable, Hashable, CustomStringConvertible {
    /// Not causally ready: its chain predecessor is not held (a gap, or a branch not yet seen).
    case missingPredecessor(origin: CityID, seq: Int64)
    /// Not causally ready: its clock depends on an entry not held.
    case missingDependency(origin: CityID, seq: Int64)
    /// Invalid: its clock does not cover its own predecessor's clock.
    case clockRegressed(prev: EntryID)
    /// A fork beyond the evidence kept (`ProtocolLimits.maxEntriesPerPosition` at one
    /// position, `maxForkedPositionsPerOrigin` per origin): the equivocation is already
    /// proven; this entry would only grow the log. Refused.
    case evidenceFull(origin: CityID, seq: Int64)
    /// Its clock names (origin, seq), but no entry held there has a clock this one
    /// covers: it claims an entry without that entry's own causal past. Invalid unless
    /// another entry at that position (a fork) arrives whose past it does cover.
    case dependencyNotCovered(origin: CityID, seq: Int64)
    /// Its signature (or its author) was checked with a key or officers that are not those
    /// in force at its position (its predecessor arrived after it was verified):
    /// verified again when sent again.
    case notVerifiedWithKeyInForce

    /// `true` when the entry may become acceptable once its causal past arrives.
    public var isNotReady: Bool {
        switch self {
        case .missingPredecessor, .missingDependency, .notVerifiedWithKeyInForce: true
        case .clockRegressed, .dependencyNotCovered, .evidenceFull: false
        }
    }

    /// Every code, for metrics present from zero.
    public static let codes = [
        "missing_predecessor", "missing_dependency", "clock_regressed", "dependency_not_covered", "fork_evidence_full",
        "key_not_in_force",
    ]

    public var code: String {
        switch self {
        case .missingPredecessor: "missing_predecessor"
        case .missingDependency: "missing_dependency"
        case .clockRegressed: "clock_regressed"
        case .dependencyNotCovered: "dependency_not_covered"
        case .evidenceFull: "fork_evidence_full"
        case .notVerifiedWithKeyInForce: "key_not_in_force"
        }
    }

    public var description: String {
        switch self {
        case .missingPredecessor(let o, let s): "its predecessor \(o)#\(s) is not in the log"
        case .missingDependency(let o, let s): "its vector clock depends on \(o)#\(s), which is not in the log"
        case .clockRegressed(let p): "its vector clock does not cover that of its predecessor \(p.short)"
        case .evidenceFull(let o, let s):
            "\(o) already equivocated and the evidence kept is complete (\(o)#\(s) would be one fork too many)"
        case .dependencyNotCovered(let o, let s): "its vector clock names \(o)#\(s) but does not cover that entry's own clock (its causal past)"
        case .notVerifiedWithKeyInForce: "its signature was not checked with the key in force at its position"
        }
    }
}

/// The outcome of planning a batch: what to insert, in which order, and why the rest is not.
public struct MergePlan: Sendable {
    /// Entries to insert, in an order in which each one's causal past precedes it.
    public var accepted: [Entry] = []
    /// Ids of accepted entries whose (origin, seq) already holds a different entry:
    /// forks, kept as evidence.
    public var forks: Set<EntryID> = []
    /// Entries already held (or repeated in the batch): ignored, merging is idempotent.
    public var duplicates = 0
    /// Entries not accepted, with the reason.
    public var refused: [(entry: Entry, reason: MergeRejection)] = []
    /// For accepted entries after which the state in force is not the founding one
    /// (a rotated key, enrolled officers): that state.
    public var stateAfter: [EntryID: ChainState] = [:]

    public init() {}
}

/// Decides which entries of a batch may join a log (invariants 2–4), without IO.
///
/// The batch is considered in merged order, which puts every entry after its causal
/// past, so a single pass accepts everything whose past is in the log or earlier in
/// the batch. The caller must have verified every entry's signature (`EntryVerifier`)
/// and say with which key and officers (`signatures`): an entry is accepted only if they
/// are those in force at its position (§12, §13). Without `signatures` the caller vouches for every
/// key (tests of the causal rules, and audits that judge signatures themselves).
public enum MergePlanner {
    public static func plan(_ batch: [Entry], into index: some LogIndex, signatures: SignatureCheck? = nil) throws -> MergePlan {
        var plan = MergePlan()
        var maxSeq = [CityID: Int64]()
        var positions = [PositionKey: [LogPosition]]()
        var seen = Set<EntryID>()
        var forked = [CityID: Int]()

        func max(_ origin: CityID) throws -> Int64 {
            if let m = maxSeq[origin] { return m }
            let m = try index.maxSeq(of: origin)
            maxSeq[origin] = m
            return m
        }
        func held(_ origin: CityID, _ seq: Int64) throws -> [LogPosition] {
            let key = PositionKey(origin: origin, seq: seq)
            if let p = positions[key] { return p }
            let p = try index.positions(origin: origin, seq: seq)
            positions[key] = p
            return p
        }

        for entry in batch.mergedOrder() {
            if try seen.contains(entry.id) || index.contains(entry.id) {
                plan.duplicates += 1
                continue
            }
            seen.insert(entry.id)
            let top = try max(entry.origin)
            if entry.seq > top + 1 {
                plan.refused.append((entry, .missingPredecessor(origin: entry.origin, seq: entry.seq - 1)))
                continue
            }
            var predecessorClock: VectorClock?
            var inForce = ChainState.start(of: entry)
            if let prev = entry.prev {
                guard let p = try held(entry.origin, entry.seq - 1).first(where: { $0.id == prev }) else {
                    plan.refused.append((entry, .missingPredecessor(origin: entry.origin, seq: entry.seq - 1)))
                    continue
                }
                guard p.clock.isDominated(by: entry.clock) else {
                    plan.refused.append((entry, .clockRegressed(prev: prev)))
                    continue
                }
                predecessorClock = p.clock
                inForce = p.stateAfter
            }
            if let signatures {
                let required = inForce.key ?? signatures.founding[entry.origin.city]
                guard let required, signatures.signers[entry.id] == required else {
                    plan.refused.append((entry, .notVerifiedWithKeyInForce))
                    continue
                }
                if entry.author != nil || entry.kind == .officer, signatures.rolls[entry.id] != inForce.officers {
                    plan.refused.append((entry, .notVerifiedWithKeyInForce))
                    continue
                }
            }
            if let missing = try uncovered(entry, predecessorClock: predecessorClock, max: max, held: held) {
                plan.refused.append((entry, missing))
                continue
            }
            let key = PositionKey(origin: entry.origin, seq: entry.seq)
            let here = try held(entry.origin, entry.seq)
            if !here.isEmpty {
                // Bounded evidence: the first entries to arrive are kept, later ones refused.
                let positions = try forked[entry.origin] ?? index.forkedPositions(of: entry.origin)
                if here.count >= ProtocolLimits.maxEntriesPerPosition
                    || (here.count == 1 && positions >= ProtocolLimits.maxForkedPositionsPerOrigin) {
                    plan.refused.append((entry, .evidenceFull(origin: entry.origin, seq: entry.seq)))
                    continue
                }
                forked[entry.origin] = positions + (here.count == 1 ? 1 : 0)
                plan.forks.insert(entry.id)
            }
            let after = inForce.after(entry)
            positions[key] = here + [LogPosition(id: entry.id, clock: entry.clock, stateAfter: after)]
            if entry.seq > top { maxSeq[entry.origin] = entry.seq }
            if !after.isFounding { plan.stateAfter[entry.id] = after }
            plan.accepted.append(entry)
        }
        return plan
    }

    /// Rule 3 of §4: for every other city c in the clock, the log holds an entry at
    /// (c, clock[c]) whose own clock is covered by this one — so the entry's whole causal
    /// past is held, not only the positions it names. A component equal to the
    /// predecessor's was already checked when the predecessor was accepted (its clock is
    /// covered by this one), so only the components that grew are looked up.
    private static func uncovered(
        _ entry: Entry, predecessorClock: VectorClock?,
        max: (CityID) throws -> Int64, held: (CityID, Int64) throws -> [LogPosition]
    ) throws -> MergeRejection? {
        for (city, n) in entry.clock.components where city != entry.origin && predecessorClock?[city] != n {
            if try max(city) < n { return .missingDependency(origin: city, seq: n) }
            let there = try held(city, n)
            if !there.contains(where: { $0.clock.isDominated(by: entry.clock) }) {
                return .dependencyNotCovered(origin: city, seq: n)
            }
        }
        return nil
    }

    private struct PositionKey: Hashable {
        let origin: CityID
        let seq: Int64
    }
}

/// A log held in memory: the reference implementation of `LogIndex`, used by tests
/// and simulations.
public struct MemoryLog: LogIndex, Sendable {
    public private(set) var entries: [Entry] = []
    private var byID: [EntryID: Int] = [:]
    private var top: [CityID: Int64] = [:]
    private var at: [String: [LogPosition]] = [:]
    private var forkedCount: [CityID: Int] = [:]
    private var stateAfter: [EntryID: ChainState] = [:]

    public init() {}

    /// The state in force after a held entry (`nil`: not held).
    public func state(after id: EntryID) -> ChainState? { contains(id) ? stateAfter[id] ?? .founding : nil }
    /// The key in force after a held entry, when a rotation changed it.
    public func keyAfter(_ id: EntryID) -> CityPublicKey? { stateAfter[id]?.key }

    public func maxSeq(of origin: CityID) -> Int64 { top[origin] ?? 0 }
    public func positions(origin: CityID, seq: Int64) -> [LogPosition] { at["\(origin)#\(seq)"] ?? [] }
    public func contains(_ id: EntryID) -> Bool { byID[id] != nil }
    public func forkedPositions(of origin: CityID) -> Int { forkedCount[origin] ?? 0 }
    public func entry(_ id: EntryID) -> Entry? { byID[id].map { entries[$0] } }

    /// Plans `batch` against this log and appends what the plan accepts. `signatures`:
    /// as for `MergePlanner.plan` (without it, the caller vouches for every key).
    @discardableResult
    public mutating func merge(_ batch: [Entry], signatures: SignatureCheck? = nil) -> MergePlan {
        // MemoryLog's index never throws.
        let plan = try! MergePlanner.plan(batch, into: self, signatures: signatures)
        for e in plan.accepted { append(e, stateAfter: plan.stateAfter[e.id] ?? .founding) }
        return plan
    }

    /// Appends without checks; use `merge` unless the entry is known to be ready.
    /// `stateAfter`: what is in force after it (`KeysInForce`).
    public mutating func append(_ e: Entry, stateAfter state: ChainState = .founding) {
        byID[e.id] = entries.count
        entries.append(e)
        if !state.isFounding { stateAfter[e.id] = state }
        top[e.origin] = Swift.max(top[e.origin] ?? 0, e.seq)
        at["\(e.origin)#\(e.seq)", default: []].append(LogPosition(id: e.id, clock: e.clock, stateAfter: state))
        if at["\(e.origin)#\(e.seq)"]?.count == 2 { forkedCount[e.origin, default: 0] += 1 }
    }

    /// The clock a new local entry by `origin` gets: what is held, plus one for `origin`.
    public func nextClock(for origin: CityID) -> VectorClock {
        var c = VectorClock(top)
        c[origin] = (top[origin] ?? 0) + 1
        return c
    }

    /// Heads (invariant 6): for each origin, the entries at its highest seq.
    public var heads: [Head] {
        top.flatMap { origin, seq in positions(origin: origin, seq: seq).map { Head(origin: origin, seq: seq, id: $0.id) } }
            .sorted()
    }

    /// Positions that hold more than one entry, with all their ids.
    public var forks: [Head] {
        at.values.filter { $0.count > 1 }.flatMap { ps in
            ps.map { p in
                let e = entry(p.id)!
                return Head(origin: e.origin, seq: e.seq, id: p.id)
            }
        }.sorted()
    }
}
