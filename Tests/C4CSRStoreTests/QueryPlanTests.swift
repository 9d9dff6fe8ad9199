import C4CSRCore
import C4CSRNode
import Foundation
import GRDB
import Synchronization
import Testing

@testable import C4CSRStore

/// The paths that run on every sync round (heads, summary, lacking, merge, counts)
/// must never scan the log: each statement they run is explained by SQLite, and no
/// plan may read `entry` without an index bound. (A scan passes every functional test
/// and makes a round with nothing new cost O(log size).)
@Suite(.serialized) struct QueryPlanTests {
    /// Issue 14: opening an up-to-date store (what every command does first) runs no
    /// migration: no write transaction, nothing written to grdb_migrations. A new store,
    /// and one a migration is missing from, are migrated as before (UpgradeTests).
    @Test func openingAnUpToDateStoreRunsNoMigration() throws {
        try withTemporaryDirectory { root in
            let path = root.appendingPathComponent("store.sqlite").path
            let seen = Mutex<[String]>([])
            LogStore.statementObservers.withLock { $0[path] = { sql in seen.withLock { $0.append(sql) } } }
            defer { LogStore.statementObservers.withLock { $0[path] = nil } }
            _ = try LogStore(path: path)
            #expect(seen.withLock { $0 }.contains { $0.hasPrefix("INSERT INTO grdb_migrations") }, "the first open migrates: \(seen.withLock { $0 })")
            seen.withLock { $0.removeAll() }
            _ = try LogStore(path: path)
            // (GRDB's pool itself opens with one short write transaction; the migrator's
            // check of an up-to-date store would add its table check and two reads.)
            let statements = seen.withLock { $0 }
            #expect(statements.filter { $0 == "SELECT identifier FROM grdb_migrations" }.count == 1, "\(statements)")
            #expect(!statements.contains { $0.contains("CREATE TABLE IF NOT EXISTS grdb_migrations") || $0.hasPrefix("INSERT INTO grdb_migrations") }, "\(statements)")
        }
    }

