import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// Issue 12, membership and recovery (docs/PROTOCOL.md §15), through the real node. A node
/// reads the three kinds and a later generation's chains; until it holds the network's
/// charter, every membership entry waits (`entry_unknown_network`) and nothing of it, or
/// of a chain that starts with it, reaches the store.
@Suite struct MembershipNodeTests {
    @Test func membershipEntriesWaitOnANodeWithoutTheCharter() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let aKey = try signingKey(of: a)
            let network = String(repeating: "ab", count: 32)
            let newKey = CitySigningKey()
            let motion = Motion.Recovery(city: a.id, generation: 2, key: newKey.publicKey, lastSeq: 0, lastID: nil)
            let time: Int64 = 1_764_000_000_000
            let vouch = try EntryDraft(
                origin: a.id, seq: 1, prev: nil, clock: VectorClock([a.id: 1]), time: time, kind: .vouch,
                payload: MembershipStatement.vouch(.admit(city: CityID("cc")!, key: newKey.publicKey)).payload(network: network)
            ).sign(with: aKey)
            let chain = CityID.chain(of: a.id, generation: 2)
            let recover = try EntryDraft(
                origin: chain, seq: 1, prev: nil, clock: VectorClock([chain: 1]), time: time, kind: .recover,
                payload: MembershipStatement.recover(motion).payload(network: network)
            ).sign(with: newKey)
            let after = try EntryDraft(
                origin: chain, seq: 2, prev: recover.id, clock: VectorClock([chain: 2]), time: time + 1, kind: .publish,
                payload: PracticeAction.publish(practice("after the recovery")).payload
            ).sign(with: newKey)
            let before = try b.localHeads().digest
            let report = try b.receive([vouch, recover, after].map { ($0.body, $0.signature) })
            #expect(report.inserted == 0)
            #expect(report.invalid.map(\.error.codeName) == ["entry_unknown_network", "entry_unknown_network"], "\(report.invalid)")
            #expect(report.outcome.refused.map(\.entry.id) == [after.id] && report.outcome.refused.first?.reason.isNotReady == true)
            for e in [vouch, recover, after] { #expect(try !b.store.contains(e.id)) }
            #expect(try b.localHeads().digest == before)
            // The recover's signature was checked first, with the key it names: signed by
            // aa's own key it is a bad signature, not an entry waiting for its network.
            let stolen = try Entry.decode(body: recover.body, signature: aKey.signature(for: recover.body))
            #expect(try b.receive([(stolen.body, stolen.signature)]).invalid.first?.error.isBadSignature == true)
        }
    }
}

