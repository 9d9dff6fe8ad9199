import ArgumentParser
import C4CSRCore
import C4CSRDaemon
import C4CSRNode
import Foundation
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the city's daemon: the HTTPS sync API and rounds with every peer.",
        discussion: """
            Listens for peers over HTTPS (TLS 1.2+, client certificates pinned by the
            peer cards) and runs an anti-entropy round with each peer that has an
            endpoint every --interval: exchange heads, pull what this city lacks, push
            what the peer lacks. Entries added with the CLI meanwhile are pushed within
            about a second. An unreachable peer is retried with exponential backoff.

            SIGTERM or SIGINT stop it gracefully; SIGHUP re-reads the peer cards. While
            it runs, <data-dir>/serve.json holds its pid and port. Logs go to standard
            error, one event per line (journald-friendly under systemd).

            Example:
              c4csr serve --listen 0.0.0.0:7443 --interval 60
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Address and port to listen on; port 0 picks a free one. Default: 0.0.0.0 and the port of this city's endpoint, else 7443.", valueName: "host:port"))
    var listen: String?
    @Option(help: ArgumentHelp("Seconds between rounds with each peer (±20 % jitter).", valueName: "seconds"))
    var interval: Double = 60
    @Option(name: .customLong("peer"), help: ArgumentHelp("Sync only with this city (repeatable). Default: every peer card with an endpoint.", valueName: "id"))
    var peers: [String] = []
    @Option(help: ArgumentHelp("Seconds to wait for a peer's TCP and TLS handshake.", valueName: "seconds"))
    var connectTimeout: Double = 5
    @Option(help: ArgumentHelp("Seconds a whole request to a peer may take.", valueName: "seconds"))
    var requestTimeout: Double = 30

    func validate() throws {
        if let listen, Self.parseListen(listen) == nil { throw ValidationError("--listen must be HOST:PORT with a port from 0 to 65535 (got \"\(listen)\")") }
        guard interval >= 0.1, interval <= 86_400 else { throw ValidationError("--interval must be from 0.1 to 86400 seconds") }
        guard connectTimeout > 0, requestTimeout > 0, connectTimeout <= requestTimeout else {
            throw ValidationError("--connect-timeout and --request-timeout must be positive, and the connect timeout no longer than the request timeout")
        }
        for p in peers where CityID(p) == nil { throw ValidationError("--peer \(p): not a city id (\(CityID.rule))") }
    }

    static func parseListen(_ s: String) -> (String, Int)? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        LineLogHandler.bootstrap(level: global.level(default: .info))
        let logger = Logger(label: "c4csr")
        try await Console.run {
            let city = try global.openCity()
            var c = DaemonConfiguration()
            if let listen, let (host, port) = Self.parseListen(listen) {
                (c.host, c.port) = (host, port)
            } else if let endpoint = city.card.endpoint, let port = URLComponents(string: endpoint)?.port {
                c.port = port
            }
            c.intervalMS = Int64(interval * 1000)
            c.connectTimeoutMS = Int(connectTimeout * 1000)
            c.requestTimeoutMS = Int(requestTimeout * 1000)
            c.pollIntervalMS = min(250, max(20, Int(interval * 1000) / 4))
            if !peers.isEmpty { c.only = Set(peers.compactMap(CityID.init)) }
            try await Daemon(city: city, configuration: c, logger: logger).run()
        }
    }
}
