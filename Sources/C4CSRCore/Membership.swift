import Crypto
import Foundation

// Membership and recovery (docs/PROTOCOL.md §15): the network's charter, motions that
// members vouch for, and the verdicts every node computes from the entries it holds —
// which `member` and `recover` entries are valid, and which entries are revoked. Pure
// values and functions; the store feeds them what it holds.

/// The network's charter: its name and founding members. Its SHA-256 is the network id
/// that every membership entry names, so that nodes with different charters never reach
/// different verdicts (they wait instead).
public struct Charter: Sendable, Hashable {
    public static let format = "c4csr-network/1"
    public static let maxFounders = 256

    public let name: String
    /// Sorted as byte strings, each once.
    public let founders: [CityID]

    public init(name: String, founders: some Sequence<CityID>) throws(ValidationErrors) {
        try self.init(json: .object([
            "format": .string(Self.format), "name": .string(name),
            "founders": .array(founders.map { .string($0.rawValue) }),
        ]))
    }

    /// Reads a charter: `format`, `name` (1–100 characters of one line), `founders` (1–256
    /// distinct city ids), nothing else.
    public init(json: JSONValue) throws(ValidationErrors) {
        var r = FieldReader(json: json, path: "")
        if json["format"]?.stringValue != Self.format { r.fail("format", "must be \"\(Self.format)\"") }
        let name = r.string("name", required: true, max: 100)
        var founders = Set<CityID>()
        if let items = json["founders"]?.arrayValue {
            if items.isEmpty || items.count > Self.maxFounders { r.fail("founders", "must name 1 to \(Self.maxFounders) cities, found \(items.count)") }
            for (i, item) in items.prefix(Self.maxFounders).enumerated() {
                guard let text = item.stringValue, let city = CityID(text) else {
                    r.fail("founders[\(i)]", "must be a city id (\(CityID.rule))")
                    continue
                }
                if !founders.insert(city).inserted { r.fail("founders[\(i)]", "\(city) is named twice") }
            }
        } else {
            r.fail("founders", "is required (an array of city ids)")
        }
        r.rejectUnknown(allowed: ["format", "name", "founders"])
        guard r.errors.isEmpty, let name else { throw ValidationErrors(r.errors) }
        self.name = name
        self.founders = founders.sorted()
    }

    /// Reads a charter file (TOML, or JSON when it starts with `{`).
    public init(text: String) throws(ValidationErrors) {
        let value: JSONValue
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            do { value = try JSONParser.parse(text) } catch { throw ValidationErrors([FieldError("", "not valid JSON: \(error)")]) }
        } else {
            do { value = try TOMLParser.parse(text).value } catch { throw ValidationErrors([FieldError("", "not valid TOML: \(error)")]) }
        }
        try self.init(json: value)
    }

    /// `{"format", "founders", "name"}` in canonical JSON: what the network id hashes.
    public var canonical: [UInt8] {
        CanonicalJSON.encode(.object([
            "format": .string(Self.format), "founders": .array(founders.map { .string($0.rawValue) }), "name": .string(name),
        ]))
    }

    /// The SHA-256 of `canonical`, in 64 lowercase hex digits.
    public var networkID: String { Hex.encode(Array(SHA256.hash(data: canonical))) }

    /// The charter as TOML, for `network.toml`.
    public var toml: String {
        """
        # c4csr network charter: the founding members (docs/PROTOCOL.md §15). Every city of the
        # network holds the same file; its SHA-256 is the network id.
        format = \(TOMLWriter.string(Self.format))
        name = \(TOMLWriter.string(name))
        founders = [\(founders.map { TOMLWriter.string($0.rawValue) }.joined(separator: ", "))]

        """
    }
}

/// What members vouch for (§15): admitting a city, or giving a city a new key in a new
/// generation.
public enum Motion: Sendable, Hashable {
    case admit(city: CityID, key: CityPublicKey)
    case recover(Recovery)

    /// A recovery: `city`'s generation `generation` starts with `key`; the entries of
    /// generation `generation − 1` after `lastSeq` (and its forks up to there, all but the
    /// ancestors of `lastID`) are revoked.
    public struct Recovery: Sendable, Hashable {
        public let city: CityID
        public let generation: Int
        public let key: CityPublicKey
        public let lastSeq: Int64
        public let lastID: EntryID?

        public init(city: CityID, generation: Int, key: CityPublicKey, lastSeq: Int64, lastID: EntryID?) {
            self.city = city
            self.generation = generation
            self.key = key
            self.lastSeq = lastSeq
            self.lastID = lastID
        }

