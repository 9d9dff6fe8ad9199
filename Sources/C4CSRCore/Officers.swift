import Foundation

/// An officer's id within one city (docs/PROTOCOL.md §13): the same rule as a city id.
public struct OfficerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ rawValue: String) {
        guard CityID.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    public static let rule = CityID.rule
    public static func < (a: OfficerID, b: OfficerID) -> Bool { a.rawValue.utf8.lexicographicallyPrecedes(b.rawValue.utf8) }
    public var description: String { rawValue }
}

/// The `author` member of a `c4csr/2` practice entry (§13): which officer wrote the
/// content, and their signature over it.
public struct Author: Sendable, Hashable {
    public let officer: OfficerID
    public let signature: [UInt8]

    public init(officer: OfficerID, signature: [UInt8]) {
        self.officer = officer
        self.signature = signature
    }

    /// Reads an `author` member: exactly `officer` (an officer id) and `sig` (64 bytes, base64).
    init(_ value: JSONValue) throws(EntryError) {
        guard case .object(let o) = value, Set(o.keys) == ["officer", "sig"] else {
            throw .malformed("author must be an object with exactly the members officer and sig")
        }
        guard let text = o["officer"]?.stringValue, let officer = OfficerID(text) else {
            throw .malformed("author officer must be an officer id (\(OfficerID.rule))")
        }
        guard let sigText = o["sig"]?.stringValue, let sig = Data(base64Encoded: sigText), sig.count == 64,
              sig.base64EncodedString() == sigText else {
            throw .malformed("author sig must be the standard base64 of a 64-byte signature")
        }
        self.init(officer: officer, signature: Array(sig))
    }

    var json: JSONValue {
        .object(["officer": .string(officer.rawValue), "sig": .string(Data(signature).base64EncodedString())])
    }

    /// What an officer signs (§13): `c4csr-content\n` and the canonical JSON of
    /// `{"city", "kind", "officer", "payload", "time"}`. It binds what was written, by
    /// whom, for which city and when; the city's own signature binds the position.
    public static func contentMessage(city: CityID, kind: EntryKind, officer: OfficerID, payload: [String: JSONValue], time: Int64) -> [UInt8] {
        let content: JSONValue = .object([
            "city": .string(city.rawValue), "kind": .string(kind.rawValue), "officer": .string(officer.rawValue),
            "payload": .object(payload), "time": .int(time),
        ])
        return Array("c4csr-content\n".utf8) + CanonicalJSON.encode(content)
    }

    /// The content message of `entry` as its author signed it.
    public static func contentMessage(of entry: Entry, officer: OfficerID) -> [UInt8] {
        guard case .object(let payload) = entry.payload else { return [] }
        return contentMessage(city: entry.origin, kind: entry.kind, officer: officer, payload: payload, time: entry.time)
    }
}

/// What an `officer` entry does (§13): enrol an officer with a key (or give an enrolled
/// officer a new one), or remove one.
public enum OfficerChange: Sendable, Hashable {
    case enrol(OfficerID, CityPublicKey)
    case remove(OfficerID)

    public var officer: OfficerID {
        switch self {
        case .enrol(let o, _), .remove(let o): o
        }
    }

    /// Reads an `officer` payload: `{"action": "enrol", "key", "officer"}` or
    /// `{"action": "remove", "officer"}`, exactly.
    public init(_ payload: [String: JSONValue]) throws(EntryError) {
        guard let officerText = payload["officer"]?.stringValue, let officer = OfficerID(officerText) else {
            throw .malformed("officer payload: officer must be an officer id (\(OfficerID.rule))")
        }
        switch payload["action"]?.stringValue {
        case "enrol":
            guard Set(payload.keys) == ["action", "key", "officer"] else {
                throw .malformed("an officer enrol payload has exactly the members action, key and officer")
            }
            guard let text = payload["key"]?.stringValue, let key = CityPublicKey(base64: text), key.base64 == text else {
                throw .malformed("officer key must be the standard base64 of an acceptable Ed25519 public key (docs/PROTOCOL.md §3)")
            }
            self = .enrol(officer, key)
        case "remove":
            guard Set(payload.keys) == ["action", "officer"] else {
                throw .malformed("an officer remove payload has exactly the members action and officer")
            }
            self = .remove(officer)
        default:
            throw .malformed("officer payload: action must be \"enrol\" or \"remove\"")
        }
    }

