/// What an `erase` entry says (docs/PROTOCOL.md §14): erase these personal fields in
/// every version of this practice written before the erasure.
public struct ErasureRequest: Sendable, Hashable {
    public let practice: EntryID
    /// Non-empty, sorted, without repeats.
    public let fields: [PersonalField]
    /// A reference to the request, never the personal data: 1–500 characters, one line.
    public let reason: String

    public static let maxReason = 500

    public init(practice: EntryID, fields: [PersonalField], reason: String) {
        self.practice = practice
        self.fields = Array(Set(fields)).sorted()
        self.reason = reason
    }

    /// Reads an `erase` payload: exactly `fields`, `practice`, `reason`, in normal form.
    public init(entry: Entry) throws(ValidationErrors) {
        var r = FieldReader(json: entry.payload, path: "payload")
        let practice = r.entryID("practice")
        let names = entry.payload["fields"]?.arrayValue ?? []
        let fields = names.compactMap { $0.stringValue.flatMap(PersonalField.init(rawValue:)) }
        if names.isEmpty || fields.count != names.count {
            r.fail("fields", "must be a non-empty array of personal fields (\(PersonalField.allCases.map(\.rawValue).joined(separator: ", ")))")
        } else if fields != Array(Set(fields)).sorted() {
            r.fail("fields", "must be sorted, without repeats")
        }
        let reason = r.string("reason", required: true, max: Self.maxReason)
        if let reason, entry.payload["reason"]?.stringValue != reason { r.fail("reason", "is not in the normal form of §6 (surrounding white space)") }
        r.rejectUnknown(allowed: ["fields", "practice", "reason"])
        guard r.errors.isEmpty, let practice, let reason else { throw ValidationErrors(r.errors) }
        self.init(practice: practice, fields: fields, reason: reason)
    }

    public var payload: [String: JSONValue] {
        ["fields": .array(fields.map { .string($0.rawValue) }), "practice": .string(practice.hex), "reason": .string(reason)]
    }
}

/// What an `ack` entry says (§14): this city no longer holds what that erasure erased.
public struct Acknowledgement: Sendable, Hashable {
    public let erase: EntryID
    public let practice: EntryID

    public init(erase: EntryID, practice: EntryID) {
        self.erase = erase
        self.practice = practice
    }

    /// Reads an `ack` payload: exactly `erase` and `practice`.
    public init(entry: Entry) throws(ValidationErrors) {
        var r = FieldReader(json: entry.payload, path: "payload")
        let erase = r.entryID("erase"), practice = r.entryID("practice")
        r.rejectUnknown(allowed: ["erase", "practice"])
        guard r.errors.isEmpty, let erase, let practice else { throw ValidationErrors(r.errors) }
        self.init(erase: erase, practice: practice)
    }

    public var payload: [String: JSONValue] { ["erase": .string(erase.hex), "practice": .string(practice.hex)] }
}

/// One sealed field of one version.
public struct ErasedField: Sendable, Hashable, Comparable {
    public let entry: EntryID
    public let field: PersonalField

    public init(entry: EntryID, field: PersonalField) {
        self.entry = entry
        self.field = field
    }

    public static func < (a: Self, b: Self) -> Bool { (a.entry, a.field) < (b.entry, b.field) }
}
