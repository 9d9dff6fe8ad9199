import ArgumentParser
import C4CSRCore
import CProcess
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

            Settings come from the configuration file (--config; see `c4csr config
            check`), then C4CSR_* variables, then these flags. SIGTERM or SIGINT stop it
            gracefully; SIGHUP re-reads the configuration and the peer cards (a broken
            configuration is reported and the running one kept). Under systemd it
            speaks sd_notify (READY, STATUS, WATCHDOG, STOPPING). While it runs,
            <data-dir>/serve.json holds its pid and port. Logs go to standard error, one
            event per line (journald-friendly).

            Example:
              c4csr serve --listen 0.0.0.0:7443 --interval 60s
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Address and port to listen on; port 0 picks a free one. Default: server.listen, else 0.0.0.0 and the port of this city's endpoint, else 7443.", valueName: "host:port"))
    var listen: String?
    @Option(help: ArgumentHelp("Time between rounds with each peer (±20 % jitter), such as 60s or 5m; plain numbers are seconds. Default: sync.interval, else 60s.", valueName: "duration"))
    var interval: String?
    @Option(name: .customLong("peer"), help: ArgumentHelp("Sync only with this city (repeatable). Default: sync.peers, else every peer card with an endpoint.", valueName: "id"))
    var peers: [String] = []
    @Option(help: ArgumentHelp("Time allowed for a peer's TCP and TLS handshake. Default: sync.connect_timeout, else 5s.", valueName: "duration"))
    var connectTimeout: String?
    @Option(help: ArgumentHelp("Time a whole request to a peer may take. Default: sync.request_timeout, else 30s.", valueName: "duration"))
    var requestTimeout: String?
    @Option(help: ArgumentHelp("Longest wait before retrying an unreachable peer. Default: sync.backoff_max, else 10m.", valueName: "duration"))
    var backoffMax: String?
    @Option(help: ArgumentHelp("Serve Prometheus metrics over plain HTTP at this address (\"\" for none). Default: metrics.listen, else none.", valueName: "host:port"))
    var metricsListen: String?
    @Option(help: ArgumentHelp("Serve the read-only web portal over plain HTTP at this address (\"\" for none), behind the city's reverse proxy. Default: web.listen, else none (the packaged configuration sets 127.0.0.1:8080).", valueName: "host:port"))
    var webListen: String?
    @Option(help: ArgumentHelp("Listen for officers on this Unix socket (\"\" for none): officers write practices through it with their own keys (`c4csr officer`). Default: officer.socket, else none (the packaged configuration sets /run/c4csr/officer.sock).", valueName: "path"))
    var officerSocket: String?
    @Option(help: ArgumentHelp("Longest graceful shutdown. Default: daemon.shutdown_grace, else 20s.", valueName: "duration"))
    var shutdownGrace: String?

    /// A duration flag: "60s", "500ms", "5m", or a plain number of seconds (decimals allowed).
    static func duration(_ s: String) -> Int64? {
        if let ms = parseDuration(s) { return ms }
        if let seconds = Double(s), seconds > 0, seconds <= 86_400 { return Int64(seconds * 1000) }
        return nil
    }

    func validate() throws {
        if let listen, ListenAddress(listen) == nil { throw ValidationError("--listen must be HOST:PORT with a port from 0 to 65535 (got \"\(listen)\")") }
        for (name, value) in [("--interval", interval), ("--connect-timeout", connectTimeout), ("--request-timeout", requestTimeout),
                              ("--backoff-max", backoffMax), ("--shutdown-grace", shutdownGrace)] {
            if let value, Self.duration(value) == nil { throw ValidationError("\(name) must be a duration such as 60s, 500ms or 5m (got \"\(value)\")") }
        }
        if let i = interval.flatMap(Self.duration), i < 100 { throw ValidationError("--interval must be at least 100ms") }
        if let m = metricsListen, !m.isEmpty, ListenAddress(m) == nil { throw ValidationError("--metrics-listen must be HOST:PORT or \"\"") }
        if let w = webListen, !w.isEmpty, ListenAddress(w) == nil { throw ValidationError("--web-listen must be HOST:PORT or \"\"") }
        if let o = officerSocket, !o.isEmpty, o.utf8.count >= 100 { throw ValidationError("--officer-socket must be a path shorter than 100 bytes") }
        for p in peers where CityID(p) == nil { throw ValidationError("--peer \(p): not a city id (\(CityID.rule))") }
    }

    /// Defaults, then the configuration file, then these flags.
    func daemonConfiguration(city: City) throws -> DaemonConfiguration {
        var c = DaemonConfiguration()
        if let endpoint = city.card.endpoint, let port = URLComponents(string: endpoint)?.port { c.port = port }
        c = try global.configFile(scope: .daemon).apply(to: c)
        if let listen, let a = ListenAddress(listen) { (c.host, c.port) = (a.host, a.port) }
        if let v = interval.flatMap(Self.duration) { c.intervalMS = v }
        if let v = connectTimeout.flatMap(Self.duration) { c.connectTimeoutMS = Int(v) }
        if let v = requestTimeout.flatMap(Self.duration) { c.requestTimeoutMS = Int(v) }
        if let v = backoffMax.flatMap(Self.duration) { c.backoffCapMS = max(c.backoffBaseMS, v) }
        if let v = shutdownGrace.flatMap(Self.duration) { c.shutdownGraceSeconds = Int(max(1, (v + 999) / 1000)) }
        if let m = metricsListen { c.metrics = ListenAddress(m) }
        if let w = webListen { c.web = ListenAddress(w) }
        if let o = officerSocket {
            c.officerSocket = o.isEmpty ? nil : URL(fileURLWithPath: o).path
        }
        if !peers.isEmpty { c.only = Set(peers.compactMap(CityID.init)) }
        guard c.connectTimeoutMS <= c.requestTimeoutMS else {
            throw ValidationError("the connect timeout (\(c.connectTimeoutMS) ms) must not exceed the request timeout (\(c.requestTimeoutMS) ms)")
        }
        // Poll the store often enough that local entries leave within a second, and
        // faster than the interval in tests that use sub-second intervals.
        c.pollIntervalMS = Int(min(250, max(20, c.intervalMS / 4)))
        return c
    }

    func run() async throws {
        LineLogHandler.bootstrap(level: global.level(default: .info))
        let logger = Logger(label: "c4csr")
        // Started by `c4csr demo`: die with it, even if it is killed with SIGKILL.
        if let parent = ProcessInfo.processInfo.environment["C4CSR_DIE_WITH_PARENT"].flatMap(Int32.init),
           c4csr_die_with_parent(SIGTERM, parent) == 1 {
            throw ExitCode(Exit.failure.rawValue)
        }
        try await Console.run {
            // Opening the store may migrate it (a new c4csr's first start; the v5 migration
            // copies the log): ask systemd for up to 10 minutes before READY instead of 90 s.
            SystemdNotifier().send("EXTEND_TIMEOUT_USEC=600000000\nSTATUS=opening the store (a schema upgrade may take minutes)")
            let city = try global.openCity()
            for w in city.peers.warnings { logger.warning("\(w)") }
            var configuration = try daemonConfiguration(city: city)
            if let socket = configuration.officerSocket {
                if city.isObserver {
                    // An observer has no officers: the packaged configuration's socket is ignored.
                    logger.notice("this node is an observer: it signs nothing, so it opens no officers' socket", metadata: ["c4csr.path": "\(socket)"])
                    configuration.officerSocket = nil
                } else {
                    // Another node's daemon on the same path (two instances sharing the
                    // template's default): never take its socket over.
                    if OfficerClient.isListening(socket) {
                        throw NodeError.io("another daemon already listens for officers on \(socket); give each node of this host its own officer.socket")
                    }
                    // The daemon signs what officers hand it (§13).
                    try city.enableSigning()
                }
            } else if !city.isObserver {
                // It confirms the erasures it applies (§14: an `ack`, signed by the city key).
                do { try city.enableSigning() } catch {
                    logger.warning("the signing key cannot be read: this node applies erasures but cannot confirm them", metadata: ["c4csr.error": "\(error)"])
                }
            }
            let command = self
            let daemon = try Daemon(city: city, configuration: configuration, logger: logger) {
                // SIGHUP: the same precedence, read afresh; the log level follows too.
                var c = try command.daemonConfiguration(city: city)
                if city.isObserver { c.officerSocket = nil }
                LineLogHandler.setLevel(command.global.level(default: .info))
                return c
            }
            try await daemon.run()
        }
    }
}
