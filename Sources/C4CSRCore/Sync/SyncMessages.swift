/// The JSON messages of the sync API (docs/PROTOCOL.md §10). Each type encodes to
/// compact JSON and decodes strictly: unknown members are ignored (so that a newer
/// peer may add some), but a member present with the wrong type or out of range is
/// an error naming it.
public enum SyncAPI {
    /// The version of the HTTP API; the path prefix is `/v1`.
    public static let version = "c4csr-sync/1"
    /// Most heads a message may carry (one per origin, more only after forks).
    public static let maxHeads = ProtocolLimits.maxHeads
    /// Most ids one `entries` request may name.
    public static let maxIDs = ProtocolLimits.maxIDs

    static func parse(_ bytes: [UInt8], what: String, maxBytes: Int = 4 << 20) throws(SyncProtocolError) -> [String: JSONValue] {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, limits: JSONLimits(maxDepth: 6, maxBytes: maxBytes)) } catch {
            throw .malformed("\(what) is not valid JSON (\(error))")
        }
        guard case .object(let o) = value else { throw .malformed("\(what) must be a JSON object") }
        return o
    }

    /// The entry ids of `request[member]`: an array of at most `max` ids of 64 hex digits.
    /// `route` names the request in the error ("entries: ids[3] must be …").
    static func entryIDs(_ request: [String: JSONValue], _ member: String, max: Int, route: String) throws(SyncProtocolError) -> [EntryID] {
        guard let list = request[member]?.arrayValue, list.count <= max else {
            throw .malformed("\(route): \(member) must be an array of at most \(max) entry ids")
        }
        var ids = [EntryID]()
        ids.reserveCapacity(list.count)
        for (i, v) in list.enumerated() {
            guard let s = v.stringValue, let id = EntryID(hex: s) else { throw .malformed("\(route): \(member)[\(i)] must be 64 hex digits") }
            ids.append(id)
        }
        return ids
    }
}

/// What a node holds, in one message: its heads, the network digest, how many entries.
/// The answer to `GET /v1/heads`, and part of the answer to a push.
public struct PeerHeads: Sendable, Hashable {
    public let city: CityID
    public let heads: [Head]
    public let digest: String
    public let entries: Int64
    public let forks: Int64

    public init(city: CityID, heads: [Head], digest: String, entries: Int64, forks: Int64) {
        self.city = city
        self.heads = heads.sorted()
        self.digest = digest
        self.entries = entries
        self.forks = forks
    }

    /// For each origin, the highest seq held: the version vector.
    public var vector: VectorClock {
        var v = VectorClock()
        for h in heads where h.seq > v[h.origin] { v[h.origin] = h.seq }
        return v
    }

    public var json: JSONValue {
        .object([
            "city": .string(city.rawValue),
            "digest": .string(digest),
            "entries": .int(entries),
            "forks": .int(forks),
            "format": .string(SyncAPI.version),
            "heads": .array(heads.map { .array([.string($0.origin.rawValue), .int($0.seq), .string($0.id.hex)]) }),
        ])
    }

    public var encoded: [UInt8] { CanonicalJSON.encode(json) }

    public static func decode(_ bytes: [UInt8]) throws(SyncProtocolError) -> PeerHeads {
        try decode(object: SyncAPI.parse(bytes, what: "heads message"))
    }

