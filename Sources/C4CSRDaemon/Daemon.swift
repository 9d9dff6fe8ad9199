import C4CSRCore
import C4CSRNode
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The daemon's settings. Every one has a `c4csr serve` flag (see `--help`).
public struct DaemonConfiguration: Sendable, Hashable {
    /// Address and port to listen on; port 0 picks a free one (written to serve.json).
    public var host = "0.0.0.0"
    public var port = 7443
    /// Milliseconds between rounds with each healthy peer (± `jitter`).
    public var intervalMS: Int64 = 60_000
    public var jitter = 0.2
    /// First and longest retry delay after failures (ms).
    public var backoffBaseMS: Int64 = 2_000
    public var backoffCapMS: Int64 = 600_000
    /// libcurl limits per request (ms).
    public var connectTimeoutMS = 5_000
    public var requestTimeoutMS = 30_000
    /// How often the store is checked for entries added by other processes (ms).
    public var pollIntervalMS = 250
    /// Page bounds of pull and push.
    public var pageEntries = PullRequest.defaultLimit
    public var pageBytes = PullRequest.defaultMaxBytes
    /// Sync only with these cities (`nil`: every peer card with an endpoint).
    public var only: Set<CityID>?
    /// Longest graceful shutdown before in-flight work is cancelled (below systemd's TimeoutStopSec).
    public var shutdownGraceSeconds = 20

    public init() {}
}

/// Assembles and runs `c4csr serve`: one `ServiceGroup` with the sync service and the
/// HTTPS server, graceful shutdown on SIGTERM and SIGINT (the server stops accepting
/// and finishes its requests, then rounds in flight finish, then the store closes),
/// SIGHUP reloads peer cards.
public struct Daemon: Sendable {
    public let city: City
    public let sync: SyncService
    public let book: PeerBook
    public let configuration: DaemonConfiguration
    private let app: any Service
    private let logger: Logger

    /// Builds the services; nothing listens until `run`.
    /// - Parameter onListening: called once the listener is bound, with its port.
    public init(city: City, configuration: DaemonConfiguration, logger: Logger, onListening: (@Sendable (Int) -> Void)? = nil) throws {
        self.city = city
        self.configuration = configuration
        self.logger = logger
        let identity = try city.tlsIdentity()
        let book = PeerBook(city: city, only: configuration.only)
        let sync = SyncService(city: city, book: book, configuration: configuration, logger: logger)
        self.book = book
        self.sync = sync
        let router = SyncServer.router(responder: SyncResponder(city: city), book: book, logger: logger, observer: sync)
        let serveFile = city.directory.serveFile
        let host = configuration.host
        app = Application(
            router: router,
            server: try .tls(.http1(), configuration: SyncServer.tlsConfiguration(identity: identity, book: book)),
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: "c4csr"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let info = CanonicalJSON.string(.object([
                    "city": .string(city.id.rawValue), "listen": .string("\(host):\(port)"), "pid": .int(Int64(getpid())),
                    "port": .int(Int64(port)),
                ]))
                try? Data((info + "\n").utf8).write(to: serveFile, options: .atomic)
                logger.notice("listening", metadata: ["c4csr.city": "\(city.id)", "c4csr.address": "\(host):\(port)"])
                onListening?(port)
            },
            logger: logger)
    }

    /// The services in dependency order: sync (needs the store), then the HTTPS
    /// server; graceful shutdown runs in reverse, so the server stops first.
    public var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        [.init(service: sync, serviceName: "sync"), .init(service: app, serviceName: "https")]
    }

    /// A service group for these services; with `signals`, SIGTERM/SIGINT shut it
    /// down gracefully and SIGHUP reloads the peer cards (what `c4csr serve` runs).
    public func serviceGroup(signals: Bool) -> ServiceGroup {
        var services = self.services
        if signals {
            let (sync, logger) = (self.sync, self.logger)
            services.append(.init(service: SignalService(signal: .sighup) {
                logger.notice("SIGHUP: reloading peer cards")
                sync.reload()
            }, serviceName: "reload"))
        }
        var group = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds)
        return ServiceGroup(configuration: group)
    }

    /// Runs until SIGTERM/SIGINT.
    public func run() async throws {
        defer { try? FileManager.default.removeItem(at: city.directory.serveFile) }
        try await serviceGroup(signals: true).run()
        logger.notice("stopped", metadata: ["c4csr.city": "\(city.id)"])
    }
}

/// Calls `action` on each delivery of `signal` until graceful shutdown.
struct SignalService: Service {
    let signal: UnixSignal
    let action: @Sendable () -> Void

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: signal)
        for await _ in signals.cancelOnGracefulShutdown() { action() }
    }
}
