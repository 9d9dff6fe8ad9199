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

    /// A v4 store (its entry table without `key_after`, its CHECK without `rotate`) is
    /// rebuilt by the v5 migration: every row at its position, the indexes and the
    /// append-only triggers back, and the city can rotate its key after.
    @Test func aV4StoreIsRebuiltForRotation() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            for i in 0..<5 { _ = try city.publish(practice("p\(i)")) }
            let before = try city.store.summary()
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            let positions: [Int64] = try db.write { db in
                try db.execute(sql: """
                    CREATE TABLE entry_v4 (
                        position INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE CHECK (length(id) = 32),
                        origin TEXT NOT NULL, seq INTEGER NOT NULL, prev BLOB, rank INTEGER NOT NULL, clock TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('publish', 'revise', 'retract', 'adopt')), subject BLOB,
                        body BLOB NOT NULL, sig BLOB NOT NULL, received_at INTEGER NOT NULL) STRICT;
                    INSERT INTO entry_v4 SELECT position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at FROM entry;
                    DROP TRIGGER entry_no_update; DROP TRIGGER entry_no_delete; DROP TRIGGER entry_chain_linked;
                    DROP TABLE entry; ALTER TABLE entry_v4 RENAME TO entry;
                    CREATE INDEX entry_chain ON entry(origin, seq);
                    CREATE INDEX entry_merged ON entry(rank, origin, seq, id);
                    CREATE INDEX entry_subject ON entry(subject) WHERE subject IS NOT NULL;
                    CREATE INDEX entry_origin_rank ON entry(origin, rank, seq, id);
                    CREATE TRIGGER entry_no_update BEFORE UPDATE ON entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
                    CREATE TRIGGER entry_no_delete BEFORE DELETE ON entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
                    CREATE TRIGGER entry_chain_linked BEFORE INSERT ON entry WHEN NEW.seq > 1 AND NOT EXISTS (
                        SELECT 1 FROM entry WHERE id = NEW.prev AND origin = NEW.origin AND seq = NEW.seq - 1)
                    BEGIN SELECT RAISE(ABORT, 'unlinked'); END;
                    DROP INDEX practice_published; DROP TABLE officer_roll; DROP TABLE content; DROP TABLE erased;
                    DELETE FROM grdb_migrations WHERE identifier LIKE 'v5:%' OR identifier LIKE 'v6:%' OR identifier LIKE 'v7:%'
                        OR identifier LIKE 'v8:%';
                    """)
                return try Int64.fetchAll(db, sql: "SELECT position FROM entry ORDER BY position")
            }
            try db.close()
            let reopened = try City.open(city.directory)
            #expect(try reopened.store.summary() == before)
            #expect(try reopened.store.integrityProblems().isEmpty, "the indexes and the append-only triggers are back")
            let after = try DatabaseQueue(path: city.directory.storeFile.path)
            #expect(try after.read { try Int64.fetchAll($0, sql: "SELECT position FROM entry ORDER BY position") } == positions)
            #expect(throws: DatabaseError.self) { try after.write { try $0.execute(sql: "UPDATE entry SET seq = seq") } }
            try after.close()
            let (rotate, _) = try reopened.rotateKey()
            #expect(rotate.seq == 6)
            #expect(try reopened.audit().findings.isEmpty)
        }
    }

    /// A v6 store (its kind CHECK without `officer`, no `roll_after`) is rebuilt by the
    /// v7 migration: every row at its position with its key in force, the indexes and
    /// triggers back, and the city can enrol an officer after.
    @Test func aV6StoreIsRebuiltForOfficers() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            for i in 0..<3 { _ = try city.publish(practice("p\(i)")) }
            let (_, newKey) = try city.rotateKey()
            _ = try city.publish(practice("after the rotation"))
            let before = try city.store.summary()
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            let (positions, keys): ([Int64], [Data?]) = try db.write { db in
                try db.execute(sql: """
                    CREATE TABLE entry_v6 (
                        position INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE CHECK (length(id) = 32),
                        origin TEXT NOT NULL, seq INTEGER NOT NULL, prev BLOB, rank INTEGER NOT NULL, clock TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('publish', 'revise', 'retract', 'adopt', 'rotate')), subject BLOB,
                        body BLOB NOT NULL, sig BLOB NOT NULL, received_at INTEGER NOT NULL,
                        key_after BLOB CHECK (key_after IS NULL OR length(key_after) = 32)) STRICT;
                    INSERT INTO entry_v6 SELECT position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at, key_after FROM entry;
                    DROP TRIGGER entry_no_update; DROP TRIGGER entry_no_delete; DROP TRIGGER entry_chain_linked;
                    DROP TABLE entry; ALTER TABLE entry_v6 RENAME TO entry;
                    CREATE INDEX entry_chain ON entry(origin, seq);
                    CREATE INDEX entry_merged ON entry(rank, origin, seq, id);
                    CREATE INDEX entry_subject ON entry(subject) WHERE subject IS NOT NULL;
                    CREATE INDEX entry_origin_rank ON entry(origin, rank, seq, id);
                    CREATE INDEX entry_rotate ON entry(origin, seq) WHERE kind = 'rotate';
                    CREATE INDEX entry_adopt ON entry(origin, subject) WHERE kind = 'adopt';
                    CREATE TRIGGER entry_no_update BEFORE UPDATE ON entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
                    CREATE TRIGGER entry_no_delete BEFORE DELETE ON entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
                    CREATE TRIGGER entry_chain_linked BEFORE INSERT ON entry WHEN NEW.seq > 1 AND NOT EXISTS (
                        SELECT 1 FROM entry WHERE id = NEW.prev AND origin = NEW.origin AND seq = NEW.seq - 1)
                    BEGIN SELECT RAISE(ABORT, 'unlinked'); END;
                    DROP TABLE officer_roll; DROP TABLE content; DROP TABLE erased;
                    DELETE FROM grdb_migrations WHERE identifier LIKE 'v7:%' OR identifier LIKE 'v8:%';
                    """)
                return (try Int64.fetchAll(db, sql: "SELECT position FROM entry ORDER BY position"),
                        try Data?.fetchAll(db, sql: "SELECT key_after FROM entry ORDER BY position"))
            }
            try db.close()
            #expect(keys.compactMap { $0 }.count == 2, "the rotation and the entry after it keep the new key")
            let reopened = try City.open(city.directory)
            #expect(try reopened.store.summary() == before)
            #expect(try reopened.store.integrityProblems().isEmpty, "the indexes and the append-only triggers are back")
            let after = try DatabaseQueue(path: city.directory.storeFile.path)
            #expect(try after.read { try Int64.fetchAll($0, sql: "SELECT position FROM entry ORDER BY position") } == positions)
            #expect(try after.read { try Data?.fetchAll($0, sql: "SELECT key_after FROM entry ORDER BY position") } == keys)
            #expect(throws: DatabaseError.self) { try after.write { try $0.execute(sql: "UPDATE entry SET seq = seq") } }
            try after.close()
            #expect(try reopened.store.keyInForce(nextOf: reopened.id) == newKey)
            let officer = CitySigningKey()
            let enrol = try reopened.changeOfficer(.enrol(OfficerID("o1")!, officer.publicKey))
            #expect(enrol.seq == 6)
            #expect(try reopened.officersInForce().keys == [OfficerID("o1")!: officer.publicKey])
            #expect(try reopened.audit().findings.isEmpty)
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

    /// A v10 store (its `origin` CHECK at 32 characters) is rebuilt by the v11 migration
    /// for chain ids of up to 36 (§15): every row at its position, every index and trigger
    /// on `entry` back with the same SQL, and a 36-character chain id then fits.
    @Test func aV10StoreIsRebuiltForChainIDs() throws {
        try withTemporaryDirectory { root in
            let city = try makeCity("sofia", in: root)
            for i in 0..<5 { _ = try city.publish(practice("p\(i)")) }
            let before = try city.store.summary()
            let db = try DatabaseQueue(path: city.directory.storeFile.path)
            let objectsSQL = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'entry' AND type != 'table' AND sql IS NOT NULL ORDER BY name"
            let (objects, positions): ([Row], [Int64]) = try db.write { db in
                let objects = try Row.fetchAll(db, sql: objectsSQL)
                let table = try #require(try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'entry'"))
                #expect(table.contains("BETWEEN 2 AND 36"))
                // Back to v10: the same table with the 32-character CHECK.
                let v10 = table.replacingOccurrences(of: "BETWEEN 2 AND 36", with: "BETWEEN 2 AND 32")
                    .replacingOccurrences(of: "\"entry\"", with: "entry_v10").replacingOccurrences(of: "TABLE entry ", with: "TABLE entry_v10 ")
                #expect(v10.contains("entry_v10"), "\(v10.prefix(80))")
                try db.execute(sql: v10)
                try db.execute(sql: "INSERT INTO entry_v10 SELECT * FROM entry; DROP TABLE entry; ALTER TABLE entry_v10 RENAME TO entry")
                for o in objects { try db.execute(sql: o["sql"]) }
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v11:%'")
                return (objects, try Int64.fetchAll(db, sql: "SELECT position FROM entry ORDER BY position"))
            }
            try db.close()
            let reopened = try LogStore(path: city.directory.storeFile.path)
            #expect(try reopened.summary() == before)
            #expect(try reopened.integrityProblems().isEmpty)
            let check = try DatabaseQueue(path: city.directory.storeFile.path)
            try check.read { db in
                #expect(try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'entry'")?.contains("BETWEEN 2 AND 36") == true)
                let after = try Row.fetchAll(db, sql: objectsSQL)
                #expect(after.map { $0["name"] as String } == objects.map { $0["name"] as String } && objects.count >= 11, "\(after.map { $0["name"] as String })")
                #expect(after.map { $0["sql"] as String } == objects.map { $0["sql"] as String })
                #expect(try Int64.fetchAll(db, sql: "SELECT position FROM entry ORDER BY position") == positions)
            }
            try check.close()
            // A chain id of 36 characters (a 32-character city id in generation 999) fits.
            let long = try #require(CityID.chain(String(repeating: "a", count: 32) + "~999"))
            let body = CanonicalJSON.encode(.object([
                "clock": .object([long.rawValue: .int(1)]), "format": .string("c4csr/2"), "kind": .string("recover"),
                "origin": .string(long.rawValue), "payload": .object(MembershipStatement.recover(Motion.Recovery(
                    city: long.city, generation: 999, key: CitySigningKey().publicKey, lastSeq: 0, lastID: nil)).payload(network: String(repeating: "0", count: 64))),
                "prev": .null, "seq": .int(1), "time": .int(0),
            ]))
            let e = try Entry.decode(body: body, signature: [UInt8](repeating: 0, count: 64))
            let signers = [e.id: try #require(ChainState.start(of: e).key)]
            #expect(try reopened.merge([e], signatures: SignatureCheck(founding: [:], signers: signers)).inserted.count == 1)
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
