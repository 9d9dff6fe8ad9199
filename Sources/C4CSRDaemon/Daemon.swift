import C4CSRCore
import C4CSRNode
import C4CSRPortal
import C4CSRStore
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
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
    /// Where to serve Prometheus metrics over plain HTTP (`nil`: not at all; the
    /// configuration template turns it on at 127.0.0.1:9464).
    public var metrics: ListenAddress?
    /// Connection caps and timeouts of the sync listener (docs/SYNC.md, "Connections").
    public var listener = ListenerLimits()
    /// The same for the metrics listener.
    public var metricsListener = ListenerLimits.metrics
    /// Where to serve the read-only web portal over plain HTTP (`nil`: not at all; the
    /// configuration template turns it on at 127.0.0.1:8080).
    public var web: ListenAddress?
    /// The web listener's limits.
    public var webListener = ListenerLimits.web
    /// The officers' Unix socket (`nil`: none), and the group whose members may open it
    /// (docs/OPERATIONS.md, "Officers").
    public var officerSocket: String?
    public var officerGroup = "c4csr-officers"
    public var officerListener = ListenerLimits.officer

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
    public let notifier: SystemdNotifier
    private let app: any Service
    private let metricsApp: (any Service)?
    private let webApp: (any Service)?
    private let officerApp: (any Service)?
    private let logger: Logger
    /// Re-reads the configuration on SIGHUP; `nil`: only the peer cards are re-read.
    private let reloadConfiguration: (@Sendable () throws -> DaemonConfiguration)?

    /// Builds the services; nothing listens until `run`.
    /// - Parameters:
    ///   - onListening: called once the listener is bound, with its port.
    ///   - reloadConfiguration: re-reads the configuration (file, environment, flags) on
    ///     SIGHUP; if it throws, the error is logged and the running configuration kept.
    public init(
        city: City, configuration: DaemonConfiguration, logger: Logger, notifier: SystemdNotifier = SystemdNotifier(),
        reloadConfiguration: (@Sendable () throws -> DaemonConfiguration)? = nil,
        onListening: (@Sendable (Int) -> Void)? = nil
    ) throws {
        self.city = city
        self.configuration = configuration
        self.logger = logger
        self.notifier = notifier
        self.reloadConfiguration = reloadConfiguration
        let identity = try city.tlsIdentity()
        let book = PeerBook(city: city, only: configuration.only)
        let metrics = DaemonMetrics()
        let sync = SyncService(city: city, book: book, configuration: configuration, logger: logger, notifier: notifier, metrics: metrics)
        self.book = book
        self.sync = sync
        let router = SyncServer.router(responder: SyncResponder(city: city), book: book, logger: logger, observer: sync)
        let host = configuration.host
        let syncLimiter = ConnectionLimiter(limits: configuration.listener)
        metrics.watch(listener: "sync", syncLimiter)
        let runtime = RuntimeFile(url: city.directory.serveFile, city: city.id, host: host)
        app = Application(
            router: router,
            server: try .guardedTLS(
                configuration: SyncServer.tlsConfiguration(identity: identity, book: book),
                limiter: syncLimiter),
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: "c4csr"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                runtime.update { $0.port = port }
                logger.notice("listening", metadata: ["c4csr.city": "\(city.id)", "c4csr.address": "\(host):\(port)"])
                // The store was opened before the server was built: both are ready now.
                let entries = (try? city.store.count()) ?? 0
                notifier.ready(status: "listening on port \(port), \(SyncService.grouped(Int64(entries))) entries")
                onListening?(port)
            },
            logger: logger)
        if let m = configuration.metrics {
            let metricsRouter = Router()
            metricsRouter.get("metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
            }
            // For a load balancer or a monitoring check: 200 while the sync loop runs.
            metricsRouter.get("healthz") { _, _ in
                let (healthy, body) = sync.health()
                return Response(
                    status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: CanonicalJSON.string(body) + "\n")))
            }
            metricsApp = Self.plainListener(
                metricsRouter.buildResponder(), "metrics", at: m, limits: configuration.metricsListener, metrics: metrics, logger: logger
            ) { port in runtime.update { $0.metricsPort = port } }
        } else {
            metricsApp = nil
        }
        if let w = configuration.web {
            let portal = Portal(city: city) { path, error in
                logger.error("portal page failed", metadata: ["c4csr.path": "\(TextRules.inert(path))", "c4csr.error": "\(error)"])
            }
            webApp = Self.plainListener(
                CallbackResponder { (request: Request, _: BasicRequestContext) in try await WebServer.respond(to: request, portal: portal) },
                "web", at: w, limits: configuration.webListener, metrics: metrics, logger: logger
            ) { port in runtime.update { $0.webPort = port } }
        } else {
            webApp = nil
        }
        if let path = configuration.officerSocket {
            let limiter = ConnectionLimiter(limits: configuration.officerListener)
            metrics.watch(listener: "officer", limiter)
            let group = configuration.officerGroup
            officerApp = Application(
                router: OfficerServer.router(city: city, logger: logger),
                server: .guardedHTTP1(limiter: limiter),
                configuration: ApplicationConfiguration(address: .unixDomainSocket(path: path), serverName: "c4csr-officer"),
                onServerRunning: { _ in
                    let access = OfficerServer.grantAccess(path: path, group: group)
                    runtime.update { $0.officerSocket = path }
                    logger.notice("officer socket listening", metadata: ["c4csr.path": "\(path)", "c4csr.access": "\(access)"])
                },
                logger: logger)
        } else {
            officerApp = nil
        }
    }

    /// A plain-HTTP listener of the daemon (metrics, the web portal): its own connection
    /// caps and timeouts, counted in the metrics as `listener`; `bound` gets its port.
    private static func plainListener<Responder: HTTPResponder>(
        _ responder: Responder, _ name: String, at address: ListenAddress, limits: ListenerLimits, metrics: DaemonMetrics,
        logger: Logger, bound: @escaping @Sendable (Int) -> Void
    ) -> any Service where Responder.Context == BasicRequestContext {
        let limiter = ConnectionLimiter(limits: limits)
        metrics.watch(listener: name, limiter)
        return Application(
            responder: responder,
            server: .guardedHTTP1(limiter: limiter),
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "c4csr-\(name)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                bound(port)
                logger.notice("\(name) listening", metadata: ["c4csr.address": "\(address.host):\(port)"])
            },
            logger: logger)
    }

    /// The services in dependency order: sync (needs the store), then the HTTPS
    /// server, then metrics; graceful shutdown runs in reverse, so the server stops
    /// accepting before the rounds in flight are waited for.
    public var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        var s: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: sync, serviceName: "sync"), .init(service: app, serviceName: "https")]
        if let metricsApp { s.append(.init(service: metricsApp, serviceName: "metrics")) }
        if let webApp { s.append(.init(service: webApp, serviceName: "web")) }
        if let officerApp { s.append(.init(service: officerApp, serviceName: "officer")) }
        // Last, so that it is the first told of a shutdown: STOPPING=1 at once.
        s.append(.init(service: StoppingNotice(notifier: notifier, sync: sync), serviceName: "notify"))
        return s
    }

    /// A service group for these services; with `signals`, SIGTERM/SIGINT shut it
    /// down gracefully and SIGHUP reloads (what `c4csr serve` runs).
    public func serviceGroup(signals: Bool) -> ServiceGroup {
        var services = self.services
        if signals {
            services.append(.init(service: SignalService(signal: .sighup) { self.reload() }, serviceName: "reload"))
        }
        var group = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGraceSeconds)
        return ServiceGroup(configuration: group)
    }

    /// SIGHUP: re-read the configuration (if a reader was given) and the peer cards.
    /// A broken configuration is reported and the running one kept.
    public func reload() {
        notifier.reloading()
        defer { notifier.reloaded(status: "reloaded") }
        guard let reloadConfiguration else {
            logger.notice("SIGHUP: reloading peer cards")
            sync.reload()
            return
        }
        do {
            let c = try reloadConfiguration()
            if c.host != configuration.host || c.port != configuration.port || c.metrics != configuration.metrics || c.web != configuration.web
                || c.officerSocket != configuration.officerSocket {
                logger.warning("the listen, metrics, web or officer socket address changed in the configuration; restart c4csr to apply it")
            }
            sync.reconfigure(c)
            logger.notice("SIGHUP: configuration and peer cards reloaded", metadata: [
                "c4csr.interval_ms": "\(c.intervalMS)", "c4csr.peers": "\(sync.book.snapshot.syncPeers.map(\.city.rawValue).joined(separator: ","))",
            ])
        } catch {
            logger.error("SIGHUP: the configuration is invalid; keeping the running one", metadata: ["c4csr.error": "\(error)"])
        }
    }

    /// Runs until SIGTERM/SIGINT.
    /// - Throws: `NodeError` if another daemon already serves this data directory.
    public func run() async throws {
        let lock = try DaemonLock(city.directory)
        defer {
            RuntimeFile.removeIfOurs(city.directory.serveFile)
            lock.release()
        }
        do {
            try await serviceGroup(signals: true).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EADDRNOTAVAIL || error.errnoCode == EACCES {
            // NIO says only "Address already in use": name the address, and what to do.
            let address = ListenAddress(host: configuration.host, port: configuration.port)
            let why = error.errnoCode == EADDRINUSE ? "the address is already in use (another c4csr serve, or another program)"
                : error.errnoCode == EACCES ? "permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE)"
                : "no interface has that address"
            throw NodeError.io("cannot listen on \(address): \(why); change server.listen or --listen")
        }
        logger.notice("stopped", metadata: ["c4csr.city": "\(city.id)"])
    }
}

