import C4CSRCore
import C4CSRCurl
import C4CSRNode
import C4CSRStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The anti-entropy service: runs rounds with each peer on the `SyncScheduler`'s
/// timing, notices entries added by other processes (the CLI) within `pollInterval`
/// and pushes them at once, and records each peer's status for `c4csr status`.
///
/// Rounds with different peers run concurrently; a peer that hangs holds only its
/// own round (bounded by the libcurl timeouts) and its own backoff.
public final class SyncService: Service, SyncServerObserver, Sendable {
    public let city: City
    public let book: PeerBook
    private let logger: Logger
    private let state: Mutex<State>
    /// Milliseconds since the epoch: injected so tests can drive time.
    private let now: @Sendable () -> Int64
    let notifier: SystemdNotifier
    public let metrics: DaemonMetrics
    /// Closed when shutdown begins: transfers in flight stop at once, no round starts.
    private let gate = TransferGate()
    /// Cuts the loop's sleep short when entries arrive, so that they are relayed at
    /// once rather than at the next poll.
    private let wakeup = Wakeup()

    struct State {
        var configuration: DaemonConfiguration
        var scheduler: SyncScheduler
        var transports: [CityID: (card: PeerCard, transport: HTTPPeerTransport)] = [:]
        var statuses: [CityID: PeerStatus] = [:]
        var lastChange: Int64 = -1
        var roundsCompleted = 0
        /// When the loop last read the store (ms since the epoch; 0: not yet).
        var lastAlive: Int64 = 0
        /// When each peer's last content round completed (§10): the first round with a peer
        /// after start is one, then one an hour.
        var lastContentRound: [CityID: Int64] = [:]
    }

    public init(
        city: City, book: PeerBook, configuration: DaemonConfiguration, logger: Logger, notifier: SystemdNotifier = SystemdNotifier(),
        metrics: DaemonMetrics = DaemonMetrics(), now: @escaping @Sendable () -> Int64 = City.systemClock
    ) {
        self.city = city
        self.book = book
        self.logger = logger
        self.now = now
        self.notifier = notifier
        self.metrics = metrics
        let scheduler = SyncScheduler(
            configuration: Self.timing(configuration),
            seed: UInt64(truncatingIfNeeded: now()) ^ UInt64(truncatingIfNeeded: city.id.rawValue.hashValue))
        var statuses = [CityID: PeerStatus]()
        for s in (try? city.store.peerStatuses()) ?? [] { statuses[s.city] = s }
        state = Mutex(State(configuration: configuration, scheduler: scheduler, statuses: statuses))
    }

    static func timing(_ c: DaemonConfiguration) -> SyncScheduler.Configuration {
        SyncScheduler.Configuration(interval: c.intervalMS, jitter: c.jitter, backoffBase: c.backoffBaseMS, backoffCap: c.backoffCapMS)
    }

    /// The configuration in force (changed by `reconfigure`).
    public var configuration: DaemonConfiguration { state.withLock { $0.configuration } }

