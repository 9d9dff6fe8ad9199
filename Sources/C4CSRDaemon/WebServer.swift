import C4CSRNode
import C4CSRPortal
import HTTPTypes
import Hummingbird
import NIOCore

/// The web listener's one handler: GET and HEAD of the portal's pages, rendered off the
/// cooperative pool (they read the store). Anything else is 405; nothing is written.
enum WebServer {
    static func respond(to request: Request, portal: Portal) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            var headers = fields(Portal.securityHeaders)
            headers[.allow] = "GET, HEAD"
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .methodNotAllowed, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "The portal is read-only: GET and HEAD only.\n")))
        }
        let target = request.head.path ?? "/"
        let ifNoneMatch = request.headers[.ifNoneMatch]
        let answer = try await Blocking.run { portal.respond(target: target, ifNoneMatch: ifNoneMatch) }
        var headers = fields(answer.headers)
        headers[.contentType] = answer.contentType
        let body = request.method == .head ? ByteBuffer() : ByteBuffer(bytes: answer.body)
        if request.method == .head { headers[.contentLength] = String(answer.body.count) }
        return Response(status: .init(code: answer.status), headers: headers, body: ResponseBody(byteBuffer: body))
    }

    private static func fields(_ pairs: [(name: String, value: String)]) -> HTTPFields {
        var headers = HTTPFields()
        for (name, value) in pairs {
            if let n = HTTPField.Name(name) { headers[n] = value }
        }
        return headers
    }
}
