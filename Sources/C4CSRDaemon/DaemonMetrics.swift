import C4CSRCore
import C4CSRNode
import Foundation
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics (docs/OPERATIONS.md lists each with its meaning).
/// Served as text at `GET /metrics` on the metrics listener.
public final class DaemonMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let entries: Gauge
    private let byOrigin = Mutex<[CityID: Gauge]>([:])
    private let equivocations = Mutex<[CityID: Gauge]>([:])
    private let perPeer = Mutex<[CityID: PeerMetrics]>([:])
    private let rejected = Mutex<[String: Counter]>([:])
    private let erasures: Gauge
    private let unconfirmed = Mutex<[CityID: Gauge]>([:])

    struct PeerMetrics: Sendable {
        let ok: Counter
        let failed: Counter
        let lastSuccess: Gauge
        let failuresInRow: Gauge
        let weLack: Gauge
        let theyLack: Gauge
        let inSync: Gauge
        let received: Counter
        let sent: Counter
        let duration: DurationHistogram
    }

    private let listeners = Mutex<[(name: String, limiter: ConnectionLimiter)]>([])
    private let startTime = Date().timeIntervalSince1970

    public init() {
        entries = registry.makeGauge(descriptor: d("c4csr_entries", "Entries in this city's network log."))
        erasures = registry.makeGauge(descriptor: d("c4csr_erasures", "Valid erasures of personal data in the log (PROTOCOL.md §14)."))
        registry.makeGauge(
            descriptor: d("c4csr_build_info", "Always 1; the labels name this build's version and sync protocol."),
            labels: [("version", C4CSRVersion.string), ("protocol", SyncAPI.version)]
        ).set(1.0)
    }

    /// Makes every series of these peers (rounds, lags, rejections by each reason code)
    /// present from zero, so that a rate or an alert works before the first event.
    public func register(peers: [CityID]) {
        for p in peers {
            _ = peer(p)
            for reason in EntryError.codeNames + MergeRejection.codes { _ = rejectedCounter(peer: p, reason: reason) }
        }
    }

    /// Reports a listener's open and refused connections (`name`: "sync" or "metrics").
    public func watch(listener name: String, _ limiter: ConnectionLimiter) {
        listeners.withLock { $0.append((name, limiter)) }
    }

    /// After any change: the count, and per origin its highest seq.
    public func observe(_ heads: PeerHeads) {
        entries.set(Double(heads.entries))
        for (origin, seq) in heads.vector.components {
            gauge(origin, in: byOrigin, "c4csr_origin_entries", "Entries of each origin city held: the highest seq of its chain.")
                .set(Double(seq))
        }
    }

    /// Equivocation per city: how many of its positions hold two entries (evidence kept).
    public func observe(forks: [Head]) {
        for (origin, heads) in Dictionary(grouping: forks, by: \.origin) {
            gauge(origin, in: equivocations, "c4csr_equivocated_positions",
                  "Positions (seqs) at which each city signed two entries: evidence of equivocation.")
                .set(Double(Set(heads.map(\.seq)).count))
        }
    }

    /// Erasures (§14): how many, and per member city how many it has not confirmed yet
    /// (0 for every city: every erasure is carried out everywhere).
    public func observe(erasures list: [PracticeRecord.Erasure], members: Set<CityID>) {
        erasures.set(Double(list.count))
        for city in members.sorted() {
            let pending = list.filter { !$0.confirmedBy.contains(city) }.count
            unconfirmed.withLock { gauges in
                if let g = gauges[city] { return g }
                let g = registry.makeGauge(
                    descriptor: d("c4csr_erasures_unconfirmed", "Erasures each member city has not confirmed (its ack not held here)."),
                    labels: [("city", city.rawValue)])
                gauges[city] = g
                return g
            }.set(Double(pending))
        }
    }

    /// The gauge of one origin in a family labelled by `origin`, made on first use.
    private func gauge(_ origin: CityID, in family: borrowing Mutex<[CityID: Gauge]>, _ name: String, _ help: String) -> Gauge {
        family.withLock { gauges in
            if let g = gauges[origin] { return g }
            let g = registry.makeGauge(descriptor: d(name, help), labels: [("origin", origin.rawValue)])
            gauges[origin] = g
            return g
        }
    }

    /// After each round with a peer.
    public func observe(_ report: RoundReport, failuresInRow: Int, duration: Duration, finishedAtMS: Int64) {
        let m = peer(report.peer)
        m.duration.record(duration)
        m.failuresInRow.set(Double(failuresInRow))
        if report.succeeded {
            m.ok.increment()
            m.lastSuccess.set(Double(finishedAtMS) / 1000)
        } else {
            m.failed.increment()
        }
        if let c = report.comparison {
            m.weLack.set(Double(c.weLack))
            m.theyLack.set(Double(c.theyLack))
            m.inSync.set(c.digestsAgree ? 1.0 : 0.0)
        }
        if report.received > 0 { m.received.increment(by: Int64(report.received)) }
        if report.sent > 0 { m.sent.increment(by: Int64(report.sent)) }
        for (code, n) in report.refusedFromPeerByCode { rejectedCounter(peer: report.peer, reason: code).increment(by: Int64(n)) }
    }

    /// An entry from `peer` was not stored; `reason` is its stable code.
    public func reject(peer: CityID, reason: String) {
        rejectedCounter(peer: peer, reason: reason).increment()
    }

    private func rejectedCounter(peer: CityID, reason: String) -> Counter {
        let key = "\(peer)|\(reason)"
        return rejected.withLock { counters in
            if let c = counters[key] { return c }
            let c = registry.makeCounter(
                descriptor: d("c4csr_rejected_entries_total", "Entries from peers not stored, by peer and reason code."),
                labels: [("peer", peer.rawValue), ("reason", reason)])
            counters[key] = c
            return c
        }
    }

    private func peer(_ id: CityID) -> PeerMetrics {
        perPeer.withLock { all in
            if let m = all[id] { return m }
            let l = [("peer", id.rawValue)]
            let m = PeerMetrics(
                ok: registry.makeCounter(descriptor: d("c4csr_sync_rounds_total", "Sync rounds with each peer, by result."), labels: l + [("result", "ok")]),
                failed: registry.makeCounter(descriptor: d("c4csr_sync_rounds_total", "Sync rounds with each peer, by result."), labels: l + [("result", "error")]),
                lastSuccess: registry.makeGauge(descriptor: d("c4csr_sync_last_success_timestamp_seconds", "Unix time of the last successful round with each peer."), labels: l),
                failuresInRow: registry.makeGauge(descriptor: d("c4csr_sync_consecutive_failures", "Failed rounds in a row with each peer (0 when healthy)."), labels: l),
                weLack: registry.makeGauge(descriptor: d("c4csr_peer_entries_we_lack", "Entries the peer held that this city lacked, after the last round."), labels: l),
                theyLack: registry.makeGauge(descriptor: d("c4csr_peer_entries_they_lack", "Entries this city held that the peer lacked, after the last round."), labels: l),
                inSync: registry.makeGauge(descriptor: d("c4csr_peer_in_sync", "1 if the last round ended with equal network digests."), labels: l),
                received: registry.makeCounter(descriptor: d("c4csr_entries_received_total", "Entries merged from each peer by our rounds."), labels: l),
                sent: registry.makeCounter(descriptor: d("c4csr_entries_sent_total", "Entries each peer merged from our rounds."), labels: l),
                duration: registry.makeDurationHistogram(
                    descriptor: d("c4csr_sync_round_duration_seconds", "Duration of sync rounds with each peer."), labels: l,
                    buckets: [.milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10), .seconds(60)]))
            all[id] = m
            return m
        }
    }

    /// The exposition text: the registry, then the listeners' connection counts and the
    /// process's own figures, read at each scrape.
    public func text() -> String {
        var out = registry.emitToString()
        let watched = listeners.withLock { $0 }
        if !watched.isEmpty {
            out += "# HELP c4csr_connections_open Connections open now on each listener.\n# TYPE c4csr_connections_open gauge\n"
            for l in watched { out += "c4csr_connections_open{listener=\"\(l.name)\"} \(l.limiter.open)\n" }
            out += "# HELP c4csr_connections_refused_total Connections closed at once because a connection cap was reached.\n"
            out += "# TYPE c4csr_connections_refused_total counter\n"
            for l in watched { out += "c4csr_connections_refused_total{listener=\"\(l.name)\"} \(l.limiter.refused)\n" }
        }
        out += ProcessFigures.read(startTime: startTime).exposition
        return out
    }
}

