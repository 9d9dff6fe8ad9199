/// What an entry says about a practice.
public enum EntryKind: String, Sendable, Hashable, CaseIterable {
    /// A city publishes a new practice; the entry's id becomes the practice id.
    case publish
    /// The publishing city replaces a practice's fields.
    case revise
    /// The publishing city withdraws a practice.
    case retract
    /// Another city records that it adopted or adapted the practice.
    case adopt
    /// The city replaces its signing key (format `c4csr/2`, docs/PROTOCOL.md §12).
    case rotate
    /// The city enrols or removes an officer (format `c4csr/2`, §13).
    case officer
    /// The publishing city erases personal fields of its practice (`c4csr/2`, §14).
    case erase
    /// A city confirms that it no longer holds what an erasure erased (`c4csr/2`, §14).
    case ack
    /// A city agrees to a motion: admitting a city, or recovering one (`c4csr/2`, §15).
    case vouch
    /// A city joins or leaves the network (`c4csr/2`, §15).
    case member
    /// The first entry of a city's new generation, with the key the members gave it (`c4csr/2`, §15).
    case recover

    /// `true` for the kinds the practice rules read (§6).
    public var isPractice: Bool {
        switch self {
        case .publish, .revise, .retract, .adopt: true
        case .rotate, .officer, .erase, .ack, .vouch, .member, .recover: false
        }
    }

    /// `true` for the kinds of §15, whose payload names the network.
    public var isMembership: Bool {
        switch self {
        case .vouch, .member, .recover: true
        case .publish, .revise, .retract, .adopt, .rotate, .officer, .erase, .ack: false
        }
    }

    /// The oldest format that can carry this kind: a city writes `c4csr/1` whenever it
    /// can, so that a version-1 node keeps reading it.
    public var format: EntryFormat {
        switch self {
        case .publish, .revise, .retract, .adopt: .v1
        case .rotate, .officer, .erase, .ack, .vouch, .member, .recover: .v2
        }
    }
}

/// The entry formats this version reads (docs/PROTOCOL.md, Versioning).
public enum EntryFormat: String, Sendable, Hashable, CaseIterable {
    case v1 = "c4csr/1"
    case v2 = "c4csr/2"

    /// 1, 2, …: a format reads every kind of the formats before it.
    public var number: Int {
        switch self {
        case .v1: 1
        case .v2: 2
        }
    }
}

/// One entry of a city's log, exactly as signed by its origin.
///
/// `body` is the canonical JSON the origin serialised once (see docs/PROTOCOL.md);
/// `signature` is Ed25519 over exactly `body`; `id` is SHA-256 of `body`. The other
/// properties are read from `body` and never written back: nothing is re-serialised.
public struct Entry: Sendable, Hashable, CustomStringConvertible {
    /// The largest body accepted (bytes).
    public static let maxBodyBytes = ProtocolLimits.maxBodyBytes
    /// The deepest JSON nesting accepted in a body.
    public static let maxBodyDepth = ProtocolLimits.maxBodyDepth

    public let id: EntryID
    public let body: [UInt8]
    public let signature: [UInt8]
    /// The format the body declares; its decoder read the other members.
    public let format: EntryFormat
    public let origin: CityID
    public let seq: Int64
    public let prev: EntryID?
    public let clock: VectorClock
    /// Milliseconds since the Unix epoch on the origin's wall clock. Informational
    /// only: ordering uses `clock`, never `time`.
    public let time: Int64
    public let kind: EntryKind
    /// The kind-specific payload, always a JSON object.
    public let payload: JSONValue
    /// The officer who wrote a practice entry and signed its content (§13); `nil` when
    /// the city key alone speaks.
    public let author: Author?

    public var description: String { "\(origin)#\(seq) \(kind.rawValue) \(id.short)" }

    /// The merged-order key: sum of the clock, then origin, then seq, then id.
    public var orderKey: MergedOrderKey { MergedOrderKey(rank: clock.sum, origin: origin, seq: seq, id: id) }

