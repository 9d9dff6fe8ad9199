import CCurl
import Foundation
import Synchronization

/// How a `CurlEasy` handle connects: the peer's pin, our client certificate, limits.
public struct CurlConfiguration: Sendable, Hashable {
    /// `sha256//BASE64` of the server's SubjectPublicKeyInfo: the only trust anchor.
    public var pinnedPublicKey: String
    /// PEM files of the client certificate and its key, presented to the server.
    public var clientCertificate: String
    public var clientKey: String
    /// Connect timeout (TCP and TLS handshake) and total time of one request, in ms.
    public var connectTimeoutMS: Int = 5_000
    public var requestTimeoutMS: Int = 30_000
    /// Largest response body accepted (after decompression), bytes.
    public var maxResponseBytes: Int = 32 << 20
    public var userAgent = "c4csr"
    /// When closed, transfers in progress stop at once (a daemon shutting down).
    public var gate = TransferGate()

    public init(pinnedPublicKey: String, clientCertificate: String, clientKey: String) {
        self.pinnedPublicKey = pinnedPublicKey
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }
}

/// A response: status, body, and what the transfer cost on the wire.
public struct CurlResponse: Sendable {
    public let status: Int
    public let body: [UInt8]
    /// Bytes sent (request line, headers, body) and received (headers, body as it
    /// arrived, before decompression is not separated by libcurl: body bytes here are
    /// the decoded ones).
    public let bytesSent: Int
    public let bytesReceived: Int
    /// New connections this request opened (0 when it reused one).
    public let newConnections: Int
}

