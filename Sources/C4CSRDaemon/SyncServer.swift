import C4CSRCore
import C4CSRNode
import C4CSRStore
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The request context of the sync API: it carries the channel, through which the
/// handler learns which peer's certificate opened the connection.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }

    /// Push bodies are pages of at most a few MiB; anything far larger is refused.
    public var maxUploadSize: Int { SyncServer.maxRequestBytes }
}

/// The HTTPS side of the sync API (docs/PROTOCOL.md §10) on Hummingbird with TLS.
///
/// Both directions are authenticated: TLS 1.2 or later, a client certificate is
/// required, and the verification callback accepts it only if its public-key pin is
/// on a known peer card — an unknown client is refused during the handshake, before
/// any handler runs. Handlers then map the pin to the calling city.
public enum SyncServer {
    /// The largest request body accepted (a push page), bytes.
    public static let maxRequestBytes = 24 << 20
    /// The largest JSON request body (pull, entries), bytes.
    public static let maxJSONRequestBytes = 1 << 20
    /// The TLS 1.2 cipher suites offered (OpenSSL names); TLS 1.3 suites are all AEAD.
    public static let tls12CipherSuites = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"

    /// The TLS configuration: our certificate, TLS ≥ 1.2, client certificates
    /// required and checked against the peer book's pins.
    public static func tlsConfiguration(identity: TLSIdentity, book: PeerBook) throws -> TLSChannelConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // TLS 1.3 is preferred (the server picks the highest version both speak). For 1.2,
        // only forward-secret AEAD suites for our ECDSA certificates: no CBC, no SHA-1.
        tls.cipherSuites = SyncServer.tls12CipherSuites
        // Require a client certificate; trust comes from the callback below, not from CAs.
        tls.certificateVerification = .noHostnameVerification
        return TLSChannelConfiguration(tlsConfiguration: tls) { certificates, promise in
            guard let leaf = certificates.first, let spki = try? leaf.extractPublicKey().toSPKIBytes(),
                  book.city(forPin: TLSIdentity.pin(spki: spki)) != nil else {
                promise.succeed(.failed)
                return
            }
            promise.succeed(.certificateVerified)
        }
    }

    /// The routes of API version 1.
    public static func router(responder: SyncResponder, book: PeerBook, logger: Logger, observer: (any SyncServerObserver)? = nil) -> Router<PeerRequestContext> {
        let router = Router(context: PeerRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        let api = router.group("v1")
        let handler = Handler(responder: responder, book: book, logger: logger, observer: observer)

        api.get("health") { _, context in
            try await handler.respond(context, "health", needs: .health) { _ in
                .json(CanonicalJSON.encode(.object([
                    "city": .string(responder.city.id.rawValue), "protocol": .string(SyncAPI.version), "status": .string("ok"),
                ])))
            }
        }
        api.get("heads") { _, context in
            try await handler.respond(context, "heads") { _ in .json(try await Blocking.run { try responder.heads() }.encoded) }
        }
        api.post("pull") { request, context in
            try await handler.respond(context, "pull") { _ in
                let pull = try PullRequest.decode(try await body(request, limit: maxJSONRequestBytes))
                let page = try await Blocking.run { try responder.pull(pull) }
                return .entries(EntryStream.encode(page.entries, more: page.more))
            }
        }
        api.post("push") { request, context in
            try await handler.respond(context, "push", needs: .push) { peer in
                let (entries, _) = try EntryStream.decode(try await body(request, limit: maxRequestBytes))
                let result = try await Blocking.run { try responder.push(entries) }
                handler.pushed(result, from: peer, offered: entries.count)
                return .json(result.encoded)
            }
        }
        api.get("forks") { _, context in
            try await handler.respond(context, "forks") { _ in .json(try await Blocking.run { try responder.forks() }.encoded) }
        }
        api.post("entries") { request, context in
            try await handler.respond(context, "entries") { _ in
                let ids = try IDsRequest.decode(try await body(request, limit: maxJSONRequestBytes))
                return .entries(EntryStream.encode(try await Blocking.run { try responder.entries(ids) }, more: false))
            }
        }
        api.post("content") { request, context in
            try await handler.respond(context, "content") { _ in
                let wanted = try ContentRequest.decode(try await body(request, limit: maxJSONRequestBytes))
                return .json(try await Blocking.run { try responder.content(wanted) }.encoded)
            }
        }
        api.post("content/push") { request, context in
            try await handler.respond(context, "content/push", needs: .push) { peer in
                let offered = try ContentList.decode(
                    try await body(request, limit: ProtocolLimits.maxContentMessageBytes), maxItems: ProtocolLimits.maxContentItems)
                let result = try await Blocking.run { try responder.pushContent(offered) }
                if !result.refused.isEmpty {
                    logger.warning("refused content pushed by peer", metadata: [
                        "c4csr.peer": "\(peer)", "c4csr.refused": "\(result.refused.count)",
                        "c4csr.reason": "\(result.refused[0].code): \(result.refused[0].message)",
                    ])
                }
                return .json(result.encoded)
            }
        }
        return router
    }

    static func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw RequestTooLarge(limit: limit)
        }
    }

    /// A request body over the route's limit.
    struct RequestTooLarge: Error {
        let limit: Int
        var readable: String { limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB" }
    }
}