    /// Decodes and checks the envelope of a signed entry. Does not verify the
    /// signature (that needs the origin's key: see `EntryVerifier`).
    ///
    /// The steps every format shares come first (size, JSON, an object, its `format`);
    /// then the format's own decoder reads the members. A format this version does not
    /// know is refused as unsupported, whatever members it has.
    ///
    /// - Throws: `EntryError` naming what is wrong: size, JSON, format, a field, or a
    ///   body that is not in canonical form.
    public static func decode(body: [UInt8], signature: [UInt8]) throws(EntryError) -> Entry {
        guard body.count <= maxBodyBytes else { throw .tooLarge(body.count) }
        guard signature.count == 64 else { throw .malformed("signature must be 64 bytes, found \(signature.count)") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body, limits: JSONLimits(maxDepth: maxBodyDepth, maxBytes: maxBodyBytes))
        } catch {
            throw .malformed("body is not valid JSON (\(error))")
        }
        guard case .object(let members) = value else { throw .malformed("body must be a JSON object") }
        guard let formatValue = members["format"] else { throw .malformed("body has no format member") }
        guard let formatText = formatValue.stringValue, let format = EntryFormat(rawValue: formatText) else {
            throw .unsupportedFormat(formatValue.stringValue ?? formatValue.typeName)
        }
        let entry: Entry
        switch format {
        case .v1, .v2: entry = try ChainFormat.decode(members, format: format, body: body, signature: signature)
        }
        // Exactly one byte sequence per entry: reject any other spelling of the same JSON,
        // so that no two parsers can disagree about what was signed.
        guard CanonicalJSON.isCanonical(body) else { throw .notCanonical }
        return entry
    }
}

/// The decoder of formats `c4csr/1` (docs/PROTOCOL.md §1) and `c4csr/2` (§12–§15):
/// exactly eight members; `c4csr/2` adds the kinds `rotate`, `officer`, `erase`, `ack`,
/// `vouch`, `member` and `recover`, an optional ninth member, `author`, on practice
/// kinds, and chain ids of later generations (`sofia~2`) in `origin` and the clock.
enum ChainFormat {
    static let members: Set<String> = ["clock", "format", "kind", "origin", "payload", "prev", "seq", "time"]

    static func decode(_ o: [String: JSONValue], format: EntryFormat, body: [UInt8], signature: [UInt8]) throws(EntryError) -> Entry {
        var keys = Set(o.keys)
        if format.number >= 2, keys.contains("author") { keys.remove("author") }
        if keys != members {
            let missing = members.subtracting(keys).sorted()
            let extra = keys.subtracting(members).sorted()
            var parts = [String]()
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !extra.isEmpty { parts.append("unknown \(extra.joined(separator: ", "))") }
            throw .malformed("body fields: " + parts.joined(separator: "; "))
        }
        // A chain of generation 2 or later is named only in c4csr/2 (§15).
        let chains = format.number >= 2
        func chainID(_ text: String) -> CityID? { chains ? CityID.chain(text) : CityID(text) }
        let idRule = chains ? "a chain id (\(CityID.rule); a later generation's adds ~2 … ~\(CityID.maxGeneration))" : "a city id (\(CityID.rule))"
        guard let originText = o["origin"]?.stringValue, let origin = chainID(originText) else {
            throw .malformed("origin must be \(idRule)")
        }
        guard let seq = o["seq"]?.intValue, seq >= 1 else { throw .malformed("seq must be an integer ≥ 1") }
        let prev: EntryID?
        switch o["prev"]! {
        case .null:
            guard seq == 1 else { throw .malformed("prev is null but seq is \(seq); only seq 1 has no predecessor") }
            prev = nil
        case .string(let s):
            guard seq > 1 else { throw .malformed("seq 1 must have prev null") }
            guard s.utf8.count == 64, s == s.lowercased(), let id = EntryID(hex: s) else {
                throw .malformed("prev must be 64 lowercase hex digits")
            }
            prev = id
        default:
            throw .malformed("prev must be null or a string")
        }
        guard case .object(let clockObject) = o["clock"]! else { throw .malformed("clock must be an object") }
        guard clockObject.count <= ProtocolLimits.maxClockComponents else {
            throw .outOfRange("clock has \(clockObject.count) components; the limit is \(ProtocolLimits.maxClockComponents)")
        }
        var components = [CityID: Int64]()
        for (k, v) in clockObject {
            guard let city = chainID(k) else { throw .malformed("clock key \"\(k)\" is not \(idRule)") }
            guard let n = v.intValue, n >= 1 else { throw .malformed("clock[\(k)] must be an integer ≥ 1") }
            components[city] = n
        }
        let clock = VectorClock(components)
        guard clock[origin] == seq else { throw .malformed("clock[\(origin)] must equal seq (\(seq)), found \(clock[origin])") }
        guard let time = o["time"]?.intValue, time >= 0 else { throw .malformed("time must be an integer ≥ 0 (milliseconds)") }
        let kinds = EntryKind.allCases.filter { $0.format.number <= format.number }
        guard let kindText = o["kind"]?.stringValue, let kind = EntryKind(rawValue: kindText), kinds.contains(kind) else {
            throw .malformed("kind must be one of \(kinds.map(\.rawValue).joined(separator: ", ")) in format \(format.rawValue)")
        }
        guard case .object(let payload) = o["payload"]! else { throw .malformed("payload must be an object") }
        if kind == .rotate {
            guard seq > 1 else { throw .malformed("a rotate cannot be a chain's first entry (the peer card names the founding key)") }
            _ = try Rotation(payload)
        }
        if kind == .officer { _ = try OfficerChange(payload) }
        // §15: seq 1 of a later generation's chain is its recover, and a recover is only that.
        if kind.isMembership {
            _ = try MembershipStatement.decode(kind: kind.rawValue, payload: payload, origin: origin, seq: seq)
        } else if origin.generation > 1, seq == 1 {
            throw .malformed("the entry at seq 1 of \(origin) must be a recover (a later generation starts with its recovery)")
        }
        var author: Author?
        if let value = o["author"] {
            guard kind.isPractice else { throw .malformed("only a practice entry (publish, revise, retract, adopt) may have an author") }
            author = try Author(value)
        }
        return Entry(
            id: EntryID.of(body: body), body: body, signature: signature, format: format, origin: origin, seq: seq,
            prev: prev, clock: clock, time: time, kind: kind, payload: o["payload"]!, author: author)
    }
}

