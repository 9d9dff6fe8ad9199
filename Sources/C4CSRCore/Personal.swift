import Crypto
import Foundation

/// A practice field that may hold personal data, and so may be sealed (docs/PROTOCOL.md
/// §14): signed as a salted commitment, its value kept beside the entry, erasable.
public enum PersonalField: String, Sendable, Hashable, CaseIterable, Comparable {
    case area, challenge, contact, outcomes, summary

    /// The longest value, in Unicode scalars (§6).
    var maxLength: Int {
        switch self {
        case .area, .contact: Practice.maxItem
        case .challenge, .outcomes, .summary: Practice.maxText
        }
    }

    /// Whether a value may hold line breaks (§6).
    var multiline: Bool {
        switch self {
        case .area, .contact: false
        case .challenge, .outcomes, .summary: true
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A sealed field as signed: `{"commit": C}`, C the commitment to its value.
public struct Seal: Sendable, Hashable {
    /// SHA-256 of the commitment message (32 bytes).
    public let commit: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        commit = bytes
    }

    /// Reads `{"commit": "<64 lowercase hex digits>"}`, and nothing else.
    public init?(json: JSONValue) {
        guard case .object(let o) = json, o.count == 1, let hex = o["commit"]?.stringValue,
              let bytes = Hex.decode(hex), bytes.count == 32, Hex.encode(bytes) == hex else { return nil }
        commit = bytes
    }

    public var json: JSONValue { .object(["commit": .string(Hex.encode(commit))]) }

    /// The commitment to `value` of `field` under `salt` (§14).
    public init(field: PersonalField, salt: [UInt8], value: JSONValue) {
        commit = Array(SHA256.hash(data: Seal.message(field: field, salt: salt, value: value)))
    }

    /// `c4csr-commit\n` ‖ field ‖ `\n` ‖ salt ‖ canonical JSON of the value.
    public static func message(field: PersonalField, salt: [UInt8], value: JSONValue) -> [UInt8] {
        Array("c4csr-commit\n\(field.rawValue)\n".utf8) + salt + CanonicalJSON.encode(value)
    }

    /// Whether a payload's `fields` hold a seal (a practice entry that needs `c4csr/2`).
    public static func occurs(in payload: [String: JSONValue]) -> Bool {
        guard case .object(let fields)? = payload["fields"] else { return false }
        return PersonalField.allCases.contains { f in
            if case .object(let o)? = fields[f.rawValue] { o["commit"] != nil } else { false }
        }
    }

    /// The length of a salt (bytes).
    public static let saltBytes = 32
}

/// Why a content is not stored (§14): the codes a receiver reports.
public enum ContentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not a content object, not sealed in its entry, not matching the commitment, or a
    /// value that breaks §6.
    case invalid(String)
    /// Its field was erased: it is never stored again.
    case erased

    public var code: String {
        switch self {
        case .invalid: "content_invalid"
        case .erased: "content_erased"
        }
    }

    public var description: String {
        switch self {
        case .invalid(let why): "invalid content: \(why)"
        case .erased: "the content of an erased field"
        }
    }
}

/// The value of one sealed field of one entry, with its salt (§14). It travels and is
/// stored beside the entry; the entry holds only its `Seal`.
public struct PersonalContent: Sendable, Hashable {
    public let entry: EntryID
    public let field: PersonalField
    public let salt: [UInt8]
    /// A string, or for `summary` the object `{"en", "local"}`.
    public let value: JSONValue

    public init(entry: EntryID, field: PersonalField, salt: [UInt8], value: JSONValue) {
        self.entry = entry
        self.field = field
        self.salt = salt
        self.value = value
    }

    /// The entry an officer's content names on its way to the daemon, before the city
    /// has signed that entry (the officers' socket carries `{field, salt, value}` only).
    public static let unsignedEntry = EntryID.of(body: [])

