import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// A store restored from an old backup never signs at a seq the network already holds
/// (issue 12, "restore never forks"): it refuses until a completed pull from every peer
/// it syncs with has brought back its own latest entries.
@Suite struct RestoreTests {
    @Test func aRestoredCityWaitsForEveryPeerBeforeSigning() async throws {
        try await withCities(["aa", "bb", "cc"]) { cities in
            let (a, b, c) = (cities[0], cities[1], cities[2])
            let e1 = try a.publish(practice("one"))
            let backup = a.directory.root.deletingLastPathComponent().appendingPathComponent("aa-backup.sqlite").path
            _ = try a.store.backup(to: backup)
            let e2 = try a.publish(practice("two"))
            // B holds both entries; C lags, as the backup does.
            #expect(try b.receive([(e1.body, e1.signature), (e2.body, e2.signature)]).inserted == 2)
            #expect(try c.receive([(e1.body, e1.signature)]).inserted == 1)

            let report = try City.restore(backup: backup, into: a.directory)
            #expect(report.ownTop == 1 && report.summary.entries == 1)
            let restored = try City.open(a.directory)
            #expect(try !restored.store.contains(e2.id))
            func refused(_ why: String) {
                do {
                    _ = try restored.publish(practice("three"))
                    Issue.record("signed \(why)")
                } catch {
                    #expect("\(error)".contains("was restored from \(backup)"), "\(error)")
                }
            }
            refused("before any round")
            #expect(try restored.localHeads().entries == 1, "nothing was written")

            // The peers it syncs with (the daemon passes its own; these cards have no endpoint).
            func roundWith(_ peer: City) async -> RoundReport {
                var r = SyncRound(city: restored, peer: peer.id, transport: MemoryTransport(responder: SyncResponder(city: peer)))
                r.restorePeers = [b.id, c.id]
                return await r.run()
            }
            // C lags: its round confirms it holds nothing newer, but it is not every peer.
            var r = await roundWith(c)
            #expect(r.error == nil && !r.confirmedRestore)
            #expect(try restored.store.restoreMark()?.confirmedBy == [c.id])
            refused("after the lagging peer alone")
            // B's round brings e2 back and completes the set: the mark is lifted.
            r = await roundWith(b)
            #expect(r.error == nil && r.confirmedRestore)
            #expect(try restored.store.contains(e2.id) && restored.store.restoreMark() == nil)
            let e3 = try restored.publish(practice("three"))
            #expect(e3.seq == 3, "the restored city re-used seq \(e3.seq)")

            // The store it replaced is kept, with the entry the backup lacked.
            let kept = try LogStore(path: try #require(report.keptAs))
            #expect(try kept.contains(e2.id))
        }
    }

    /// A backup older than a key rotation: the key file holds the new key, the restored
    /// log names the old one. The city says why it cannot sign, syncs (its daemon and
    /// `sync` open without the key), gets the rotation back from its peer, and signs again.
    @Test func aBackupOlderThanARotationCatchesUpThenSigns() async throws {
        try await withCities(["aa", "bb"]) { cities in
            let (a, b) = (cities[0], cities[1])
            _ = try a.publish(practice("one"))
            let backup = a.directory.root.deletingLastPathComponent().appendingPathComponent("aa-before-rotation.sqlite").path
            _ = try a.store.backup(to: backup)
            let (rotate, key) = try a.rotateKey()
            _ = try a.publish(practice("two"))
            #expect(try b.receive(try a.store.lacking(VectorClock(), limit: 100, maxBytes: 1 << 20).entries.map { ($0.body, $0.signature) }).inserted == 3)

            _ = try City.restore(backup: backup, into: a.directory)
            do {
                _ = try City.open(a.directory)
                Issue.record("opened with a key the restored log does not name")
            } catch {
                #expect("\(error)".contains("lacks the rotation"), "\(error)")
            }
            let reading = try City.open(a.directory, signing: false)
            var r = SyncRound(city: reading, peer: b.id, transport: MemoryTransport(responder: SyncResponder(city: b)))
            r.restorePeers = [b.id]
            let report = await r.run()
            #expect(report.error == nil && report.confirmedRestore)
            #expect(try reading.store.contains(rotate.id) && reading.store.keyInForce(nextOf: a.id) == key)
            let back = try City.open(a.directory)
            #expect(try back.publish(practice("three")).seq == 4)
        }
    }

    @Test func aBackupThatIsNotAStoreChangesNothing() async throws {
        try await withCities(["aa"]) { cities in
            let a = cities[0]
            let e1 = try a.publish(practice("one"))
            let bogus = a.directory.root.deletingLastPathComponent().appendingPathComponent("not-a-store.sqlite").path
            try Data("not a database".utf8).write(to: URL(fileURLWithPath: bogus))
            #expect(throws: NodeError.self) { _ = try City.restore(backup: bogus, into: a.directory) }
            let after = try City.open(a.directory)
            #expect(try after.store.contains(e1.id) && after.store.restoreMark() == nil)
            #expect(!FileManager.default.fileExists(atPath: a.directory.storeFile.path + ".restoring"))
            _ = try after.publish(practice("two"))
        }
    }
}