/// The fields of an entry before it is serialised and signed.
public struct EntryDraft: Sendable {
    public var origin: CityID
    public var seq: Int64
    public var prev: EntryID?
    public var clock: VectorClock
    public var time: Int64
    public var kind: EntryKind
    public var payload: [String: JSONValue]
    /// The officer who wrote the content and signed it (§13); `nil`: the city alone.
    public var author: Author?

    public init(
        origin: CityID, seq: Int64, prev: EntryID?, clock: VectorClock, time: Int64, kind: EntryKind, payload: [String: JSONValue],
        author: Author? = nil
    ) {
        self.origin = origin
        self.seq = seq
        self.prev = prev
        self.clock = clock
        self.time = time
        self.kind = kind
        self.payload = payload
        self.author = author
    }

    /// The oldest format that carries this draft: an author, a sealed field (§14) or a
    /// chain of a later generation in its origin or clock (§15) needs `c4csr/2`.
    public var format: EntryFormat {
        let laterGeneration = origin.generation > 1 || clock.components.keys.contains { $0.generation > 1 }
        return author != nil || laterGeneration || Seal.occurs(in: payload) ? .v2 : kind.format
    }

    /// Serialises the draft once, in canonical form, and signs those bytes.
    /// - Throws: `EntryError` if the draft is not a valid entry (the same checks a receiver makes).
    public func sign(with key: CitySigningKey) throws(EntryError) -> Entry {
        let body = self.body
        return try Entry.decode(body: body, signature: key.signature(for: body))
    }

    /// The canonical bytes this draft serialises to: what `sign` signs.
    public var body: [UInt8] {
        var members: [String: JSONValue] = [
            "clock": clock.json,
            "format": .string(format.rawValue),
            "kind": .string(kind.rawValue),
            "origin": .string(origin.rawValue),
            "payload": .object(payload),
            "prev": prev.map { .string($0.hex) } ?? .null,
            "seq": .int(seq),
            "time": .int(time),
        ]
        if let author { members["author"] = author.json }
        return CanonicalJSON.encode(.object(members))
    }
}