    /// A fresh salt from the system's secure random source.
    public static func freshSalt() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<Seal.saltBytes).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    /// Reads `{"entry", "field", "salt", "value"}` exactly; with `entry` given (an export
    /// line names it once), reads `{"field", "salt", "value"}`.
    public init(json: JSONValue, entry given: EntryID? = nil) throws(ContentError) {
        guard case .object(let o) = json else { throw .invalid("a content is a JSON object") }
        let members: Set<String> = given == nil ? ["entry", "field", "salt", "value"] : ["field", "salt", "value"]
        guard Set(o.keys) == members else { throw .invalid("a content has exactly the members \(members.sorted().joined(separator: ", "))") }
        let entry: EntryID
        if let given { entry = given } else {
            guard let hex = o["entry"]?.stringValue, let id = EntryID(hex: hex) else { throw .invalid("entry must be an entry id") }
            entry = id
        }
        guard let name = o["field"]?.stringValue, let field = PersonalField(rawValue: name) else {
            throw .invalid("field must be one of \(PersonalField.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let text = o["salt"]?.stringValue, let salt = Data(base64Encoded: text), salt.count == Seal.saltBytes,
              salt.base64EncodedString() == text else {
            throw .invalid("salt must be the standard base64 of \(Seal.saltBytes) bytes")
        }
        self.init(entry: entry, field: field, salt: Array(salt), value: o["value"]!)
    }

    public var json: JSONValue {
        .object(["entry": .string(entry.hex), "field": .string(field.rawValue), "salt": .string(Data(salt).base64EncodedString()), "value": value])
    }

    /// The export line's form: without `entry`, which the line names.
    public var lineJSON: JSONValue {
        .object(["field": .string(field.rawValue), "salt": .string(Data(salt).base64EncodedString()), "value": value])
    }

    /// Checks this content against the entry that seals it (§14): the entry is the one
    /// named, seals the field, the commitment matches, and the value follows §6.
    public func check(against e: Entry) throws(ContentError) {
        guard e.id == entry else { throw .invalid("it names entry \(entry.short), not \(e.id.short)") }
        guard let seal = Self.seal(of: field, in: e) else {
            throw .invalid("entry \(entry.short) does not seal \(field.rawValue)")
        }
        guard Seal(field: field, salt: salt, value: value) == seal else {
            throw .invalid("the \(field.rawValue) of \(entry.short) does not match its commitment")
        }
        if let why = Self.problem(field: field, value: value) { throw .invalid(why) }
    }

    /// The seal of `field` in a `c4csr/2` publish or revise, read from its fields as signed.
    public static func seal(of field: PersonalField, in e: Entry) -> Seal? {
        guard e.format == .v2, e.kind == .publish || e.kind == .revise, let v = e.payload["fields"]?[field.rawValue] else { return nil }
        return Seal(json: v)
    }

    /// What is wrong with `value` as the value of `field` under §6 (type, text rules,
    /// normal form), or `nil`.
    public static func problem(field: PersonalField, value: JSONValue) -> String? {
        var r = FieldReader(json: .object([field.rawValue: value]), path: "")
        let normal: JSONValue?
        switch field {
        case .summary:
            let t = r.localized(field.rawValue, max: field.maxLength, multiline: field.multiline)
            normal = .object(["en": .string(t.en), "local": .string(t.local)])
        case .area, .challenge, .contact, .outcomes:
            normal = r.string(field.rawValue, required: true, max: field.maxLength, multiline: field.multiline).map { .string($0) }
        }
        if let first = r.errors.first { return first.description }
        guard normal == value else { return "\(field.rawValue) is not in the normal form of §6 (surrounding white space)" }
        return nil
    }
}

extension Practice {
    /// The value of a personal field as JSON (what its content carries), `nil` when the
    /// field is absent or sealed without its value.
    public func value(of field: PersonalField) -> JSONValue? {
        if sealed[field] != nil, !revealed.contains(field) { return nil }
        switch field {
        case .summary: return .object(["en": .string(summary.en), "local": .string(summary.local)])
        case .challenge: return .string(challenge)
        case .outcomes: return outcomes.map { .string($0) }
        case .area: return area.map { .string($0) }
        case .contact: return contact.map { .string($0) }
        }
    }

    /// Seals `fields` (those present): the practice to sign, with seals in their place,
    /// and each sealed field's salt and value, which become its content once the entry
    /// is signed (`PersonalContent(entry:field:salt:value:)`). A salt comes from
    /// `salt` (by default the system's secure random source, fresh for each field).
    public func sealing(
        _ fields: Set<PersonalField>, salt: (PersonalField) -> [UInt8] = { _ in PersonalContent.freshSalt() }
    ) -> (practice: Practice, values: [PersonalField: (salt: [UInt8], value: JSONValue)]) {
        var p = self
        var values = [PersonalField: (salt: [UInt8], value: JSONValue)]()
        for f in fields.sorted() {
            guard let v = value(of: f) else { continue }
            let s = salt(f)
            values[f] = (s, v)
            p.sealed[f] = Seal(field: f, salt: s, value: v)
            p.revealed.remove(f)
            switch f {
            case .summary: p.summary = LocalizedText(local: "", en: "")
            case .challenge: p.challenge = ""
            case .outcomes: p.outcomes = nil
            case .area: p.area = nil
            case .contact: p.contact = nil
            }
        }
        return (p, values)
    }

    /// The practice with the contents' values in place of their seals (each content
    /// checked against its entry first, `PersonalContent.check`). A field whose content
    /// is not given stays sealed.
    public func revealing(_ contents: [PersonalContent]) -> Practice {
        var p = self
        for c in contents where p.sealed[c.field] != nil {
            switch c.field {
            case .summary:
                guard let local = c.value["local"]?.stringValue, let en = c.value["en"]?.stringValue else { continue }
                p.summary = LocalizedText(local: local, en: en)
            case .challenge: p.challenge = c.value.stringValue ?? ""
            case .outcomes: p.outcomes = c.value.stringValue
            case .area: p.area = c.value.stringValue
            case .contact: p.contact = c.value.stringValue
            }
            p.revealed.insert(c.field)
        }
        return p
    }
}
