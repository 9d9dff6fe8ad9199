import ArgumentParser
import C4CSRCore
import C4CSRCurl
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether this city is in sync with each peer.",
        discussion: """
            Per peer: whether its last round succeeded, when it last did, the last error
            as a sentence, how many entries each side lacked after the round, and whether
            the network digests agreed. These are what the daemon (or `c4csr sync`)
            recorded; --probe asks every peer for its heads now instead.

            The exit status is a monitoring check's (Nagios, Icinga, Zabbix):
              0  OK        the daemon runs and every peer is in sync
              1  WARNING   some peers are not in sync (behind, failing, never synced, or
                           no success within --max-age), no peer is configured, or a
                           member signed two entries at one seq and the evidence
                           arrived within --equivocation-window (older evidence is
                           listed, not a warning: it never goes away)
              2  CRITICAL  the daemon is not running, or no peer is in sync
              other        UNKNOWN: the status could not be read (the error's code)
            --check prints one line in the monitoring plugins' format instead.

            Example:
              c4csr status
              c4csr status --probe --json
              c4csr status --check --max-age 15m     # as a Nagios/Icinga check
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Ask each peer for its heads now (one small request each) instead of showing the last recorded rounds.")
    var probe = false
    @Flag(help: "Print one line for a monitoring system (\"C4CSR WARNING - …\" with performance data).")
    var check = false
    @Option(help: ArgumentHelp("A peer whose last success is older than this is not in sync (e.g. 15m, 2h). Default: 1h.", valueName: "duration"))
    var maxAge: String = "1h"
    @Option(help: ArgumentHelp("An equivocation whose evidence arrived within this is a warning; older ones are listed only (e.g. 1d, 30d). Default: 7d.", valueName: "duration"))
    var equivocationWindow: String = "7d"
    @Flag(help: "This city syncs with `c4csr sync` (cron), not a daemon: its absence is not critical.")
    var withoutDaemon = false
    @OptionGroup var network: NetworkOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard let ms = parseDuration(maxAge), ms > 0 else {
            throw ValidationError("--max-age must be a duration such as 15m, 2h or 90s (got \"\(maxAge)\")")
        }
        guard let window = parseDuration(equivocationWindow), window > 0 else {
            throw ValidationError("--equivocation-window must be a duration such as 1d, 7d or 12h (got \"\(equivocationWindow)\")")
        }
    }

    func run() async throws {
        try await Console.run {
            let city = try global.openCity(warnings: !output.json && !check)
            let recorded = Dictionary(uniqueKeysWithValues: try city.store.peerStatuses().map { ($0.city, $0) })
            let local = try city.localHeads()
            let cards = try network.cards(of: city)
            var rows = [PeerStatus]()
            if probe {
                let network = self.network
                rows = await Network.each(cards) { card in
                    // From the recorded status, so that a failed probe still shows the
                    // daemon's last success rather than "never".
                    var s = recorded[card.city] ?? PeerStatus(city: card.city, endpoint: card.endpoint ?? "")
                    let t = City.systemClock()
                    s.lastAttempt = t
                    do {
                        let remote = try await network.transport(card, city).heads()
                        let c = HeadsComparison(local: local, remote: remote)
                        s.lastSuccess = t
                        s.remoteDigest = remote.digest
                        s.remoteEntries = remote.entries
                        s.weLack = c.weLack
                        s.theyLack = c.theyLack
                        s.inSync = c.digestsAgree
                        s.lastError = nil
                        s.lastErrorKind = nil
                        s.failures = 0
                    } catch {
                        var report = RoundReport(peer: card.city)
                        report.fail(error)
                        s.lastError = report.error
                        s.lastErrorKind = report.errorKind
                        s.failures += 1
                        s.inSync = false
                    }
                    return s
                }
            } else {
                rows = cards.map { recorded[$0.city] ?? PeerStatus(city: $0.city, endpoint: $0.endpoint ?? "") }
            }
            let daemon = Network.daemon(city)
            // Cities that signed two entries at one seq (evidence kept; bounded per city).
            let evidence = local.forks > 0 ? try city.store.equivocations() : [:]
            let equivocations = evidence.mapValues(\.seqs)
            let now = City.systemClock()
            let news = evidence.filter { now - $0.value.lastReceived <= parseDuration(equivocationWindow) ?? 7 * 86_400_000 }
            let restored = try city.store.restoreMark()
            // Erasures of personal data (§14) and which member cities have confirmed each.
            let erasures = try Render.erasures(of: city)
            let verdict = StatusVerdict(
                rows: rows, daemonRunning: daemon != nil || withoutDaemon, equivocations: news.count,
                now: now, maxAgeMS: parseDuration(maxAge) ?? 3_600_000, restored: restored != nil)
            if check {
                Console.out("C4CSR \(verdict.health.label) - \(verdict.summary) | entries=\(local.entries) peers=\(rows.count) peers_in_sync=\(verdict.inSync)")
            } else if output.json {
                Console.json(.object([
                    "health": .string(verdict.health.label.lowercased()), "problems": .array(verdict.problems.map { .string($0) }),
                    "equivocations": .object(Dictionary(uniqueKeysWithValues: equivocations.map { ($0.key.rawValue, JSONValue.array($0.value.map { .int($0) })) })),
                    "equivocations_received_ms": .object(Dictionary(uniqueKeysWithValues: evidence.map { ($0.key.rawValue, JSONValue.int($0.value.lastReceived)) })),
                    "city": .string(city.id.rawValue), "entries": .int(local.entries), "digest": .string(local.digest),
                    "daemon": daemon.map { .object(["pid": .int(Int64($0.pid)), "port": .int(Int64($0.port))]) } ?? .null,
                    "peers": .array(rows.map(Self.json)),
                    "restored": restored.map { .object(["restored_at_ms": .int($0.restoredAt), "source": .string($0.source), "own_top": .int($0.ownTop)]) } ?? .null,
                    "erasures": .array(erasures.map(Render.erasureJSON)),
                    "network": city.charter.map(Render.charterJSON) ?? .null,
                ]))
            } else {
                let running = daemon.map { "daemon running (pid \($0.pid), port \($0.port))" } ?? "daemon not running"
                Console.out("\(city.id): \(Format.plural(Int(local.entries), "entry", "entries")), network digest \(local.digest.prefix(16)); \(running)")
                Console.out(Render.charterLine(city.charter))
                if rows.isEmpty { Console.out("no peers with an endpoint; add cards with `c4csr peers add`") }
                let synced = rows.filter { $0.inSync && $0.lastError == nil }.count
                if !rows.isEmpty { Console.out("in sync with \(synced) of \(rows.count) peers\(probe ? " (probed now)" : "")") }
                for s in rows { Console.out(Self.line(s)) }
                for (origin, e) in evidence.sorted(by: { $0.key < $1.key }) {
                    let age = news[origin] == nil ? ", older than --equivocation-window \(equivocationWindow): not a warning" : ""
                    Console.out("equivocation: \(origin) signed two entries at seq \(e.seqs.map(String.init).joined(separator: ", ")) (evidence received \(Format.time(e.lastReceived))\(age)); the evidence is kept and shown by `c4csr audit`")
                }
                for item in erasures { Console.out(Render.erasureLine(item)) }
                if let restored {
                    Console.out("restored from \(restored.source) on \(Format.time(restored.restoredAt)): signs nothing until a round with every peer shows that none holds a newer entry of \(city.id) (or `c4csr restore --confirm-latest`)")
                }
                Console.out("\(verdict.health.label): \(verdict.summary)")
            }
            if verdict.health != .ok { throw ExitCode(verdict.health.rawValue) }
        }
    }

    static func line(_ s: PeerStatus) -> String {
        let name = Format.pad(s.city.rawValue, 18)
        guard let attempt = s.lastAttempt else { return "\(name) never synced" }
        var line = name + " "
        if let e = s.lastError {
            line += "\(failureLabel(s.lastErrorKind)) (\(s.failures) failure\(s.failures == 1 ? "" : "s")); last success "
            line += s.lastSuccess.map(Format.time) ?? "never"
            line += "\n" + String(repeating: " ", count: 19) + "last error: \(e)"
        } else {
            line += s.inSync ? "in sync" : "behind: we lack \(s.weLack.map(String.init) ?? "?"), they lack \(s.theyLack.map(String.init) ?? "?")"
            line += "; last success \(Format.time(s.lastSuccess ?? attempt))"
            if let d = s.remoteDigest { line += "; digest \(d.prefix(16))" }
        }
        if s.refused > 0 {
            line += "\n" + String(repeating: " ", count: 19) + "refused \(s.refused) entr\(s.refused == 1 ? "y" : "ies") from it; last: \(s.lastRefusal ?? "")"
        }
        return line
    }

    /// What a failure is, in capitals: a wrong key is not a dead host.
    static func failureLabel(_ kind: String?) -> String {
        switch kind {
        case "pin_mismatch": "WRONG TLS KEY (not the pin on its card)"
        case "tls": "TLS HANDSHAKE FAILED"
        case "http": "REFUSED"
        case "protocol": "PROTOCOL ERROR"
        case "oversized": "ANSWER TOO LARGE"
        default: "UNREACHABLE"
        }
    }

    static func json(_ s: PeerStatus) -> JSONValue {
        var o: [String: JSONValue] = [
            "city": .string(s.city.rawValue), "endpoint": .string(s.endpoint), "reachable": .bool(s.lastAttempt != nil && s.lastError == nil),
            "in_sync": .bool(s.inSync), "failures": .int(Int64(s.failures)), "received": .int(s.received), "sent": .int(s.sent),
            "refused": .int(s.refused),
        ]
        func opt(_ k: String, _ v: Int64?) { if let v { o[k] = .int(v) } }
        opt("last_attempt_ms", s.lastAttempt)
        opt("last_success_ms", s.lastSuccess)
        opt("we_lack", s.weLack)
        opt("they_lack", s.theyLack)
        opt("remote_entries", s.remoteEntries)
        if let e = s.lastError { o["last_error"] = .string(e) }
        if let k = s.lastErrorKind { o["last_error_kind"] = .string(k) }
        if let d = s.remoteDigest { o["remote_digest"] = .string(d) }
        if let r = s.lastRefusal { o["last_refusal"] = .string(r) }
        return .object(o)
    }
}

/// The monitoring verdict of `c4csr status` (its exit status), from the peers' rows.
struct StatusVerdict {
    enum Health: Int32 {
        case ok = 0, warning = 1, critical = 2
        var label: String {
            switch self {
            case .ok: "OK"
            case .warning: "WARNING"
            case .critical: "CRITICAL"
            }
        }
    }

    let health: Health
    /// Peers in sync (digests agreed, no error, a success within the age limit).
    let inSync: Int
    let problems: [String]
    let summary: String

    init(rows: [PeerStatus], daemonRunning: Bool, equivocations: Int, now: Int64, maxAgeMS: Int64, restored: Bool = false) {
        var problems = [String]()
        var health = Health.ok
        func raise(_ h: Health, _ why: String) {
            if h.rawValue > health.rawValue { health = h }
            problems.append(why)
        }
        if !daemonRunning { raise(.critical, "the daemon is not running") }
        let fresh = rows.filter { s in
            s.inSync && s.lastError == nil && (s.lastSuccess.map { now - $0 <= maxAgeMS } ?? false)
        }
        inSync = fresh.count
        if rows.isEmpty {
            raise(.warning, "no peer to sync with")
        } else if fresh.isEmpty {
            raise(.critical, "in sync with none of \(rows.count) peer\(rows.count == 1 ? "" : "s")")
        } else if fresh.count < rows.count {
            let names = Set(fresh.map(\.city))
            raise(.warning, "not in sync with \(rows.filter { !names.contains($0.city) }.map(\.city.rawValue).joined(separator: ", "))")
        }
        if equivocations > 0 { raise(.warning, "\(equivocations) cit\(equivocations == 1 ? "y" : "ies") signed two entries at one seq") }
        if restored { raise(.warning, "restored from a backup; signs nothing until caught up") }
        self.health = health
        self.problems = problems
        summary = problems.isEmpty ? "in sync with \(rows.count) of \(rows.count) peers" : problems.joined(separator: "; ")
    }
}