    public var payload: [String: JSONValue] {
        switch self {
        case .enrol(let o, let key): ["action": .string("enrol"), "key": .string(key.base64), "officer": .string(o.rawValue)]
        case .remove(let o): ["action": .string("remove"), "officer": .string(o.rawValue)]
        }
    }
}

extension Entry {
    /// The change an `officer` entry makes (its payload was checked when it was decoded).
    public var officerChange: OfficerChange? {
        guard kind == .officer, case .object(let p) = payload else { return nil }
        return try? OfficerChange(p)
    }
}

/// The officers in force at a position of a chain (§13): each enrolled officer's key.
public struct OfficerRoll: Sendable, Hashable {
    public private(set) var keys: [OfficerID: CityPublicKey]

    public init(_ keys: [OfficerID: CityPublicKey] = [:]) { self.keys = keys }

    public static let empty = OfficerRoll()
    public var isEmpty: Bool { keys.isEmpty }

    /// Why `change` cannot be made to this roll, or `nil` when it can.
    public func refusal(of change: OfficerChange) -> EntryError? {
        switch change {
        case .enrol(let o, _):
            if keys[o] == nil, keys.count >= ProtocolLimits.maxOfficers {
                return .outOfRange("\(keys.count) officers are enrolled; the limit is \(ProtocolLimits.maxOfficers) (remove one first)")
            }
        case .remove(let o):
            if keys[o] == nil { return .badAuthor("officer \(o) is not enrolled at this position, so cannot be removed") }
        }
        return nil
    }

    /// The roll after `change` (checked with `refusal` first).
    public func applying(_ change: OfficerChange) -> OfficerRoll {
        var next = self
        switch change {
        case .enrol(let o, let key): next.keys[o] = key
        case .remove(let o): next.keys[o] = nil
        }
        return next
    }

    /// Canonical bytes (the store keeps a roll once, by these): `{"officer": key, …}`.
    public var canonical: [UInt8] {
        CanonicalJSON.encode(.object(Dictionary(uniqueKeysWithValues: keys.map { ($0.key.rawValue, JSONValue.string($0.value.base64)) })))
    }

    /// Reads `canonical` back; `nil` if it is not a roll.
    public init?(canonical: [UInt8]) {
        guard case .object(let o)? = try? JSONParser.parse(canonical, limits: JSONLimits(maxDepth: 2, maxBytes: 1 << 20)) else { return nil }
        var keys = [OfficerID: CityPublicKey]()
        for (k, v) in o {
            guard let id = OfficerID(k), let text = v.stringValue, let key = CityPublicKey(base64: text) else { return nil }
            keys[id] = key
        }
        self.keys = keys
    }
}

/// What a chain has in force at one position (§12, §13): the city's key (`nil`: the
/// founding key on its card) and the officers enrolled. A function of the position's
/// ancestry only, so every node derives the same.
public struct ChainState: Sendable, Hashable {
    public var key: CityPublicKey?
    public var officers: OfficerRoll

    public init(key: CityPublicKey? = nil, officers: OfficerRoll = .empty) {
        self.key = key
        self.officers = officers
    }

    /// A generation-1 chain's state before its first entry: the key on the city's card,
    /// no officers.
    public static let founding = ChainState()
    public var isFounding: Bool { key == nil && officers.isEmpty }

    /// The state in force at a chain's first entry: for a later generation's chain, whose
    /// first entry is its `recover` (§15), the key the recovery names and no officers; for
    /// the city's first chain, the founding state.
    public static func start(of entry: Entry) -> ChainState {
        guard case .recover(let r)? = entry.membership?.statement else { return .founding }
        return ChainState(key: r.key)
    }

    /// The state after `entry`, whose state in force is `self` (the entry verified).
    public func after(_ entry: Entry) -> ChainState {
        var next = self
        if let r = entry.rotation { next.key = r.key }
        if let c = entry.officerChange, officers.refusal(of: c) == nil { next.officers = officers.applying(c) }
        return next
    }
}