        /// The chain the recovery starts (`city~generation`), and the one it closes.
        public var newChain: CityID { CityID.chain(of: city, generation: generation) }
        public var oldChain: CityID { CityID.chain(of: city, generation: generation - 1) }
    }

    /// Motions of one slot compete: a member that vouches for two of them counts for neither.
    public enum Slot: Sendable, Hashable {
        case admit(CityID)
        case recover(CityID, generation: Int)
    }

    /// The recovery, for a recover motion.
    public var recoveryOrNil: Recovery? {
        if case .recover(let r) = self { return r }
        return nil
    }

    public var subject: CityID {
        switch self {
        case .admit(let city, _): city
        case .recover(let r): r.city
        }
    }

    public var slot: Slot {
        switch self {
        case .admit(let city, _): .admit(city)
        case .recover(let r): .recover(r.city, generation: r.generation)
        }
    }

    /// One line for people: what the motion does.
    public var summary: String {
        switch self {
        case .admit(let city, let key): "admit \(city) with key \(key.base64.prefix(12))…"
        case .recover(let r):
            "recover \(r.city) into generation \(r.generation) with key \(r.key.base64.prefix(12))…, standing by "
                + (r.lastID.map { "\(r.oldChain)#\(r.lastSeq) \($0.short)" } ?? "none of \(r.oldChain)")
        }
    }

    public var json: JSONValue {
        switch self {
        case .admit(let city, let key):
            .object(["action": .string("admit"), "city": .string(city.rawValue), "key": .string(key.base64)])
        case .recover(let r):
            .object([
                "action": .string("recover"), "city": .string(r.city.rawValue), "generation": .int(Int64(r.generation)),
                "key": .string(r.key.base64),
                "last": .object(["id": r.lastID.map { .string($0.hex) } ?? .null, "seq": .int(r.lastSeq)]),
            ])
        }
    }

    /// Reads a motion exactly as §15 writes it.
    public init(json: JSONValue) throws(EntryError) {
        guard case .object(let o) = json else { throw .malformed("a motion is a JSON object") }
        guard let cityText = o["city"]?.stringValue, let city = CityID(cityText) else {
            throw .malformed("motion: city must be a city id (\(CityID.rule))")
        }
        guard let keyText = o["key"]?.stringValue, let key = CityPublicKey(base64: keyText), key.base64 == keyText else {
            throw .malformed("motion: key must be the standard base64 of an acceptable Ed25519 public key (docs/PROTOCOL.md §3)")
        }
        switch o["action"]?.stringValue {
        case "admit":
            guard Set(o.keys) == ["action", "city", "key"] else { throw .malformed("an admit motion has exactly the members action, city and key") }
            self = .admit(city: city, key: key)
        case "recover":
            guard Set(o.keys) == ["action", "city", "generation", "key", "last"] else {
                throw .malformed("a recover motion has exactly the members action, city, generation, key and last")
            }
            guard let g = o["generation"]?.intValue, (2...Int64(CityID.maxGeneration)).contains(g) else {
                throw .malformed("motion: generation must be an integer from 2 to \(CityID.maxGeneration)")
            }
            guard case .object(let last)? = o["last"], Set(last.keys) == ["id", "seq"], let seq = last["seq"]?.intValue, seq >= 0 else {
                throw .malformed("motion: last must be exactly {\"id\", \"seq\"} with seq an integer ≥ 0")
            }
            var lastID: EntryID?
            switch last["id"] {
            case .null?:
                guard seq == 0 else { throw .malformed("motion: last.id is null only when last.seq is 0") }
            case .string(let hex)?:
                guard seq > 0, hex.utf8.allSatisfy({ Hex.digits.contains($0) }), let id = EntryID(hex: hex) else {
                    throw .malformed("motion: last.id must be 64 lowercase hex digits when last.seq > 0")
                }
                lastID = id
            default:
                throw .malformed("motion: last.id must be null or an entry id")
            }
            self = .recover(Recovery(city: city, generation: Int(g), key: key, lastSeq: seq, lastID: lastID))
        default:
            throw .malformed("motion: action must be \"admit\" or \"recover\"")
        }
    }
}

/// What a `vouch`, `member` or `recover` entry says (§15), with the network it names.
public enum MembershipStatement: Sendable, Hashable {
    case vouch(Motion)
    case join
    case leave
    case recover(Motion.Recovery)

    /// The kinds that carry a statement.
    public static let kinds: Set<String> = ["vouch", "member", "recover"]

