import C4CSRCore
import Foundation
import GRDB

/// One line of `list` and `search`.
public struct PracticeSummary: Sendable, Hashable {
    public let id: EntryID
    public let publisher: CityID
    /// The practice's status, or "retracted".
    public let status: String
    public let language: String
    public let titleLocal: String
    public let titleEnglish: String
    public let themes: [String]
    public let sdgs: [Int]
    public let versions: Int
    public let adoptions: Int
    public let conflict: Bool
    public let problems: Int
    public let publishedAt: Int64
}

/// Filters for `list`. Empty means no filter.
public struct PracticeFilter: Sendable {
    public var cities: [CityID] = []
    public var theme: String?
    public var sdg: Int?
    public var status: String?
    public var conflictsOnly = false
    /// Published in this calendar year (UTC).
    public var year: Int?
    public var limit: Int?
    /// Rows to skip before the first (with `limit`: one page of the list).
    public var offset: Int?
    public init() {}
}

/// The derived practices view: rebuilt per practice from the log, never the source of truth.
enum PracticeView {
    /// Recomputes one practice from its entries and writes its row and FTS row; applies
    /// its erasures (§14: the content they erased is deleted, and the search index is
    /// rebuilt without it).
    /// - Parameter batch: entries of this practice just inserted; when they are all of
    ///   its entries (a practice published in this batch), they are used as they are
    ///   instead of being read back and decoded again.
    /// - Returns: how many (entry, field) pairs an erasure newly erased.
    @discardableResult
    static func refresh(subject: EntryID, batch: [Entry] = [], db: Database) throws -> Int {
        let record: PracticeRecord?
        let stored = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM entry WHERE subject = ?"), arguments: [Data(subject.bytes)]) ?? 0
        let revoked = try self.revoked(of: subject, db: db)
        if !batch.isEmpty, stored == batch.count, let publish = batch.first(where: { $0.id == subject && $0.kind == .publish }) {
            record = PracticeRules.project(publish: publish, related: batch.filter { $0.id != subject }, revoked: revoked).0
        } else {
            record = try self.record(subject, revoked: revoked, db: db)
        }
        guard let record else {
            // No practice (its publish revoked, §15, or never valid): no row, no index entry.
            if let pid = try Int64.fetchOne(db.cachedStatement(sql: "SELECT pid FROM practice WHERE id = ?"), arguments: [Data(subject.bytes)]) {
                try db.cachedStatement(sql: "DELETE FROM practice_fts WHERE rowid = ?").execute(arguments: [pid])
                try db.cachedStatement(sql: "DELETE FROM practice_tag WHERE pid = ?").execute(arguments: [pid])
                try db.cachedStatement(sql: "DELETE FROM practice WHERE pid = ?").execute(arguments: [pid])
            }
            return 0
        }
        // Only erasures in this batch: what an erasure erases is fixed when it is inserted
        // (its causal past, every version it can erase, is held by then).
        let erased = try applyErasures(record, inserted: Set(batch.lazy.filter { $0.kind == .erase }.map(\.id)), db: db)
        // The shown version's sealed fields, with the content held (never erased content:
        // its rows are gone), so that search finds them until they are erased.
        let p = record.current.sealed.isEmpty
            ? record.current : record.current.revealing(try LogStore.contents(of: [record.fieldsEntry], db: db))
        let status = record.retracted ? "retracted" : p.status.rawValue
        let themes = CanonicalJSON.string(.array(p.themes.map { .string($0) }))
        let sdgs = CanonicalJSON.string(.array(p.sdgs.map { .int(Int64($0)) }))
        let publishedAt = record.versions.first?.time ?? 0
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO practice (id, hex, publisher, status, language, title_local, title_en, themes, sdgs,
                                  versions, adoptions, conflict, problems, published_at, changed_rank)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                status = excluded.status, language = excluded.language, title_local = excluded.title_local,
                title_en = excluded.title_en, themes = excluded.themes, sdgs = excluded.sdgs,
                versions = excluded.versions, adoptions = excluded.adoptions, conflict = excluded.conflict,
                problems = excluded.problems, changed_rank = excluded.changed_rank
            RETURNING pid
            """)
        guard let pid = try Int64.fetchOne(upsert, arguments: [
            Data(record.id.bytes), record.id.hex, record.publisher.rawValue, status, p.language, p.title.local,
            p.title.en, themes, sdgs, record.versions.count, record.adoptions.count, record.conflict,
            record.problems.count, publishedAt, record.lastChange.rank,
        ]) else { throw StoreError.corrupt("practice \(record.id.short) has no row after its upsert") }
        if stored > 1 || batch.count != 1 {
            // A practice seen before has an FTS row and tags to replace; a new one has none.
            try db.cachedStatement(sql: "DELETE FROM practice_fts WHERE rowid = ?").execute(arguments: [pid])
            try db.cachedStatement(sql: "DELETE FROM practice_tag WHERE pid = ?").execute(arguments: [pid])
        }
        let tag = try db.cachedStatement(sql: "INSERT OR IGNORE INTO practice_tag (kind, value, pid) VALUES (?, ?, ?)")
        for theme in p.themes { try tag.execute(arguments: ["theme", theme, pid]) }
        for sdg in p.sdgs { try tag.execute(arguments: ["sdg", String(sdg), pid]) }
        try db.cachedStatement(sql: """
            INSERT INTO practice_fts (rowid, title_local, title_en, summary_local, summary_en, challenge, themes,
                                      companies, partners, area, outcomes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                pid, p.title.local, p.title.en, p.summary.local, p.summary.en, p.challenge, p.themes.joined(separator: " "),
                p.companies.joined(separator: " "), p.partners.joined(separator: " "), p.area, p.outcomes,
            ])
        if erased > 0 {
            // FTS5 deletes by adding tombstones; merging every segment drops the erased
            // text from the index's pages (which secure_delete then zeroes).
            try db.execute(sql: "INSERT INTO practice_fts (practice_fts) VALUES ('optimize')")
        }
        return erased
    }

    /// The practice `id`, folded from its entries by `PracticeRules`.
    static func record(_ id: EntryID, revoked: Set<EntryID>? = nil, db: Database) throws -> PracticeRecord? {
        let (publish, related) = try entries(of: id, db: db)
        guard let publish, publish.kind == .publish else { return nil }
        return PracticeRules.project(publish: publish, related: related, revoked: try revoked ?? self.revoked(of: id, db: db)).0
    }

    /// The entries about practice `id` (and its publish) that a recovery revoked (§15):
    /// none, without reading the log, while nothing is revoked.
    static func revoked(of id: EntryID, db: Database) throws -> Set<EntryID> {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM revoked)")) == true else { return [] }
        let rows = try Data.fetchAll(db.cachedStatement(sql: """
            SELECT r.id FROM revoked r JOIN entry e ON e.id = r.id WHERE e.subject = ?
            """), arguments: [Data(id.bytes)])
        return Set(rows.compactMap { EntryID(bytes: Array($0)) })
    }

    /// The publish entry of practice `id` and every entry that names it.
    static func entries(of id: EntryID, db: Database) throws -> (Entry?, [Entry]) {
        let publish = try Row.fetchOne(db, sql: "SELECT body, sig FROM entry WHERE id = ? AND kind = 'publish'", arguments: [Data(id.bytes)])
            .map { try LogStore.decode($0, bodyColumn: 0) }
        let related = try Row.fetchAll(db, sql: "SELECT body, sig FROM entry WHERE subject = ? AND id != ?", arguments: [Data(id.bytes), Data(id.bytes)])
            .map { try LogStore.decode($0, bodyColumn: 0) }
        return (publish, related)
    }

    static func summary(_ row: Row) throws -> PracticeSummary {
        func strings(_ json: String) -> [String] { (try? JSONParser.parse(json))?.arrayValue?.compactMap(\.stringValue) ?? [] }
        func ints(_ json: String) -> [Int] { (try? JSONParser.parse(json))?.arrayValue?.compactMap { $0.intValue.map(Int.init) } ?? [] }
        guard let id = EntryID(bytes: Array(row["id"] as Data)), let publisher = CityID(row["publisher"]) else {
            throw StoreError.corrupt("practice table holds an invalid row")
        }
        return PracticeSummary(
            id: id, publisher: publisher, status: row["status"], language: row["language"], titleLocal: row["title_local"],
            titleEnglish: row["title_en"], themes: strings(row["themes"]), sdgs: ints(row["sdgs"]), versions: row["versions"],
            adoptions: row["adoptions"], conflict: row["conflict"], problems: row["problems"], publishedAt: row["published_at"])
    }
}

