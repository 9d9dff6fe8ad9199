import C4CSRCore
import Foundation
import GRDB

/// What became of one content handed to `LogStore.storeContent` (docs/PROTOCOL.md §14).
public enum ContentOutcome: Sendable, Hashable {
    /// Checked against its seal and stored.
    case stored
    /// The store already held it.
    case alreadyHeld
    /// Its entry is not in the log (yet): nothing stored; it may be offered again later.
    case entryNotHeld
    /// Not stored: `content_invalid` or `content_erased`.
    case refused(ContentError)
}

extension LogStore {
    /// Stores the contents of sealed fields (§14), each checked against the seal in its
    /// entry and against the erasures held, in one transaction; the practices they belong
    /// to are rebuilt (their search rows with the revealed values).
    public func storeContent(_ contents: [PersonalContent]) throws -> [ContentOutcome] {
        guard !contents.isEmpty else { return [] }
        return try write { db in try Self.storeContent(contents, db: db) }
    }

    static func storeContent(_ contents: [PersonalContent], db: Database) throws -> [ContentOutcome] {
        var outcomes = [ContentOutcome]()
        var subjects = [EntryID]()
        for c in contents {
            let outcome = try Self.store(c, db: db)
            if outcome == .stored, let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT subject FROM entry WHERE id = ?"), arguments: [Data(c.entry.bytes)]),
               let subject = (row[0] as Data?).flatMap({ EntryID(bytes: Array($0)) }), !subjects.contains(subject) {
                subjects.append(subject)
            }
            outcomes.append(outcome)
        }
        for s in subjects { _ = try PracticeView.refresh(subject: s, db: db) }
        return outcomes
    }

