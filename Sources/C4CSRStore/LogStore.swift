import C4CSRCore
import Foundation
import GRDB
import Synchronization

/// A city's append-only log in SQLite (WAL, `synchronous = FULL`).
///
/// The narrow API is sequence-based — `append`, `merge`, `heads`, `forEachStored`,
/// `forEachMerged` — so callers never see SQL. Several processes may open the same
/// file at once (the daemon and the CLI): every write is one `BEGIN IMMEDIATE`
/// transaction, waits for the lock up to `busyTimeout`, and is retried on `SQLITE_BUSY`.
///
/// Ordering rule: a write returns only after its transaction has committed with
/// `synchronous = FULL`, so an entry that a caller acknowledged survives a crash
/// or a power loss.
public final class LogStore: Sendable {
    let pool: DatabasePool
    private let now: @Sendable () -> Int64
    public let path: String

    /// Tests only: per store file path, a closure that sees every SQL statement of the
    /// stores opened on that path (to check that hot paths never scan the log). Keyed by
    /// path, so that tests running in parallel never see each other's statements.
    static let statementObservers = Mutex<[String: @Sendable (String) -> Void]>([:])

    /// How long a write waits for another process's transaction before failing.
    public static let busyTimeout: TimeInterval = 15

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    /// - Throws: `StoreError` if the file cannot be opened or was written by a newer c4csr.
    public init(path: String, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) throws {
        self.path = path
        self.now = now
        var config = Configuration()
        config.busyMode = .timeout(LogStore.busyTimeout)
        config.label = "c4csr"
        let observer = LogStore.statementObservers.withLock { $0[path] }
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // What is deleted is overwritten (erased personal content, §14: not left in
            // free pages or in the slack of a page).
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if let observer { db.trace(options: .statement) { observer("\($0)") } }
        }
        // Readers keep SQLite's 2 MiB page cache each; at most four of them.
        config.maximumReaderCount = 4
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // DatabasePool sets synchronous = NORMAL when it enables WAL; acknowledged
            // entries must survive power loss, so switch the writer to FULL and check.
            let mode = try pool.writeWithoutTransaction { db -> Int in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // The one writer gets 16 MiB: a page of entries merges without spilling
                // dirty pages to the WAL in the middle of its transaction.
                try db.execute(sql: "PRAGMA cache_size = -16384")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            }
            guard mode == 2 else { throw StoreError.openFailed(path, "could not set synchronous = FULL (got \(mode))") }
            let migrator = Schema.migrator
            let known = try pool.read { db in try migrator.appliedIdentifiers(db) }
            let unknown = known.subtracting(migrator.migrations)
            if !unknown.isEmpty {
                throw StoreError.newerSchema(path, unknown.sorted())
            }
            // An up-to-date store (every open but the first after an upgrade) skips the
            // migrator's own write transaction and its generic machinery (issue 14: what
            // a command pays before its work).
            if known != Set(migrator.migrations) { try migrator.migrate(pool) }
        } catch let e as StoreError {
            throw e
        } catch {
            // The usual cause: a directory this user may not write (SQLite in WAL mode
            // writes store.sqlite-wal and -shm beside the log, even to read).
            let directory = (path as NSString).deletingLastPathComponent
            if access(directory, W_OK) != 0 {
                let why = String(cString: strerror(errno))
                throw StoreError.notWritable(path, why)
            }
            throw StoreError.openFailed(path, "\(error)")
        }
    }

    // MARK: Writing

    /// Appends one local entry. `build` runs inside the write transaction with the
    /// log's current state, so two processes adding at once get consecutive seqs.
    /// The entry goes through the same merge rules as entries from peers.
    ///
    /// - Returns: the entry, after its transaction has committed durably.
    ///
    /// - Parameter keys: the founding key of the entries' origin and the key that signs
    ///   them: the planner refuses an entry unless that is the key in force (§12).
    public func append(
        keys: LocalKeys, _ build: (LocalContext) throws -> Entry, then: ((LocalContext, Entry) throws -> Void)? = nil
    ) throws -> Entry {
        try append(count: 1, keys: keys, { ctx, _ in try build(ctx) }, then: then)[0]
    }

    /// Appends `count` local entries in one write transaction (a bulk `add`): all of them
    /// or, if any is refused, none. `build` is called with the state the earlier ones left.
    /// - Parameter then: runs after each entry is inserted, in the same transaction (a
    ///   local write stores its sealed fields' content with it, §14).
    public func append(
        count: Int, keys: LocalKeys, _ build: (LocalContext, Int) throws -> Entry, then: ((LocalContext, Entry) throws -> Void)? = nil
    ) throws -> [Entry] {
        var erased = 0
        defer { if erased > 0 { checkpointAfterErasure() } }
        return try write { db in
            var out = [Entry]()
            for i in 0..<count {
                let entry = try build(LocalContext(db: db), i)
                // The officers an officer entry or an author was judged by are those the
                // store holds in force at its position: `City.sign` verified it against them
                // in this same transaction. Other entries need none.
                var rolls = [EntryID: OfficerRoll]()
                if entry.author != nil || entry.kind == .officer {
                    rolls[entry.id] = try entry.prev.flatMap { try Self.statesAfter([$0], db: db)[$0] }?.officers ?? .empty
                }
                let check = SignatureCheck(
                    founding: keys.founding.map { [entry.origin: $0] } ?? [:], signers: [entry.id: keys.signer], rolls: rolls)
                let plan = try MergePlanner.plan([entry], into: SQLIndex(db: db), signatures: check)
                if let refused = plan.refused.first { throw StoreError.refused(refused.entry, refused.reason.description) }
                guard plan.accepted.count == 1 else { throw StoreError.refused(entry, "an entry with the same id is already in the log") }
                erased += try insert(plan.accepted, forks: plan.forks, stateAfter: plan.stateAfter, membership: keys.membership, db: db)
                try then?(LocalContext(db: db), entry)
                out.append(entry)
            }
            return out
        }
    }

    /// Merges a batch of entries whose signatures the caller has verified: all that
    /// are valid and causally ready go in, in one transaction; none half.
    ///
    /// - Returns: what was inserted, what was already there, what was refused and why.
    /// `signatures`: the key that verified each entry (`MergePlanner` accepts an entry only
    /// if it is the key in force at its position).
    /// - Parameter membership: the charter and founding keys the verdicts of §15 are
    ///   computed against; `nil` on a node without a charter (no membership entry is
    ///   accepted there: they wait).
    public func merge(_ batch: [Entry], signatures: SignatureCheck, membership: Membership? = nil) throws -> MergeOutcome {
        if batch.isEmpty { return MergeOutcome(inserted: [], forks: [], duplicates: 0, refused: []) }
        var erased = 0
        defer { if erased > 0 { checkpointAfterErasure() } }
        return try write { db in
            let plan = try MergePlanner.plan(batch, into: SQLIndex(db: db), signatures: signatures)
            erased = try insert(plan.accepted, forks: plan.forks, stateAfter: plan.stateAfter, membership: membership, db: db)
            return MergeOutcome(
                inserted: plan.accepted, forks: plan.accepted.filter { plan.forks.contains($0.id) },
                duplicates: plan.duplicates, refused: plan.refused.map { ($0.entry, $0.reason) })
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try pool.writeWithoutTransaction { db in
                    var result: T?
                    try db.inTransaction(.immediate) {
                        result = try body(db)
                        return .commit
                    }
                    return result!
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && attempt < 3 {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            } catch let error as DatabaseError {
                throw StoreError.database(path, error)
            }
        }
    }

    /// Inserts planned entries and keeps the derived state (heads, forks, practices)
    /// in the same transaction. Every statement is prepared once per connection
    /// (`cachedStatement`); heads are written once per origin per batch, and the
    /// practices view once per practice, from the entries already decoded when the
    /// batch holds all of a practice's entries.
    /// - Returns: how many (entry, field) pairs an erasure among them newly erased (§14).
    private func insert(
        _ entries: [Entry], forks: Set<EntryID>, stateAfter: [EntryID: ChainState], membership: Membership? = nil, db: Database
    ) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        let received = now()
        let insertEntry = try db.cachedStatement(sql: """
            INSERT INTO entry (id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at, key_after, roll_after)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var rollIDs = [OfficerRoll: Int64]()
        func rollID(_ roll: OfficerRoll) throws -> Int64? {
            if roll.isEmpty { return nil }
            if let id = rollIDs[roll] { return id }
            let bytes = Data(roll.canonical)
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO officer_roll (roll) VALUES (?)").execute(arguments: [bytes])
            guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM officer_roll WHERE roll = ?"), arguments: [bytes]) else {
                throw StoreError.corrupt("an officer roll just written cannot be read back")
            }
            rollIDs[roll] = id
            return id
        }
        let insertFork = try db.cachedStatement(sql: "INSERT OR IGNORE INTO fork (origin, seq) VALUES (?, ?)")
        var tops = [CityID: (seq: Int64, ids: [EntryID])]()
        var subjects = [EntryID]()
        var bySubject = [EntryID: [Entry]]()
        for e in entries {
            let subject = PracticeAction.subject(of: e)
            let state = stateAfter[e.id] ?? .founding
            try insertEntry.execute(arguments: [
                Data(e.id.bytes), e.origin.rawValue, e.seq, e.prev.map { Data($0.bytes) }, e.clock.sum,
                CanonicalJSON.string(e.clock.json), e.kind.rawValue, subject.map { Data($0.bytes) }, Data(e.body),
                Data(e.signature), received, state.key.map { Data($0.rawRepresentation) }, try rollID(state.officers),
            ])
            if forks.contains(e.id) { try insertFork.execute(arguments: [e.origin.rawValue, e.seq]) }
            if let t = tops[e.origin], t.seq >= e.seq {
                if t.seq == e.seq { tops[e.origin] = (t.seq, t.ids + [e.id]) }
            } else {
                tops[e.origin] = (e.seq, [e.id])
            }
            if let subject {
                if bySubject[subject] == nil { subjects.append(subject) }
                bySubject[subject, default: []].append(e)
            }
        }
        let currentTop = try db.cachedStatement(sql: "SELECT max(seq) FROM head WHERE origin = ?")
        let clearHeads = try db.cachedStatement(sql: "DELETE FROM head WHERE origin = ?")
        let addHead = try db.cachedStatement(sql: "INSERT OR IGNORE INTO head (origin, seq, id) VALUES (?, ?, ?)")
        for (origin, top) in tops {
            let current = try Int64.fetchOne(currentTop, arguments: [origin.rawValue]) ?? 0
            guard top.seq >= current else { continue }
            if top.seq > current { try clearHeads.execute(arguments: [origin.rawValue]) }
            for id in top.ids { try addHead.execute(arguments: [origin.rawValue, top.seq, Data(id.bytes)]) }
        }
        if let membership, try Self.verdictsMayChange(entries, forks: forks, db: db) {
            // The practices an entry whose verdict changed names (or is) are projected again.
            let subjectOf = try db.cachedStatement(sql: "SELECT subject, kind FROM entry WHERE id = ?")
            for id in try Self.refreshVerdicts(membership, db: db) {
                guard let row = try Row.fetchOne(subjectOf, arguments: [Data(id.bytes)]) else { continue }
                let subject = (row[0] as Data?).flatMap { EntryID(bytes: Array($0)) } ?? ((row[1] as String) == "publish" ? id : nil)
                if let subject, bySubject[subject] == nil {
                    subjects.append(subject)
                    bySubject[subject] = []
                }
            }
        }
        var erased = 0
        for s in subjects { erased += try PracticeView.refresh(subject: s, batch: bySubject[s] ?? [], db: db) }
        return erased
    }

    /// After an erasure committed: the write-ahead log, which still holds the pages that
    /// carried the erased content, is folded into the store and truncated (§14). A reader
    /// holding an old snapshot may keep part of it until its next checkpoint (the ack
    /// waits for that one: `checkpointCompletely`). Waits at most a second for readers.
    func checkpointAfterErasure() {
        _ = checkpointCompletely()
    }

    // MARK: Reading

    /// Which of `ids` are held, each with the state in force after it (the city's key,
    /// its officers; docs/PROTOCOL.md §12, §13). Ids not in the answer are not held.
    public func statesAfter(_ ids: Set<EntryID>) throws -> [EntryID: ChainState] {
        if ids.isEmpty { return [:] }
        return try read { db in try Self.statesAfter(ids, db: db) }
    }

    /// Every rotation held (docs/PROTOCOL.md §12), by origin and seq: a city's key history.
    public func rotations() throws -> [KeyRotation] {
        try read { db in
            // The partial index `entry_rotate` (v5): never a scan of the log.
            try Row.fetchAll(db, sql: "SELECT body, sig FROM entry INDEXED BY entry_rotate WHERE kind = 'rotate' ORDER BY origin, seq").compactMap { row in
                guard let e = try? Entry.decode(body: Array(row[0] as Data), signature: Array(row[1] as Data)), let r = e.rotation else { return nil }
                return KeyRotation(origin: e.origin, seq: e.seq, entry: e.id, time: e.time, key: r.key)
            }
        }
    }

    /// What is in force for `city`'s next entry: the state after its top entry (the
    /// founding state when it has none yet).
    public func stateInForce(nextOf city: CityID) throws -> ChainState {
        try read { db in
            guard let top = try Data.fetchOne(db, sql: "SELECT id FROM head WHERE origin = ? ORDER BY id LIMIT 1", arguments: [city.rawValue]),
                  let id = EntryID(bytes: Array(top)) else { return .founding }
            return try Self.statesAfter([id], db: db)[id] ?? .founding
        }
    }

    /// The key in force for `city`'s next entry, when a rotation changed it (`nil`: its
    /// founding key, or no entry yet).
    public func keyInForce(nextOf city: CityID) throws -> CityPublicKey? { try stateInForce(nextOf: city).key }

    static func statesAfter(_ ids: Set<EntryID>, db: Database) throws -> [EntryID: ChainState] {
        let statement = try db.cachedStatement(sql: """
            SELECT e.key_after, r.roll FROM entry e LEFT JOIN officer_roll r ON r.id = e.roll_after WHERE e.id = ?
            """)
        var out = [EntryID: ChainState]()
        for id in ids {
            guard let row = try Row.fetchOne(statement, arguments: [Data(id.bytes)]) else { continue }
            out[id] = try state(key: row[0], roll: row[1], entry: id.short)
        }
        return out
    }

    /// The state stored for an entry: its `key_after` column and its roll's bytes.
    static func state(key: Data?, roll: Data?, entry: String) throws -> ChainState {
        var state = ChainState.founding
        if let key {
            guard let k = CityPublicKey(rawRepresentation: Array(key)) else {
                throw StoreError.corrupt("entry \(entry) has an unreadable key_after column")
            }
            state.key = k
        }
        if let roll {
            guard let r = parsedRoll(roll) else { throw StoreError.corrupt("entry \(entry) has an unreadable officer roll") }
            state.officers = r
        }
        return state
    }

    /// Rolls parsed once, by their bytes: every entry after an enrolment refers to one,
    /// and the planner and the verify phase read a predecessor's for each entry they
    /// judge. Keyed by the bytes (not the row id, which a rolled-back transaction may
    /// hand out again), bounded: emptied when full.
    private static let parsedRolls = Mutex<[Data: OfficerRoll]>([:])
    static let parsedRollsCapacity = 256

    static func parsedRoll(_ bytes: Data) -> OfficerRoll? {
        if let r = parsedRolls.withLock({ $0[bytes] }) { return r }
        guard let r = OfficerRoll(canonical: Array(bytes)) else { return nil }
        parsedRolls.withLock {
            if $0.count >= parsedRollsCapacity { $0.removeAll() }
            $0[bytes] = r
        }
        return r
    }

    /// Every officer entry held (docs/PROTOCOL.md §13), by origin and seq: who enrolled
    /// and removed whom.
    public func officerChanges() throws -> [Entry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT body, sig FROM entry INDEXED BY entry_officer WHERE kind = 'officer' ORDER BY origin, seq").compactMap { row in
                try? Entry.decode(body: Array(row[0] as Data), signature: Array(row[1] as Data))
            }
        }
    }

    /// Heads (invariant 6): for each origin, the entries at its highest seq.
    public func heads() throws -> [Head] { try read { db in try Self.heads(db) } }

    /// Every entry at a forked position.
    public func forks() throws -> [Head] { try read { db in try Self.forks(db) } }

    /// Heads, forks, digest and entry count, read in one snapshot.
    public func summary() throws -> LogSummary {
        try read { db in
            let heads = try Self.heads(db)
            let forks = try Self.forks(db)
            return LogSummary(heads: heads, forks: forks, digest: NetworkDigest(heads: heads, forks: forks), entries: try Self.count(db))
        }
    }

    static func heads(_ db: Database) throws -> [Head] {
        try Row.fetchAll(db, sql: "SELECT origin, seq, id FROM head").map(Self.head).sorted()
    }

    /// Per city that signed two entries at one seq: those seqs, and when the newest of
    /// that evidence arrived here (milliseconds since the epoch, this node's clock).
    public func equivocations() throws -> [CityID: (seqs: [Int64], lastReceived: Int64)] {
        try read { db in
            var out = [CityID: (seqs: [Int64], lastReceived: Int64)]()
            for row in try Row.fetchAll(db, sql: """
                SELECT e.origin, e.seq, MAX(e.received_at) FROM fork f CROSS JOIN entry e INDEXED BY entry_chain
                ON e.origin = f.origin AND e.seq = f.seq GROUP BY e.origin, e.seq
                """) {
                guard let origin = CityID.chain(row[0]) else { throw StoreError.corrupt("fork table names an invalid chain") }
                let seq: Int64 = row[1], received: Int64 = row[2]
                var known = out[origin] ?? (seqs: [], lastReceived: received)
                known.seqs.append(seq)
                known.lastReceived = Swift.max(known.lastReceived, received)
                out[origin] = known
            }
            return out.mapValues { (seqs: $0.seqs.sorted(), lastReceived: $0.lastReceived) }
        }
    }

    static func forks(_ db: Database) throws -> [Head] {
        try Row.fetchAll(db, sql: """
            SELECT e.origin, e.seq, e.id FROM fork f CROSS JOIN entry e INDEXED BY entry_chain
            ON e.origin = f.origin AND e.seq = f.seq
            """).map(Self.head).sorted()
    }

    private static func head(_ row: Row) throws -> Head {
        guard let origin = CityID.chain(row[0]), let id = EntryID(bytes: Array(row[2] as Data)) else {
            throw StoreError.corrupt("head table holds an invalid row")
        }
        return Head(origin: origin, seq: row[1], id: id)
    }

    /// Problems with the database itself: SQLite's own consistency check, and the
    /// triggers that make the log append-only (someone may have dropped them).
    public func integrityProblems() throws -> [String] {
        try read { db in
            var problems = [String]()
            let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
            if check != ["ok"] { problems.append("SQLite integrity check failed: " + check.prefix(5).joined(separator: "; ")) }
            let triggers = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entry'"))
            for t in ["entry_no_update", "entry_no_delete", "entry_chain_linked"] where !triggers.contains(t) {
                problems.append("the trigger \(t) that protects the log has been removed")
            }
            return problems
        }
    }

    /// The number of entries in the log.
    public func count() throws -> Int { try read { db in try Self.count(db) } }

    /// O(1): rows are never deleted and positions are assigned max + 1, so the highest
    /// position is the count (count(*) would scan the log).
    static func count(_ db: Database) throws -> Int { try Int.fetchOne(db, sql: "SELECT max(position) FROM entry") ?? 0 }

    /// Streams every stored row in arrival order (a causal order), in chunks, without
    /// decoding: what `audit` and `export` need. Memory stays bounded by `chunk`.
    public func forEachStored(chunk: Int = 2048, _ body: ([StoredEntry]) throws -> Void) throws {
        var after: Int64 = 0
        while true {
            let rows = try read { db in
                try Row.fetchAll(db, sql: """
                    SELECT position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, key_after,
                        (SELECT roll FROM officer_roll WHERE officer_roll.id = entry.roll_after)
                    FROM entry WHERE position > ? ORDER BY position LIMIT ?
                    """, arguments: [after, chunk]).map(StoredEntry.init(row:))
            }
            guard let last = rows.last else { return }
            try body(rows)
            after = last.position
        }
    }

    /// Streams the stored rows in merged network order (invariant 5), undecoded.
    /// Keyset pagination on the `entry_merged` index: memory stays bounded by `chunk`.
    public func forEachMergedRow(chunk: Int = 2048, _ body: (StoredRow) throws -> Void) throws {
        let columns = "position, id, origin, seq, prev, rank, clock, kind, subject, body, sig"
        var after: StoredRow?
        while true {
            let rows = try read { db -> [StoredRow] in
                if let a = after {
                    return try Row.fetchAll(db, sql: """
                        SELECT \(columns) FROM entry WHERE (rank, origin, seq, id) > (?, ?, ?, ?)
                        ORDER BY rank, origin, seq, id LIMIT ?
                        """, arguments: [a.rank, a.origin, a.seq, Data(a.id), chunk]).map(StoredRow.init(row:))
                }
                return try Row.fetchAll(db, sql: "SELECT \(columns) FROM entry ORDER BY rank, origin, seq, id LIMIT ?", arguments: [chunk])
                    .map(StoredRow.init(row:))
            }
            guard let last = rows.last else { return }
            for row in rows { try body(row) }
            after = last
        }
    }

    /// The last `limit` entries of the merged network order, newest first (the
    /// `entry_merged` index read backwards: no scan, whatever the log's size).
    public func latestEntries(limit: Int) throws -> [Entry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT body, sig FROM entry ORDER BY rank DESC, origin DESC, seq DESC, id DESC LIMIT ?", arguments: [limit])
                .map { try Self.decode($0, bodyColumn: 0) }
        }
    }

    /// The same, of one origin's chain (the `entry_origin_rank` index, backwards).
    public func latestEntries(origin: CityID, limit: Int) throws -> [Entry] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT body, sig FROM entry INDEXED BY entry_origin_rank WHERE origin = ? ORDER BY rank DESC, seq DESC, id DESC LIMIT ?
                """, arguments: [origin.rawValue, limit])
                .map { try Self.decode($0, bodyColumn: 0) }
        }
    }

    /// The last `limit` entries, in merged order newest first, about practices whose
    /// current version has this theme or this SDG.
    ///
    /// Two plans, chosen by how many practices carry the tag (an index count): a common
    /// tag walks the log from its newest entry and stops at `limit` matches; a rare one
    /// reads its few practices' entries and sorts them. Either reads an index, never every
    /// practice (a rare tag would make the walk read the whole log; a common one would
    /// make the sort take most of it).
    public func latestEntries(theme: String? = nil, sdg: Int? = nil, limit: Int) throws -> [Entry] {
        let kind = theme != nil ? "theme" : "sdg"
        let value = theme.map { $0.lowercased() } ?? String(sdg ?? 0)
        return try read { db in
            let tagged = try Int.fetchOne(db, sql: "SELECT count(*) FROM practice_tag WHERE kind = ? AND value = ?", arguments: [kind, value]) ?? 0
            let walk = tagged > Self.feedSortLimit
            return try Row.fetchAll(db, sql: walk ? """
                SELECT e.body, e.sig FROM entry e INDEXED BY entry_merged
                WHERE EXISTS (SELECT 1 FROM practice p JOIN practice_tag t ON t.pid = p.pid
                              WHERE p.id = e.subject AND t.kind = ? AND t.value = ?)
                ORDER BY e.rank DESC, e.origin DESC, e.seq DESC, e.id DESC LIMIT ?
                """ : """
                SELECT e.body, e.sig FROM practice_tag t JOIN practice p ON p.pid = t.pid
                JOIN entry e INDEXED BY entry_subject ON e.subject = p.id
                WHERE t.kind = ? AND t.value = ? ORDER BY e.rank DESC, e.origin DESC, e.seq DESC, e.id DESC LIMIT ?
                """, arguments: [kind, value, limit])
                .map { try Self.decode($0, bodyColumn: 0) }
        }
    }

    /// Up to this many practices, a tag's feed sorts their entries; above, it walks the log.
    static let feedSortLimit = 2_000

    /// Streams the log in merged network order (invariant 5), decoded.
    /// - Throws: `StoreError.corrupt` naming an entry whose stored bytes no longer decode.
    public func forEachMerged(chunk: Int = 2048, _ body: (Entry) throws -> Void) throws {
        try forEachMergedRow(chunk: chunk) { row in
            do {
                try body(try Entry.decode(body: row.body, signature: row.signature))
            } catch let error as EntryError {
                throw StoreError.corrupt("stored entry \(row.origin)#\(row.seq) no longer decodes (\(error)); run `c4csr audit`")
            }
        }
    }

    static func decode(_ row: Row, bodyColumn: Int) throws -> Entry {
        let body = Array(row[bodyColumn] as Data)
        let sig = Array(row[bodyColumn + 1] as Data)
        do {
            return try Entry.decode(body: body, signature: sig)
        } catch {
            throw StoreError.corrupt("stored entry \(EntryID.of(body: body).short) no longer decodes (\(error)); run `c4csr audit`")
        }
    }

    /// The entry with `id`, if held.
    public func entry(_ id: EntryID) throws -> Entry? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT body, sig FROM entry WHERE id = ?", arguments: [Data(id.bytes)])
                .map { try Self.decode($0, bodyColumn: 0) }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as DatabaseError {
            throw StoreError.database(path, error)
        }
    }

    /// Runs a consistent read of several queries (one snapshot).
    func snapshot<T>(_ body: (Database) throws -> T) throws -> T { try read(body) }
}