/// `<data-dir>/serve.json` while the daemon runs: pid, city, ports, replaced atomically.
final class RuntimeFile: Sendable {
    struct Info: Sendable {
        var port: Int?
        var metricsPort: Int?
        var webPort: Int?
        var officerSocket: String?
    }
    let url: URL
    let city: CityID
    let host: String
    private let info = Mutex(Info())

    init(url: URL, city: CityID, host: String) {
        self.url = url
        self.city = city
        self.host = host
    }

    /// Changes the state and writes the file, both under the lock: the listeners bind on
    /// different threads, and a snapshot written after a newer one would drop a port.
    func update(_ change: (inout Info) -> Void) {
        info.withLock { i in
            change(&i)
            var o: [String: JSONValue] = ["city": .string(city.rawValue), "pid": .int(Int64(getpid()))]
            if let p = i.port {
                o["port"] = .int(Int64(p))
                o["listen"] = .string("\(host):\(p)")
            }
            if let m = i.metricsPort { o["metrics_port"] = .int(Int64(m)) }
            if let w = i.webPort { o["web_port"] = .int(Int64(w)) }
            if let p = i.officerSocket { o["officer_socket"] = .string(p) }
            try? Data((CanonicalJSON.string(.object(o)) + "\n").utf8).write(to: url, options: .atomic)
        }
    }
}

