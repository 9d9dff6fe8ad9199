import ArgumentParser
import C4CSRCore
import C4CSRCurl
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

            Example:
              c4csr status
              c4csr status --probe --json
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Ask each peer for its heads now (one small request each) instead of showing the last recorded rounds.")
    var probe = false
    @OptionGroup var network: NetworkOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await Console.run {
            let city = try global.openCity(warnings: !output.json)
            let local = try city.localHeads()
            let cards = try network.cards(of: city)
            var rows = [PeerStatus]()
            if probe {
                let network = self.network
                rows = await Network.each(cards) { card in
                    var s = PeerStatus(city: card.city, endpoint: card.endpoint ?? "")
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
                    } catch {
                        s.lastError = "\(error)"
                        s.failures = 1
                    }
                    return s
                }
            } else {
                let recorded = Dictionary(uniqueKeysWithValues: try city.store.peerStatuses().map { ($0.city, $0) })
                rows = cards.map { recorded[$0.city] ?? PeerStatus(city: $0.city, endpoint: $0.endpoint ?? "") }
            }
            let daemon = Network.daemon(city)
            // Cities that signed two entries at one seq (evidence kept; bounded per city).
            let equivocations = local.forks > 0
                ? Dictionary(grouping: try city.store.forks(), by: \.origin).mapValues { Array(Set($0.map(\.seq))).sorted() } : [:]
            if output.json {
                Console.json(.object([
                    "equivocations": .object(Dictionary(uniqueKeysWithValues: equivocations.map { ($0.key.rawValue, JSONValue.array($0.value.map { .int($0) })) })),
                    "city": .string(city.id.rawValue), "entries": .int(local.entries), "digest": .string(local.digest),
                    "daemon": daemon.map { .object(["pid": .int(Int64($0.pid)), "port": .int(Int64($0.port))]) } ?? .null,
                    "peers": .array(rows.map(Self.json)),
                ]))
            } else {
                let running = daemon.map { "daemon running (pid \($0.pid), port \($0.port))" } ?? "daemon not running"
                Console.out("\(city.id): \(Format.count(Int(local.entries))) entries, network digest \(local.digest.prefix(16)); \(running)")
                if rows.isEmpty { Console.out("no peers with an endpoint; add cards with `c4csr peers add`") }
                let synced = rows.filter { $0.inSync && $0.lastError == nil }.count
                if !rows.isEmpty { Console.out("in sync with \(synced) of \(rows.count) peers\(probe ? " (probed now)" : "")") }
                for s in rows { Console.out(Self.line(s)) }
                for (origin, seqs) in equivocations.sorted(by: { $0.key < $1.key }) {
                    Console.out("equivocation: \(origin) signed two entries at seq \(seqs.map(String.init).joined(separator: ", ")); the evidence is kept and shown by `c4csr audit`")
                }
            }
            if probe, rows.contains(where: { $0.lastError != nil }) { throw Exit.unreachable }
        }
    }

    static func line(_ s: PeerStatus) -> String {
        let name = Format.pad(s.city.rawValue, 18)
        guard let attempt = s.lastAttempt else { return "\(name) never synced" }
        var line = name + " "
        if let e = s.lastError {
            line += "UNREACHABLE (\(s.failures) failure\(s.failures == 1 ? "" : "s")); last success "
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
        if let d = s.remoteDigest { o["remote_digest"] = .string(d) }
        if let r = s.lastRefusal { o["last_refusal"] = .string(r) }
        return .object(o)
    }
}
