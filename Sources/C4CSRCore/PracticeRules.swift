/// What an entry's payload means, read from a verified entry.
public enum PracticeAction: Sendable, Hashable {
    case publish(Practice)
    case revise(practice: EntryID, base: [EntryID], fields: Practice)
    case retract(practice: EntryID, base: [EntryID], reason: String?)
    case adopt(practice: EntryID, version: EntryID, mode: AdoptionMode, notes: String?)

    /// The practice an entry is about: its own id for `publish`, the named practice
    /// otherwise; `nil` when the payload does not even name one.
    public static func subject(of entry: Entry) -> EntryID? {
        if entry.kind == .publish { return entry.id }
        return entry.payload["practice"]?.stringValue.flatMap(EntryID.init(hex:))
    }

    /// Reads the payload of `entry`.
    /// - Throws: `ValidationErrors` naming the payload fields that are wrong.
    public init(entry: Entry) throws(ValidationErrors) {
        var r = FieldReader(json: entry.payload, path: "payload")
        func id(_ key: String) -> EntryID? { r.entryID(key) }
        func ids(_ key: String) -> [EntryID] {
            guard let a = entry.payload[key]?.arrayValue, !a.isEmpty else {
                r.fail(key, "must be a non-empty array of entry ids")
                return []
            }
            let out = a.compactMap { $0.stringValue.flatMap(EntryID.init(hex:)) }
            if out.count != a.count { r.fail(key, "must contain only entry ids (64 hex digits)") }
            return out
        }
        func fields() -> Practice? {
            guard let f = entry.payload["fields"] else { r.fail("fields", "is required"); return nil }
            // §14: in format c4csr/2 a personal field may be sealed.
            do { return try Practice(json: f, path: "payload.fields", sealing: entry.format == .v2) } catch { r.errors += error.errors; return nil }
        }
        switch entry.kind {
        case .publish:
            let p = fields()
            r.rejectUnknown(allowed: ["fields"])
            guard r.errors.isEmpty, let p else { throw ValidationErrors(r.errors) }
            self = .publish(p)
        case .revise:
            let practice = id("practice"), base = ids("base"), p = fields()
            r.rejectUnknown(allowed: ["practice", "base", "fields"])
            guard r.errors.isEmpty, let practice, let p else { throw ValidationErrors(r.errors) }
            self = .revise(practice: practice, base: base, fields: p)
        case .retract:
            let practice = id("practice"), base = ids("base")
            let reason = r.string("reason", required: false, max: Practice.maxText, multiline: true)
            r.rejectUnknown(allowed: ["practice", "base", "reason"])
            guard r.errors.isEmpty, let practice else { throw ValidationErrors(r.errors) }
            self = .retract(practice: practice, base: base, reason: reason)
        case .adopt:
            let practice = id("practice"), version = id("version")
            let modeText = r.string("mode", required: true, max: 20) ?? ""
            let mode = AdoptionMode(rawValue: modeText)
            if mode == nil, !modeText.isEmpty { r.fail("mode", "must be \"adopted\" or \"adapted\"") }
            let notes = r.string("notes", required: false, max: Practice.maxText, multiline: true)
            r.rejectUnknown(allowed: ["practice", "version", "mode", "notes"])
            guard r.errors.isEmpty, let practice, let version, let mode else { throw ValidationErrors(r.errors) }
            self = .adopt(practice: practice, version: version, mode: mode, notes: notes)
        case .rotate, .officer, .erase, .ack, .vouch, .member, .recover:
            throw ValidationErrors([FieldError("kind", "\(entry.kind.rawValue) is not a practice action")])
        }
        // §6: a signed payload is in normal form (texts trimmed, themes lower-case, lists
        // without repeats, sdgs and base sorted, empty optionals absent). One that is
        // not is invalid as it stands: it is never read as its normalised form, so two
        // implementations cannot disagree about what it says.
        let normal = payload
        if normal != entry.payload.objectValue {
            let given = entry.payload.objectValue ?? [:]
            let differing = Set(normal.keys).union(given.keys).filter { normal[$0] != given[$0] }.sorted()
            throw ValidationErrors(differing.map { FieldError("payload.\($0)", "is not in the normal form of §6 (surrounding white space, case, order or repeats)") })
        }
    }