/// Heads, forks and digest of a log at one moment.
public struct LogSummary: Sendable, Hashable {
    public let heads: [Head]
    public let forks: [Head]
    public let digest: NetworkDigest
    public let entries: Int
}

/// What `LogStore.merge` did with a batch.
public struct MergeOutcome: Sendable {
    public let inserted: [Entry]
    public let forks: [Entry]
    public let duplicates: Int
    public let refused: [(entry: Entry, reason: MergeRejection)]
}

/// One stored row, undecoded: the signed bytes and the columns derived from them.
public typealias StoredEntry = StoredRow

extension StoredRow {
    init(row: Row) {
        self.init(
            position: row[0], id: Array(row[1] as Data), origin: row[2], seq: row[3], prev: (row[4] as Data?).map { Array($0) },
            rank: row[5], clock: row[6], kind: row[7], subject: (row[8] as Data?).map { Array($0) }, body: Array(row[9] as Data),
            signature: Array(row[10] as Data), keyAfter: row.count > 11 ? (row[11] as Data?).map { Array($0) } : nil,
            rollAfter: row.count > 12 ? (row[12] as Data?).map { Array($0) } : nil)
    }
}

/// The state a local entry is built from, read inside the write transaction.
public struct LocalContext {
    let db: Database

    /// The highest seq held for each origin: the clock a new entry extends.
    public func clock() throws -> VectorClock {
        var c = [CityID: Int64]()
        for row in try Row.fetchAll(db, sql: "SELECT origin, max(seq) FROM head GROUP BY origin") {
            if let chain = CityID.chain(row[0]) { c[chain] = row[1] }
        }
        return VectorClock(c)
    }

