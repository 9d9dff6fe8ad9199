import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import NIOTLS
import Synchronization

/// How much of the daemon one connection, one address and all of them together may hold
/// (docs/SYNC.md, "Connections"). Anyone who can reach the port can open connections;
/// these bounds keep descriptors and memory bounded under a flood, so that a
/// legitimate peer's round still completes.
public struct ListenerLimits: Sendable, Hashable {
    /// Open connections of the listener, all addresses together.
    public var maxConnections = 512
    /// Open connections from one IP address.
    public var maxConnectionsPerAddress = 32
    /// A TLS handshake must finish this long after the connection is accepted.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A request (headers and body) must be read completely this long after the
    /// connection was accepted or the previous response was sent; an idle kept-alive
    /// connection is closed after it too.
    public var requestTimeout: Duration = .seconds(60)

    public init() {}

    /// The limits of the plain-HTTP metrics listener: fewer connections, no TLS.
    public static var metrics: ListenerLimits {
        var l = ListenerLimits()
        l.maxConnections = 32
        l.maxConnectionsPerAddress = 8
        l.requestTimeout = .seconds(10)
        return l
    }

    /// The officers' socket: a handful of people on this machine (one "address": a Unix
    /// socket's peers have none).
    public static var officer: ListenerLimits {
        var l = ListenerLimits()
        l.maxConnections = 32
        l.maxConnectionsPerAddress = 32
        l.requestTimeout = .seconds(30)
        return l
    }

    /// The limits of the plain-HTTP web portal: behind a reverse proxy every browser
    /// arrives from the proxy's one address, so the per-address cap is the total one.
    public static var web: ListenerLimits {
        var l = ListenerLimits()
        l.maxConnections = 128
        l.maxConnectionsPerAddress = 128
        l.requestTimeout = .seconds(10)
        return l
    }
}

/// Counts open connections per address and in all, and refuses those over the caps.
/// Shared by the child channels of one listener.
public final class ConnectionLimiter: Sendable {
    public let limits: ListenerLimits
    private let state = Mutex<(total: Int, byAddress: [String: Int], refused: Int64)>((0, [:], 0))

    public init(limits: ListenerLimits) { self.limits = limits }

    /// Counts a new connection from `address`; `false` if it is over a cap (then it is
    /// not counted and must be closed).
    func open(_ address: String) -> Bool {
        state.withLock { s in
            let here = s.byAddress[address, default: 0]
            guard s.total < limits.maxConnections, here < limits.maxConnectionsPerAddress else {
                s.refused += 1
                return false
            }
            s.total += 1
            s.byAddress[address] = here + 1
            return true
        }
    }

    func close(_ address: String) {
        state.withLock { s in
            s.total -= 1
            let here = s.byAddress[address, default: 1] - 1
            s.byAddress[address] = here > 0 ? here : nil
        }
    }

    /// Connections open now, and refused since start (for metrics and tests).
    public var open: Int { state.withLock { $0.total } }
    public var refused: Int64 { state.withLock { $0.refused } }
}

/// A child channel that counts its connection against a `ConnectionLimiter` (closing it
/// at once when over a cap, before any TLS work), then sets up `Base` (TLS and HTTP).
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let limiter: ConnectionLimiter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        guard limiter.open(address) else {
            logger.debug("connection refused: over the connection cap", metadata: ["c4csr.address": "\(address)"])
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionRefused())
        }
        let limiter = self.limiter
        channel.closeFuture.whenComplete { _ in limiter.close(address) }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    struct ConnectionRefused: Error {}
}

/// Closes a connection whose TLS handshake, or whose next request, does not arrive in
/// time: a handshake within `handshakeTimeout` of the accept; each request's head and
/// body within `requestTimeout` of the accept or of the previous response. It sits
/// after the HTTP decoder, and its timers run from the moment it is added (at accept),
/// so a client that sends nothing, or a byte now and then, is closed all the same.
final class DeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ListenerLimits
    private let tls: Bool
    private var handshake: Scheduled<Void>?
    private var request: Scheduled<Void>?
    /// Requests read completely whose responses are not yet sent.
    private var answering = 0

    init(limits: ListenerLimits, tls: Bool) {
        self.limits = limits
        self.tls = tls
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if tls { handshake = schedule(context, after: limits.handshakeTimeout) }
        armRequestTimer(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handshake?.cancel()
        request?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e {
            handshake?.cancel()
            handshake = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            answering += 1
            request?.cancel()
            request = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            answering = max(0, answering - 1)
            if answering == 0 { armRequestTimer(context) }
        }
        context.write(data, promise: promise)
    }

    private func armRequestTimer(_ context: ChannelHandlerContext) {
        request?.cancel()
        request = schedule(context, after: limits.requestTimeout)
    }

    private func schedule(_ context: ChannelHandlerContext, after delay: Duration) -> Scheduled<Void> {
        let channel = context.channel
        return context.eventLoop.scheduleTask(in: TimeAmount(delay)) { channel.close(promise: nil) }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS, with every connection counted and timed (`ListenerLimits`).
    static func guardedTLS(configuration: TLSChannelConfiguration, limiter: ConnectionLimiter) throws -> HTTPServerBuilder {
        let limits = limiter.limits
        return HTTPServerBuilder { responder in
            let http = HTTP1Channel(
                responder: responder,
                configuration: .init(additionalChannelHandlers: [DeadlineHandler(limits: limits, tls: true)]))
            return GuardedChannel(base: try TLSChannel(http, configuration: configuration), limiter: limiter)
        }
    }

    /// Plain HTTP/1.1 (the metrics listener), with every connection counted and timed.
    static func guardedHTTP1(limiter: ConnectionLimiter) -> HTTPServerBuilder {
        let limits = limiter.limits
        return HTTPServerBuilder { responder in
            let http = HTTP1Channel(
                responder: responder,
                configuration: .init(additionalChannelHandlers: [DeadlineHandler(limits: limits, tls: false)]))
            return GuardedChannel(base: http, limiter: limiter)
        }
    }
}