/// The process's resident memory, CPU time, descriptors and start time, in the names
/// Prometheus' client libraries use (`process_*`). Read from /proc/self, which the
/// unit's `ProcSubset=pid` keeps visible.
struct ProcessFigures {
    var residentBytes: Double?
    var cpuSeconds: Double?
    var openFDs: Int?
    var maxFDs: Double?
    var startTime: Double

    static func read(startTime: Double) -> ProcessFigures {
        var f = ProcessFigures(startTime: startTime)
        let page = Double(sysconf(Int32(_SC_PAGESIZE))), ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = Double(fields[1]) { f.residentBytes = pages * page }
        }
        // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces,
        // so count from the closing parenthesis.
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            let rest = stat[stat.index(after: close)...].split(separator: " ")
            if rest.count > 12, let u = Double(rest[11]), let s = Double(rest[12]), ticks > 0 { f.cpuSeconds = (u + s) / ticks }
        }
        f.openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { max(0, $0.count - 1) }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { f.maxFDs = Double(limit.rlim_cur) }
        return f
    }

    var exposition: String {
        var out = ""
        func put(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        put("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", residentBytes)
        put("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.", cpuSeconds)
        put("process_open_fds", "gauge", "Open file descriptors.", openFDs.map(Double.init))
        put("process_max_fds", "gauge", "The limit of open file descriptors.", maxFDs)
        put("process_start_time_seconds", "gauge", "Unix time the daemon started, in seconds.", startTime)
        return out
    }
}

private func d(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
