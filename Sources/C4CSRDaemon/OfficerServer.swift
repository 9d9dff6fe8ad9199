import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The officers' socket (docs/PROTOCOL.md §13, docs/OPERATIONS.md "Officers"): HTTP/1.1
/// over a Unix socket that only the daemon's user and the members of the officers'
/// group may open. An officer's CLI reads what it needs to build an entry, signs the
/// content with the officer's own key, and hands it over; the daemon checks the
/// signature and the enrolment, places it in the city's chain and signs the entry with
/// the city key. The officer never touches the key, the TLS key or the store.
///
/// Routes (JSON bodies, errors as `{"error": CODE, "message": TEXT}`):
/// - `GET /v1/officer/city`: the city's id, language and officers in force;
/// - `GET /v1/officer/practices/PREFIX`: a practice's current fields and versions;
/// - `POST /v1/officer/entries`: `{"officer", "kind", "payload", "time", "sig"}`, answered
///   with the entry written (201), or why not (400, 403, 404, 409: rebuild it).
enum OfficerServer {
    /// The largest request body: one practice's content is far below it.
    static let maxBodyBytes = 1 << 20

    static func router(city: City, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("v1/officer/city") { _, _ in
            try await answer {
                let roll = try city.officersInForce()
                return (.ok, .object([
                    "city": .string(city.id.rawValue), "language": .string(city.card.language),
                    "officers": .array(roll.keys.keys.sorted().map { .string($0.rawValue) }),
                ]))
            }
        }
        router.get("v1/officer/practices/:id") { _, context in
            let prefix = context.parameters.get("id") ?? ""
            return try await answer {
                let (record, _, _) = try city.store.practice(prefix)
                // Sealed fields (§14) revealed with the content held (an officer revises
                // them, sealed again under fresh salts); `sealed` names them.
                let current = record.current.revealing(try city.store.contents(of: [record.fieldsEntry]))
                return (.ok, .object([
                    "id": .string(record.id.hex), "publisher": .string(record.publisher.rawValue),
                    "current_version": .string(record.currentVersion.hex), "heads": .array(record.heads.map { .string($0.hex) }),
                    "retracted": .bool(record.retracted), "conflict": .bool(record.conflict), "fields": current.json,
                    "sealed": .array(current.sealed.keys.sorted().map { .string($0.rawValue) }),
                ]))
            }
        }
        router.post("v1/officer/entries") { request, _ in
            let body = try await request.body.collect(upTo: maxBodyBytes)
            return try await answer {
                let (content, sealed) = try parse(Array(buffer: body))
                do {
                    let entry = try city.submit(content, sealed: sealed)
                    logger.notice("officer entry", metadata: [
                        "c4csr.officer": "\(content.officer)", "c4csr.entry": "\(entry.origin)#\(entry.seq) \(entry.id.short)",
                        "c4csr.kind": "\(entry.kind.rawValue)",
                    ])
                    return (.created, .object([
                        "entry": .string(entry.id.hex), "origin": .string(entry.origin.rawValue), "seq": .int(entry.seq),
                        "kind": .string(entry.kind.rawValue), "practice": PracticeAction.subject(of: entry).map { .string($0.hex) } ?? .null,
                    ]))
                } catch {
                    logger.warning("officer entry refused", metadata: ["c4csr.officer": "\(content.officer)", "c4csr.error": "\(TextRules.inert("\(error)"))"])
                    throw error
                }
            }
        }
        return router
    }

