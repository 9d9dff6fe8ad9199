import C4CSRCore
import C4CSRNode
import Dispatch
import Foundation
import Synchronization

/// The sync API spoken over HTTPS through libcurl to one peer.
///
/// One libcurl handle per peer, used only on this transport's serial queue: the
/// blocking `curl_easy_perform` never runs on Swift's cooperative pool, a peer that
/// hangs holds only its own queue, and the TLS connection is reused by every request
/// of a round (and across rounds while the peer keeps it open).
public final class HTTPPeerTransport: PeerTransport, @unchecked Sendable {
    // @unchecked: `easy` is touched only inside `queue.async` blocks (serial), and
    // `traffic` is behind a Mutex.
    public let endpoint: String
    private let queue: DispatchQueue
    private let easy: Confined<CurlEasy>
    private let counters = Mutex(Traffic())

    /// Bytes and requests through this transport so far.
    public struct Traffic: Sendable, Hashable {
        public var requests = 0
        public var bytesSent = 0
        public var bytesReceived = 0
        /// TLS connections opened (1 for many requests means the connection was reused).
        public var connections = 0
        public init() {}
    }

    /// - Parameters:
    ///   - endpoint: the peer card's `https://host:port` (a trailing `/` is ignored).
    ///   - configuration: pin, client certificate and limits.
    public init(endpoint: String, configuration: CurlConfiguration) throws {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        queue = DispatchQueue(label: "c4csr.peer.\(TransportError.hostPart(endpoint))")
        easy = Confined(try CurlEasy(configuration))
    }

    /// A transport to the peer of `card`, presenting `city`'s TLS identity.
    public convenience init(
        card: PeerCard, city: City, connectTimeoutMS: Int = 5_000, requestTimeoutMS: Int = 30_000, gate: TransferGate = TransferGate()
    ) throws {
        guard let endpoint = card.endpoint, let pin = card.tlsPin else {
            throw TransportError.setup("the peer card of \(card.city) has no endpoint and tls_pin; it cannot be synced with")
        }
        try TLSIdentity.checkPrivateKey(city.directory.tlsKeyFile)
        var c = CurlConfiguration(
            pinnedPublicKey: pin, clientCertificate: city.directory.tlsCertificateFile.path, clientKey: city.directory.tlsKeyFile.path)
        c.connectTimeoutMS = connectTimeoutMS
        c.requestTimeoutMS = requestTimeoutMS
        c.gate = gate
        try self.init(endpoint: endpoint, configuration: c)
    }

    public var traffic: Traffic { counters.withLock { $0 } }

    // MARK: PeerTransport

    public func heads() async throws -> PeerHeads {
        let body = try await request("/v1/heads", body: nil)
        return try await decode(body, PeerHeads.decode)
    }

    public func pull(_ request: PullRequest) async throws -> (entries: [SignedEntry], more: Bool) {
        let body = try await self.request("/v1/pull", body: request.encoded)
        return try await decode(body) { b throws(SyncProtocolError) in try EntryStream.decode(b) }
    }

    public func push(_ entries: [SignedEntry]) async throws -> PushResult {
        let body = try await request("/v1/push", body: EntryStream.encode(entries, more: false), binary: true)
        return try await decode(body, PushResult.decode)
    }

    public func forks() async throws -> ForkList {
        let body = try await request("/v1/forks", body: nil)
        return try await decode(body, ForkList.decode)
    }

    public func entries(_ request: IDsRequest) async throws -> [SignedEntry] {
        let body = try await self.request("/v1/entries", body: request.encoded)
        return try await decode(body) { b throws(SyncProtocolError) in try EntryStream.decode(b).entries }
    }

    public func content(_ request: ContentRequest) async throws -> [PersonalContent] {
        let body = try await self.request("/v1/content", body: request.encoded)
        return try await decode(body) { b throws(SyncProtocolError) in try ContentList.decode(b, maxItems: ProtocolLimits.maxContentAnswer).content }
    }

    public func pushContent(_ content: [PersonalContent]) async throws -> ContentPushResult {
        let body = try await request("/v1/content/push", body: ContentList(content: content).encoded)
        return try await decode(body, ContentPushResult.decode)
    }

    /// `GET /v1/health`: the peer's city and version, as JSON.
    public func health() async throws -> JSONValue {
        let body = try await request("/v1/health", body: nil)
        return try await decode(body) { b throws(SyncProtocolError) in
            do { return try JSONParser.parse(b) } catch { throw .malformed("health is not JSON (\(error))") }
        }
    }

    // MARK: Plumbing

    /// Decodes an answer on this peer's queue, not on Swift's cooperative pool: a hostile
    /// peer's 4 MiB heads message costs parsing time, and the pool has one thread per core.
    private func decode<T: Sendable>(
        _ body: [UInt8], _ f: @escaping @Sendable ([UInt8]) throws(SyncProtocolError) -> T
    ) async throws -> T {
        let endpoint = self.endpoint
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do throws(SyncProtocolError) { continuation.resume(returning: try f(body)) } catch {
                    continuation.resume(throwing: TransportError.protocolViolation(url: endpoint, error))
                }
            }
        }
    }

    /// One request of any path (GET without a body, POST with one), its status and body
    /// as they came: for tests and diagnostics of a peer's HTTP answers.
    public func raw(_ path: String, body: [UInt8]?) async throws -> (status: Int, body: [UInt8]) {
        let r = try await perform(endpoint + path, body: body, binary: false)
        return (r.status, r.body)
    }

    /// Performs one request on the queue; non-2xx statuses become `TransportError.http`.
    private func request(_ path: String, body: [UInt8]?, binary: Bool = false) async throws -> [UInt8] {
        let url = endpoint + path
        let response = try await perform(url, body: body, binary: binary)
        guard (200..<300).contains(response.status) else {
            throw TransportError.http(url: url, status: response.status, body: response.body)
        }
        return response.body
    }

    private func perform(_ url: String, body: [UInt8]?, binary: Bool) async throws -> CurlResponse {
        let response: CurlResponse = try await withCheckedThrowingContinuation { continuation in
            queue.async { [easy] in
                continuation.resume(with: Result { try easy.value.perform(url: url, body: body, binary: binary) })
            }
        }
        counters.withLock {
            $0.requests += 1
            $0.bytesSent += response.bytesSent
            $0.bytesReceived += response.bytesReceived
            $0.connections += response.newConnections
        }
        return response
    }
}

/// A value confined to one serial queue by its owner; `@unchecked Sendable` so that
/// the queue's blocks may carry it. Only `HTTPPeerTransport` creates one.
struct Confined<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