    static func decode(object o: [String: JSONValue]) throws(SyncProtocolError) -> PeerHeads {
        guard o["format"]?.stringValue == SyncAPI.version else {
            throw .unsupported("peer speaks \(o["format"]?.stringValue ?? "an unknown protocol"), this node \(SyncAPI.version)")
        }
        guard let c = o["city"]?.stringValue, let city = CityID(c) else { throw .malformed("heads: city must be a city id") }
        guard let digest = o["digest"]?.stringValue, digest.utf8.count == 64, Hex.decode(digest) != nil else {
            throw .malformed("heads: digest must be 64 hex digits")
        }
        guard let entries = o["entries"]?.intValue, entries >= 0 else { throw .malformed("heads: entries must be an integer ≥ 0") }
        guard let forks = o["forks"]?.intValue, forks >= 0 else { throw .malformed("heads: forks must be an integer ≥ 0") }
        guard let list = o["heads"]?.arrayValue, list.count <= SyncAPI.maxHeads else {
            throw .malformed("heads: heads must be an array of at most \(SyncAPI.maxHeads) items")
        }
        var heads = [Head]()
        for (i, item) in list.enumerated() {
            // Heads are per chain (§15): a later generation's chain id (`sofia~2`) is one.
            guard let a = item.arrayValue, a.count == 3, let o = a[0].stringValue.flatMap(CityID.chain),
                  let seq = a[1].intValue, seq >= 1, let idText = a[2].stringValue, let id = EntryID(hex: idText) else {
                throw .malformed("heads: item \(i + 1) must be [chain id, seq ≥ 1, 64 hex digits]")
            }
            heads.append(Head(origin: o, seq: seq, id: id))
        }
        return PeerHeads(city: city, heads: heads, digest: digest.lowercased(), entries: entries, forks: forks)
    }
}

/// `POST /v1/pull`: "send me what I lack": the caller's version vector and page bounds.
public struct PullRequest: Sendable, Hashable {
    public let have: VectorClock
    public let limit: Int
    public let maxBytes: Int

    public static let defaultLimit = 2_000
    public static let defaultMaxBytes = 4 << 20
    public static let maxLimit = 20_000
    public static let maxMaxBytes = 16 << 20

    public init(have: VectorClock, limit: Int = PullRequest.defaultLimit, maxBytes: Int = PullRequest.defaultMaxBytes) {
        self.have = have
        self.limit = min(max(1, limit), PullRequest.maxLimit)
        self.maxBytes = min(max(Entry.maxBodyBytes + 128, maxBytes), PullRequest.maxMaxBytes)
    }

    public var encoded: [UInt8] {
        CanonicalJSON.encode(.object(["have": have.json, "limit": .int(Int64(limit)), "max_bytes": .int(Int64(maxBytes))]))
    }

    /// Decodes a request; out-of-range bounds are clamped to what the server allows.
    public static func decode(_ bytes: [UInt8]) throws(SyncProtocolError) -> PullRequest {
        let o = try SyncAPI.parse(bytes, what: "pull request")
        guard case .object(let h)? = o["have"], h.count <= SyncAPI.maxHeads else {
            throw .malformed("pull: have must be an object of city id → seq")
        }
        var have = VectorClock()
        for (k, v) in h {
            guard let city = CityID.chain(k), let n = v.intValue, n >= 0 else { throw .malformed("pull: have[\"\(k)\"] must be a chain id → integer ≥ 0") }
            have[city] = n
        }
        func bound(_ key: String, _ d: Int) throws(SyncProtocolError) -> Int {
            guard let v = o[key] else { return d }
            guard let n = v.intValue, n >= 1 else { throw .malformed("pull: \(key) must be an integer ≥ 1") }
            return Int(min(n, Int64(Int32.max)))
        }
        return PullRequest(have: have, limit: try bound("limit", defaultLimit), maxBytes: try bound("max_bytes", defaultMaxBytes))
    }
}

/// `POST /v1/entries`: fetch entries by id (fork evidence, and `audit --peers`).
public struct IDsRequest: Sendable, Hashable {
    public let ids: [EntryID]
    public init(ids: [EntryID]) { self.ids = ids }

    public var encoded: [UInt8] { CanonicalJSON.encode(.object(["ids": .array(ids.map { .string($0.hex) })])) }

    public static func decode(_ bytes: [UInt8]) throws(SyncProtocolError) -> IDsRequest {
        let o = try SyncAPI.parse(bytes, what: "entries request")
        return IDsRequest(ids: try SyncAPI.entryIDs(o, "ids", max: SyncAPI.maxIDs, route: "entries"))
    }
}

/// `GET /v1/forks`: every entry the node holds at a forked (origin, seq).
public struct ForkList: Sendable, Hashable {
    public let entries: [Head]
    public init(entries: [Head]) { self.entries = entries.sorted() }