/// Told about what peers push, so that the daemon's log and status show refusals.
public protocol SyncServerObserver: Sendable {
    /// An authenticated peer made a request (it is up).
    func contacted(by peer: CityID)
    func pushed(_ result: PushResult, from peer: CityID, offered: Int)
}

/// A handler's answer before it becomes an HTTP response.
enum Reply {
    case json([UInt8])
    case entries([UInt8])

    var response: Response {
        switch self {
        case .json(let b):
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: b)))
        case .entries(let b):
            Response(status: .ok, headers: [.contentType: "application/x-c4csr-entries"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: b)))
        }
    }
}

/// Requests in flight per calling city: at most `maxRequests`, of which at most
/// `maxPushes` pushes (a push may hold a 24 MiB body while it is read), so that one
/// member holds at most about 27 MiB of unfinished requests whatever it opens.
final class InFlight: Sendable {
    static let maxRequests = 4
    static let maxPushes = 1
    private let counts = Mutex<[CityID: (all: Int, pushes: Int)]>([:])

    /// Counts a request; `false` (and nothing counted) when over a limit.
    func enter(_ city: CityID, push: Bool) -> Bool {
        counts.withLock { c in
            var n = c[city] ?? (0, 0)
            guard n.all < Self.maxRequests, !push || n.pushes < Self.maxPushes else { return false }
            n.all += 1
            if push { n.pushes += 1 }
            c[city] = n
            return true
        }
    }

    func leave(_ city: CityID, push: Bool) {
        counts.withLock { c in
            guard var n = c[city] else { return }
            n.all -= 1
            if push { n.pushes -= 1 }
            c[city] = n.all > 0 ? n : nil
        }
    }
}

/// What every route shares: who is calling, and errors as JSON with a stable code.
struct Handler: Sendable {
    let responder: SyncResponder
    let book: PeerBook
    let logger: Logger
    let observer: (any SyncServerObserver)?
    let inFlight = InFlight()