    /// Reads the payload of an entry of kind `kind` (one of `kinds`) at `origin`#`seq`:
    /// the statement and the network id it names. A `recover` is only ever the first entry
    /// of its own generation's chain.
    public static func decode(kind: String, payload: [String: JSONValue], origin: CityID, seq: Int64) throws(EntryError)
        -> (statement: MembershipStatement, network: String)
    {
        guard let network = payload["network"]?.stringValue, network.utf8.count == 64, network.utf8.allSatisfy({ Hex.digits.contains($0) }) else {
            throw .malformed("\(kind): network must be the network id, 64 lowercase hex digits")
        }
        switch kind {
        case "vouch":
            guard Set(payload.keys) == ["motion", "network"], let m = payload["motion"] else {
                throw .malformed("a vouch payload has exactly the members motion and network")
            }
            return (.vouch(try Motion(json: m)), network)
        case "member":
            guard Set(payload.keys) == ["action", "network"] else { throw .malformed("a member payload has exactly the members action and network") }
            switch payload["action"]?.stringValue {
            case "join": return (.join, network)
            case "leave": return (.leave, network)
            default: throw .malformed("member: action must be \"join\" or \"leave\"")
            }
        case "recover":
            guard Set(payload.keys) == ["motion", "network"], let m = payload["motion"] else {
                throw .malformed("a recover payload has exactly the members motion and network")
            }
            guard case .recover(let r) = try Motion(json: m) else { throw .malformed("a recover entry names a recover motion") }
            guard origin == r.newChain, seq == 1 else {
                throw .malformed("a recover of \(r.city) generation \(r.generation) is the entry at seq 1 of chain \(r.newChain)")
            }
            return (.recover(r), network)
        default:
            throw .malformed("\(kind) is not a membership kind")
        }
    }

    /// One line for people: "vouches: recover sofia into generation 2 with key 3eO8zsfzpmoR…".
    public var summary: String {
        switch self {
        case .vouch(let m): "vouches: \(m.summary)"
        case .join: "joins the network"
        case .leave: "leaves the network"
        case .recover(let r): "recovers \(r.city) into generation \(r.generation) (\(Motion.recover(r).summary))"
        }
    }

    /// The payload that says this.
    public func payload(network: String) -> [String: JSONValue] {
        switch self {
        case .vouch(let m): ["motion": m.json, "network": .string(network)]
        case .join: ["action": .string("join"), "network": .string(network)]
        case .leave: ["action": .string("leave"), "network": .string(network)]
        case .recover(let r): ["motion": Motion.recover(r).json, "network": .string(network)]
        }
    }
}

extension Entry {
    /// What a `vouch`, `member` or `recover` entry says, and the network it names (its
    /// payload was checked when it was decoded).
    public var membership: (statement: MembershipStatement, network: String)? {
        guard kind.isMembership, case .object(let p) = payload else { return nil }
        return try? MembershipStatement.decode(kind: kind.rawValue, payload: p, origin: origin, seq: seq)
    }
}

/// What the membership rules read of one entry: its position, its clock and, for a
/// membership kind, its statement (whose network was checked: an entry naming another
/// network waits and never reaches the verdicts).
public struct MembershipFacts: Sendable, Hashable {
    public let id: EntryID
    /// The chain id.
    public let origin: CityID
    public let seq: Int64
    public let prev: EntryID?
    public let clock: VectorClock
    public let statement: MembershipStatement?

    public init(id: EntryID, origin: CityID, seq: Int64, prev: EntryID?, clock: VectorClock, statement: MembershipStatement?) {
        self.id = id
        self.origin = origin
        self.seq = seq
        self.prev = prev
        self.clock = clock
        self.statement = statement
    }

    /// The facts of an entry whose network a verifier checked (`EntryVerifier.network`).
    public init(_ entry: Entry) {
        self.init(id: entry.id, origin: entry.origin, seq: entry.seq, prev: entry.prev, clock: entry.clock, statement: entry.membership?.statement)
    }

    var orderKey: MergedOrderKey { MergedOrderKey(rank: clock.sum, origin: origin, seq: seq, id: id) }

    /// `true` when `other` is in this entry's past: at or below its clock's component.
    func hasInPast(_ other: MembershipFacts) -> Bool { other.seq <= clock[other.origin] }
}

/// The verdicts of §15 over a set of entries: which `member` and `recover` entries are
/// valid and which entries are revoked. A function of the set alone (not of the order it
/// is given in): every node holding the same entries computes the same verdicts.
public struct MembershipVerdicts: Sendable {
    public let charter: Charter
    /// Every entry, by id (for `prev` walks).
    private let entries: [EntryID: MembershipFacts]
    /// The valid `member` entries, and the valid `recover` entries by the chain they open.
    public private(set) var validMembership: [MembershipFacts] = []
    public private(set) var validRecovers: [CityID: [MembershipFacts]] = [:]
    /// The `member` and `recover` entries that are not valid, with why.
    public private(set) var invalid: [EntryID: String] = [:]
    private let vouches: [Motion.Slot: [MembershipFacts]]