    public var encoded: [UInt8] {
        CanonicalJSON.encode(.object(["forks": .array(entries.map { .array([.string($0.origin.rawValue), .int($0.seq), .string($0.id.hex)]) })]))
    }

    public static func decode(_ bytes: [UInt8]) throws(SyncProtocolError) -> ForkList {
        let o = try SyncAPI.parse(bytes, what: "fork list")
        guard let list = o["forks"]?.arrayValue, list.count <= SyncAPI.maxHeads else { throw .malformed("forks: must be an array") }
        var out = [Head]()
        for (i, item) in list.enumerated() {
            guard let a = item.arrayValue, a.count == 3, let c = a[0].stringValue.flatMap(CityID.chain),
                  let seq = a[1].intValue, seq >= 1, let s = a[2].stringValue, let id = EntryID(hex: s) else {
                throw .malformed("forks: item \(i + 1) must be [chain id, seq ≥ 1, 64 hex digits]")
            }
            out.append(Head(origin: c, seq: seq, id: id))
        }
        return ForkList(entries: out)
    }
}

/// The answer to `POST /v1/push`: what the receiver did with each entry, and its heads after.
public struct PushResult: Sendable, Hashable {
    /// One entry not stored, with a stable code and a sentence.
    public struct Refusal: Sendable, Hashable {
        public let index: Int
        public let code: String
        public let message: String
        public init(index: Int, code: String, message: String) {
            self.index = index
            self.code = code
            self.message = message
        }
    }

    public let inserted: Int
    public let duplicates: Int
    public let forks: Int
    public let refused: [Refusal]
    public let heads: PeerHeads

    public init(inserted: Int, duplicates: Int, forks: Int, refused: [Refusal], heads: PeerHeads) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.forks = forks
        self.refused = refused
        self.heads = heads
    }

    public var encoded: [UInt8] {
        CanonicalJSON.encode(.object([
            "duplicates": .int(Int64(duplicates)), "forks": .int(Int64(forks)), "heads": heads.json, "inserted": .int(Int64(inserted)),
            "refused": .array(refused.prefix(100).map {
                .object(["code": .string($0.code), "index": .int(Int64($0.index)), "message": .string($0.message)])
            }),
        ]))
    }

    public static func decode(_ bytes: [UInt8]) throws(SyncProtocolError) -> PushResult {
        let o = try SyncAPI.parse(bytes, what: "push result")
        guard let inserted = o["inserted"]?.intValue, let duplicates = o["duplicates"]?.intValue, let forks = o["forks"]?.intValue,
              inserted >= 0, duplicates >= 0, forks >= 0 else {
            throw .malformed("push result: inserted, duplicates and forks must be integers ≥ 0")
        }
        guard case .object(let h)? = o["heads"] else { throw .malformed("push result: heads must be an object") }
        var refused = [Refusal]()
        for item in o["refused"]?.arrayValue ?? [] {
            guard let r = item.objectValue, let i = r["index"]?.intValue, let c = r["code"]?.stringValue, let m = r["message"]?.stringValue else {
                throw .malformed("push result: each refusal must have index, code and message")
            }
            refused.append(Refusal(index: Int(i), code: c, message: m))
        }
        return PushResult(
            inserted: Int(inserted), duplicates: Int(duplicates), forks: Int(forks), refused: refused, heads: try PeerHeads.decode(object: h))
    }
}

/// `POST /v1/content`: the contents (§14) of these entries, as the server holds them.
public struct ContentRequest: Sendable, Hashable {
    public let entries: [EntryID]
    public init(entries: [EntryID]) { self.entries = entries }

    public var encoded: [UInt8] { CanonicalJSON.encode(.object(["entries": .array(entries.map { .string($0.hex) })])) }

    public static func decode(_ bytes: [UInt8]) throws(SyncProtocolError) -> ContentRequest {
        let o = try SyncAPI.parse(bytes, what: "content request")
        return ContentRequest(entries: try SyncAPI.entryIDs(o, "entries", max: ProtocolLimits.maxContentItems, route: "content"))
    }
}