/// Why an entry's envelope or signature is not acceptable.
public struct EntryError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable, Hashable, CaseIterable {
        case tooLarge = "entry_too_large"
        case malformed = "entry_malformed"
        case notCanonical = "entry_not_canonical"
        case unsupportedFormat = "entry_unsupported_format"
        case outOfRange = "entry_out_of_range"
        case unknownOrigin = "entry_unknown_origin"
        case badSignature = "entry_bad_signature"
        case badAuthor = "entry_bad_author"
        case unknownNetwork = "entry_unknown_network"
    }
    private let code: Code
    public let message: String

    /// Every code, for metrics present from zero.
    public static var codeNames: [String] { Code.allCases.map(\.rawValue) }

    /// A stable machine-readable code (`entry_bad_signature`, …).
    public var codeName: String { code.rawValue }
    public var description: String { message }

    public static func tooLarge(_ n: Int) -> EntryError {
        EntryError(code: .tooLarge, message: "entry body is \(n) bytes; the limit is \(Entry.maxBodyBytes)")
    }
    public static func malformed(_ why: String) -> EntryError { EntryError(code: .malformed, message: "malformed entry: \(why)") }
    /// A value beyond a bound of `ProtocolLimits`.
    public static func outOfRange(_ why: String) -> EntryError { EntryError(code: .outOfRange, message: "entry out of range: \(why)") }
    public static var notCanonical: EntryError {
        EntryError(code: .notCanonical, message: "entry body is not in canonical JSON form (docs/PROTOCOL.md §2)")
    }
    public static func unsupportedFormat(_ f: String) -> EntryError {
        EntryError(code: .unsupportedFormat, message: "entry format \"\(f)\" is not supported (this version reads \(EntryFormat.allCases.map(\.rawValue).joined(separator: ", ")); upgrade c4csr)")
    }
    public static func unknownOrigin(_ c: CityID) -> EntryError {
        EntryError(code: .unknownOrigin, message: "no public key is known for city \(c) (add its peer card)")
    }
    /// A membership entry (§15) naming a network other than this node's, or reaching a
    /// node that has no charter: it waits, as an entry of an unknown origin does.
    public static func unknownNetwork(_ named: String, ours: String?) -> EntryError {
        let why = ours.map { "this node's network is \(String($0.prefix(12)))… (network.toml)" }
            ?? "this node has no network charter (install the network's network.toml beside the peer cards)"
        return EntryError(code: .unknownNetwork, message: "the entry names network \(String(named.prefix(12)))…; \(why)")
    }
    public static func badSignature(_ c: CityID, rotated: Bool = false, proof: Bool = false) -> EntryError {
        if proof {
            return EntryError(code: .badSignature, message: "the rotation's proof does not verify with the new key it names")
        }
        return EntryError(
            code: .badSignature,
            message: rotated ? "signature does not verify with \(c)'s key in force (the key its last rotation named)" : "signature does not verify with \(c)'s public key")
    }

    /// An author who is not an officer in force at the entry, or whose signature does
    /// not verify; an officer change the roll in force does not allow (§13).
    public static func badAuthor(_ why: String) -> EntryError { EntryError(code: .badAuthor, message: "bad author: \(why)") }

    public var isBadSignature: Bool { code == .badSignature }
    public var isUnknownOrigin: Bool { code == .unknownOrigin }
    public var isUnknownNetwork: Bool { code == .unknownNetwork }
}

/// Checks a decoded entry's signature with its origin's key in force (docs/PROTOCOL.md
/// §12), a rotation's proof, and an officer entry or an author against the officers in
/// force (§13). Pure and thread-safe: callers verify many entries in parallel, once
/// `KeysInForce` has told each entry its chain's state.
public struct EntryVerifier: Sendable {
    /// The founding keys: the `public_key` of each city's peer card.
    public let keys: [CityID: CityPublicKey]
    /// The network id of this node's charter (§15), which a membership entry must name;
    /// `nil`: no charter, and every membership entry waits.
    public let network: String?

    public init(keys: [CityID: CityPublicKey], network: String? = nil) {
        self.keys = keys
        self.network = network
    }

    /// The key that verifies an entry of chain `origin` whose key in force is `rotated`
    /// (`nil`: no rotation and no recovery in its past, so the founding key on the card of
    /// the chain's city). A city with no card here is unknown whatever its chains rotated
    /// or recovered to: removing a card stops trust.
    public func key(for origin: CityID, rotated: CityPublicKey?) throws(EntryError) -> CityPublicKey {
        guard let founding = keys[origin.city] else { throw .unknownOrigin(origin.city) }
        return rotated ?? founding
    }

    /// Verifies `entry` at a position whose state in force is `inForce`: its signature
    /// with the key in force, a rotation's proof, an officer change against the roll,
    /// an author's signature with the key the roll gives that officer.
    /// - Returns: the key that verified it (what `MergePlanner` checks against the log).
    @discardableResult
    public func verify(_ entry: Entry, inForce: ChainState) throws(EntryError) -> CityPublicKey {
        let key = try key(for: entry.origin, rotated: inForce.key)
        guard key.isValidSignature(entry.signature, for: entry.body) else { throw .badSignature(entry.origin, rotated: inForce.key != nil) }
        if let named = entry.membership?.network, named != network { throw .unknownNetwork(named, ours: network) }
        if let rotation = entry.rotation, !rotation.isProven(for: entry) {
            throw .badSignature(entry.origin, proof: true)
        }
        if let change = entry.officerChange, let refusal = inForce.officers.refusal(of: change) { throw refusal }
        if let author = entry.author {
            guard let officerKey = inForce.officers.keys[author.officer] else {
                throw .badAuthor("officer \(author.officer) is not enrolled in \(entry.origin) at \(entry.origin)#\(entry.seq)")
            }
            guard officerKey.isValidSignature(author.signature, for: Author.contentMessage(of: entry, officer: author.officer)) else {
                throw .badAuthor("the signature of officer \(author.officer) does not verify over the entry's content")
            }
        }
        return key
    }
}