    /// The payload to sign for this action.
    public var payload: [String: JSONValue] {
        switch self {
        case .publish(let p):
            return ["fields": p.json]
        case .revise(let practice, let base, let p):
            return ["practice": .string(practice.hex), "base": .array(base.sorted().map { .string($0.hex) }), "fields": p.json]
        case .retract(let practice, let base, let reason):
            var o: [String: JSONValue] = ["practice": .string(practice.hex), "base": .array(base.sorted().map { .string($0.hex) })]
            if let reason { o["reason"] = .string(reason) }
            return o
        case .adopt(let practice, let version, let mode, let notes):
            var o: [String: JSONValue] = ["practice": .string(practice.hex), "version": .string(version.hex), "mode": .string(mode.rawValue)]
            if let notes { o["notes"] = .string(notes) }
            return o
        }
    }

    public var kind: EntryKind {
        switch self {
        case .publish: .publish
        case .revise: .revise
        case .retract: .retract
        case .adopt: .adopt
        }
    }
}

public enum AdoptionMode: String, Sendable, Hashable, CaseIterable {
    /// Taken over as it is.
    case adopted
    /// Taken over with local changes.
    case adapted
}

/// A practice as the log says it is now: the result of applying the practice rules
/// to its publish entry and every entry that names it.
public struct PracticeRecord: Sendable, Hashable {
    public let id: EntryID
    public let publisher: CityID
    /// The fields of the current version (for a retracted practice: of the version it retracted).
    public let current: Practice
    public let currentVersion: EntryID
    public let retracted: Bool
    public let retractReason: String?
    /// Every valid version (publish, revisions, retractions) in merged order.
    public let versions: [Version]
    /// Versions that no other version supersedes. More than one is a conflict.
    public let heads: [EntryID]
    public let adoptions: [Adoption]
    /// Entries about this practice that the rules ignored, with why.
    public let problems: [PracticeProblem]
    /// The merged-order key of the latest valid entry about this practice.
    public let lastChange: MergedOrderKey
    /// Its valid erasures (§14), in merged order.
    public let erasures: [Erasure]
    /// The entry whose fields `current` are (for a retracted practice, the version it
    /// retracted): whose content reveals its sealed fields.
    public let fieldsEntry: EntryID

    /// The erasure that erased `field` of version `entry`, if one did.
    public func erasure(of entry: EntryID, _ field: PersonalField) -> Erasure? {
        erasures.first { $0.erased.contains(ErasedField(entry: entry, field: field)) }
    }

    /// Whether the content of `field` of version `entry` was erased (and so is never
    /// stored, sent, exported or shown again).
    public func isErased(_ entry: EntryID, _ field: PersonalField) -> Bool { erasure(of: entry, field) != nil }

    /// Why a sealed field shows no value.
    public enum Missing: Sendable, Hashable {
        /// An erasure deleted it.
        case erased(Erasure)
        /// Its content has not reached this node.
        case withheld
    }

    /// Why `field` of `fields` (the fields of version `entry`, revealed with the content
    /// held) shows no value; `nil` when it is not sealed or its value is there.
    public func missing(_ field: PersonalField, of fields: Practice, entry: EntryID) -> Missing? {
        guard fields.sealed[field] != nil, !fields.revealed.contains(field) else { return nil }
        return erasure(of: entry, field).map(Missing.erased) ?? .withheld
    }

    public var conflict: Bool { heads.count > 1 }

    public struct Version: Sendable, Hashable {
        public let entry: EntryID
        public let kind: EntryKind
        public let origin: CityID
        public let seq: Int64
        public let time: Int64
        public let base: [EntryID]
        public let fields: Practice
        public let retractReason: String?
        /// The officer who wrote it (§13), when one did.
        public var author: OfficerID? = nil
        /// The entry whose fields these are: its own, or for a retraction the version it retracted.
        public var fieldsEntry: EntryID? = nil
    }

    /// A valid erasure (§14) and the cities that confirmed it.
    public struct Erasure: Sendable, Hashable {
        public let entry: EntryID
        public let city: CityID
        public let time: Int64
        public let request: ErasureRequest
        /// What it erased: each field it names, in each version written before it that no
        /// earlier erasure of the practice had erased (a pair is erased once, by the first).
        public let erased: Set<ErasedField>
        /// The erasing city and every city with a valid ack, sorted, each once.
        public var confirmedBy: [CityID]
        /// The valid acks, in merged order.
        public var acks: [EntryID]
    }

    public struct Adoption: Sendable, Hashable {
        public let entry: EntryID
        public let city: CityID
        public let version: EntryID
        public let mode: AdoptionMode
        public let notes: String?
        public let time: Int64
        /// The officer who recorded it (§13), when one did.
        public var author: OfficerID? = nil
    }
}

