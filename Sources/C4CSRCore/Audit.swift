/// A stored row as the auditor sees it: the signed bytes, and the columns the store
/// derived from them (which the auditor re-derives and compares).
public struct StoredRow: Sendable {
    public let position: Int64
    public let id: [UInt8]
    public let origin: String
    public let seq: Int64
    public let prev: [UInt8]?
    public let rank: Int64
    public let clock: String
    public let kind: String
    public let subject: [UInt8]?
    public let body: [UInt8]
    public let signature: [UInt8]
    /// The stored key in force after the entry (§12), when the store keeps one.
    public let keyAfter: [UInt8]?
    /// The stored officers in force after the entry (§13): the canonical bytes of its roll.
    public let rollAfter: [UInt8]?

    public init(
        position: Int64, id: [UInt8], origin: String, seq: Int64, prev: [UInt8]?, rank: Int64, clock: String, kind: String,
        subject: [UInt8]?, body: [UInt8], signature: [UInt8], keyAfter: [UInt8]? = nil, rollAfter: [UInt8]? = nil
    ) {
        self.position = position
        self.id = id
        self.origin = origin
        self.seq = seq
        self.prev = prev
        self.rank = rank
        self.clock = clock
        self.kind = kind
        self.subject = subject
        self.body = body
        self.signature = signature
        self.keyAfter = keyAfter
        self.rollAfter = rollAfter
    }
}

/// One thing `audit` found.
public struct AuditFinding: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        /// This store, or what the network handed it, was tampered with: a stored entry
        /// that does not verify, a damaged derived table, a broken chain. `audit` exits 2.
        case error
        /// A member broke the protocol and the log records it faithfully: it signed two
        /// entries at one seq (equivocation), or an entry the practice rules ignore. The
        /// store is intact; `audit` reports it and exits 0 (2 with `--strict`), so that
        /// one bad member cannot make every city's audit fail for ever.
        case violation
        /// Worth a look, not a fault (a revision conflict): `audit --strict` fails on it.
        case warning
    }

    /// Who the finding is about: `tampering` (errors), `member` (violations), `conflict` (warnings).
    public var category: String {
        switch severity {
        case .error: "tampering"
        case .violation: "member"
        case .warning: "conflict"
        }
    }
    public let severity: Severity
    /// A stable code: `bad_signature`, `fork`, `conflict`, ….
    public let code: String
    /// The entry concerned, as `origin#seq id`, if any.
    public let entry: String?
    public let message: String

    public init(_ severity: Severity, _ code: String, entry: String?, _ message: String) {
        self.severity = severity
        self.code = code
        self.entry = entry
        self.message = message
    }

    public var description: String { "\(severity.rawValue): [\(code)] " + (entry.map { "\($0): " } ?? "") + message }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "severity": .string(severity.rawValue), "category": .string(category), "code": .string(code), "message": .string(message),
        ]
        if let entry { o["entry"] = .string(entry) }
        return .object(o)
    }
}

/// Re-verifies a stored log from its bytes alone (invariants 1–4, 9): each row's
/// id, envelope, signature, derived columns, chain link and causal readiness in
/// stored order, through the same `MergePlanner` that admitted it.
///
/// Feed rows in stored (arrival) order; signature checks are passed in so that the
/// caller can run them in parallel. Memory grows with the number of entries
/// (one id and clock per entry), not with their size.
public struct LogAuditor {
    public private(set) var findings: [AuditFinding] = []
    public private(set) var checked = 0
    private var index = AuditIndex()
    /// Per origin: entries that decode, and those of them that do not verify.
    private var stored: [CityID: Int] = [:]
    private var unverified: [Unverified: Int] = [:]
    private struct Unverified: Hashable, Comparable {
        let origin: CityID
        let code: String
        static func < (a: Self, b: Self) -> Bool { (a.origin, a.code) < (b.origin, b.code) }
    }
    /// Entries of one origin that fail verification listed one by one; the rest are counted.
    static let unverifiedShown = 3
    private var finished = false

    public init() {}

