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
