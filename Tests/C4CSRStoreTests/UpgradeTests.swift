import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import GRDB
import Testing

@Suite struct UpgradeTests {
    /// A store written by an older c4csr (schema v1 only) opens, is migrated, and
    /// keeps every entry.
    @Test func anOlderStoreIsMigratedAndKeepsItsLog() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            for i in 0..<5 { _ = try city.publish(practice("p\(i)")) }
            let before = try city.store.summary()
            // Turn the file back into what v1 wrote.
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            try db.write { db in
                try db.execute(sql: "DROP INDEX entry_origin_rank; DROP TABLE peer_status; DROP TABLE restore_mark")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v2:%' OR identifier LIKE 'v3:%' OR identifier LIKE 'v4:%'")
            }
            try db.close()
            let reopened = try LogStore(path: city.directory.storeFile.path)
            #expect(try reopened.summary() == before)
            #expect(try reopened.peerStatuses().isEmpty, "the v2 table exists again")
            #expect(try reopened.lacking(VectorClock(), limit: 10, maxBytes: 1 << 20).entries.count == 5, "and its index serves sync")
            #expect(try reopened.integrityProblems().isEmpty)
            #expect(try reopened.restoreMark() == nil, "the v4 table exists again")
        }
    }

    /// A v2 store (peer status without the kind of the last error) keeps its peers'
    /// rows and records kinds from then on.
    @Test func aV2StoreGainsTheKindOfTheLastError() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            var status = PeerStatus(city: CityID("bucuresti")!, endpoint: "https://b.example:7443")
            status.lastError = "timed out"
            try city.store.savePeerStatus(status)
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            try db.write { db in
                try db.execute(sql: "ALTER TABLE peer_status DROP COLUMN last_error_kind; DROP TABLE restore_mark")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v3:%' OR identifier LIKE 'v4:%'")
            }
            try db.close()
            let reopened = try LogStore(path: city.directory.storeFile.path)
            var read = try #require(try reopened.peerStatus(status.city))
            #expect(read.lastError == "timed out" && read.lastErrorKind == nil)
            read.lastErrorKind = "pin_mismatch"
            try reopened.savePeerStatus(read)
            #expect(try reopened.peerStatus(status.city)?.lastErrorKind == "pin_mismatch")
        }
    }

    @Test func aStoreFromANewerVersionIsRefusedUntouched() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            _ = try city.publish(practice("p"))
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            try db.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9: from the future')") }
            try db.close()
            do {
                _ = try LogStore(path: city.directory.storeFile.path)
                Issue.record("a newer store was opened")
            } catch let e as StoreError {
                #expect(e.description.contains("newer c4csr") && e.description.contains("v9: from the future"), "\(e)")
            }
        }
    }

    /// `backup` while another connection keeps writing: the copy is one consistent
    /// instant, checks clean, and a city restored from it audits clean.
    @Test func backupIsConsistentAndRestores() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            for i in 0..<50 { _ = try city.publish(practice("before \(i)")) }
            let writer = Thread { for i in 0..<100 { _ = try? city.publish(practice("during \(i)")) } }
            writer.start()
            let file = root.appendingPathComponent("backup.sqlite").path
            let summary = try city.store.backup(to: file)
            #expect(summary.entries >= 50)
            #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
            #expect(!FileManager.default.fileExists(atPath: file + "-wal"), "a single file")
            #expect(throws: StoreError.self) { _ = try city.store.backup(to: file) }  // never overwrites
            while writer.isExecuting || !writer.isFinished { usleep(10_000) }

            // Restore: a copy of the data directory with the backup as its store.
            let restored = root.appendingPathComponent("restored")
            try FileManager.default.copyItem(at: city.directory.root, to: restored)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: restored.appendingPathComponent("store.sqlite" + suffix).path) }
            try FileManager.default.copyItem(atPath: file, toPath: restored.appendingPathComponent("store.sqlite").path)
            let back = try City.open(DataDirectory(restored.path))
            #expect(try back.store.summary() == summary)
            let audit = try back.audit()
            #expect(audit.errors.isEmpty, "\(audit.errors)")
            // The city writes on from the restored log.
            _ = try back.publish(practice("after the restore"))
            #expect(try back.store.count() == summary.entries + 1)
        }
    }
}
