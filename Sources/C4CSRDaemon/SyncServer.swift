import C4CSRCore
import C4CSRNode
import C4CSRStore
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

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

    /// The TLS configuration: our certificate, TLS ≥ 1.2, client certificates
    /// required and checked against the peer book's pins.
    public static func tlsConfiguration(identity: TLSIdentity, book: PeerBook) throws -> TLSChannelConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
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
        let api = router.group("v1")
        let handler = Handler(responder: responder, book: book, logger: logger, observer: observer)

        api.get("health") { _, context in
            try await handler.respond(context, "health") { _ in
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
                let pull = try PullRequest.decode(try await body(request, limit: 1 << 20))
                let page = try await Blocking.run { try responder.pull(pull) }
                return .entries(EntryStream.encode(page.entries, more: page.more))
            }
        }
        api.post("push") { request, context in
            try await handler.respond(context, "push") { peer in
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
                let ids = try IDsRequest.decode(try await body(request, limit: 1 << 20))
                return .entries(EntryStream.encode(try await Blocking.run { try responder.entries(ids) }, more: false))
            }
        }
        return router
    }

    static func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        let buffer = try await request.body.collect(upTo: limit)
        return Array(buffer.readableBytesView)
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

/// What every route shares: who is calling, and errors as JSON with a stable code.
struct Handler: Sendable {
    let responder: SyncResponder
    let book: PeerBook
    let logger: Logger
    let observer: (any SyncServerObserver)?

    func respond(_ context: PeerRequestContext, _ route: String, _ body: (CityID) async throws -> Reply) async throws -> Response {
        let peer: CityID
        do {
            peer = try await caller(context)
        } catch {
            return Self.error(.forbidden, "unknown_peer", "this client's certificate matches no peer card")
        }
        observer?.contacted(by: peer)
        do {
            return try await body(peer).response
        } catch let e as SyncProtocolError {
            logger.notice("bad request from peer", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)", "c4csr.error": "\(e)"])
            return Self.error(.badRequest, e.codeName, e.message)
        } catch is NIOTooManyBytesError {
            logger.notice("request body too large", metadata: ["c4csr.peer": "\(peer)", "c4csr.route": "\(route)"])
            return Self.error(.contentTooLarge, "payload_too_large", "the request body exceeds the \(SyncServer.maxRequestBytes >> 20) MiB limit; send smaller pages")
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