/// Contents in a message: the answer to `POST /v1/content` and the body of
/// `POST /v1/content/push`, `{"content":[CONTENT,…]}`.
public struct ContentList: Sendable, Hashable {
    public let content: [PersonalContent]
    public init(content: [PersonalContent]) { self.content = content }

    public var encoded: [UInt8] { CanonicalJSON.encode(.object(["content": .array(content.map(\.json))])) }

    /// Reads at most `maxItems` contents. A content that is not of §14's form makes the
    /// whole message malformed (what a content says is checked when it is stored).
    public static func decode(_ bytes: [UInt8], maxItems: Int) throws(SyncProtocolError) -> ContentList {
        let o = try SyncAPI.parse(bytes, what: "content list", maxBytes: ProtocolLimits.maxContentMessageBytes)
        guard let list = o["content"]?.arrayValue, list.count <= maxItems else {
            throw .malformed("content: must be an array of at most \(maxItems) contents")
        }
        var out = [PersonalContent]()
        for (i, v) in list.enumerated() {
            do { out.append(try PersonalContent(json: v)) } catch { throw .malformed("content[\(i)]: \(error)") }
        }
        return ContentList(content: out)
    }
}

/// The answer to `POST /v1/content/push`: how many contents were stored or already held,
/// and each one not stored with its position and code (§10).
public struct ContentPushResult: Sendable, Hashable {
    public let stored: Int
    public let held: Int
    public let refused: [PushResult.Refusal]

    public init(stored: Int, held: Int, refused: [PushResult.Refusal]) {
        self.stored = stored
        self.held = held
        self.refused = refused
    }

    public var encoded: [UInt8] {
        CanonicalJSON.encode(.object([
            "held": .int(Int64(held)), "stored": .int(Int64(stored)),
            "refused": .array(refused.prefix(100).map {
                .object(["code": .string($0.code), "index": .int(Int64($0.index)), "message": .string($0.message)])
            }),
        ]))
    }

    public static func decode(_ bytes: [UInt8]) throws(SyncProtocolError) -> ContentPushResult {
        let o = try SyncAPI.parse(bytes, what: "content push result")
        guard let stored = o["stored"]?.intValue, let held = o["held"]?.intValue, stored >= 0, held >= 0,
              stored <= Int64(ProtocolLimits.maxContentItems), held <= Int64(ProtocolLimits.maxContentItems) else {
            throw .malformed("content push result: stored and held must be integers 0 … \(ProtocolLimits.maxContentItems)")
        }
        guard let list = o["refused"]?.arrayValue, list.count <= 100 else {
            throw .malformed("content push result: refused must be an array of at most 100 items")
        }
        var refused = [PushResult.Refusal]()
        for item in list {
            guard let r = item.objectValue, let i = r["index"]?.intValue, i >= 0, i < Int64(ProtocolLimits.maxContentItems),
                  let c = r["code"]?.stringValue, let m = r["message"]?.stringValue else {
                throw .malformed("content push result: each refusal must have index, code and message")
            }
            refused.append(PushResult.Refusal(index: Int(i), code: c, message: m))
        }
        return ContentPushResult(stored: Int(stored), held: Int(held), refused: refused)
    }
}

/// The body of every error response of the API: a stable code and a sentence.
public struct APIErrorBody: Sendable, Hashable {
    public let code: String
    public let message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var encoded: [UInt8] {
        CanonicalJSON.encode(.object(["error": .object(["code": .string(code), "message": .string(message)])]))
    }

    /// Reads an error body; `nil` if the bytes are not one (a proxy's HTML page, say).
    public static func decode(_ bytes: [UInt8]) -> APIErrorBody? {
        guard case .object(let o)? = try? JSONParser.parse(bytes, limits: JSONLimits(maxDepth: 4, maxBytes: 64 << 10)),
              let e = o["error"]?.objectValue, let code = e["code"]?.stringValue, let message = e["message"]?.stringValue else { return nil }
        return APIErrorBody(code: code, message: message)
    }
}