    /// The entry at the top of `origin`'s chain (the first by id after a fork at the top).
    public func top(of origin: CityID) throws -> (seq: Int64, id: EntryID)? {
        try Row.fetchOne(db, sql: "SELECT seq, id FROM head WHERE origin = ? ORDER BY id LIMIT 1", arguments: [origin.rawValue])
            .map { ($0[0], EntryID(bytes: Array($0[1] as Data))!) }
    }

    /// The current record of a practice, recomputed from its entries.
    public func practice(_ id: EntryID) throws -> PracticeRecord? {
        try PracticeView.record(id, db: db)
    }

    /// The state in force after a held entry (the founding state for none).
    public func stateAfter(_ id: EntryID) throws -> ChainState {
        try LogStore.statesAfter([id], db: db)[id] ?? .founding
    }

    /// The contents held for these entries (§14).
    public func contents(of entries: [EntryID]) throws -> [PersonalContent] {
        try LogStore.contents(of: entries, db: db)
    }

    /// The publish entry of practice `id` and every entry that names it.
    public func entries(of id: EntryID) throws -> (Entry?, [Entry]) {
        try PracticeView.entries(of: id, db: db)
    }

    /// Stores contents in this transaction (each checked, as from a peer) and rebuilds
    /// the practices they belong to.
    public func storeContent(_ contents: [PersonalContent]) throws -> [ContentOutcome] {
        try LogStore.storeContent(contents, db: db)
    }
}

