import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// Issue 12, rotation (docs/PROTOCOL.md §12), through the real node: a city rotates its
/// key; its peers follow from the log alone; an old copy of the key signs nothing; the
/// key swap survives a crash on either side of the commit.
@Suite struct KeyRotationTests {
    @Test func peersFollowARotationFromTheLogAndTheOldKeySignsNothing() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let founding = try signingKey(of: a)
            let e1 = try a.publish(practice("before"))
            let (rotate, newKey) = try a.rotateKey()
            #expect(rotate.kind == .rotate && rotate.format == .v2 && rotate.seq == 2)
            #expect(try signingKey(of: a).publicKey == newKey, "the key file now holds the new key")
            #expect(!FileManager.default.fileExists(atPath: a.directory.pendingSigningKeyFile.path))
            #expect(try a.store.keyInForce(nextOf: a.id) == newKey)
            let e3 = try a.publish(practice("after"))
            #expect(try newKey.isValidSignature(e3.signature, for: e3.body) && !founding.publicKey.isValidSignature(e3.signature, for: e3.body))

            // B's card for A still names the founding key: it follows from the log.
            let r = await round(b, a)
            #expect(r.succeeded && r.received == 3, "\(String(describing: r.error))")
            #expect(try b.store.keyInForce(nextOf: a.id) == newKey)
            #expect(try a.localHeads().digest == b.localHeads().digest)
            // Clean: no error, and no violation either (a rotate names no practice, rightly).
            let bAudit = try b.audit()
            #expect(bAudit.findings.isEmpty, "\(bAudit.findings)")
            #expect(try a.audit().findings.isEmpty)
            var export = [UInt8]()
            _ = try a.exportJSONL { export += Array($0.utf8) }
            let fileAudit = ExportAudit.audit(export, verifier: b.verifier)
            #expect(fileAudit.findings.isEmpty && fileAudit.checked == 3, "\(fileAudit.findings)")

            // The thief's copy of the founding key: an entry after the rotation is refused
            // as a bad signature, not held; and the key file with it opens nothing.
            var clock = e3.clock
            clock[a.id] = 4
            let forged = try EntryDraft(origin: a.id, seq: 4, prev: e3.id, clock: clock, time: e3.time + 1, kind: .publish, payload: PracticeAction.publish(practice("forged")).payload)
                .sign(with: founding)
            let report = try b.receive([(forged.body, forged.signature)])
            #expect(report.inserted == 0 && report.invalid.first?.error.isBadSignature == true)
            #expect(try !b.store.contains(forged.id))
            _ = e1
        }
    }

    /// A sync verifies each page while the page before it merges: a page whose entries
    /// follow a rotation in the page before must still be verified with the new key.
    @Test func rotationsAcrossPagesOfOneSync() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            for round in 0..<3 {
                _ = try a.publishAll((0..<25).map { practice("r\(round)-\($0)") })
                _ = try a.rotateKey()
            }
            _ = try a.publish(practice("last"))
            var sync = SyncRound(city: b, peer: a.id, transport: MemoryTransport(responder: SyncResponder(city: a)))
            sync.pageLimit = 7
            let r = await sync.run()
            #expect(r.succeeded && r.inSync && r.received == 79, "\(String(describing: r.error)) \(r.refusedFromPeer)")
            #expect(try a.localHeads().digest == b.localHeads().digest)
            #expect(try b.store.rotations().count == 3)
            #expect(try b.audit().errors.isEmpty)
        }
    }

    /// Two admins rotating at once (two processes, here two nodes on two threads): one
    /// rotation wins, the other is refused, and the key file always holds the key the log
    /// put in force — never the loser's new key.
    @Test func twoRotationsAtOnceNeverLoseTheKey() async throws {
        try await withCities(["aa"]) { c in
            let a = c[0]
            _ = try a.publish(practice("one"))
            for round in 0..<8 {
                let x = try City.open(a.directory), y = try City.open(a.directory)
                let first = Task.detached { try? x.rotateKey() }
                let second = Task.detached { try? y.rotateKey() }
                let results = [await first.value, await second.value].compactMap { $0 }
                #expect(results.count >= 1, "round \(round): neither rotation was written")
                let reopened = try City.open(a.directory)
                #expect(try signingKey(of: reopened).publicKey == reopened.store.keyInForce(nextOf: a.id), "round \(round)")
                _ = try reopened.publish(practice("after \(round)"))
            }
        }
    }

    @Test func aCopyOfTheOldKeyCannotSign() async throws {
        try await withCities(["aa"]) { c in
            let a = c[0]
            _ = try a.publish(practice("one"))
            let oldText = try Data(contentsOf: a.directory.signingKeyFile)
            _ = try a.rotateKey()
            try FileManager.default.removeItem(at: a.directory.signingKeyFile)
            try oldText.write(to: a.directory.signingKeyFile)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: a.directory.signingKeyFile.path)
            #expect(throws: NodeError.self) { try City.open(a.directory) }
            do { _ = try City.open(a.directory) } catch {
                #expect("\(error)".contains("is not aa's key in force"), "\(error)")
            }
            // Opened for reading, the city still works.
            #expect(try City.open(a.directory, signing: false).localHeads().entries == 2)
        }
    }

    /// A crash after the rotation committed but before the key file was replaced: the
    /// next open finds the new key pending, sees the log put it in force, and installs it.
    /// A crash before the commit leaves a pending key the log never named: removed.
    @Test func theKeySwapSurvivesACrashOnEitherSideOfTheCommit() async throws {
        try await withCities(["aa"]) { c in
            let a = c[0]
            _ = try a.publish(practice("one"))
            let oldText = try Data(contentsOf: a.directory.signingKeyFile)
            let (_, newKey) = try a.rotateKey()
            // Put the files back as they were between commit and rename.
            try FileManager.default.moveItem(at: a.directory.signingKeyFile, to: a.directory.pendingSigningKeyFile)
            try oldText.write(to: a.directory.signingKeyFile)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: a.directory.signingKeyFile.path)
            let reopened = try City.open(a.directory)
            #expect(try signingKey(of: reopened).publicKey == newKey)
            #expect(!FileManager.default.fileExists(atPath: a.directory.pendingSigningKeyFile.path))
            _ = try reopened.publish(practice("two"))

            // A pending key that never reached the log.
            let stray = CitySigningKey()
            try Data((Data(stray.rawRepresentation).base64EncodedString() + "\n").utf8).write(to: a.directory.pendingSigningKeyFile)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: a.directory.pendingSigningKeyFile.path)
            let again = try City.open(a.directory)
            #expect(try signingKey(of: again).publicKey == newKey)
            #expect(!FileManager.default.fileExists(atPath: a.directory.pendingSigningKeyFile.path))
            _ = try again.publish(practice("three"))
        }
    }
}