extension LogStore {
    /// Practices matching `filter`, newest publication first.
    public func practices(_ filter: PracticeFilter = PracticeFilter()) throws -> [PracticeSummary] {
        let (whereSQL, args) = Self.whereClause(filter)
        let limitSQL = filter.limit.map { " LIMIT \($0)" + (filter.offset.map { " OFFSET \($0)" } ?? "") } ?? ""
        return try read { db in
            guard (filter.offset ?? 0) > 0, filter.limit != nil else {
                return try Row.fetchAll(db, sql: "SELECT * FROM practice \(whereSQL) ORDER BY published_at DESC, hex\(limitSQL)", arguments: args)
                    .map(PracticeView.summary)
            }
            // A deep page: the rows it skips are walked in the order's index alone (their
            // ids), and only the page's own rows are read (OFFSET read every skipped row).
            let pids = try Int64.fetchAll(db, sql: "SELECT pid FROM practice \(whereSQL) ORDER BY published_at DESC, hex\(limitSQL)", arguments: args)
            guard !pids.isEmpty else { return [] }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM practice WHERE pid IN (\(pids.map { _ in "?" }.joined(separator: ",")))",
                                        arguments: StatementArguments(pids))
            let byPID = Dictionary(rows.map { (($0["pid"] as Int64), $0) }, uniquingKeysWith: { a, _ in a })
            return try pids.compactMap { byPID[$0] }.map(PracticeView.summary)
        }
    }

    /// Per publishing city: its practices, and how many of them another city adopted
    /// (`city_figure`, which triggers keep as practice rows change).
    public func practiceFiguresByCity() throws -> [CityID: (practices: Int, adopted: Int)] {
        try read { db in
            var out = [CityID: (practices: Int, adopted: Int)]()
            for row in try Row.fetchAll(db, sql: "SELECT publisher, practices, adopted FROM city_figure WHERE practices > 0") {
                guard let city = CityID(row[0]) else { continue }
                out[city] = (row[1], row[2])
            }
            return out
        }
    }

    /// The practices with these ids (those that exist), by id.
    public func practices(ids: [EntryID]) throws -> [EntryID: PracticeSummary] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            let marks = ids.map { _ in "?" }.joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM practice WHERE id IN (\(marks))", arguments: StatementArguments(ids.map { Data($0.bytes) }))
            return Dictionary(try rows.map(PracticeView.summary).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// adopter → publisher → distinct practices of the publisher that the adopter
    /// adopted (an adoption of one's own practice, which the rules refuse, is left out).
    public func adoptionMatrix() throws -> [CityID: [CityID: Int]] {
        try read { db in
            var out = [CityID: [CityID: Int]]()
            for row in try Row.fetchAll(db, sql: """
                SELECT e.origin, p.publisher, count(DISTINCT e.subject) FROM entry e INDEXED BY entry_adopt
                JOIN practice p ON p.id = e.subject WHERE e.kind = 'adopt' AND e.origin != p.publisher GROUP BY e.origin, p.publisher
                """) {
                guard let adopter = CityID(row[0]), let publisher = CityID(row[1]) else { continue }
                out[adopter, default: [:]][publisher] = row[2]
            }
            return out
        }
    }

    /// The adoptions `city` signed (`by`), or those of `city`'s practices by other cities
    /// (`of`), newest first: each adoption entry with the practice it is about.
    public func adoptions(by city: CityID) throws -> [(entry: Entry, practice: PracticeSummary)] {
        try adoptions(sql: """
            SELECT e.body, e.sig, p.* FROM entry e INDEXED BY entry_adopt JOIN practice p ON p.id = e.subject
            WHERE e.origin = ? AND e.kind = 'adopt' AND p.publisher != e.origin
            """, city)
    }

    public func adoptions(of city: CityID) throws -> [(entry: Entry, practice: PracticeSummary)] {
        try adoptions(sql: """
            SELECT e.body, e.sig, p.* FROM entry e INDEXED BY entry_adopt JOIN practice p ON p.id = e.subject
            WHERE e.kind = 'adopt' AND p.publisher = ? AND e.origin != p.publisher
            """, city)
    }

    private func adoptions(sql: String, _ city: CityID) throws -> [(entry: Entry, practice: PracticeSummary)] {
        try read { db in
            try Row.fetchAll(db, sql: sql, arguments: [city.rawValue]).map { row in
                (try Self.decode(row, bodyColumn: 0), try PracticeView.summary(row))
            }
            .sorted { ($0.entry.time, $0.entry.id.hex) > ($1.entry.time, $1.entry.id.hex) }
        }
    }

    /// How many practices match `filter` (its limit and offset aside).
    public func practiceCount(_ filter: PracticeFilter = PracticeFilter()) throws -> Int {
        // The counts triggers keep: of every practice, of some cities', of one tag's.
        let kept = [filter.theme != nil, filter.sdg != nil, !filter.cities.isEmpty].filter { $0 }.count
        if filter.status == nil, !filter.conflictsOnly, filter.year == nil, kept <= 1 {
            return try read { db in
                if let tag = filter.theme.map({ ("theme", $0.lowercased()) }) ?? filter.sdg.map({ ("sdg", String($0)) }) {
                    return try Int.fetchOne(db, sql: "SELECT practices FROM tag_count WHERE kind = ? AND value = ?", arguments: [tag.0, tag.1]) ?? 0
                }
                if filter.cities.isEmpty {
                    return try Int.fetchOne(db, sql: "SELECT coalesce(sum(practices), 0) FROM city_figure") ?? 0
                }
                let cities = Set(filter.cities).map(\.rawValue)
                let marks = cities.map { _ in "?" }.joined(separator: ",")
                return try Int.fetchOne(db, sql: "SELECT coalesce(sum(practices), 0) FROM city_figure WHERE publisher IN (\(marks))",
                                        arguments: StatementArguments(cities)) ?? 0
            }
        }
        let (whereSQL, args) = Self.whereClause(filter, forCount: true)
        return try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM practice \(whereSQL)", arguments: args) ?? 0 }
    }

    private static func whereClause(_ filter: PracticeFilter, forCount: Bool = false) -> (String, StatementArguments) {
        var clauses = [String]()
        var args = StatementArguments()
        if !filter.cities.isEmpty {
            clauses.append("publisher IN (\(filter.cities.map { _ in "?" }.joined(separator: ",")))")
            for c in filter.cities { _ = args.append(contentsOf: [c.rawValue]) }
        }
        // A tag as a set (a count reads its index range) or, for a list, as a probe of
        // each row the order's index walks (a page of a common tag stops after its rows,
        // where a set would be sorted whole).
        func tag(_ kind: String, _ value: String) {
            clauses.append(forCount
                ? "pid IN (SELECT pid FROM practice_tag WHERE kind = '\(kind)' AND value = ?)"
                : "EXISTS (SELECT 1 FROM practice_tag WHERE kind = '\(kind)' AND value = ? AND pid = practice.pid)")
            _ = args.append(contentsOf: [value])
        }
        if let theme = filter.theme { tag("theme", theme.lowercased()) }
        if let sdg = filter.sdg { tag("sdg", String(sdg)) }
        if let status = filter.status {
            clauses.append("status = ?")
            _ = args.append(contentsOf: [status])
        }
        if filter.conflictsOnly { clauses.append("conflict = 1") }
        if let year = filter.year, let range = Self.yearInMilliseconds(year) {
            clauses.append("published_at >= ? AND published_at < ?")
            _ = args.append(contentsOf: [range.lowerBound, range.upperBound])
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), args)
    }

    /// Milliseconds since the epoch of 1 January `year` 00:00 UTC up to the next one.
    static func yearInMilliseconds(_ year: Int) -> Range<Int64>? {
        guard (1970...9999).contains(year) else { return nil }
        func start(_ y: Int) -> Int64 {
            // Days from 1970 to 1 January y (proleptic Gregorian).
            var days: Int64 = 0
            for z in 1970..<y { days += (z % 4 == 0 && (z % 100 != 0 || z % 400 == 0)) ? 366 : 365 }
            return days * 86_400_000
        }
        return start(year)..<start(year + 1)
    }

    /// Full-text search over the current version of every practice, best match first.
    /// Each word of `text` must match (as a word prefix), in any language and script.
    public func search(_ text: String, limit: Int = 50, offset: Int = 0) throws -> [PracticeSummary] {
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard !words.isEmpty else { return [] }
        // Quote every word so that FTS5 syntax in user text is taken literally.
        let query = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " ")
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT practice.* FROM practice_fts JOIN practice ON practice.pid = practice_fts.rowid
                WHERE practice_fts MATCH ? ORDER BY bm25(practice_fts), practice.hex LIMIT ? OFFSET ?
                """, arguments: [query, limit, offset]).map(PracticeView.summary)
        }
    }

    /// The practice whose id is `idOrPrefix` (at least 6 hex digits).
    /// - Throws: `StoreError` when none or several practices match.
    public func practice(_ idOrPrefix: String) throws -> (PracticeRecord, publish: Entry, related: [Entry]) {
        let prefix = idOrPrefix.lowercased()
        guard prefix.count >= 6, prefix.count <= 64, Hex.decode(prefix.count % 2 == 0 ? prefix : prefix + "0") != nil else {
            throw StoreError.notFound("\"\(idOrPrefix)\" is not a practice id (give at least 6 hex digits)")
        }
        return try read { db in
            let ids = try Data.fetchAll(db, sql: "SELECT id FROM practice WHERE hex >= ? AND hex < ? ORDER BY hex LIMIT 2",
                                        arguments: [prefix, prefix + "g"])
            guard let first = ids.first else { throw StoreError.notFound("no practice has an id starting with \(prefix)") }
            guard ids.count == 1 else { throw StoreError.ambiguous("several practices have ids starting with \(prefix); give more digits") }
            let id = EntryID(bytes: Array(first))!
            let (publish, related) = try PracticeView.entries(of: id, db: db)
            guard let publish, let record = PracticeRules.project(publish: publish, related: related, revoked: try PracticeView.revoked(of: id, db: db)).0 else {
                throw StoreError.corrupt("practice \(id.short) is listed but its entries do not form a practice; run `c4csr audit`")
            }
            return (record, publish, related)
        }
    }

    /// The entry whose id starts with `prefix` (6 or more hex digits) and the practice it
    /// is about (itself for a publish): `show` accepts the entry ids `log` prints.
    /// - Throws: `StoreError.notFound` / `.ambiguous`.
    public func entry(withPrefix idOrPrefix: String) throws -> (entry: EntryID, subject: EntryID?) {
        let prefix = idOrPrefix.lowercased()
        guard prefix.count >= 6, prefix.count <= 64, prefix.allSatisfy(\.isHexDigit) else {
            throw StoreError.notFound("\"\(idOrPrefix)\" is not an entry id (give at least 6 hex digits)")
        }
        // Ids are 32-byte blobs: every id with this prefix lies between the prefix padded
        // with 0s and with fs (an index range, not a scan).
        let low = Hex.decode(prefix + String(repeating: "0", count: 64 - prefix.count))!
        let high = Hex.decode(prefix + String(repeating: "f", count: 64 - prefix.count))!
        return try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, subject FROM entry WHERE id BETWEEN ? AND ? ORDER BY id LIMIT 2",
                                        arguments: [Data(low), Data(high)])
            guard let row = rows.first else { throw StoreError.notFound("no entry has an id starting with \(prefix)") }
            guard rows.count == 1 else { throw StoreError.ambiguous("several entries have ids starting with \(prefix); give more digits") }
            let id = EntryID(bytes: Array(row["id"] as Data))!
            let subject = (row["subject"] as Data?).flatMap { EntryID(bytes: Array($0)) }
            return (id, subject)
        }
    }

    /// Practices named by more than one entry (revised, retracted or adopted), for `audit`.
    public func subjectsWithSeveralEntries() throws -> Set<EntryID> {
        try read { db in
            Set(try Data.fetchAll(db, sql: "SELECT subject FROM entry WHERE subject IS NOT NULL GROUP BY subject HAVING count(*) > 1")
                .compactMap { EntryID(bytes: Array($0)) })
        }
    }

    /// The signed bytes of every entry of each practice (its publish entry included),
    /// undecoded, in one snapshot.
    public func signedEntries(ofSubjects subjects: [EntryID]) throws -> [(EntryID, [SignedEntry])] {
        try read { db in
            let statement = try db.cachedStatement(sql: "SELECT body, sig FROM entry WHERE subject = ? ORDER BY position")
            return try subjects.map { s in
                (s, try Row.fetchAll(statement, arguments: [Data(s.bytes)]).map { SignedEntry(body: Array($0[0] as Data), signature: Array($0[1] as Data)) })
            }
        }
    }

    /// Every practice's entries (its publish entry included), undecoded, grouped by
    /// practice in id order: one query over the subject index for the whole log.
    public func forEachPracticeEntries(_ body: (EntryID, [SignedEntry]) throws -> Void) throws {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT subject, body, sig FROM entry WHERE subject IS NOT NULL ORDER BY subject, position")
            var current: (EntryID, [SignedEntry])?
            while let row = try rows.next() {
                guard let subject = EntryID(bytes: Array(row[0] as Data)) else { continue }
                let signed = SignedEntry(body: Array(row[1] as Data), signature: Array(row[2] as Data))
                if current?.0 == subject { current!.1.append(signed) } else {
                    if let c = current { try body(c.0, c.1) }
                    current = (subject, [signed])
                }
            }
            if let c = current { try body(c.0, c.1) }
        }
    }

    /// Entries whose subject could not be read from their payload (for `audit`).
    public func entriesWithoutSubject() throws -> [Entry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT body, sig FROM entry WHERE subject IS NULL").map { try LogStore.decode($0, bodyColumn: 0) }
        }
    }
}

extension LogStore {
    /// The themes in use by current versions, with how many practices carry each, most
    /// used first.
    public func themes() throws -> [(theme: String, practices: Int)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT value AS theme, practices AS n FROM tag_count WHERE kind = 'theme' AND practices > 0
                ORDER BY n DESC, value
                """).map { ($0["theme"], $0["n"]) }
        }
    }

    /// The outcomes of every practice that states some (current versions), newest first.
    public func outcomes() throws -> [(id: EntryID, publisher: CityID, title: String, outcomes: String)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT practice.id, practice.publisher, practice.title_en, practice_fts.outcomes FROM practice
                JOIN practice_fts ON practice_fts.rowid = practice.pid
                WHERE practice_fts.outcomes IS NOT NULL AND practice_fts.outcomes != ''
                ORDER BY practice.published_at DESC, practice.hex
                """).compactMap { r in
                guard let id = EntryID(bytes: Array(r["id"] as Data)), let city = CityID(r["publisher"]) else { return nil }
                return (id, city, r["title_en"], r["outcomes"])
            }
        }
    }
}