/// A recovery through real nodes and sync rounds (§15): aa's key is stolen after aa#1; the
/// thief retracts aa's practice at aa#2; bb and cc vouch for a new key standing by aa#1;
/// aa's officers open aa~2 with it. Every node ends with the thief's entry revoked (kept,
/// counted in the digest, without effect) and the practice shown again, whatever the order
/// the entries reached it in.
@Suite struct RecoveryNodeTests {
    @Test func aRecoveryByTheOtherMembersRevokesTheThiefOnEveryNode() async throws {
        try await withCities(["aa", "bb", "cc"]) { c in
            let (a, b, cc) = (c[0], c[1], c[2])
            let charter = try Charter(name: "Test network", founders: c.map(\.id))
            for x in c {
                try Data(charter.toml.utf8).write(to: x.directory.peersDirectory.appendingPathComponent("network.toml"))
                x.reloadPeers()
                #expect(x.verifier.network == charter.networkID)
            }
            let p = try a.publish(practice("before the theft"))
            for x in [b, cc] { #expect(await round(x, a).succeeded) }
            // The thief holds aa's key (here: aa's own node) and retracts the practice.
            let thief = try a.retract(p.id.hex, reason: "stolen key")
            #expect(try a.store.practice(p.id.hex).0.retracted)
            // The members vouch for a new key that stands by aa#1.
            let newKey = CitySigningKey()
            let motion = Motion.recover(.init(city: a.id, generation: 2, key: newKey.publicKey, lastSeq: 1, lastID: p.id))
            #expect(throws: NodeError.self) { try a.vouch(motion) }
            _ = try b.vouch(motion)
            _ = try cc.vouch(motion)
            #expect(await round(b, cc).succeeded)
            // aa's officers, on a new machine with the new key, open aa~2; its clock covers both vouches.
            let chain = CityID.chain(of: a.id, generation: 2)
            var clock = VectorClock(Dictionary(try b.localHeads().heads.map { ($0.origin, $0.seq) }, uniquingKeysWith: max))
            clock[chain] = 1
            let recover = try EntryDraft(
                origin: chain, seq: 1, prev: nil, clock: clock, time: p.time + 10, kind: .recover,
                payload: MembershipStatement.recover(motion.recoveryOrNil!).payload(network: charter.networkID)
            ).sign(with: newKey)
            let report = try b.receive([(recover.body, recover.signature)])
            #expect(report.inserted == 1 && report.isClean, "\(report.invalid) \(report.outcome.refused)")
            #expect(try b.store.invalidMembership().isEmpty && b.store.revokedEntries().isEmpty, "the thief's entry has not reached bb yet")
            // The thief's entry and the recovery meet, in either order.
            #expect(await round(b, a).succeeded)
            #expect(await round(cc, a).succeeded)
            #expect(await round(cc, b).succeeded)
            for x in c {
                #expect(try x.store.revokedEntries() == [thief.id], "\(x.id)")
                #expect(try !x.store.practice(p.id.hex).0.retracted, "\(x.id): the thief's retraction has no effect")
                #expect(try x.localHeads().digest == a.localHeads().digest, "\(x.id)")
                let audit = try x.audit()
                #expect(audit.findings.map(\.code) == ["revoked"] && audit.findings[0].severity == .violation, "\(x.id): \(audit.findings)")
                #expect(audit.findings.first?.entry?.hasPrefix("aa#2 ") == true, "\(audit.findings)")
            }
            // The old key's node, once the recovery reached it, signs nothing more (what it
            // signed would only be revoked: an ack it owed would be written again and again).
            do {
                _ = try a.publish(practice("after the recovery"))
                Issue.record("the old key's node signed after the recovery")
            } catch let e as NodeError {
                #expect(e.kind == .forbidden && e.message.contains("recovered aa into aa~2"), "\(e)")
            }
            #expect(try a.store.count() == b.store.count())
            // A kept verdict edited behind the node's back is tampering.
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            shell.arguments = [cc.directory.storeFile.path, "DELETE FROM revoked"]
            try shell.run()
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 0)
            let tampered = try cc.audit()
            #expect(tampered.findings.contains { $0.code == "verdict_mismatch" && $0.severity == .error }, "\(tampered.findings)")
        }
    }
}

/// The charter beside the peer cards (`network.toml`, §15): read as the network's, never as
/// a card; the first directory's wins; another or an invalid one is a warning.
@Suite struct CharterFileTests {
    @Test func theCharterIsReadBesideTheCardsAndNeverAsACard() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-charter-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let (first, second, third) = (root.appendingPathComponent("a"), root.appendingPathComponent("b"), root.appendingPathComponent("c"))
        for d in [first, second, third] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let ours = try Charter(name: "CITIES4CSR", founders: ["sofia", "milano"].map { CityID($0)! })
        let theirs = try Charter(name: "Another network", founders: ["sofia"].map { CityID($0)! })
        try Data(ours.toml.utf8).write(to: first.appendingPathComponent("network.toml"))
        try Data(theirs.toml.utf8).write(to: second.appendingPathComponent("network.toml"))
        try Data("format = \"c4csr-network/1\"\nname = \"No founders\"\n".utf8).write(to: third.appendingPathComponent("network.toml"))

        let none = PeerDirectory.load([root.appendingPathComponent("missing")])
        #expect(none.charter == nil && none.warnings.isEmpty)
        let one = PeerDirectory.load([first])
        #expect(one.charter == ours && one.charterSource == first.appendingPathComponent("network.toml").path)
        #expect(one.cards.isEmpty && one.warnings.isEmpty, "\(one.warnings)")
        let two = PeerDirectory.load([first, second, third])
        #expect(two.charter == ours)
        #expect(two.warnings.count == 2, "\(two.warnings)")
        #expect(two.warnings.contains { $0.contains("another network charter") && $0.contains(String(theirs.networkID.prefix(12))) })
        #expect(two.warnings.contains { $0.contains("invalid network charter") && $0.contains("founders") })
        #expect(PeerDirectory.load([third, second]).charter == theirs, "an invalid charter is skipped, the next one read")
    }

    @Test func aCityShowsTheCharterOfItsPeerDirectory() async throws {
        try await withCities(["aa"]) { c in
            #expect(c[0].charter == nil)
            let charter = try Charter(name: "Test network", founders: [c[0].id])
            try Data(charter.toml.utf8).write(to: c[0].directory.peersDirectory.appendingPathComponent("network.toml"))
            c[0].reloadPeers()
            #expect(c[0].charter == charter)
            #expect(c[0].verifier.network == charter.networkID, "membership entries naming it are accepted")
        }
    }
}
