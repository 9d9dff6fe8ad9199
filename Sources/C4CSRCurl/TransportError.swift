import C4CSRCore
import C4CSRNode
import CCurl
import Foundation

/// Why a request to a peer failed, as a kind a program can act on and one sentence a
/// person can (it reaches the log and `c4csr status` as it is).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The host name does not resolve.
        case dns
        /// Nothing accepts connections at the endpoint.
        case connect
        /// The TLS handshake failed (protocol, certificate files, or the peer refused ours).
        case tls
        /// The server's public key is not the one pinned in its peer card.
        case pinMismatch = "pin_mismatch"
        /// No complete answer within the timeout.
        case timeout
        /// The answer is larger than allowed.
        case oversized
        /// The connection broke or the answer was cut short.
        case broken
        /// The peer answered with an HTTP error status.
        case http
        /// The peer's answer is not what the protocol says.
        case protocolViolation = "protocol"
        /// This side could not set up the request (libcurl options, files).
        case setup
        /// This side stopped the transfer (shutting down).
        case aborted
    }

    public let kind: Kind
    public let description: String
    /// The HTTP status, for `.http`.
    public let status: Int?
    /// The libcurl code, when libcurl reported the failure.
    public let curlCode: Int?

    init(_ kind: Kind, _ description: String, status: Int? = nil, curlCode: Int? = nil) {
        self.kind = kind
        self.description = description
        self.status = status
        self.curlCode = curlCode
    }

    static func setup(_ m: String) -> TransportError { TransportError(.setup, m) }

    static func aborted(url: String) -> TransportError {
        TransportError(.aborted, "the request to \(hostPart(url)) was stopped: c4csr is shutting down")
    }

    static func oversized(url: String, limit: Int) -> TransportError {
        TransportError(.oversized, "\(url) sent an answer larger than the \(limit / (1 << 20)) MiB allowed; the transfer was cut off")
    }

    static func http(url: String, status: Int, body: [UInt8]) -> TransportError {
        if let e = APIErrorBody.decode(body) {
            return TransportError(.http, "\(url) answered HTTP \(status) \(e.code): \(e.message)", status: status)
        }
        return TransportError(.http, "\(url) answered HTTP \(status)", status: status)
    }

    static func protocolViolation(url: String, _ error: SyncProtocolError) -> TransportError {
        TransportError(.protocolViolation, "\(url) answered something that is not the c4csr protocol: \(error)")
    }

    /// Maps a libcurl failure to a kind and a sentence.
    static func curl(_ code: CURLcode, url: String, detail: String, configuration: CurlConfiguration) -> TransportError {
        let host = hostPart(url)
        let why = detail.isEmpty ? String(cString: CCurl_easy_strerror(code)) : detail
        let n = Int(code.rawValue)
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST:
            return TransportError(.dns, "cannot resolve the host name of \(host) (\(why))", curlCode: n)
        case CURLE_COULDNT_CONNECT:
            return TransportError(.connect, "cannot connect to \(host): nothing accepts connections there (\(why))", curlCode: n)
        case CURLE_OPERATION_TIMEDOUT:
            return TransportError(
                .timeout, "\(host) did not answer within \(configuration.requestTimeoutMS / 1000) s (connect limit \(configuration.connectTimeoutMS / 1000) s): \(why)",
                curlCode: n)
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return TransportError(
                .pinMismatch,
                "\(host) presented a TLS key that does not match the tls_pin of its peer card: refused (an impostor, or the city changed its certificate; check with the city)",
                curlCode: n)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_USE_SSL_FAILED:
            return TransportError(.tls, "TLS handshake with \(host) failed (\(why))", curlCode: n)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            return TransportError(
                .broken, "the connection to \(host) broke (\(why)); if it happens at once, \(host) may not know this city's certificate",
                curlCode: n)
        case CURLE_GOT_NOTHING:
            return TransportError(.broken, "\(host) closed the connection without answering", curlCode: n)
        case CURLE_PARTIAL_FILE:
            return TransportError(.broken, "\(host) closed the connection before the whole answer arrived (\(why))", curlCode: n)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return TransportError(.setup, "\(url) is not a usable https:// endpoint (\(why))", curlCode: n)
        default:
            return TransportError(.broken, "request to \(host) failed: \(why) (libcurl error \(n))", curlCode: n)
        }
    }

    static func hostPart(_ url: String) -> String {
        guard let r = url.range(of: "://") else { return url }
        let rest = url[r.upperBound...]
        return String(rest.prefix { $0 != "/" })
    }
}

extension TransportError: ClassifiedFailure {
    public var failureKind: String { kind.rawValue }
}