/// One libcurl easy handle, reused for every request to one peer so that the TLS
/// connection is reused across the requests of a round.
///
/// Not `Sendable`: a handle belongs to one thread at a time. `HTTPPeerTransport` keeps
/// it on its own serial queue, off Swift's cooperative pool, since `curl_easy_perform`
/// blocks.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let configuration: CurlConfiguration
    /// CURLOPT_ERRORBUFFER: libcurl writes the detail of a failure here; it must
    /// outlive every transfer, so it lives as long as the handle.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Header lists for JSON and binary bodies, kept for the handle's lifetime.
    private var jsonHeaders: UnsafeMutablePointer<curl_slist>?
    private var binaryHeaders: UnsafeMutablePointer<curl_slist>?
    private var getHeaders: UnsafeMutablePointer<curl_slist>?
    private let sink: ResponseSink

    /// Loads libcurl and runs `curl_global_init`, exactly once per process, before the
    /// first handle: `nil` when ready, else why not.
    private static let globalInit: String? = {
        if let failure = CCurl_load() {
            return "libcurl could not be loaded (\(String(cString: failure))); install the libcurl4 package"
        }
        let code = CCurl_global_init(CCurl_global_all())
        return code == CURLE_OK ? nil : "curl_global_init failed (\(code.rawValue))"
    }()

    /// Creates a handle with the connection settings that do not change per request.
    /// - Throws: `TransportError` if libcurl cannot be initialised or refuses an option.
    public init(_ configuration: CurlConfiguration) throws {
        if let failure = Self.globalInit { throw TransportError.setup(failure) }
        guard let h = CCurl_easy_init() else { throw TransportError.setup("curl_easy_init failed") }
        handle = h
        self.configuration = configuration
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        sink = ResponseSink(limit: configuration.maxResponseBytes)
        jsonHeaders = Self.slist(["Content-Type: application/json", "Accept: application/json, application/x-c4csr-entries", "Expect:"])
        binaryHeaders = Self.slist(["Content-Type: application/x-c4csr-entries", "Accept: application/json", "Expect:"])
        getHeaders = Self.slist(["Accept: application/json"])
        try setUp()
    }

    deinit {
        CCurl_easy_cleanup(handle)
        CCurl_slist_free_all(jsonHeaders)
        CCurl_slist_free_all(binaryHeaders)
        CCurl_slist_free_all(getHeaders)
        errorBuffer.deallocate()
    }

    private func setUp() throws {
        let c = configuration
        try check(CCurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        try check(CCurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try check(CCurl_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTPS)), "PROTOCOLS")
        // Trust is the pin alone: the certificate is self-signed, its name is not checked,
        // and libcurl still enforces PINNEDPUBLICKEY with VERIFYPEER off.
        try check(CCurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0), "SSL_VERIFYPEER")
        try check(CCurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0), "SSL_VERIFYHOST")
        try check(CCurl_setopt_string(handle, CURLOPT_PINNEDPUBLICKEY, c.pinnedPublicKey), "PINNEDPUBLICKEY")
        try check(CCurl_setopt_long(handle, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2)), "SSLVERSION")
        try check(CCurl_setopt_string(handle, CURLOPT_SSLCERT, c.clientCertificate), "SSLCERT")
        try check(CCurl_setopt_string(handle, CURLOPT_SSLCERTTYPE, "PEM"), "SSLCERTTYPE")
        try check(CCurl_setopt_string(handle, CURLOPT_SSLKEY, c.clientKey), "SSLKEY")
        try check(CCurl_setopt_string(handle, CURLOPT_SSLKEYTYPE, "PEM"), "SSLKEYTYPE")
        try check(CCurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, c.connectTimeoutMS), "CONNECTTIMEOUT_MS")
        try check(CCurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, c.requestTimeoutMS), "TIMEOUT_MS")
        // "" = every encoding this libcurl decodes (gzip, deflate, …); bodies arrive decoded.
        try check(CCurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""), "ACCEPT_ENCODING")
        try check(CCurl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(c.maxResponseBytes)), "MAXFILESIZE_LARGE")
        try check(CCurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")
        try check(CCurl_setopt_string(handle, CURLOPT_USERAGENT, c.userAgent), "USERAGENT")
        try check(CCurl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback), "WRITEFUNCTION")
        try check(CCurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque()), "WRITEDATA")
        // Progress callback: lets a closed gate abort a transfer without waiting for its timeout.
        try check(CCurl_setopt_long(handle, CURLOPT_NOPROGRESS, 0), "NOPROGRESS")
        try check(CCurl_setopt_xferinfo_callback(handle, CURLOPT_XFERINFOFUNCTION, curlProgressCallback), "XFERINFOFUNCTION")
        try check(CCurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(c.gate).toOpaque()), "XFERINFODATA")
    }

    /// Performs one request on this handle (blocking), reusing its connection if open.
    /// - Parameters:
    ///   - url: an `https://` URL.
    ///   - body: the request body for POST (`nil`: GET).
    ///   - binary: the body is an entry stream rather than JSON.
    /// - Throws: `TransportError` for every failure below HTTP; HTTP statuses are returned.
    public func perform(url: String, body: [UInt8]?, binary: Bool = false) throws -> CurlResponse {
        errorBuffer[0] = 0
        sink.reset()
        try check(CCurl_setopt_string(handle, CURLOPT_URL, url), "URL")
        if let body {
            try check(CCurl_setopt_long(handle, CURLOPT_POST, 1), "POST")
            try check(CCurl_setopt_slist(handle, CURLOPT_HTTPHEADER, binary ? binaryHeaders : jsonHeaders), "HTTPHEADER")
            // The size first, so that COPYPOSTFIELDS copies binary data with NUL bytes whole.
            try check(CCurl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "POSTFIELDSIZE_LARGE")
            try body.withUnsafeBufferPointer { buffer in
                let p = UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                try check(CCurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, p), "COPYPOSTFIELDS")
            }
        } else {
            try check(CCurl_setopt_long(handle, CURLOPT_HTTPGET, 1), "HTTPGET")
            try check(CCurl_setopt_slist(handle, CURLOPT_HTTPHEADER, getHeaders), "HTTPHEADER")
        }
        if configuration.gate.isClosed { throw TransportError.aborted(url: url) }
        let code = CCurl_easy_perform(handle)
        if code == CURLE_ABORTED_BY_CALLBACK { throw TransportError.aborted(url: url) }
        if code != CURLE_OK {
            if sink.overflowed || code == CURLE_FILESIZE_EXCEEDED {
                throw TransportError.oversized(url: url, limit: configuration.maxResponseBytes)
            }
            throw TransportError.curl(code, url: url, detail: String(cString: errorBuffer), configuration: configuration)
        }
        var status = 0, headerSize = 0, requestSize = 0, connects = 0
        var downloaded: curl_off_t = 0
        try check(CCurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "RESPONSE_CODE")
        try check(CCurl_getinfo_long(handle, CURLINFO_HEADER_SIZE, &headerSize), "HEADER_SIZE")
        try check(CCurl_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &requestSize), "REQUEST_SIZE")
        try check(CCurl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects), "NUM_CONNECTS")
        try check(CCurl_getinfo_off_t(handle, CURLINFO_SIZE_DOWNLOAD_T, &downloaded), "SIZE_DOWNLOAD_T")
        return CurlResponse(
            status: status, body: sink.bytes, bytesSent: requestSize + (body?.count ?? 0),
            bytesReceived: headerSize + Int(downloaded), newConnections: connects)
    }

    /// Checks one libcurl return code; the only place `CURLcode`s are turned into errors.
    private func check(_ code: CURLcode, _ what: String) throws {
        guard code != CURLE_OK else { return }
        let detail = String(cString: errorBuffer)
        let text = String(cString: CCurl_easy_strerror(code))
        throw TransportError.setup("libcurl refused CURLOPT_\(what): \(text)\(detail.isEmpty ? "" : " (\(detail))")")
    }

    private static func slist(_ lines: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for l in lines { list = CCurl_slist_append(list, l) }
        return list
    }
}

/// A switch shared by the transports of a daemon: closing it aborts their transfers
/// (libcurl's progress callback checks it about once a second, and on every chunk).
public final class TransferGate: Sendable, Hashable {
    private let closed = Atomic<Bool>(false)
    public init() {}
    public var isClosed: Bool { closed.load(ordering: .relaxed) }
    public func close() { closed.store(true, ordering: .relaxed) }
    public static func == (a: TransferGate, b: TransferGate) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}

/// CURLOPT_XFERINFOFUNCTION: non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
private let curlProgressCallback: CCurl_xferinfo_callback = { clientp, _, _, _, _ in
    guard let clientp else { return 0 }
    return Unmanaged<TransferGate>.fromOpaque(clientp).takeUnretainedValue().isClosed ? 1 : 0
}

/// Where the write callback puts the body, with the size cap.
final class ResponseSink {
    var bytes: [UInt8] = []
    var overflowed = false
    let limit: Int
    init(limit: Int) { self.limit = limit }
    func reset() {
        bytes = []
        overflowed = false
    }
}

/// CURLOPT_WRITEFUNCTION: appends to the sink; returning less than given aborts the
/// transfer (CURLE_WRITE_ERROR), which is how an oversized body is cut off.
private let curlWriteCallback: CCurl_write_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    if sink.bytes.count + n > sink.limit {
        sink.overflowed = true
        return 0
    }
    data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    return n
}
