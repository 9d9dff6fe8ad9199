import ArgumentParser
import C4CSRCore
import C4CSRCurl
import C4CSRNode
import C4CSRStore
import Foundation

/// Options of the commands that talk to peers.
struct NetworkOptions: ParsableArguments {
    @Option(name: .customLong("peer"), help: ArgumentHelp("Only this peer (repeatable). Default: every peer card with an endpoint.", valueName: "id"))
    var peers: [String] = []
    @Option(help: ArgumentHelp("Seconds to wait for a peer's TCP and TLS handshake.", valueName: "seconds"))
    var connectTimeout: Double = 5
    @Option(help: ArgumentHelp("Seconds a whole request to a peer may take.", valueName: "seconds"))
    var requestTimeout: Double = 30

    func validate() throws {
        for p in peers where CityID(p) == nil { throw ValidationError("--peer \(p): not a city id (\(CityID.rule))") }
        guard connectTimeout > 0, requestTimeout > 0 else { throw ValidationError("timeouts must be positive") }
    }

    /// The cards to talk to: those with endpoint, pin and key, restricted by `--peer`.
    func cards(of city: City) throws -> [PeerCard] {
        let all = city.peers.cards
        if !peers.isEmpty {
            return try peers.map { id in
                guard let card = all.first(where: { $0.city.rawValue == id }) else {
                    throw NodeError.notFound("no peer card for \(id) (see `c4csr peers list`)")
                }
                guard card.isSyncable else {
                    throw NodeError.invalidInput("the card of \(id) lacks endpoint, tls_pin or public_key; it cannot be synced with")
                }
                return card
            }
        }
        return all.filter(\.isSyncable)
    }

    func transport(_ card: PeerCard, _ city: City) throws -> HTTPPeerTransport {
        try HTTPPeerTransport(card: card, city: city, connectTimeoutMS: Int(connectTimeout * 1000), requestTimeoutMS: Int(requestTimeout * 1000))
    }
}

enum Network {
    /// Runs `body` for every card concurrently; results in card order.
    static func each<T: Sendable>(_ cards: [PeerCard], _ body: @escaping @Sendable (PeerCard) async -> T) async -> [T] {
        await withTaskGroup(of: (Int, T).self) { group in
            for (i, c) in cards.enumerated() { group.addTask { (i, await body(c)) } }
            var out = [(Int, T)]()
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Folds a round into the peer's stored status.
    static func record(_ report: RoundReport, card: PeerCard, city: City, started: Int64, finished: Int64) {
        var status = (try? city.store.peerStatus(card.city)) ?? nil ?? PeerStatus(city: card.city, endpoint: card.endpoint ?? "")
        status.endpoint = card.endpoint ?? ""
        status.apply(report, started: started, finished: finished)
        try? city.store.savePeerStatus(status)
    }

    /// The daemon's serve.json, if a daemon runs for this data directory.
    static func daemon(_ city: City) -> (pid: Int32, port: Int)? {
        guard let data = FileManager.default.contents(atPath: city.directory.serveFile.path),
              case .object(let o)? = try? JSONParser.parse(Array(data)),
              let pid = o["pid"]?.intValue, let port = o["port"]?.intValue, kill(pid_t(pid), 0) == 0 else { return nil }
        return (Int32(pid), Int(port))
    }
}