    /// Each statement whose query plan has a step that is `bad`, with its plan. The
    /// statements' placeholders are bound as NULLs: a plan does not depend on the values.
    static func plans(_ statements: some Sequence<String>, _ db: Database, bad: (String) -> Bool) throws -> [String] {
        var found = [String]()
        for sql in statements {
            let placeholders = sql.filter { $0 == "?" }.count
            let plan = try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(Array(repeating: nil as DatabaseValue?, count: placeholders))
            ).map { $0["detail"] as String }
            if plan.contains(where: bad) { found.append("\(sql)\n    \(plan.joined(separator: "; "))") }
        }
        return found
    }

    @Test func hotPathsNeverScanTheLog() throws {
        try withTemporaryDirectory { root in
            let seen = Mutex<[String]>([])
            // Only the stores of this test are observed: other tests run in parallel.
            let paths = ["sofia", "milano"].map { DataDirectory(root.appendingPathComponent($0).path).storeFile.path }
            LogStore.statementObservers.withLock { o in
                for p in paths { o[p] = { sql in seen.withLock { $0.append(sql) } } }
            }
            defer { LogStore.statementObservers.withLock { o in for p in paths { o[p] = nil } } }
            let a = try makeCity("sofia", in: root)
            let b = try makeCity("milano", in: root, peers: [a])
            for i in 0..<30 { _ = try a.publish(practice("p\(i)")) }
            _ = try b.receive(try exportLines(a))
            _ = try a.publish(practice("one more"))
            let latest = try exportLines(a).suffix(1)
            seen.withLock { $0.removeAll() }

            // What a round and the daemon's loop do.
            _ = try a.store.summary()
            _ = try a.store.heads()
            _ = try a.store.forks()
            _ = try a.store.count()
            _ = try a.store.changeCounter()
            let half = VectorClock([a.id: 15])
            _ = try a.store.lacking(half, limit: 10, maxBytes: 1 << 20)
            _ = try a.store.entryID(origin: a.id, seq: 3)
            _ = try a.store.contains(EntryID.of(body: [1]))
            _ = try a.publish(practice("and another"))
            _ = try b.receive(Array(latest))

            let statements = seen.withLock { $0 }.filter { $0.hasPrefix("SELECT") || $0.hasPrefix("INSERT") || $0.hasPrefix("DELETE") }
            #expect(statements.count > 10, "the observer saw the hot paths")
            let db = try DatabaseQueue(path: a.directory.storeFile.path)
            let explained = Set(statements).filter { !$0.contains("sqlite_master") && !$0.contains("grdb_migrations") }
            // A scan of the log, or a search bound only by origin (all of one city's entries).
            let scans = try db.read { db in
                try Self.plans(explained, db) { p in
                    p.hasPrefix("SCAN entry") || p.hasPrefix("SCAN e ") || p == "SCAN e"
                        || ((p.hasPrefix("SEARCH entry") || p.hasPrefix("SEARCH e ")) && p.hasSuffix("(origin=?)"))
                }
            }
            #expect(scans.isEmpty, "full scans of the log:\n\(scans.joined(separator: "\n"))")
        }
    }

    /// A content round asks, for every sealed field it lacks, whether its seal was erased:
    /// that lookup must use an index, or a member signing many erasures and many sealed
    /// entries without content makes every content round cost their product.
    @Test func lackingContentFindsErasedSealsByIndex() throws {
        try withTemporaryDirectory { root in
            let seen = Mutex<[String]>([])
            let path = DataDirectory(root.appendingPathComponent("sofia").path).storeFile.path
            LogStore.statementObservers.withLock { $0[path] = { sql in seen.withLock { $0.append(sql) } } }
            defer { LogStore.statementObservers.withLock { $0[path] = nil } }
            let sofia = try makeCity("sofia", in: root)
            var p = practice("Sealed")
            p.contact = "Someone, +359 2 000 0000"
            let sealed = try sofia.publish(p, personal: [.contact])
            _ = try sofia.erase(sealed.id.hex, reason: "Request 1")
            seen.withLock { $0.removeAll() }
            _ = try sofia.store.lackingContent(among: [sealed.id])
            _ = try sofia.store.lackingContent(after: 0, limit: 100)
            let statements = seen.withLock { $0 }.filter { $0.hasPrefix("SELECT") }
            #expect(statements.count == 2, "\(statements)")
            // A scan, or a range over every seal ("seal>?"), instead of an equality.
            let scans = try sofia.store.read { db in
                try Self.plans(statements, db) { p in p.hasPrefix("SCAN x") || p.hasPrefix("SCAN erased") || (p.hasPrefix("SEARCH x") && !p.contains("=?")) }
            }
            #expect(scans.isEmpty, "scans of the erasures:\n\(scans.joined(separator: "\n"))")
        }
    }

    /// Every round starts by writing the acks this city owes (§14). With nothing new in the
    /// log since nothing was last owed, that is one O(1) read, not a walk of every erased
    /// practice (which grows with the erasures a member signs, on every no-op round).
    @Test func aRoundWithNothingNewReadsNoErasure() throws {
        try withTemporaryDirectory { root in
            let seen = Mutex<[String]>([])
            let path = DataDirectory(root.appendingPathComponent("milano").path).storeFile.path
            LogStore.statementObservers.withLock { $0[path] = { sql in seen.withLock { $0.append(sql) } } }
            defer { LogStore.statementObservers.withLock { $0[path] = nil } }
            let sofia = try makeCity("sofia", in: root)
            let milano = try makeCity("milano", in: root, peers: [sofia])
            var p = practice("Sealed")
            p.contact = "Someone, +359 2 000 0000"
            let sealed = try sofia.publish(p, personal: [.contact])
            _ = try sofia.erase(sealed.id.hex, reason: "Request 1")
            _ = try milano.receive(try exportLines(sofia))
            #expect(try milano.acknowledgeErasures().count == 0, "receive acknowledged it already")
            #expect(try milano.store.erasuresOwed(by: milano.id).isEmpty)
            seen.withLock { $0.removeAll() }
            #expect(try milano.acknowledgeErasures().isEmpty)
            // (Whether the city may sign reads its restore mark first.)
            let statements = seen.withLock { $0 }.filter { $0.hasPrefix("SELECT") && !$0.contains("FROM restore_mark") }
            #expect(statements == ["SELECT max(position) FROM entry"], "\(statements)")
            // Something new: the erasures are read again.
            _ = try sofia.publish(practice("Another"))
            _ = try milano.receive(try exportLines(sofia))
            seen.withLock { $0.removeAll() }
            #expect(try milano.acknowledgeErasures().isEmpty)
            #expect(seen.withLock { $0 }.count > 1)
        }
    }
}