    /// Checks one row. `signature` is the result of `EntryVerifier.verify` on it
    /// (`nil` when the envelope did not decode).
    public mutating func check(_ row: StoredRow, signature: Result<Entry, EntryError>) {
        checked += 1
        let at = "position \(row.position) (\(row.origin)#\(row.seq))"
        let entry: Entry
        switch signature {
        case .success(let e):
            entry = e
        case .failure(let error):
            let code = error.isBadSignature ? "bad_signature" : error.isUnknownOrigin ? "unknown_origin" : "bad_entry"
            // An entry that decodes but does not verify (a wrong key on a card, or a forged
            // entry) still takes its place in the chain, as in the store: the heads and the
            // digest are then judged on what is stored, and one wrong key does not also
            // report a damaged head table.
            guard code != "bad_entry", let decoded = try? Entry.decode(body: row.body, signature: row.signature) else {
                findings.append(AuditFinding(.error, code, entry: at, error.message))
                return
            }
            let n = unverified[Unverified(origin: decoded.origin, code: code), default: 0] + 1
            unverified[Unverified(origin: decoded.origin, code: code)] = n
            if n <= Self.unverifiedShown { findings.append(AuditFinding(.error, code, entry: at, error.message)) }
            entry = decoded
        }
        stored[entry.origin, default: 0] += 1
        let name = "\(entry.origin)#\(entry.seq) \(entry.id.short)"
        if row.id != entry.id.bytes {
            findings.append(AuditFinding(.error, "id_mismatch", entry: at, "stored id \(Hex.encode(row.id).prefix(12)) is not the SHA-256 of the stored bytes (\(entry.id.short))"))
            return
        }
        var columns = [String]()
        if row.origin != entry.origin.rawValue { columns.append("origin") }
        if row.seq != entry.seq { columns.append("seq") }
        if row.prev != entry.prev?.bytes { columns.append("prev") }
        if row.rank != entry.clock.sum { columns.append("rank") }
        if row.clock != CanonicalJSON.string(entry.clock.json) { columns.append("clock") }
        if row.kind != entry.kind.rawValue { columns.append("kind") }
        if row.subject != PracticeAction.subject(of: entry)?.bytes { columns.append("subject") }
        if !columns.isEmpty {
            findings.append(AuditFinding(.error, "column_mismatch", entry: name, "stored \(columns.joined(separator: ", ")) disagree with the signed bytes"))
        }
        // The index is in memory and never throws.
        let plan = try! MergePlanner.plan([entry], into: index)
        if plan.duplicates > 0 {
            findings.append(AuditFinding(.error, "duplicate", entry: name, "stored twice"))
            return
        }
        let others = index.positions(origin: entry.origin, seq: entry.seq).map(\.id.short).joined(separator: ", ")
        if let refused = plan.refused.first {
            if case .evidenceFull = refused.reason {
                // Evidence stored before the bound existed: the member's doing, not tampering.
                findings.append(AuditFinding(.violation, "fork", entry: name, "\(entry.origin) signed yet another entry with seq \(entry.seq) (also \(others)); kept from before evidence was bounded"))
            } else {
                let code = refused.reason.isNotReady ? "not_causal" : "bad_clock"
                findings.append(AuditFinding(.error, code, entry: name, "stored at \(at) although \(refused.reason)"))
            }
            // Keep it in the index so that later entries are judged on their own.
        }
        if plan.forks.contains(entry.id) {
            findings.append(AuditFinding(.violation, "fork", entry: name, "\(entry.origin) signed two different entries with seq \(entry.seq) (also \(others)); both are kept as evidence"))
        }
        index.add(entry)
    }

    /// Heads and forks recomputed from the bytes.
    public var heads: [Head] { index.heads }
    public var forks: [Head] { index.forks }
    public var digest: NetworkDigest { NetworkDigest(heads: heads, forks: forks) }

    /// Compares the recomputed heads and forks with the store's derived tables, and sums
    /// up the entries that did not verify, per city.
    public mutating func compare(storedHeads: [Head], storedForks: [Head]) {
        finish()
        if storedHeads.sorted() != heads {
            findings.append(AuditFinding(.error, "heads_mismatch", entry: nil, "the store's head table disagrees with the entries (derived state is damaged)"))
        }
        if storedForks.sorted() != forks {
            findings.append(AuditFinding(.error, "forks_mismatch", entry: nil, "the store's fork table disagrees with the entries (derived state is damaged)"))
        }
    }

