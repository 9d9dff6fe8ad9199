import ArgumentParser
import C4CSRCore
import C4CSRCurl
import C4CSRNode
import Foundation
import Synchronization

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Run one sync round with each peer now.",
        discussion: """
            Does what the daemon does every interval, once, from this process: with each
            peer (all at once), exchange heads, pull what this city lacks and push what
            the peer lacks, then print what moved and whether the digests agree. Works
            whether the daemon runs or not. A large catch-up shows its progress on a
            terminal. Exits 69 if a peer could not be reached.

            Example:
              c4csr sync --peer milano
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await Console.run {
            let city = try global.openCityToReceive(warnings: !output.json)
            let cards = try network.cards(of: city)
            if cards.isEmpty {
                throw NodeError.notFound("no peer card has an endpoint and tls_pin; add peers with `c4csr peers add CARD`")
            }
            // This city's own key is wrong for every peer alike: one error, before any round.
            try TLSIdentity.checkPrivateKey(city.directory.tlsKeyFile)
            let progress = ProgressLine(enabled: Console.stderrIsTerminal && !output.json)
            let network = self.network
            let results = await Network.each(cards) { card -> (PeerCard, RoundReport, Int64, HTTPPeerTransport.Traffic) in
                let started = City.systemClock()
                var report: RoundReport
                var traffic = HTTPPeerTransport.Traffic()
                do {
                    let transport = try network.transport(card, city)
                    var round = SyncRound(city: city, peer: card.city, transport: transport)
                    round.contentRound = true  // one round on demand: also fetch any content missing
                    report = await round.run { p in progress.update(p) }
                    traffic = transport.traffic
                } catch {
                    report = RoundReport(peer: card.city)
                    report.fail(error)
                }
                let finished = City.systemClock()
                Network.record(report, card: card, city: city, started: started, finished: finished)
                return (card, report, finished - started, traffic)
            }
            progress.clear()
            let summary = try city.localHeads()
            if output.json {
                Console.json(.object([
                    "city": .string(city.id.rawValue), "digest": .string(summary.digest), "entries": .int(summary.entries),
                    "peers": .array(results.map { card, r, ms, traffic in
                        var o: [String: JSONValue] = [
                            "city": .string(card.city.rawValue), "ok": .bool(r.succeeded), "received": .int(Int64(r.received)),
                            "sent": .int(Int64(r.sent)), "in_sync": .bool(r.inSync), "ms": .int(ms), "requests": .int(Int64(traffic.requests)),
                            "bytes_sent": .int(Int64(traffic.bytesSent)), "bytes_received": .int(Int64(traffic.bytesReceived)),
                        ]
                        if let e = r.error { o["error"] = .string(e) }
                        o["content_received"] = .int(Int64(r.contentReceived))
                        o["content_sent"] = .int(Int64(r.contentSent))
                        if let e = r.contentError { o["content_error"] = .string(e) }
                        if let c = r.comparison { o["we_lack"] = .int(c.weLack); o["they_lack"] = .int(c.theyLack) }
                        if r.refusedFromPeerCount > 0 {
                            o["refused"] = .array(r.refusedFromPeer.map { .string($0) })  // the first 20
                            o["refused_count"] = .int(Int64(r.refusedFromPeerCount))
                        }
                        return .object(o)
                    }),
                ]))
            } else {
                for (card, r, ms, traffic) in results {
                    let name = Format.pad(card.city.rawValue, 18)
                    if let e = r.error {
                        Console.out("\(name) FAILED after \(ms) ms: \(e)")
                        continue
                    }
                    var line = "\(name) received \(Format.count(r.received)), sent \(Format.count(r.sent)) in \(ms) ms"
                    line += " (\(traffic.requests) request\(traffic.requests == 1 ? "" : "s"), \(Format.bytes(traffic.bytesSent + traffic.bytesReceived))); "
                    if r.inSync {
                        line += "in sync"
                    } else if let c = r.comparison {
                        line += "not in sync (we lack \(c.weLack), they lack \(c.theyLack))"
                    }
                    Console.out(line)
                    if r.contentReceived > 0 || r.contentSent > 0 {
                        Console.out("  personal content: received \(Format.count(r.contentReceived)), sent \(Format.count(r.contentSent))")
                    }
                    if let e = r.contentError { Console.out("  personal content not exchanged: \(e)") }
                    for refusal in r.refusedFromPeer.prefix(5) { Console.out("  refused from \(card.city): \(refusal)") }
                    if r.refusedFromPeerCount > 5 { Console.out("  refused from \(card.city): \(Format.count(r.refusedFromPeerCount - 5)) more") }
                    for refusal in r.refusedByPeer.prefix(5) { Console.out("  refused by \(card.city): \(refusal)") }
                    if r.confirmedRestore { Console.out("  restore confirmed: no peer holds a newer entry of \(city.id); it may sign again") }
                }
                Console.out("\(city.id): \(Format.plural(Int(summary.entries), "entry", "entries")), network digest \(summary.digest.prefix(16))")
            }
            if results.contains(where: { !$0.1.succeeded }) { throw Exit.unreachable }
        }
    }
}

/// One line of progress on standard error, rewritten in place.
final class ProgressLine: Sendable {
    private let enabled: Bool
    private let state = Mutex<[CityID: SyncProgress]>([:])

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: SyncProgress) {
        guard enabled, p.total >= 1000 else { return }
        let text = state.withLock { s -> String in
            s[p.peer] = p
            return s.values.sorted { $0.peer < $1.peer }.map { "\($0.peer) \($0.phase.rawValue) \(Format.count(Int($0.done)))/\(Format.count(Int($0.total)))" }
                .joined(separator: "  ")
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func clear() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