    /// - Parameters:
    ///   - foundingKeys: each city's founding key (its card's `public_key`), which an
    ///     admission must name.
    public init(charter: Charter, entries: some Sequence<MembershipFacts>, foundingKeys: [CityID: CityPublicKey]) {
        self.charter = charter
        var byID = [EntryID: MembershipFacts]()
        var vouches = [Motion.Slot: [MembershipFacts]]()
        var enacting = [MembershipFacts]()
        for e in entries {
            byID[e.id] = e
            switch e.statement {
            case .vouch(let m)?: vouches[m.slot, default: []].append(e)
            case .join?, .leave?, .recover?: enacting.append(e)
            case nil: break
            }
        }
        self.entries = byID
        self.vouches = vouches
        // The merged order lists every entry after its past: each verdict reads only
        // verdicts already reached.
        for e in enacting.sorted(by: { $0.orderKey < $1.orderKey }) {
            if let why = refusal(of: e, foundingKeys: foundingKeys) {
                invalid[e.id] = why
            } else if case .recover? = e.statement {
                validRecovers[e.origin, default: []].append(e)
            } else {
                validMembership.append(e)
            }
        }
    }

    /// Why `e` (a `member` or `recover` entry) is not valid, or `nil` when it is.
    private func refusal(of e: MembershipFacts, foundingKeys: [CityID: CityPublicKey]) -> String? {
        // (A recover opens its chain: nothing before it in the merged order can revoke it.)
        if case .recover? = e.statement {} else if isRevoked(e, at: e) {
            return "it is in a revoked part of \(e.origin.city)'s chains"
        }
        let city = e.origin.city
        switch e.statement {
        case .join?:
            if isMember(city, before: e) { return "\(city) is a member already" }
            guard let key = foundingKeys[city] else { return "no founding key is known for \(city)" }
            let tally = self.tally(.admit(city: city, key: key), at: e)
            return tally.carried ? nil : "the admission of \(city) is not carried: \(tally.count) of \(tally.of) members vouched for it"
        case .leave?:
            return isMember(city, before: e) ? nil : "\(city) is not a member"
        case .recover(let r)?:
            guard e.origin == r.newChain, e.seq == 1 else { return "a recover is the first entry of \(r.newChain)" }
            let tally = self.tally(.recover(r), at: e)
            guard tally.carried else {
                return "the recovery of \(r.city) is not carried: \(tally.count) of \(tally.of) members vouched for it"
            }
            if r.generation > 2, !(validRecovers[r.oldChain] ?? []).contains(where: { e.hasInPast($0) }) {
                return "generation \(r.generation - 1) of \(r.city) was never recovered into (generations are not skipped)"
            }
            if let lastID = r.lastID {
                guard let last = entries[lastID], last.origin == r.oldChain, last.seq == r.lastSeq, e.hasInPast(last) else {
                    return "the entry it stands by, \(r.oldChain)#\(r.lastSeq) \(lastID.short), is not in its past"
                }
            }
            return nil
        default:
            return "not a member or recover entry"
        }
    }

    /// How many members count for `motion` at `e`, of how many (the members at `e` other
    /// than its subject), and whether that is more than half.
    public func tally(_ motion: Motion, at e: MembershipFacts) -> (count: Int, of: Int, carried: Bool, vouchers: [CityID]) {
        let electorate = members(at: e).subtracting([motion.subject])
        var said = [CityID: Set<Motion>]()
        for v in vouches[motion.slot] ?? [] where e.hasInPast(v) && !isRevoked(v, at: e) {
            guard case .vouch(let m)? = v.statement else { continue }
            said[v.origin.city, default: []].insert(m)
        }
        let vouchers = electorate.filter { said[$0] == [motion] }.sorted()
        return (vouchers.count, electorate.count, 2 * vouchers.count > electorate.count, vouchers)
    }

    /// The members at `e`: the founders, changed by the valid `join` and `leave` entries in
    /// its past that are not revoked at it, each city's last one deciding.
    public func members(at e: MembershipFacts) -> Set<CityID> {
        var last = [CityID: MembershipFacts]()
        for m in validMembership where e.hasInPast(m) && !isRevoked(m, at: e) {
            let city = m.origin.city
            if let held = last[city], !Self.comesAfter(m, held) { continue }
            last[city] = m
        }
        var members = Set(charter.founders)
        for (city, m) in last {
            if case .join? = m.statement { members.insert(city) } else { members.remove(city) }
        }
        return members
    }