/// One `rotate` entry held: from its seq on, `origin`'s chain is signed with `key`.
public struct KeyRotation: Sendable, Hashable {
    public let origin: CityID
    public let seq: Int64
    public let entry: EntryID
    public let time: Int64
    public let key: CityPublicKey
}

/// The keys of a local write: the founding key of the city (its card's) and the key it
/// signs with, which must be the key in force (docs/PROTOCOL.md §12).
public struct LocalKeys: Sendable {
    public let founding: CityPublicKey?
    public let signer: CityPublicKey
    /// What the verdicts of §15 are computed against (`nil`: the node has no charter).
    public let membership: LogStore.Membership?
    public init(founding: CityPublicKey?, signer: CityPublicKey, membership: LogStore.Membership? = nil) {
        self.founding = founding
        self.signer = signer
        self.membership = membership
    }
}

/// `LogIndex` over the store, read inside the current transaction, with statements
/// prepared once per connection.
struct SQLIndex: LogIndex {
    let db: Database

    func maxSeq(of origin: CityID) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(seq) FROM head WHERE origin = ?"), arguments: [origin.rawValue]) ?? 0
    }

    func positions(origin: CityID, seq: Int64) throws -> [LogPosition] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT e.id, e.clock, e.key_after, r.roll FROM entry e INDEXED BY entry_chain
                LEFT JOIN officer_roll r ON r.id = e.roll_after WHERE e.origin = ? AND e.seq = ?
                """), arguments: [origin.rawValue, seq]
        ).map { row in
            let clockText: String = row[1]
            guard let id = EntryID(bytes: Array(row[0] as Data)), let clock = Self.clock(clockText) else {
                throw StoreError.corrupt("entry \(origin)#\(seq) has an unreadable clock column")
            }
            return LogPosition(id: id, clock: clock, stateAfter: try LogStore.state(key: row[2], roll: row[3], entry: "\(origin)#\(seq)"))
        }
    }

    func contains(_ id: EntryID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM entry WHERE id = ?)"), arguments: [Data(id.bytes)]) ?? false
    }

    func forkedPositions(of origin: CityID) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM fork WHERE origin = ?"), arguments: [origin.rawValue]) ?? 0
    }

    static func clock(_ text: String) -> VectorClock? {
        guard case .object(let o)? = try? JSONParser.parse(text) else { return nil }
        var c = [CityID: Int64]()
        for (k, v) in o {
            guard let chain = CityID.chain(k), let n = v.intValue else { return nil }
            c[chain] = n
        }
        return VectorClock(c)
    }
}

/// Why the store could not do what was asked.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case openFailed, newerSchema, database, busy, full, readOnly, corrupt, refused, notFound, ambiguous
    }
    private let code: Code
    public let message: String
    public var description: String { message }

    public var isNotFound: Bool { code == .notFound || code == .ambiguous }
    /// Another process held the store locked for longer than `busyTimeout`.
    public var isBusy: Bool { code == .busy }
    /// The disk is full (or the file may not grow): the write was rolled back.
    public var isFull: Bool { code == .full }
    /// The store (or its directory, or its file system) is read-only.
    public var isReadOnly: Bool { code == .readOnly }

    static func openFailed(_ path: String, _ why: String) -> StoreError {
        StoreError(code: .openFailed, message: "cannot open the store \(path): \(why)")
    }
    static func newerSchema(_ path: String, _ ids: [String]) -> StoreError {
        StoreError(code: .newerSchema, message: "the store \(path) was written by a newer c4csr (schema \(ids.joined(separator: ", "))); upgrade c4csr")
    }
    static func database(_ path: String, _ e: DatabaseError) -> StoreError {
        if e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
            return StoreError(code: .busy, message: "the store \(path) stayed locked by another process for more than \(Int(LogStore.busyTimeout)) s; try again")
        }
        if e.resultCode == .SQLITE_FULL {
            return StoreError(code: .full, message: "the disk holding \(path) is full; nothing was written")
        }
        if e.extendedResultCode == .SQLITE_IOERR_WRITE {
            // ENOSPC is SQLITE_FULL; other write errors (a file size limit, EFBIG) land here.
            return StoreError(code: .full, message: "cannot write to the disk holding \(path) (full, or a file size limit); nothing was written")
        }
        if e.resultCode == .SQLITE_READONLY {
            return StoreError(code: .readOnly, message: "the store \(path) is read-only; nothing was written")
        }
        return StoreError(code: .database, message: "store \(path): \(e.message ?? "\(e.resultCode)")")
    }
    public static func corrupt(_ why: String) -> StoreError { StoreError(code: .corrupt, message: why) }
    static func notWritable(_ path: String, _ why: String) -> StoreError {
        StoreError(code: .readOnly, message: "cannot open the store \(path): its directory is not writable (\(why)); c4csr writes the log and its -wal and -shm files there, even to read it")
    }
    static func refused(_ e: Entry, _ why: String) -> StoreError {
        StoreError(code: .refused, message: "entry \(e) refused: \(why)")
    }
    public static func notFound(_ what: String) -> StoreError { StoreError(code: .notFound, message: what) }
    public static func ambiguous(_ what: String) -> StoreError { StoreError(code: .ambiguous, message: what) }
}

extension LogStore {
    /// Folds the write-ahead log into the store file and closes it: the file can then be
    /// moved on its own. The store is unusable afterwards.
    public func checkpointAndClose() throws {
        try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        try pool.close()
    }

    /// Copies the store, consistently, to a new SQLite file at `path` while other
    /// processes (the daemon) go on reading and writing: SQLite's online backup inside
    /// one read snapshot. The copy is written next to `path` and renamed into place
    /// only once complete and checked, so `path` never holds half a backup.
    ///
    /// - Parameter progress: called with (pages copied, total pages).
    /// - Returns: the copy's summary (heads, digest, entries), read back from it.
    /// - Throws: `StoreError` if `path` exists, or the copy fails its integrity check.
    public func backup(to path: String, progress: ((Int, Int) -> Void)? = nil) throws -> LogSummary {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: path) else { throw StoreError.openFailed(path, "it already exists; choose a new file name") }
        let partial = path + ".partial"
        try? fm.removeItem(atPath: partial)
        do {
            let destination = try DatabaseQueue(path: partial)
            try pool.backup(to: destination, pagesPerStep: 1024) { p in progress?(p.completedPageCount, p.totalPageCount) }
            try destination.close()
            let copy = try LogStore(path: partial)
            let problems = try copy.integrityProblems()
            guard problems.isEmpty else { throw StoreError.corrupt("the backup failed its check: \(problems.joined(separator: "; "))") }
            let summary = try copy.summary()
            // The copy was opened in WAL mode to check it: fold the WAL back into the
            // one file before it moves, so that the backup is a single file.
            try copy.pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try copy.pool.close()
            for suffix in ["-wal", "-shm"] {
                let side = partial + suffix
                if let size = (try? fm.attributesOfItem(atPath: side))?[.size] as? Int, size > 0, suffix == "-wal" {
                    throw StoreError.corrupt("the backup's write-ahead log could not be folded into it")
                }
                try? fm.removeItem(atPath: side)
            }
            try fm.moveItem(atPath: partial, toPath: path)
            return summary
        } catch let e as StoreError {
            try? fm.removeItem(atPath: partial)
            throw e
        } catch {
            try? fm.removeItem(atPath: partial)
            throw StoreError.openFailed(path, "backup failed: \(error)")
        }
    }
}