    /// The content of a `POST /v1/officer/entries` body, and the content of its sealed
    /// fields (`content`: `[{field, salt, value}]`, §14; their entry is not known yet).
    static func parse(_ bytes: [UInt8]) throws -> (OfficerContent, [PersonalContent]) {
        guard case .object(let o)? = try? JSONParser.parse(bytes, limits: JSONLimits(maxDepth: ProtocolLimits.maxBodyDepth + 2, maxBytes: maxBodyBytes)) else {
            throw NodeError.invalidInput("the request body is not a JSON object")
        }
        guard Set(o.keys).subtracting(["content"]) == ["kind", "officer", "payload", "sig", "time"] else {
            throw NodeError.invalidInput("the request has exactly the members kind, officer, payload, sig and time, and may have content")
        }
        var sealed = [PersonalContent]()
        if let list = o["content"] {
            guard let items = list.arrayValue, items.count <= PersonalField.allCases.count else {
                throw NodeError.invalidInput("content must be an array of at most \(PersonalField.allCases.count) contents")
            }
            for (i, item) in items.enumerated() {
                do { sealed.append(try PersonalContent(json: item, entry: PersonalContent.unsignedEntry)) } catch {
                    throw NodeError.invalidInput("content[\(i)]: \(error)")
                }
            }
        }
        guard let officerText = o["officer"]?.stringValue, let officer = OfficerID(officerText) else {
            throw NodeError.invalidInput("officer must be an officer id (\(OfficerID.rule))")
        }
        guard let kindText = o["kind"]?.stringValue, let kind = EntryKind(rawValue: kindText), kind.isPractice else {
            throw NodeError.invalidInput("kind must be publish, revise, retract or adopt")
        }
        guard case .object(let payload)? = o["payload"] else { throw NodeError.invalidInput("payload must be an object") }
        guard let time = o["time"]?.intValue, time >= 0 else { throw NodeError.invalidInput("time must be an integer ≥ 0 (milliseconds)") }
        guard let sigText = o["sig"]?.stringValue, let sig = Data(base64Encoded: sigText), sig.count == 64 else {
            throw NodeError.invalidInput("sig must be the base64 of a 64-byte signature")
        }
        return (OfficerContent(officer: officer, kind: kind, payload: payload, time: time, signature: Array(sig)), sealed)
    }

    /// Runs `body` off the cooperative pool (it reads or writes the store) and renders
    /// its answer, or its error with a status and a stable code.
    private static func answer(_ body: @escaping @Sendable () throws -> (HTTPResponse.Status, JSONValue)) async throws -> Response {
        let (status, value): (HTTPResponse.Status, JSONValue)
        do {
            (status, value) = try await Blocking.run(body)
        } catch let e as NodeError {
            switch e.kind {
            case .invalidInput: (status, value) = (.badRequest, failure("invalid_input", e.message))
            case .notFound: (status, value) = (.notFound, failure("not_found", e.message))
            case .forbidden, .permission: (status, value) = (.forbidden, failure("forbidden", e.message))
            case .conflict: (status, value) = (.conflict, failure("conflict", e.message))
            case .io: (status, value) = (.internalServerError, failure("io", e.message))
            }
        } catch let e as StoreError where e.isNotFound {
            (status, value) = (.notFound, failure("not_found", e.description))
        } catch let e as ValidationErrors {
            var f = failure("invalid_input", "invalid input; nothing was changed").objectValue!
            f["fields"] = .array(e.errors.map { .object(["field": .string($0.field), "problem": .string($0.problem)]) })
            (status, value) = (.badRequest, .object(f))
        } catch {
            (status, value) = (.internalServerError, failure("internal", "\(error)"))
        }
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: CanonicalJSON.string(value) + "\n")))
    }

    private static func failure(_ code: String, _ message: String) -> JSONValue {
        .object(["error": .string(code), "message": .string(message)])
    }

    /// Lets the officers' group open the socket: mode 0660 when the socket belongs to that
    /// group — because its directory is of that group with the setgid bit
    /// (systemd/c4csr.tmpfiles makes /run/c4csr so: it works inside the unit's user
    /// namespace, where the daemon could not chown), or by a chown — else mode 0600 (the
    /// daemon's user alone). Returns what was done, for the log.
    static func grantAccess(path: String, group: String) -> String {
        guard let entry = getgrnam(group) else {
            _ = chmod(path, 0o600)
            return "mode 0600: no group \(group) on this machine, so only the daemon's user may open it"
        }
        let gid = entry.pointee.gr_gid
        var info = stat(), parent = stat()
        if stat(path, &info) == 0, info.st_gid == gid, chmod(path, 0o660) == 0 {
            return "mode 0660, group \(group)"
        }
        // In the unit's user namespace (PrivateUsers=yes) the officers' group is not
        // mapped: the socket took its directory's group through the setgid bit, which
        // the daemon sees only as "the directory's group".
        let directory = (path as NSString).deletingLastPathComponent
        if stat(path, &info) == 0, stat(directory, &parent) == 0, parent.st_mode & S_ISGID != 0, info.st_gid == parent.st_gid,
           chmod(path, 0o660) == 0 {
            return "mode 0660, the group of \(directory) (setgid; \(group) as systemd/c4csr.tmpfiles makes it)"
        }
        if chown(path, uid_t.max, gid) == 0, chmod(path, 0o660) == 0 { return "mode 0660, group \(group)" }
        let why = String(cString: strerror(errno))
        _ = chmod(path, 0o600)
        return "mode 0600: could not give it to group \(group) (\(why)); put it in a directory of that group with the setgid bit, as /run/c4csr is (systemd/c4csr.tmpfiles)"
    }
}