    /// Whether `city` is a member at `e`'s predecessor in its own chain (at the founding,
    /// for a chain's first entry).
    private func isMember(_ city: CityID, before e: MembershipFacts) -> Bool {
        guard let p = e.prev.flatMap({ entries[$0] }) else { return charter.founders.contains(city) }
        return members(at: p).contains(city)
    }

    /// A city's membership entries in chain order: generation, then seq, then a leave
    /// after a join at one position.
    private static func comesAfter(_ a: MembershipFacts, _ b: MembershipFacts) -> Bool {
        if a.origin.generation != b.origin.generation { return a.origin.generation > b.origin.generation }
        if a.seq != b.seq { return a.seq > b.seq }
        if case .leave? = a.statement, case .join? = b.statement { return true }
        return false
    }

    /// Whether `r` is revoked by the verdicts over every entry held.
    public func isRevoked(_ r: MembershipFacts) -> Bool { isRevoked(r, scope: nil) }

    /// Every revoked entry among those given: what `isRevoked` says of each, in one pass per
    /// chain (each entry's seq-1 ancestor from its predecessor's, and one walk back from
    /// each valid recovery's `last`) rather than a walk through `prev` per entry, which a
    /// long chain would make quadratic.
    public var revoked: Set<EntryID> {
        var out = Set<EntryID>()
        for (chain, members) in Dictionary(grouping: entries.values, by: \.origin) {
            let generation = chain.generation
            if generation > 1 {
                // Standing only on a valid recover at seq 1: the one each entry descends from.
                let valid = Set((validRecovers[chain] ?? []).map(\.id))
                var root = [EntryID: EntryID]()
                for e in members.sorted(by: { $0.seq < $1.seq }) {
                    let first = e.seq == 1 ? e.id : e.prev.flatMap { root[$0] }
                    if let first { root[e.id] = first }
                    if first.map(valid.contains) != true { out.insert(e.id) }
                }
            }
            guard generation < CityID.maxGeneration else { continue }
            for recover in validRecovers[CityID.chain(of: chain.city, generation: generation + 1)] ?? [] {
                guard case .recover(let m)? = recover.statement else { continue }
                // The entries the members stood by: `last` and its ancestors.
                var kept = Set<EntryID>()
                var cursor = m.lastID.flatMap { entries[$0] }
                while let c = cursor, c.origin == chain {
                    kept.insert(c.id)
                    cursor = c.prev.flatMap { entries[$0] }
                }
                for e in members where e.seq > m.lastSeq || !kept.contains(e.id) { out.insert(e.id) }
            }
        }
        return out
    }

    /// Whether `r` is revoked at `e`: by a valid `recover` in `e`'s past, or for want of one
    /// at the start of its own (later) generation's chain.
    func isRevoked(_ r: MembershipFacts, at e: MembershipFacts) -> Bool { isRevoked(r, scope: e) }

    private func isRevoked(_ r: MembershipFacts, scope: MembershipFacts?) -> Bool {
        func inScope(_ f: MembershipFacts) -> Bool { scope.map { $0.hasInPast(f) } ?? true }
        let generation = r.origin.generation
        if generation > 1 {
            // A later generation stands only on a valid recover at its seq 1: the one this
            // entry descends from.
            guard let first = ancestor(of: r, at: 1), (validRecovers[r.origin] ?? []).contains(where: { $0.id == first.id && inScope($0) }) else {
                return true
            }
        }
        guard generation < CityID.maxGeneration else { return false }
        for recover in validRecovers[CityID.chain(of: r.origin.city, generation: generation + 1)] ?? [] where inScope(recover) {
            guard case .recover(let m)? = recover.statement else { continue }
            if r.seq > m.lastSeq || !isAncestor(r, of: m.lastID) { return true }
        }
        return false
    }

    /// The entry at `seq` on `r`'s chain through `prev` (`r` itself at its own seq).
    private func ancestor(of r: MembershipFacts, at seq: Int64) -> MembershipFacts? {
        var cursor: MembershipFacts? = r
        while let c = cursor, c.seq > seq { cursor = c.prev.flatMap { entries[$0] } }
        return cursor?.seq == seq ? cursor : nil
    }

    /// Whether `r` is `id` or an ancestor of it through `prev` (`id` nil: nothing is).
    private func isAncestor(_ r: MembershipFacts, of id: EntryID?) -> Bool {
        guard let top = id.flatMap({ entries[$0] }) else { return false }
        return ancestor(of: top, at: r.seq)?.id == r.id
    }
}