extension RuntimeFile {
    /// Removes serve.json only if it names this process (a new daemon may have replaced it).
    static func removeIfOurs(_ url: URL) {
        guard let data = FileManager.default.contents(atPath: url.path),
              let pid = (try? JSONParser.parse(Array(data)))?["pid"]?.intValue, pid == Int64(getpid()) else { return }
        try? FileManager.default.removeItem(at: url)
    }
}

/// One daemon per data directory: an exclusive `flock` on `<data-dir>/serve.lock`,
/// held for the life of the process (the kernel releases it if the process dies).
public struct DaemonLock: Sendable {
    let fd: Int32

    /// Takes the lock, or throws `NodeError.forbidden` naming the daemon that holds it.
    public init(_ directory: DataDirectory) throws {
        let path = directory.root.appendingPathComponent("serve.lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NodeError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            let other = (FileManager.default.contents(atPath: directory.serveFile.path)).flatMap { try? JSONParser.parse(Array($0)) }?["pid"]?.intValue
            throw NodeError.forbidden(
                "another c4csr serve\(other.map { " (pid \($0))" } ?? "") already runs for \(directory.root.path); stop it first")
        }
    }

    public func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// As soon as a graceful shutdown begins: STOPPING=1, and outgoing transfers stop
/// (incoming requests are finished by the server's own graceful shutdown).
struct StoppingNotice: Service {
    let notifier: SystemdNotifier
    let sync: SyncService
    func run() async throws {
        try? await gracefulShutdown()
        notifier.stopping()
        sync.beginShutdown()
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