/// An entry the practice rules refuse to apply. It stays in the log (it is signed
/// by its origin, and removing it would break that city's chain) and `audit` reports it.
public struct PracticeProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case invalidPayload = "invalid_payload"
        case unauthorisedChange = "unauthorised_change"
        case invalidBase = "invalid_base"
        case invalidAdoption = "invalid_adoption"
        case unknownPractice = "unknown_practice"
        case invalidErasure = "invalid_erasure"
        case invalidAck = "invalid_ack"
    }
    public let kind: Kind
    public let entry: EntryID
    public let origin: CityID
    public let seq: Int64
    public let message: String
    public var description: String { "\(origin)#\(seq) (\(entry.short)): \(message)" }

    init(_ kind: Kind, _ e: Entry, _ message: String) {
        self.kind = kind
        entry = e.id
        origin = e.origin
        seq = e.seq
        self.message = message
    }
}

/// The practice rules: pure, deterministic, the same on every node.
public enum PracticeRules {
    /// Folds a practice's entries into its current state.
    ///
    /// - Parameters:
    ///   - publish: the practice's publish entry, or `nil` if the log lacks it.
    ///   - related: entries whose payload names the practice (any order).
    ///   - revoked: entries a recovery revoked (§15): read as if they were not in the log.
    /// - Returns: the record, or `nil` with problems when there is no valid publish entry.
    ///
    /// "The publisher", "the city" and "each member" are cities (§15): a practice `sofia`
    /// published may be revised by `sofia~2`; an ack by `milano~3` confirms for `milano`.
    public static func project(publish: Entry?, related: [Entry], revoked: Set<EntryID> = []) -> (PracticeRecord?, [PracticeProblem]) {
        let others = (revoked.isEmpty ? related : related.filter { !revoked.contains($0.id) }).mergedOrder()
        let publish = publish.flatMap { revoked.contains($0.id) ? nil : $0 }
        guard let publish else {
            return (nil, others.map { PracticeProblem(.unknownPractice, $0, "names a practice that is not in the log") })
        }
        let first: Practice
        do throws(ValidationErrors) {
            guard case .publish(let p) = try PracticeAction(entry: publish) else { throw ValidationErrors([FieldError("kind", "is not publish")]) }
            first = p
        } catch {
            let why = "invalid payload: \(error.errors.map(\.description).joined(separator: "; "))"
            return (nil, [PracticeProblem(.invalidPayload, publish, why)] + others.map {
                PracticeProblem(.unknownPractice, $0, "names practice \(publish.id.short), whose publish entry is invalid")
            })
        }
        let publisher = publish.origin.city
        var problems = [PracticeProblem]()
        var versions = [PracticeRecord.Version(
            entry: publish.id, kind: .publish, origin: publish.origin, seq: publish.seq, time: publish.time, base: [],
            fields: first, retractReason: nil, author: publish.author?.officer)]
        var clocks: [EntryID: VectorClock] = [publish.id: publish.clock]
        var superseded = Set<EntryID>()
        var adoptions = [PracticeRecord.Adoption]()
        var last = publish.orderKey
        // §14: every publish or revise by the publisher, valid or not (an erasure erases
        // whatever content they seal), and the valid erasures with their clocks.
        // Per field, the versions no valid erasure has erased yet: each (version, field)
        // pair is erased once, by the first erasure it happened before, so a practice's
        // erasures cost O(versions) however many there are (a member erasing and revising
        // in turn must not make every node's projection quadratic).
        var notErased = Dictionary(uniqueKeysWithValues: PersonalField.allCases.map { ($0, [(id: publish.id, clock: publish.clock)]) })
        var erasures = [PracticeRecord.Erasure]()
        var erasureIndex = [EntryID: (index: Int, clock: VectorClock)]()

        func checkBase(_ e: Entry, _ base: [EntryID]) -> String? {
            for b in base {
                guard let c = clocks[b] else { return "its base \(b.short) is not a version of practice \(publish.id.short)" }
                guard c.happenedBefore(e.clock) else { return "its base \(b.short) is not in its causal past" }
            }
            return nil
        }

        for e in others {
            let city = e.origin.city
            if e.kind == .revise, city == publisher {
                for f in PersonalField.allCases { notErased[f]!.append((e.id, e.clock)) }
            }
            if e.kind == .erase {
                let request: ErasureRequest
                do { request = try ErasureRequest(entry: e) } catch {
                    problems.append(PracticeProblem(.invalidErasure, e, "invalid erasure: \(error.errors.map(\.description).joined(separator: "; "))"))
                    continue
                }
                guard city == publisher else {
                    problems.append(PracticeProblem(.invalidErasure, e, "\(city) tried to erase fields of practice \(publish.id.short), which only \(publisher) may erase"))
                    continue
                }
                guard publish.clock.happenedBefore(e.clock) else {
                    problems.append(PracticeProblem(.invalidErasure, e, "erases practice \(publish.id.short), which is not in its causal past"))
                    continue
                }
                var erased = Set<ErasedField>()
                for f in request.fields {
                    // What stays: versions concurrent with the erasure (only on a forked chain).
                    notErased[f]!.removeAll { w in
                        guard w.clock.happenedBefore(e.clock) else { return false }
                        erased.insert(ErasedField(entry: w.id, field: f))
                        return true
                    }
                }
                erasureIndex[e.id] = (erasures.count, e.clock)
                erasures.append(.init(entry: e.id, city: city, time: e.time, request: request, erased: erased, confirmedBy: [city], acks: []))
                last = e.orderKey
                continue
            }
            if e.kind == .ack {
                let ack: Acknowledgement
                do { ack = try Acknowledgement(entry: e) } catch {
                    problems.append(PracticeProblem(.invalidAck, e, "invalid ack: \(error.errors.map(\.description).joined(separator: "; "))"))
                    continue
                }
                guard let (i, c) = erasureIndex[ack.erase], c.happenedBefore(e.clock) else {
                    problems.append(PracticeProblem(.invalidAck, e, "acknowledges \(ack.erase.short), which is not a valid erasure of practice \(publish.id.short) in its causal past"))
                    continue
                }
                guard city != erasures[i].city else {
                    problems.append(PracticeProblem(.invalidAck, e, "\(city) acknowledges its own erasure, which is its confirmation already"))
                    continue
                }
                erasures[i].acks.append(e.id)
                if !erasures[i].confirmedBy.contains(city) { erasures[i].confirmedBy = (erasures[i].confirmedBy + [city]).sorted() }
                continue
            }
            let action: PracticeAction
            do { action = try PracticeAction(entry: e) } catch {
                problems.append(PracticeProblem(.invalidPayload, e, "invalid payload: \(error.errors.map(\.description).joined(separator: "; "))"))
                continue
            }
            guard publish.clock.happenedBefore(e.clock) else {
                problems.append(PracticeProblem(.unknownPractice, e, "names practice \(publish.id.short), which is not in its causal past"))
                continue
            }
            switch action {
            case .publish:
                continue  // never related
            case .revise, .retract:
                guard city == publisher else {
                    problems.append(PracticeProblem(
                        .unauthorisedChange, e,
                        "\(city) tried to \(e.kind.rawValue) practice \(publish.id.short), which only \(publisher) may change"))
                    continue
                }
                let base: [EntryID]
                let fields: Practice?
                let reason: String?
                switch action {
                case .revise(_, let b, let f): (base, fields, reason) = (b, f, nil)
                case .retract(_, let b, let r): (base, fields, reason) = (b, nil, r)
                default: continue
                }
                if let why = checkBase(e, base) {
                    problems.append(PracticeProblem(.invalidBase, e, why))
                    continue
                }
                // A retraction keeps the fields of the latest version it retracts.
                let retracted = versions.last(where: { base.contains($0.entry) })!
                let kept = fields ?? retracted.fields
                versions.append(.init(
                    entry: e.id, kind: e.kind, origin: e.origin, seq: e.seq, time: e.time, base: base.sorted(), fields: kept,
                    retractReason: reason, author: e.author?.officer,
                    fieldsEntry: fields == nil ? retracted.fieldsEntry ?? retracted.entry : nil))
                clocks[e.id] = e.clock
                superseded.formUnion(base)
                last = e.orderKey
            case .adopt(_, let version, let mode, let notes):
                guard city != publisher else {
                    problems.append(PracticeProblem(.invalidAdoption, e, "\(city) cannot adopt its own practice"))
                    continue
                }
                guard let c = clocks[version], c.happenedBefore(e.clock) else {
                    problems.append(PracticeProblem(
                        .invalidAdoption, e, "adopts \(version.short), which is not a version of practice \(publish.id.short) in its causal past"))
                    continue
                }
                adoptions.append(.init(entry: e.id, city: city, version: version, mode: mode, notes: notes, time: e.time, author: e.author?.officer))
                last = e.orderKey
            }
        }
        let heads = versions.filter { !superseded.contains($0.entry) }
        let current = heads.last!  // versions are in merged order, so the last head is the merged-order-greatest
        let record = PracticeRecord(
            id: publish.id, publisher: publisher, current: current.fields, currentVersion: current.entry,
            retracted: current.kind == .retract, retractReason: current.retractReason, versions: versions,
            heads: heads.map(\.entry), adoptions: adoptions, problems: problems, lastChange: last, erasures: erasures,
            fieldsEntry: current.fieldsEntry ?? current.entry)
        return (record, problems)
    }
}