    public func run() async throws {
        applyPeers(book.snapshot)
        state.withLock { $0.lastChange = -1 }
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let t = now()
                // Proof of life for the watchdog: this loop ran and could read the store.
                if let counter = try? await Blocking.run({ [city] in try city.store.changeCounter() }) {
                    notifier.watchdogIfDue(now: t)
                    let changed = state.withLock { s -> Bool in
                        s.lastAlive = t
                        guard counter != s.lastChange else { return false }
                        if s.lastChange >= 0 { s.scheduler.localChange(now: t) }
                        s.lastChange = counter
                        return true
                    }
                    if changed, let heads = try? await Blocking.run({ [city] in try city.localHeads() }) {
                        metrics.observe(heads)
                        if heads.forks > 0, let forks = try? await Blocking.run({ [city] in try city.store.forks() }) {
                            metrics.observe(forks: forks)
                        }
                        if let erasures = try? await Blocking.run({ [city] in try city.store.erasures().map(\.erasure) }) {
                            metrics.observe(erasures: erasures, members: city.confirmingMembers)
                        }
                        updateStatus(entries: heads.entries)
                    }
                }
                // Once shutdown has begun, no new round (this service is stopped last).
                let closed = gate.isClosed
                let (actions, poll) = state.withLock { (closed ? [] : $0.scheduler.tick(now: t), $0.configuration.pollIntervalMS) }
                for case .startRound(let peer) in actions {
                    group.addTask { await self.round(with: peer) }
                }
                await wakeup.wait(milliseconds: poll)
            }
            logger.info("sync service stopping; waiting for rounds in flight")
        }
    }

    /// What `GET /healthz` answers: healthy while the loop reads the store and runs on
    /// time (within 30 s, or ten polls if longer).
    public func health() -> (healthy: Bool, body: JSONValue) {
        let t = now()
        let (alive, poll, peers, synced) = state.withLock { s -> (Int64, Int, Int, Int) in
            let peers = s.scheduler.peerIDs
            let synced = peers.filter { s.statuses[$0]?.inSync == true && s.statuses[$0]?.lastError == nil }.count
            return (s.lastAlive, s.configuration.pollIntervalMS, peers.count, synced)
        }
        let healthy = alive > 0 && t - alive <= max(30_000, 10 * Int64(poll))
        return (healthy, .object([
            "status": .string(healthy ? "ok" : "stalled"), "city": .string(city.id.rawValue),
            "peers": .int(Int64(peers)), "peers_in_sync": .int(Int64(synced)),
            "loop_age_ms": alive > 0 ? .int(t - alive) : .null,
        ]))
    }

    /// Re-reads peer cards (SIGHUP): new peers are synced with at once, removed ones dropped.
    public func reload() {
        let snapshot = book.reload(city)
        applyPeers(snapshot)
        logger.notice("peer cards reloaded", metadata: ["c4csr.peers": "\(snapshot.syncPeers.map(\.city.rawValue).joined(separator: ","))"])
    }

    /// Applies a reloaded configuration: timing, timeouts and page sizes at once (new
    /// transports are built for new timeouts); the peer set through the peer book.
    public func reconfigure(_ c: DaemonConfiguration) {
        let t = now()
        state.withLock { s in
            let timeoutsChanged = s.configuration.connectTimeoutMS != c.connectTimeoutMS || s.configuration.requestTimeoutMS != c.requestTimeoutMS
            s.configuration = c
            s.scheduler.reconfigure(Self.timing(c), now: t)
            if timeoutsChanged { s.transports = [:] }
        }
        book.restrict(to: c.only)
        reload()
    }

    /// `STATUS=` for systemctl status: "in sync with 8 of 9 peers, 1,204 entries".
    private func updateStatus(entries: Int64? = nil) {
        let (synced, total, known) = state.withLock { s -> (Int, Int, Int64?) in
            let peers = s.scheduler.peerIDs
            let synced = peers.filter { s.statuses[$0]?.inSync == true && s.statuses[$0]?.lastError == nil }.count
            return (synced, peers.count, entries)
        }
        let count = known ?? ((try? city.store.count()).map(Int64.init) ?? 0)
        notifier.status("in sync with \(synced) of \(total) peers, \(Self.grouped(count)) entries")
    }

    static func grouped(_ n: Int64) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out
    }

    /// Makes every peer due now (an operator's `c4csr sync` while the daemon runs is
    /// the CLI's own round; this is for SIGUSR1 and tests).
    public func syncNow() {
        let t = now()
        state.withLock { $0.scheduler.syncAll(now: t) }
    }

    /// Shutdown has begun: start no round, and stop the transfers in flight (a page
    /// being merged still commits or rolls back whole).
    public func beginShutdown() {
        gate.close()
    }

    /// Whether a round with `peer` is running now.
    public func isInFlight(_ peer: CityID) -> Bool { state.withLock { $0.scheduler.isInFlight(peer) } }

    /// Rounds completed since start (for tests and the status line).
    public var roundsCompleted: Int { state.withLock { $0.roundsCompleted } }

    /// The in-memory status of every peer.
    public var statuses: [PeerStatus] { state.withLock { Array($0.statuses.values) }.sorted { $0.city < $1.city } }

    private func applyPeers(_ snapshot: PeerBook.Snapshot) {
        for w in snapshot.warnings { logger.warning("\(w)") }
        let t = now()
        metrics.register(peers: snapshot.syncPeers.map(\.city))
        state.withLock { s in
            s.scheduler.setPeers(snapshot.syncPeers.map(\.city), now: t)
            let cards = Dictionary(uniqueKeysWithValues: snapshot.syncPeers.map { ($0.city, $0) })
            s.transports = s.transports.filter { cards[$0.key] == $0.value.card }
        }
    }

    private func transport(for peer: CityID) throws -> HTTPPeerTransport {
        if let t = state.withLock({ $0.transports[peer]?.transport }) { return t }
        guard let card = book.snapshot.syncPeers.first(where: { $0.city == peer }) else {
            throw SyncRoundError("\(peer) is no longer a peer")
        }
        let c = configuration
        let t = try HTTPPeerTransport(
            card: card, city: city, connectTimeoutMS: c.connectTimeoutMS, requestTimeoutMS: c.requestTimeoutMS, gate: gate)
        state.withLock { $0.transports[peer] = (card, t) }
        return t
    }

    private func round(with peer: CityID) async {
        let started = now()
        var report: RoundReport
        do {
            let c = configuration
            var r = SyncRound(city: city, peer: peer, transport: try transport(for: peer))
            r.pageLimit = c.pageEntries
            r.pageBytes = c.pageBytes
            r.restorePeers = Set(book.snapshot.syncPeers.map(\.city))
            r.contentRound = state.withLock { s in s.lastContentRound[peer].map { started - $0 >= Self.contentRoundInterval } ?? true }
            report = await r.run()
            if r.contentRound, report.succeeded, report.contentError == nil {
                let at = now()
                state.withLock { $0.lastContentRound[peer] = at }
            }
        } catch {
            report = RoundReport(peer: peer)
            report.fail(error)
        }
        let finished = now()
        let endpoint = book.snapshot.syncPeers.first { $0.city == peer }?.endpoint ?? ""
        let (status, failures) = state.withLock { s -> (PeerStatus, Int) in
            s.scheduler.roundFinished(peer, success: report.succeeded, now: finished)
            var status = s.statuses[peer] ?? PeerStatus(city: peer, endpoint: endpoint)
            status.endpoint = endpoint
            status.apply(report, started: started, finished: finished)
            s.statuses[peer] = status
            s.roundsCompleted += 1
            return (status, s.scheduler.failures(of: peer))
        }
        // The log line first: whoever sees the round in the store or `status` finds it logged.
        log(report, failures: failures, milliseconds: finished - started)
        try? await Blocking.run { [city] in try city.store.savePeerStatus(status) }
        if report.received > 0 { entriesArrived() }
        metrics.observe(report, failuresInRow: failures, duration: .milliseconds(finished - started), finishedAtMS: finished)
        updateStatus()
    }

    /// How often a round with a peer also looks for every content this node lacks (ms).
    static let contentRoundInterval: Int64 = 3_600_000

    private func log(_ report: RoundReport, failures: Int, milliseconds: Int64) {
        if report.confirmedRestore {
            logger.notice("restore confirmed: every peer holds no newer entry of this city; signing resumes", metadata: ["c4csr.peer": "\(report.peer)"])
        }
        var meta: Logger.Metadata = [
            "c4csr.peer": "\(report.peer)", "c4csr.ms": "\(milliseconds)", "c4csr.requests": "\(report.requests)",
        ]
        if let error = report.error {
            meta["c4csr.error"] = "\(error)"
            meta["c4csr.failures"] = "\(failures)"
            let level: Logger.Level = failures <= 1 ? .warning : .info
            logger.log(level: level, "sync round failed", metadata: meta)
            return
        }
        for r in report.refusedFromPeer.prefix(5) {
            logger.warning("refused an entry from peer", metadata: ["c4csr.peer": "\(report.peer)", "c4csr.reason": "\(r)"])
        }
        if let error = report.contentError {
            logger.warning("content exchange with peer stopped", metadata: ["c4csr.peer": "\(report.peer)", "c4csr.error": "\(error)"])
        }
        meta["c4csr.received"] = "\(report.received)"
        meta["c4csr.sent"] = "\(report.sent)"
        meta["c4csr.in_sync"] = "\(report.inSync)"
        if report.contentReceived > 0 || report.contentSent > 0 {
            meta["c4csr.content_received"] = "\(report.contentReceived)"
            meta["c4csr.content_sent"] = "\(report.contentSent)"
        }
        if report.received > 0 || report.sent > 0 || report.contentReceived > 0 || report.contentSent > 0 {
            logger.info("synced", metadata: meta)
        } else {
            logger.debug("round with nothing new", metadata: meta)
        }
    }

    /// New entries from a peer: offer them to every other peer now (relay).
    private func entriesArrived() {
        let t = now()
        state.withLock { $0.scheduler.localChange(now: t) }
        wakeup.wake()
    }

    // MARK: SyncServerObserver

    public func contacted(by peer: CityID) {
        let t = now()
        state.withLock { $0.scheduler.peerContacted(peer, now: t) }
    }

    public func pushed(_ result: PushResult, from peer: CityID, offered: Int) {
        if result.inserted > 0 { entriesArrived() }
        guard !result.refused.isEmpty else { return }
        for r in result.refused { metrics.reject(peer: peer, reason: r.code) }
        let endpoint = book.snapshot.syncPeers.first { $0.city == peer }?.endpoint ?? ""
        let status = state.withLock { s -> PeerStatus in
            var status = s.statuses[peer] ?? PeerStatus(city: peer, endpoint: endpoint)
            status.refused += Int64(result.refused.count)
            status.lastRefusal = "\(result.refused[0].code): \(result.refused[0].message)"
            s.statuses[peer] = status
            return status
        }
        try? city.store.savePeerStatus(status)
    }
}

/// A sleep that `wake()` can cut short; a wake with nobody asleep is kept for the next wait.
final class Wakeup: Sendable {
    private struct State {
        var sleeper: CheckedContinuation<Void, Never>?
        var pending = false
        var generation = 0
    }
    private let state = Mutex(State())

    func wait(milliseconds: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { s -> Int? in
                if s.pending {
                    s.pending = false
                    return nil
                }
                s.sleeper = c
                s.generation += 1
                return s.generation
            }
            guard let generation else { return c.resume() }
            Task {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                self.resume(ifGeneration: generation)
            }
        }
    }

    func wake() {
        let sleeper = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let c = s.sleeper else {
                s.pending = true
                return nil
            }
            s.sleeper = nil
            return c
        }
        sleeper?.resume()
    }

    private func resume(ifGeneration g: Int) {
        let sleeper = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.generation == g, let c = s.sleeper else { return nil }
            s.sleeper = nil
            return c
        }
        sleeper?.resume()
    }
}