/// The portal's questions over every practice (issue 15: each page ≤ 50 ms at 100,000
/// practices) read indexes: a theme's or an SDG's list, count, feed and the themes of
/// the filter form read `practice_tag`, the overview's figures a covering index, and a
/// deep page walks only the order's index for the rows it skips.
@Suite struct PortalQueryTests {
    @Test func tagsFollowTheCurrentVersion() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            let p = try city.publish(practice("Bikes", themes: ["mobility", "health"], sdgs: [3, 11]))
            _ = try city.publish(practice("Roofs", themes: ["energy"], sdgs: [7]))
            var byTheme = PracticeFilter(); byTheme.theme = "Mobility"
            var bySDG = PracticeFilter(); bySDG.sdg = 11
            #expect(try city.store.practices(byTheme).map(\.id) == [p.id])
            #expect(try city.store.practiceCount(bySDG) == 1)
            _ = try city.revise(p.id.hex, with: practice("Bikes", themes: ["energy"], sdgs: [7]), base: [p.id.hex])
            #expect(try city.store.practices(byTheme).isEmpty, "the revision dropped the theme")
            #expect(try city.store.practiceCount(bySDG) == 0)
            #expect(try city.store.themes().map { "\($0.theme) \($0.practices)" } == ["energy 2"])
            #expect(try city.store.latestEntries(theme: "energy", limit: 10).count == 3, "both practices' entries: two publishes, a revision")
            #expect(try city.store.latestEntries(theme: "mobility", limit: 10).isEmpty)
        }
    }

    /// The counts the triggers keep are the counts of the rows, whatever the history:
    /// random publications, revisions that change tags, adoptions by another city.
    @Test(arguments: 0..<6) func keptCountsAreTheRowsCounts(seed: UInt64) throws {
        try withTemporaryDirectory { root in
            var rng = SeededRNG(seed: seed)
            let sofia = try makeCity("sofia", in: root)
            let milano = try makeCity("milano", in: root, peers: [sofia])
            var ids: [EntryID] = []
            let themes = ["energy", "mobility", "health", "schools"]
            func someTags() -> ([String], [Int]) {
                (Array(themes.shuffled(using: &rng).prefix(Int.random(in: 1...3, using: &rng))),
                 Array(Set((0..<Int.random(in: 1...3, using: &rng)).map { _ in Int.random(in: 1...17, using: &rng) })).sorted())
            }
            for step in 0..<25 {
                let (t, g) = someTags()
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where !ids.isEmpty:
                    let id = ids.randomElement(using: &rng)!
                    let head = try sofia.store.practice(id.hex).0.heads[0]
                    _ = try sofia.revise(id.hex, with: practice("p", themes: t, sdgs: g), base: [head.hex])
                case 1 where !ids.isEmpty:
                    _ = try milano.receive(try exportLines(sofia))
                    _ = try milano.adopt(ids.randomElement(using: &rng)!.hex, mode: .adopted, notes: nil)
                    _ = try sofia.receive(try exportLines(milano))
                default:
                    ids.append(try sofia.publish(practice("p\(step)", themes: t, sdgs: g)).id)
                }
            }
            let all = try sofia.store.practices()
            #expect(try sofia.store.practiceCount() == all.count)
            for theme in themes {
                var f = PracticeFilter(); f.theme = theme
                #expect(try sofia.store.practiceCount(f) == all.filter { $0.themes.contains(theme) }.count, "seed \(seed) theme \(theme)")
            }
            for sdg in 1...17 {
                var f = PracticeFilter(); f.sdg = sdg
                #expect(try sofia.store.practiceCount(f) == all.filter { $0.sdgs.contains(sdg) }.count, "seed \(seed) SDG \(sdg)")
            }
            let expectedThemes = Dictionary(all.flatMap { Set($0.themes) }.map { ($0, 1) }, uniquingKeysWith: +)
            #expect(Dictionary(uniqueKeysWithValues: try sofia.store.themes().map { ($0.theme, $0.practices) }) == expectedThemes)
            let figures = try sofia.store.practiceFiguresByCity()[sofia.id]
            #expect(figures?.practices == all.count && figures?.adopted == all.filter { $0.adoptions > 0 }.count, "seed \(seed)")
            var one = PracticeFilter(); one.cities = [sofia.id, sofia.id]
            #expect(try sofia.store.practiceCount(one) == all.count)
        }
    }

    @Test func aStoreFromBeforeTheTagsGetsThem() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            _ = try city.publish(practice("Bikes", themes: ["mobility"], sdgs: [3, 11]))
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            try db.write { db in
                try db.execute(sql: "DROP TABLE practice_tag; DROP TABLE tag_count; DROP TABLE city_figure; DROP TRIGGER practice_counted; DROP TRIGGER practice_adoption_counted")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v10:%'")
            }
            try db.close()
            let reopened = try LogStore(path: city.directory.storeFile.path)
            var bySDG = PracticeFilter(); bySDG.sdg = 11
            #expect(try reopened.practiceCount(bySDG) == 1)
            #expect(try reopened.themes().map(\.theme) == ["mobility"])
            #expect(try reopened.practiceFiguresByCity()[CityID("sofia")!]?.practices == 1)
            #expect(try reopened.practiceCount() == 1)
        }
    }

    @Test func thePortalsQuestionsReadIndexes() throws {
        try withTemporaryDirectory { root in
            let seen = Mutex<[String]>([])
            let path = DataDirectory(root.appendingPathComponent("sofia").path).storeFile.path
            LogStore.statementObservers.withLock { $0[path] = { sql in seen.withLock { $0.append(sql) } } }
            defer { LogStore.statementObservers.withLock { $0[path] = nil } }
            let city = try makeCity("sofia", in: root)
            for i in 0..<5 { _ = try city.publish(practice("p\(i)", themes: ["t\(i % 2)"], sdgs: [i + 1])) }
            seen.withLock { $0.removeAll() }

            var deep = PracticeFilter(); deep.limit = 2; deep.offset = 2
            _ = try city.store.practices(deep)
            var byTheme = PracticeFilter(); byTheme.theme = "t1"
            _ = try city.store.practiceCount(byTheme)
            var bySDG = PracticeFilter(); bySDG.sdg = 3
            _ = try city.store.practiceCount(bySDG)
            _ = try city.store.themes()
            _ = try city.store.practiceFiguresByCity()
            _ = try city.store.latestEntries(sdg: 3, limit: 20)

            let statements = seen.withLock { $0 }.filter { $0.hasPrefix("SELECT") && !$0.contains("grdb_migrations") }
            #expect(statements.count >= 7, "the observer saw the questions")
            let db = try DatabaseQueue(path: path)
            let bad = try db.read { db in
                try QueryPlanTests.plans(Set(statements), db) { p in
                    // Every practice's JSON, or every practice's row.
                    p.contains("json_each") || (p.hasPrefix("SCAN practice") && !p.contains("COVERING INDEX"))
                }
            }
            #expect(bad.isEmpty, "reads of every practice:\n\(bad.joined(separator: "\n"))")
            // The deep page's skipped rows: the order's index alone.
            let skip = statements.first { $0.hasPrefix("SELECT pid FROM practice") && $0.contains("OFFSET") }
            #expect(skip != nil, "a deep page reads the ids of its rows first")
            let plan = try db.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + (skip ?? "")).map { $0["detail"] as String } }
            #expect(plan.contains { $0.contains("COVERING INDEX practice_published") }, "\(plan)")
        }
    }
}
