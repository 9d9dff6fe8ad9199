import C4CSRCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An officer's side of the officers' socket (docs/OPERATIONS.md, "Officers"): reads what
/// an entry is built from, signs the content with the officer's own key, hands it to the
/// daemon. HTTP/1.1 over a Unix socket, one request per connection, every read bounded.
public struct OfficerClient: Sendable {
    public let socket: String
    public let officer: OfficerID
    public let key: CitySigningKey
    /// Longest wait for a connection and for an answer.
    public var timeoutSeconds = 30
    /// The largest answer read.
    public static let maxResponseBytes = 8 << 20

    public init(socket: String, officer: OfficerID, key: CitySigningKey) {
        self.socket = socket
        self.officer = officer
        self.key = key
    }

    /// The city the daemon writes for: its id, its language, the officers in force.
    public struct CityInfo: Sendable {
        public let id: CityID
        public let language: String
        public let officers: [OfficerID]
    }

    public func city() throws -> CityInfo {
        let o = try request("GET", "/v1/officer/city")
        guard let id = o["city"]?.stringValue.flatMap(CityID.init), let language = o["language"]?.stringValue else {
            throw NodeError.io("the daemon's answer on \(socket) names no city")
        }
        let officers = (o["officers"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(OfficerID.init) }
        return CityInfo(id: id, language: language, officers: officers)
    }

    /// A practice as the daemon holds it now.
    public struct PracticeState: Sendable {
        public let id: EntryID
        public let publisher: CityID
        public let currentVersion: EntryID
        public let heads: [EntryID]
        public let retracted: Bool
        public let conflict: Bool
        /// The current fields, sealed ones revealed with the content the daemon holds.
        public let fields: JSONValue
        /// The fields the current version seals (§14): a revision seals them again.
        public let sealed: Set<PersonalField>
    }

    public func practice(_ prefix: String) throws -> PracticeState {
        guard !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else {
            throw NodeError.invalidInput("\"\(prefix)\" is not a practice id (give at least 6 hex digits)")
        }
        let o = try request("GET", "/v1/officer/practices/\(prefix)")
        guard let id = o["id"]?.stringValue.flatMap(EntryID.init(hex:)), let publisher = o["publisher"]?.stringValue.flatMap(CityID.init),
              let current = o["current_version"]?.stringValue.flatMap(EntryID.init(hex:)), let fields = o["fields"] else {
            throw NodeError.io("the daemon's answer on \(socket) is not a practice")
        }
        let heads = (o["heads"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(EntryID.init(hex:)) }
        return PracticeState(
            id: id, publisher: publisher, currentVersion: current, heads: heads, retracted: o["retracted"] == .bool(true),
            conflict: o["conflict"] == .bool(true), fields: fields,
            sealed: Set((o["sealed"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(PersonalField.init(rawValue:)) }))
    }

    /// What the daemon wrote for a submission.
    public struct Written: Sendable {
        public let entry: EntryID
        public let origin: CityID
        public let seq: Int64
        public let practice: EntryID?
    }

    /// Signs `action`'s content for `city` and hands it to the daemon. A publish or
    /// revise is sealed first, as the city's own CLI seals it (§14): the contact, the
    /// fields `personal` names, and those the current version sealed (`sealed`), each
    /// under a fresh salt; their content goes beside the signed payload.
    public func submit(
        _ action: PracticeAction, city: CityID, personal: Set<PersonalField> = [], sealed: Set<PersonalField> = [],
        time: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
    ) throws -> Written {
        var signed = action
        var values = [PersonalField: (salt: [UInt8], value: JSONValue)]()
        switch action {
        case .publish(let p):
            let (sealedPractice, v) = try City.seal(p, personal: personal.union(sealed))
            (signed, values) = (.publish(sealedPractice), v)
        case .revise(let practice, let base, let p):
            let (sealedPractice, v) = try City.seal(p, personal: personal.union(sealed))
            (signed, values) = (.revise(practice: practice, base: base, fields: sealedPractice), v)
        case .retract, .adopt: break
        }
        let content = OfficerContent.signed(by: key, officer: officer, city: city, kind: signed.kind, payload: signed.payload, time: time)
        var members: [String: JSONValue] = [
            "officer": .string(officer.rawValue), "kind": .string(content.kind.rawValue), "payload": .object(content.payload),
            "time": .int(time), "sig": .string(Data(content.signature).base64EncodedString()),
        ]
        if !values.isEmpty {
            members["content"] = .array(values.keys.sorted().map { f in
                PersonalContent(entry: PersonalContent.unsignedEntry, field: f, salt: values[f]!.salt, value: values[f]!.value).lineJSON
            })
        }
        let body: JSONValue = .object(members)
        let o = try request("POST", "/v1/officer/entries", body: CanonicalJSON.encode(body))
        guard let entry = o["entry"]?.stringValue.flatMap(EntryID.init(hex:)), let origin = o["origin"]?.stringValue.flatMap(CityID.chain),
              let seq = o["seq"]?.intValue else {
            throw NodeError.io("the daemon's answer on \(socket) names no entry")
        }
        return Written(entry: entry, origin: origin, seq: seq, practice: o["practice"]?.stringValue.flatMap(EntryID.init(hex:)))
    }

    /// `true` when something accepts connections on the Unix socket at `path` (a daemon
    /// that runs); `false` for no file, a stale file, or no right to connect.
    public static func isListening(_ path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path), let fd = try? connect(to: path, timeoutSeconds: 2) else { return false }
        close(fd)
        return true
    }

    // MARK: HTTP over the socket

    private func request(_ method: String, _ path: String, body: [UInt8] = []) throws -> [String: JSONValue] {
        let fd = try Self.connect(to: socket, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: c4csr\r\nConnection: close\r\nAccept: application/json\r\n"
        if method == "POST" { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        try send(fd, Array((head + "\r\n").utf8) + body)
        let response = try receive(fd)
        guard let split = Self.headerEnd(response) else { throw NodeError.io("the daemon's answer on \(socket) is not HTTP") }
        let headText = String(decoding: response[..<split], as: UTF8.self)
        let status = headText.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        var payload = Array(response[(split + 4)...])
        if headText.lowercased().contains("transfer-encoding: chunked") { payload = try Self.dechunk(payload) }
        guard case .object(let o)? = try? JSONParser.parse(payload, limits: JSONLimits(maxDepth: 32, maxBytes: Self.maxResponseBytes)) else {
            throw NodeError.io("the daemon's answer on \(socket) (HTTP \(status)) is not JSON")
        }
        if (200..<300).contains(status) { return o }
        var message = o["message"]?.stringValue ?? "HTTP \(status)"
        if let fields = o["fields"]?.arrayValue, !fields.isEmpty {
            message += ":\n" + fields.compactMap { f in
                guard let field = f["field"]?.stringValue, let problem = f["problem"]?.stringValue else { return nil }
                return "  - \(field): \(problem)"
            }.joined(separator: "\n")
        }
        switch status {
        case 400: throw NodeError.invalidInput(message)
        case 403: throw NodeError.forbidden(message)
        case 404: throw NodeError.notFound(message)
        case 409: throw NodeError.conflict(message)
        default: throw NodeError.io("the daemon refused (HTTP \(status)): \(message)")
        }
    }

    private static func connect(to socket: String, timeoutSeconds: Int) throws -> Int32 {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NodeError.io("cannot create a socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socket.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw NodeError.invalidInput("the socket path \(socket) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result != 0 {
            let code = errno
            close(fd)
            switch code {
            case EACCES, EPERM:
                throw NodeError.permission("you may not open the officers' socket \(socket): ask the admin to add your account to the officers' group (c4csr-officers), then log in again")
            case ENOENT, ECONNREFUSED:
                throw NodeError.io("the city's daemon is not listening on \(socket) (is `c4csr serve` running with officer.socket set?)")
            default:
                throw NodeError.io("cannot connect to \(socket): \(String(cString: strerror(code)))")
            }
        }
        return fd
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw NodeError.io("cannot write to \(socket): \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    private func receive(_ fd: Int32) throws -> [UInt8] {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 {
                throw NodeError.io(errno == EAGAIN ? "the daemon did not answer on \(socket) within \(timeoutSeconds) s" : "cannot read from \(socket): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return out }
            out += buffer[0..<n]
            guard out.count <= Self.maxResponseBytes else { throw NodeError.io("the daemon's answer on \(socket) is larger than \(Self.maxResponseBytes) bytes") }
        }
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }

    /// A chunked body, joined (the daemon's own answers; bounded by what was read).
    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](), i = 0
        while i < bytes.count {
            guard let lineEnd = (i..<(bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                  let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first,
                  let size = Int(sizeText, radix: 16), size >= 0, size <= bytes.count else {
                throw NodeError.io("malformed chunked answer")
            }
            if size == 0 { return out }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw NodeError.io("truncated chunked answer") }
            out += bytes[start..<(start + size)]
            i = start + size + 2
        }
        return out
    }
}
