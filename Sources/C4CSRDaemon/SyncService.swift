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
    public let configuration: DaemonConfiguration
    private let logger: Logger
    private let state: Mutex<State>
    /// Milliseconds since the epoch: injected so tests can drive time.
    private let now: @Sendable () -> Int64

    struct State {
        var scheduler: SyncScheduler
        var transports: [CityID: (card: PeerCard, transport: HTTPPeerTransport)] = [:]
        var statuses: [CityID: PeerStatus] = [:]
        var lastChange: Int64 = -1
        var roundsCompleted = 0
    }

    public init(city: City, book: PeerBook, configuration: DaemonConfiguration, logger: Logger, now: @escaping @Sendable () -> Int64 = City.systemClock) {
        self.city = city
        self.book = book
        self.configuration = configuration
        self.logger = logger
        self.now = now
        let scheduler = SyncScheduler(
            configuration: SyncScheduler.Configuration(
                interval: configuration.intervalMS, jitter: configuration.jitter, backoffBase: configuration.backoffBaseMS,
                backoffCap: configuration.backoffCapMS),
            seed: UInt64(truncatingIfNeeded: now()) ^ UInt64(truncatingIfNeeded: city.id.rawValue.hashValue))
        var statuses = [CityID: PeerStatus]()
        for s in (try? city.store.peerStatuses()) ?? [] { statuses[s.city] = s }
        state = Mutex(State(scheduler: scheduler, statuses: statuses))
    }

    public func run() async throws {
        applyPeers(book.snapshot)
        state.withLock { $0.lastChange = (try? city.store.changeCounter()) ?? 0 }
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let t = now()
                if let counter = try? await Blocking.run({ [city] in try city.store.changeCounter() }) {
                    state.withLock {
                        if counter != $0.lastChange {
                            $0.lastChange = counter
                            $0.scheduler.localChange(now: t)
                        }
                    }
                }
                let actions = state.withLock { $0.scheduler.tick(now: t) }
                for case .startRound(let peer) in actions {
                    group.addTask { await self.round(with: peer) }
                }
                try? await Task.sleep(for: .milliseconds(configuration.pollIntervalMS))
            }
            logger.info("sync service stopping; waiting for rounds in flight")
        }
    }

    /// Re-reads peer cards (SIGHUP): new peers are synced with at once, removed ones dropped.
    public func reload() {
        let snapshot = book.reload(city)
        applyPeers(snapshot)
        logger.notice("peer cards reloaded", metadata: ["c4csr.peers": "\(snapshot.syncPeers.map(\.city.rawValue).joined(separator: ","))"])
    }

    /// Makes every peer due now (an operator's `c4csr sync` while the daemon runs is
    /// the CLI's own round; this is for SIGUSR1 and tests).
    public func syncNow() {
        let t = now()
        state.withLock { $0.scheduler.syncAll(now: t) }
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
        let t = try HTTPPeerTransport(
            card: card, city: city, connectTimeoutMS: configuration.connectTimeoutMS, requestTimeoutMS: configuration.requestTimeoutMS)
        state.withLock { $0.transports[peer] = (card, t) }
        return t
    }

    private func round(with peer: CityID) async {
        let started = now()
        var report: RoundReport
        do {
            var r = SyncRound(city: city, peer: peer, transport: try transport(for: peer))
            r.pageLimit = configuration.pageEntries
            r.pageBytes = configuration.pageBytes
            report = await r.run()
        } catch {
            report = RoundReport(peer: peer)
            report.error = "\(error)"
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
        try? await Blocking.run { [city] in try city.store.savePeerStatus(status) }
        log(report, failures: failures, milliseconds: finished - started)
    }

    private func log(_ report: RoundReport, failures: Int, milliseconds: Int64) {
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
        meta["c4csr.received"] = "\(report.received)"
        meta["c4csr.sent"] = "\(report.sent)"
        meta["c4csr.in_sync"] = "\(report.inSync)"
        if report.received > 0 || report.sent > 0 {
            logger.info("synced", metadata: meta)
        } else {
            logger.debug("round with nothing new", metadata: meta)
        }
    }

    // MARK: SyncServerObserver

    public func contacted(by peer: CityID) {
        let t = now()
        state.withLock { $0.scheduler.peerContacted(peer, now: t) }
    }

    public func pushed(_ result: PushResult, from peer: CityID, offered: Int) {
        guard !result.refused.isEmpty else { return }
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