    /// After the last row: sums up, per city, the entries that did not verify (an export
    /// has no derived tables to compare, so its audit ends here).
    public mutating func finish() {
        guard !finished else { return }
        finished = true
        for (key, n) in unverified.sorted(by: { $0.key < $1.key }) {
            let origin = key.origin
            if n > Self.unverifiedShown {
                findings.append(AuditFinding(.error, key.code, entry: nil, "\(n - Self.unverifiedShown) more entries of \(origin) do not verify either"))
            }
            if key.code == "bad_signature", n == stored[origin], n > 1 {
                findings.append(AuditFinding(
                    .error, "key_mismatch", entry: nil,
                    "none of the \(n) entries of \(origin) verifies with the key this node has for it: the public_key on \(origin)'s card is probably wrong (compare it with \(origin)'s own city.toml)"))
            }
        }
    }

    /// What the practice rules say about one practice: whether it is one (its publish
    /// entry is present), its problems (errors) and any conflict (a warning).
    public struct PracticeCheck: Sendable {
        public let isPractice: Bool
        public let findings: [AuditFinding]
    }

    /// Applies the practice rules to one practice's entries. Pure: callers may run it
    /// on many practices in parallel and `add` the findings in order.
    /// - Parameter revoked: entries a recovery revoked (§15), read as absent (the audit
    ///   reports each of them once, as revoked).
    public static func practiceCheck(publish: Entry?, related: [Entry], revoked: Set<EntryID> = []) -> PracticeCheck {
        let (record, problems) = PracticeRules.project(publish: publish, related: related, revoked: revoked)
        var findings = problems.map { p in
            AuditFinding(.violation, p.kind.rawValue, entry: "\(p.origin)#\(p.seq) \(p.entry.short)", p.message)
        }
        if let record, record.conflict {
            let heads = record.heads.map(\.short).joined(separator: ", ")
            findings.append(AuditFinding(
                .warning, "conflict", entry: "\(record.publisher) practice \(record.id.short)",
                "concurrent revisions: \(record.heads.count) current versions (\(heads)); \(record.publisher) can resolve with `c4csr revise`"))
        }
        return PracticeCheck(isPractice: publish != nil, findings: findings)
    }

    /// Applies the practice rules to one practice's entries and records their findings.
    public mutating func checkPractice(publish: Entry?, related: [Entry]) {
        add(Self.practiceCheck(publish: publish, related: related).findings)
    }

    public mutating func add(_ more: [AuditFinding]) { findings.append(contentsOf: more) }

    public mutating func add(_ finding: AuditFinding) { findings.append(finding) }
}

/// The positions the auditor has seen, compactly: per origin, per seq, ids and clocks.
struct AuditIndex: LogIndex {
    private var chains: [CityID: [[LogPosition]]] = [:]

    func maxSeq(of origin: CityID) -> Int64 { Int64(chains[origin]?.count ?? 0) }

    func positions(origin: CityID, seq: Int64) -> [LogPosition] {
        guard let chain = chains[origin], seq >= 1, seq <= chain.count else { return [] }
        return chain[Int(seq - 1)]
    }

    func contains(_ id: EntryID) -> Bool { false }  // duplicates are caught by the store's UNIQUE id

    func forkedPositions(of origin: CityID) -> Int { forkedCount[origin] ?? 0 }
    private var forkedCount: [CityID: Int] = [:]

    mutating func add(_ e: Entry) {
        // A stored entry beyond a gap (a damaged store) is reported by the caller; the
        // chain never grows by more than one position, whatever its seq says.
        guard e.seq <= maxSeq(of: e.origin) + 1 else { return }
        var chain = chains[e.origin] ?? []
        chains[e.origin] = nil  // keep the array uniquely referenced while it grows
        while chain.count < e.seq { chain.append([]) }
        chain[Int(e.seq - 1)].append(LogPosition(id: e.id, clock: e.clock))
        if chain[Int(e.seq - 1)].count == 2 { forkedCount[e.origin, default: 0] += 1 }
        chains[e.origin] = chain
    }

    var heads: [Head] {
        chains.flatMap { origin, chain -> [Head] in
            guard let top = chain.lastIndex(where: { !$0.isEmpty }) else { return [] }
            return chain[top].map { Head(origin: origin, seq: Int64(top + 1), id: $0.id) }
        }.sorted()
    }

    var forks: [Head] {
        chains.flatMap { origin, chain in
            chain.enumerated().filter { $0.element.count > 1 }.flatMap { seq, ps in
                ps.map { Head(origin: origin, seq: Int64(seq + 1), id: $0.id) }
            }
        }.sorted()
    }
}
