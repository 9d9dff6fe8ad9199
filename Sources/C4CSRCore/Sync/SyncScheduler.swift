/// When to run a sync round with which peer: the anti-entropy timer, push-on-change,
/// and exponential backoff for unreachable peers. A value-type state machine: the
/// daemon feeds it events with the current time and carries out the actions it
/// returns; tests drive it with a mock clock and a seeded generator, no sockets.
///
/// Rules:
/// - a new peer is due at once;
/// - after a successful round a peer is due again after `interval`, ± `jitter`;
/// - after the n-th failure in a row, after `backoffBase · 2^(n−1)`, capped at
///   `backoffCap`, ± `jitter` (so an unreachable peer costs little, and many nodes
///   do not retry in step);
/// - a local change (a new entry) makes every peer not in backoff due at once; a
///   peer whose round is in flight runs once more right after;
/// - at most one round per peer is in flight; peers never wait for each other.
public struct SyncScheduler: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Milliseconds between rounds with a healthy peer.
        public var interval: Int64
        /// Fraction of a delay added or removed at random, 0 … 0.5.
        public var jitter: Double
        /// First retry delay after a failure (ms).
        public var backoffBase: Int64
        /// Longest retry delay (ms).
        public var backoffCap: Int64

        public init(interval: Int64 = 60_000, jitter: Double = 0.2, backoffBase: Int64 = 2_000, backoffCap: Int64 = 600_000) {
            self.interval = max(1, interval)
            self.jitter = min(max(0, jitter), 0.5)
            self.backoffBase = max(1, backoffBase)
            self.backoffCap = max(self.backoffBase, backoffCap)
        }
    }

    public enum Action: Sendable, Hashable {
        case startRound(CityID)
    }

    struct PeerState: Sendable, Hashable {
        var due: Int64
        var failures = 0
        var inFlight = false
        /// A change arrived while the round was in flight: run again right after it.
        var again = false
    }

    public private(set) var configuration: Configuration
    private var peers: [CityID: PeerState] = [:]
    private var random: SplitMix64

    public init(configuration: Configuration = Configuration(), seed: UInt64) {
        self.configuration = configuration
        random = SplitMix64(seed: seed)
    }

    /// New timing (a reloaded configuration). Healthy peers are rescheduled no later
    /// than `now + interval`, so a shorter interval takes effect at once.
    public mutating func reconfigure(_ c: Configuration, now: Int64) {
        configuration = c
        for (id, var p) in peers where p.failures == 0 && !p.inFlight {
            p.due = min(p.due, now + c.interval)
            peers[id] = p
        }
    }

    /// The peers to sync with; new ones are due at `now`, removed ones are forgotten
    /// (a round in flight for one finishes but is not rescheduled).
    public mutating func setPeers(_ ids: [CityID], now: Int64) {
        var next = [CityID: PeerState]()
        for id in ids { next[id] = peers[id] ?? PeerState(due: now) }
        peers = next
    }

    public var peerIDs: [CityID] { peers.keys.sorted() }

    /// New local entries: every peer not backing off is due now.
    public mutating func localChange(now: Int64) {
        for (id, var p) in peers where p.failures == 0 {
            if p.inFlight { p.again = true } else { p.due = min(p.due, now) }
            peers[id] = p
        }
    }

    /// Makes every peer due now, backing off or not (an operator asked for a round).
    public mutating func syncAll(now: Int64) {
        for (id, var p) in peers {
            if p.inFlight { p.again = true } else { p.due = now }
            peers[id] = p
        }
    }

    /// The peer just called us, so it is up: if it was backing off, retry it now
    /// rather than at the end of its backoff (two daemons started together each fail
    /// their first round, then find each other at once).
    public mutating func peerContacted(_ id: CityID, now: Int64) {
        guard var p = peers[id], p.failures > 0, !p.inFlight else { return }
        p.due = min(p.due, now)
        peers[id] = p
    }

    /// The rounds to start now, in peer order; each is marked in flight.
    public mutating func tick(now: Int64) -> [Action] {
        var actions = [Action]()
        for id in peers.keys.sorted() {
            guard var p = peers[id], !p.inFlight, p.due <= now else { continue }
            p.inFlight = true
            p.again = false
            peers[id] = p
            actions.append(.startRound(id))
        }
        return actions
    }

    /// A round ended. - Parameter success: the peer answered and the round completed.
    /// A report for a peer with no round in flight (removed and re-added meanwhile) is ignored.
    public mutating func roundFinished(_ id: CityID, success: Bool, now: Int64) {
        guard var p = peers[id], p.inFlight else { return }
        p.inFlight = false
        if success {
            p.failures = 0
            p.due = p.again ? now : now + jittered(configuration.interval)
        } else {
            p.failures += 1
            p.due = now + jittered(backoff(failures: p.failures))
        }
        p.again = false
        peers[id] = p
    }

    /// The un-jittered delay after `failures` failures in a row.
    public func backoff(failures: Int) -> Int64 {
        let shift = min(max(0, failures - 1), 30)
        let (d, overflow) = configuration.backoffBase.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? configuration.backoffCap : min(d, configuration.backoffCap)
    }

    /// When the next round is due (ms), `nil` if no peer is waiting.
    public var nextDue: Int64? {
        peers.values.filter { !$0.inFlight }.map(\.due).min()
    }

    /// Failures in a row for a peer (0 when healthy).
    public func failures(of id: CityID) -> Int { peers[id]?.failures ?? 0 }
    public func due(of id: CityID) -> Int64? { peers[id]?.due }
    public func isInFlight(_ id: CityID) -> Bool { peers[id]?.inFlight ?? false }

    private mutating func jittered(_ d: Int64) -> Int64 {
        guard configuration.jitter > 0 else { return d }
        let spread = Double(d) * configuration.jitter
        let u = Double(random.next() >> 11) / Double(1 << 53)  // [0, 1)
        return max(1, d + Int64((u * 2 - 1) * spread))
    }
}

/// A small, fast, seedable generator (SplitMix64), so that schedules and
/// simulations replay exactly from a seed.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