    func respond(
        _ context: PeerRequestContext, _ route: String, needs: PeerBook.Access = .read, _ body: (CityID) async throws -> Reply
    ) async throws -> Response {
        let peer: CityID
        do {
            peer = try await caller(context)
        } catch {
            return Self.error(.forbidden, "unknown_peer", "this client's certificate matches no peer card")
        }
        guard let access = book.access(of: peer), access >= needs else {
            logger.notice("request refused: not allowed for this card", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)"])
            return Self.error(.forbidden, "not_allowed", needs == .push
                ? "\(peer) may not push to this city (its card has no public_key, is an observer's, or it is not in sync.peers)"
                : "\(peer) may not call /v1/\(route) (its card has no public_key yet)")
        }
        guard inFlight.enter(peer, push: needs == .push) else {
            return Self.error(.serviceUnavailable, "busy", "\(peer) has \(InFlight.maxRequests) requests (or \(InFlight.maxPushes) push) in flight already; retry when they finish")
        }
        defer { inFlight.leave(peer, push: needs == .push) }
        observer?.contacted(by: peer)
        do {
            return try await body(peer).response
        } catch let e as SyncProtocolError {
            logger.notice("bad request from peer", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)", "c4csr.error": "\(e)"])
            return Self.error(.badRequest, e.codeName, e.message)
        } catch let e as SyncServer.RequestTooLarge {
            logger.notice("request body too large", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)"])
            return Self.error(.contentTooLarge, "payload_too_large", "the request body exceeds the \(e.readable) limit of /v1/\(route); send smaller pages")
        } catch is NIOTooManyBytesError {
            logger.notice("request body too large", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)"])
            return Self.error(.contentTooLarge, "payload_too_large", "the request body exceeds the \(SyncServer.maxRequestBytes >> 20) MiB limit; send smaller pages")
        } catch let e as HTTPParserError {
            // A body the HTTP decoder could not read (bad chunking, say): the request's fault.
            logger.notice("malformed HTTP request from peer", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)", "c4csr.error": "\(e)"])
            return Self.error(.badRequest, "malformed_message", "the request is not valid HTTP/1.1 (\(e))")
        } catch let e as StoreError where e.isBusy {
            return Self.error(.serviceUnavailable, "busy", "the store is busy; retry later")
        } catch let e as StoreError where e.isFull || e.isReadOnly {
            logger.error("cannot store what a peer sent", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)", "c4csr.error": "\(e)"])
            return e.isFull
                ? Self.error(.init(code: 507), "storage_full", "the receiving city's disk is full; nothing of this request was stored")
                : Self.error(.serviceUnavailable, "store_read_only", "the receiving city's store is read-only; nothing of this request was stored")
        } catch {
            // Never echo internals to a peer: log them with the request id instead.
            logger.error("request failed", metadata: [
                "c4csr.peer": "\(peer)", "c4csr.route": "\(route)", "c4csr.request": "\(context.id)", "c4csr.error": "\(error)",
            ])
            return Self.error(.internalServerError, "internal", "internal error (request \(context.id) in the server's log)")
        }
    }

    func pushed(_ result: PushResult, from peer: CityID, offered: Int) {
        if !result.refused.isEmpty {
            logger.warning("refused entries pushed by peer", metadata: [
                "c4csr.peer": "\(peer)", "c4csr.entries": "\(offered)", "c4csr.refused": "\(result.refused.count)",
                "c4csr.reason": "\(result.refused[0].code): \(result.refused[0].message)",
            ])
        } else if result.inserted > 0 {
            logger.info("merged entries pushed by peer", metadata: ["c4csr.peer": "\(peer)", "c4csr.entries": "\(result.inserted)"])
        }
        observer?.pushed(result, from: peer, offered: offered)
    }

    /// The city whose certificate opened this connection (checked again here: the
    /// handshake already refused unknown pins, but a card may have been removed since).
    private func caller(_ context: PeerRequestContext) async throws -> CityID {
        guard let certificate = try await context.channel.nioSSL_peerCertificate().get(),
              let city = book.city(forPin: TLSIdentity.pin(spki: try certificate.extractPublicKey().toSPKIBytes())) else {
            throw SyncRoundError("unknown peer")
        }
        return city
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: APIErrorBody(code: code, message: message).encoded)))
    }
}

/// Every error the router itself raises (an unknown path, a wrong method, a path of
/// another API version) answered as the API's JSON error body with a stable code.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes of `/v1` and their methods.
    static var routes: [String: HTTPRequest.Method] {
        ["/v1/health": .get, "/v1/heads": .get, "/v1/pull": .post, "/v1/push": .post, "/v1/forks": .get, "/v1/entries": .post,
         "/v1/content": .post, "/v1/content/push": .post]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let path = request.uri.path
            guard error.status == .notFound else {
                return Handler.error(error.status, "http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
            }
            if let method = Self.routes[path] {
                return Handler.error(.methodNotAllowed, "method_not_allowed", "\(path) takes \(method), not \(request.method)")
            }
            let first = path.split(separator: "/").first.map(String.init) ?? ""
            if first.count > 1, first.hasPrefix("v"), first.dropFirst().allSatisfy(\.isNumber), first != "v1" {
                return Handler.error(.badRequest, "unsupported_version", "this node speaks API /v1 (\(SyncAPI.version)), not /\(first)")
            }
            return Handler.error(.notFound, "not_found", "no such route: \(path) (see docs/PROTOCOL.md §10)")
        }
    }
}