    /// Checks and inserts one content inside the caller's transaction (also used by a
    /// local write, whose contents go in with their entry).
    static func store(_ c: PersonalContent, db: Database) throws -> ContentOutcome {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT body, sig FROM entry WHERE id = ?"), arguments: [Data(c.entry.bytes)]) else {
            return .entryNotHeld
        }
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM erased WHERE entry = ? AND field = ?"), arguments: [Data(c.entry.bytes), c.field.rawValue]) == true {
            return .refused(.erased)
        }
        let entry = try decode(row, bodyColumn: 0)
        do { try c.check(against: entry) } catch { return .refused(error) }
        // A later entry that copied an erased seal cannot bring the value back (§14).
        if let seal = PersonalContent.seal(of: c.field, in: entry),
           try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM erased WHERE seal = ?"), arguments: [Data(seal.commit)]) == true {
            return .refused(.erased)
        }
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO content (entry, field, salt, value, received_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [Data(c.entry.bytes), c.field.rawValue, Data(c.salt), CanonicalJSON.string(c.value), Int64(Date().timeIntervalSince1970 * 1000)])
        return db.changesCount == 1 ? .stored : .alreadyHeld
    }

    /// The contents held for these entries, by entry then field.
    public func contents(of entries: [EntryID]) throws -> [PersonalContent] {
        guard !entries.isEmpty else { return [] }
        return try read { db in try Self.contents(of: entries, db: db) }
    }

    static func contents(of entries: [EntryID], db: Database) throws -> [PersonalContent] {
        let statement = try db.cachedStatement(sql: "SELECT field, salt, value FROM content WHERE entry = ? ORDER BY field")
        var out = [PersonalContent]()
        for e in entries {
            for row in try Row.fetchAll(statement, arguments: [Data(e.bytes)]) {
                guard let field = PersonalField(rawValue: row[0]), let value = try? JSONParser.parse(row[2] as String) else {
                    throw StoreError.corrupt("the content of \(e.short) is unreadable")
                }
                out.append(PersonalContent(entry: e, field: field, salt: Array(row[1] as Data), value: value))
            }
        }
        return out
    }

    /// The contents held for these entries, as `POST /v1/content` answers them (§10): at
    /// most `maxItems`, stopping before `maxBytes` of encoded content.
    public func contents(of entries: [EntryID], maxItems: Int, maxBytes: Int) throws -> [PersonalContent] {
        var out = [PersonalContent]()
        var bytes = 0
        for c in try contents(of: entries) {
            bytes += CanonicalJSON.encode(c.json).count + 1
            guard out.count < maxItems, bytes <= maxBytes else { break }
            out.append(c)
        }
        return out
    }

    /// The sealed fields this node lacks the content of and has not erased, as SQL: one
    /// row per (entry, field), `e` the entry. The seals are read from the signed bodies;
    /// `CASE` keeps `json_extract` off fields that are plain strings (§14, never a seal).
    private static let sealedLacking = """
        FROM entry e, json_each(CAST(e.body AS TEXT), '$.payload.fields') f
        WHERE e.kind IN ('publish', 'revise')
          AND f.key IN ('area', 'challenge', 'contact', 'outcomes', 'summary')
          AND (CASE WHEN f.type = 'object' THEN json_extract(f.value, '$.commit') END) IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM content c WHERE c.entry = e.id AND c.field = f.key)
          AND NOT EXISTS (SELECT 1 FROM erased x WHERE x.entry = e.id AND x.field = f.key)
          AND NOT EXISTS (SELECT 1 FROM erased x WHERE x.seal IS NOT NULL
                          AND lower(hex(x.seal)) = (CASE WHEN f.type = 'object' THEN json_extract(f.value, '$.commit') END))
        """

    /// Which of these entries seal a field whose content this node lacks and has not
    /// erased: what a round asks a peer for after pulling them (§10).
    public func lackingContent(among entries: [EntryID]) throws -> [EntryID] {
        guard !entries.isEmpty else { return [] }
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 \(Self.sealedLacking) AND e.id = ? LIMIT 1")
            return try entries.filter { try Bool.fetchOne(statement, arguments: [Data($0.bytes)]) == true }
        }
    }

    /// The entries after log position `after` that seal a field whose content this node
    /// lacks and has not erased, at most `limit`, in log order, with the position to go on
    /// from (`nil`: none left). A content round walks the whole log this way (§10).
    public func lackingContent(after: Int64, limit: Int) throws -> (entries: [EntryID], next: Int64?) {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT DISTINCT e.id, e.position \(Self.sealedLacking) AND e.position > ? ORDER BY e.position LIMIT ?
                """, arguments: [after, limit])
            let ids = rows.compactMap { EntryID(bytes: Array($0[0] as Data)) }
            return (ids, rows.count == limit ? rows.last.map { $0[1] as Int64 } : nil)
        }
    }

    /// Every valid erasure held (§14), with its practice, newest first: who erased what,
    /// and who has confirmed it.
    public func erasures() throws -> [(practice: EntryID, erasure: PracticeRecord.Erasure)] {
        try read { db in
            let subjects = try Data.fetchAll(db, sql: "SELECT DISTINCT subject FROM entry WHERE kind = 'erase' AND subject IS NOT NULL")
                .compactMap { EntryID(bytes: Array($0)) }
            var out = [(practice: EntryID, erasure: PracticeRecord.Erasure)]()
            for s in subjects {
                for e in try PracticeView.record(s, db: db)?.erasures ?? [] { out.append((s, e)) }
            }
            return out.sorted { ($0.erasure.time, $0.erasure.entry) > ($1.erasure.time, $1.erasure.entry) }
        }
    }

    /// The valid erasures by other cities that `city` has not acknowledged.
    public func erasuresOwed(by city: CityID) throws -> [(erasure: EntryID, practice: EntryID)] {
        try erasures().filter { $0.erasure.city != city && !$0.erasure.confirmedBy.contains(city) }
            .map { ($0.erasure.entry, $0.practice) }.sorted { $0.erasure < $1.erasure }
    }

    /// Folds the whole write-ahead log into the store and truncates it; `false` when a
    /// reader still holds part of it after `waiting` seconds (then a later call tries
    /// again: a round owes its acks, §14, and must not hang on a long backup).
    public func checkpointCompletely(waiting: TimeInterval = 1) -> Bool {
        (try? pool.writeWithoutTransaction { (db: Database) -> Void in
            try db.execute(sql: "PRAGMA busy_timeout = \(Int(waiting * 1000))")
            defer { try? db.execute(sql: "PRAGMA busy_timeout = \(Int(LogStore.busyTimeout * 1000))") }
            try db.checkpoint(.truncate)
        }) != nil
    }

    /// Every content held (an export reads them once).
    public func allContents() throws -> [PersonalContent] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT entry, field, salt, value FROM content ORDER BY entry, field").map { row in
                guard let e = EntryID(bytes: Array(row[0] as Data)), let field = PersonalField(rawValue: row[1]),
                      let value = try? JSONParser.parse(row[3] as String) else { throw StoreError.corrupt("a content row is unreadable") }
                return PersonalContent(entry: e, field: field, salt: Array(row[2] as Data), value: value)
            }
        }
    }

    /// How many contents the store holds (`status`, tests).
    public func contentCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM content") ?? 0 }
    }

    /// Whether the content of `field` of `entry` was erased here.
    public func isErased(_ entry: EntryID, _ field: PersonalField) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM erased WHERE entry = ? AND field = ?", arguments: [Data(entry.bytes), field.rawValue]) == true
        }
    }
}

extension PracticeView {
    /// Applies the record's erasures (§14) that were just `inserted`, in the caller's
    /// transaction: records what they erased (each pair with its seal) and deletes that
    /// content, and any content held under the same seal. Erasures applied before are
    /// not visited again (a practice's refresh stays proportional to what arrived).
    /// Returns how many pairs were newly erased.
    static func applyErasures(_ record: PracticeRecord, inserted: Set<EntryID>, db: Database) throws -> Int {
        guard !inserted.isEmpty, !record.erasures.isEmpty else { return 0 }
        var newly = 0
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO erased (entry, field, seal, erase) VALUES (?, ?, ?, ?)")
        let delete = try db.cachedStatement(sql: "DELETE FROM content WHERE entry = ? AND field = ?")
        let body = try db.cachedStatement(sql: "SELECT body, sig FROM entry WHERE id = ?")
        var entries = [EntryID: Entry]()
        for erasure in record.erasures where inserted.contains(erasure.entry) {
            for pair in erasure.erased.sorted() {
                if entries[pair.entry] == nil, let row = try Row.fetchOne(body, arguments: [Data(pair.entry.bytes)]) {
                    entries[pair.entry] = try LogStore.decode(row, bodyColumn: 0)
                }
                let seal = entries[pair.entry].flatMap { PersonalContent.seal(of: pair.field, in: $0) }
                try insert.execute(arguments: [Data(pair.entry.bytes), pair.field.rawValue, seal.map { Data($0.commit) }, Data(erasure.entry.bytes)])
                guard db.changesCount == 1 else { continue }
                newly += 1
                try delete.execute(arguments: [Data(pair.entry.bytes), pair.field.rawValue])
            }
        }
        if newly > 0 {
            // Content of other entries under an erased seal (a revision that copied it).
            try db.execute(sql: """
                DELETE FROM content WHERE (entry, field) IN (
                    SELECT c.entry, c.field FROM content c JOIN entry e ON e.id = c.entry
                    JOIN erased x ON lower(hex(x.seal)) = json_extract(CAST(e.body AS TEXT), '$.payload.fields.' || c.field || '.commit'))
                """)
        }
        return newly
    }
}
