import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// A peer reached by calling its `SyncResponder` directly: the round logic, no sockets.
struct MemoryTransport: PeerTransport {
    let responder: SyncResponder
    func heads() async throws -> PeerHeads { try responder.heads() }
    func pull(_ r: PullRequest) async throws -> (entries: [SignedEntry], more: Bool) {
        // Through the wire format, so that framing is exercised too (one call of pull).
        let page = try responder.pull(PullRequest.decode(r.encoded))
        return try EntryStream.decode(EntryStream.encode(page.entries, more: page.more))
    }
    func push(_ entries: [SignedEntry]) async throws -> PushResult { try PushResult.decode(try responder.push(entries).encoded) }
    func forks() async throws -> ForkList { try responder.forks() }
    func entries(_ r: IDsRequest) async throws -> [SignedEntry] { try responder.entries(r) }
    func content(_ r: ContentRequest) async throws -> [PersonalContent] {
        try ContentList.decode(responder.content(ContentRequest.decode(r.encoded)).encoded, maxItems: ProtocolLimits.maxContentAnswer).content
    }
    func pushContent(_ c: [PersonalContent]) async throws -> ContentPushResult {
        try ContentPushResult.decode(responder.pushContent(ContentList.decode(ContentList(content: c).encoded, maxItems: ProtocolLimits.maxContentItems)).encoded)
    }
}

/// Answers like `base`, but adds `extra` to every answer of `entries`.
struct LyingTransport: PeerTransport {
    let base: MemoryTransport
    let extra: [SignedEntry]
    func heads() async throws -> PeerHeads { try await base.heads() }
    func pull(_ r: PullRequest) async throws -> (entries: [SignedEntry], more: Bool) { try await base.pull(r) }
    func push(_ entries: [SignedEntry]) async throws -> PushResult { try await base.push(entries) }
    func forks() async throws -> ForkList { try await base.forks() }
    func entries(_ r: IDsRequest) async throws -> [SignedEntry] { try await base.entries(r) + extra }
    func content(_ r: ContentRequest) async throws -> [PersonalContent] { try await base.content(r) }
    func pushContent(_ c: [PersonalContent]) async throws -> ContentPushResult { try await base.pushContent(c) }
}

func withCities(_ names: [String], _ body: ([City]) async throws -> Void) async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-round-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    let cities = try names.map { try makeCity($0, in: root) }
    for a in cities {
        for b in cities where a.id != b.id {
            try Data(b.card.toml.utf8).write(to: a.directory.peersDirectory.appendingPathComponent("\(b.id).toml"))
        }
        a.reloadPeers()
    }
    try await body(cities)
}

func round(_ a: City, _ b: City) async -> RoundReport {
    await SyncRound(city: a, peer: b.id, transport: MemoryTransport(responder: SyncResponder(city: b))).run()
}

@Suite struct RoundTests {
    @Test func pullAndPushInOneRound() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            for i in 0..<5 { _ = try a.publish(practice("a\(i)")) }
            for i in 0..<3 { _ = try b.publish(practice("b\(i)")) }
            let r = await round(a, b)
            #expect(r.succeeded && r.inSync, "\(String(describing: r.error))")
            #expect(r.received == 3 && r.sent == 5)
            #expect(try a.localHeads().digest == b.localHeads().digest)
            let again = await round(a, b)
            #expect(again.requests == 1 && again.received == 0 && again.sent == 0, "nothing new: heads only")
        }
    }

    /// A city that signs two different entries with one seq (equivocation): each half of
    /// the network sees one; after syncing, both hold both as evidence, agree on the
    /// digest, and audit reports the fork.
    @Test func forksAreExchangedAsEvidence() async throws {
        try await withCities(["aa", "bb", "xx"]) { c in
            let (a, b, x) = (c[0], c[1], c[2])
            let first = try x.publish(practice("x1"))
            _ = try a.receive([(first.body, first.signature)])
            _ = try b.receive([(first.body, first.signature)])
            let key = try signingKey(of: x)
            func second(_ title: String) throws -> Entry {
                try EntryDraft(
                    origin: x.id, seq: 2, prev: first.id, clock: VectorClock([x.id: 2]), time: 1, kind: .publish,
                    payload: PracticeAction.publish(practice(title)).payload
                ).sign(with: key)
            }
            let left = try second("left"), right = try second("right")
            #expect(try a.receive([(left.body, left.signature)]).inserted == 1)
            #expect(try b.receive([(right.body, right.signature)]).inserted == 1)
            // A third entry on the right branch, so that A must walk back to the fork.
            let right3 = try EntryDraft(
                origin: x.id, seq: 3, prev: right.id, clock: VectorClock([x.id: 3]), time: 2, kind: .publish,
                payload: PracticeAction.publish(practice("right 3")).payload
            ).sign(with: key)
            #expect(try b.receive([(right3.body, right3.signature)]).inserted == 1)

            let r1 = await round(a, b)
            #expect(r1.succeeded, "\(String(describing: r1.error))")
            let r2 = await round(b, a)
            #expect(r2.succeeded, "\(String(describing: r2.error))")
            for city in [a, b] {
                #expect(try city.store.contains(left.id) && city.store.contains(right.id) && city.store.contains(right3.id))
                let audit = try city.audit()
                #expect(audit.violations.contains { $0.code == "fork" }, "\(audit.findings)")
            }
            #expect(try a.localHeads().digest == b.localHeads().digest)
        }
    }

    /// A server whose answers to the walk-back lie: besides what was asked, thousands of
    /// entries nobody asked for (garbage, and a valid entry of another city). The client
    /// keeps only what it asked for, and the round still fetches the fork's evidence.
    @Test func theWalkBackTrustsOnlyWhatItAskedFor() async throws {
        try await withCities(["aa", "bb", "xx", "yy"]) { c in
            let (a, b, x, y) = (c[0], c[1], c[2], c[3])
            let first = try x.publish(practice("x1"))
            for city in [a, b] { _ = try city.receive([(first.body, first.signature)]) }
            let key = try signingKey(of: x)
            func entry(_ seq: Int64, prev: EntryID, _ title: String) throws -> Entry {
                try EntryDraft(origin: x.id, seq: seq, prev: prev, clock: VectorClock([x.id: seq]), time: seq, kind: .publish,
                               payload: PracticeAction.publish(practice(title)).payload).sign(with: key)
            }
            let left = try entry(2, prev: first.id, "left"), right = try entry(2, prev: first.id, "right")
            let right3 = try entry(3, prev: right.id, "right 3")
            _ = try a.receive([(left.body, left.signature)])
            _ = try b.receive([(right.body, right.signature), (right3.body, right3.signature)])
            let unasked = try y.publish(practice("nobody asked for this"))
            var junk = (0..<5_000).map { i in SignedEntry(body: Array("junk \(i)".utf8), signature: [UInt8](repeating: 0, count: 64)) }
            junk.append(SignedEntry(body: unasked.body, signature: unasked.signature))
            let liar = LyingTransport(base: MemoryTransport(responder: SyncResponder(city: b)), extra: junk)
            let r = await SyncRound(city: a, peer: b.id, transport: liar).run()
            #expect(r.succeeded, "\(String(describing: r.error))")
            #expect(try a.store.contains(right.id) && a.store.contains(right3.id))
            #expect(try !a.store.contains(unasked.id), "an entry nobody asked for was taken from the walk-back")
        }
    }

    /// Random adds and random pairwise rounds: once every pair has synced in turn, all
    /// hold the same log (a small version of the simulation of the reliability suite).
    @Test(arguments: [UInt64(1), 2, 3]) func randomRoundsConverge(seed: UInt64) async throws {
        try await withCities(["aa", "bb", "cc", "dd"]) { c in
            var rng = SplitMix64(seed: seed)
            for step in 0..<60 {
                let i = Int(rng.next() % 4)
                if rng.next() % 3 == 0 {
                    _ = try c[i].publish(practice("step \(step)"))
                } else {
                    let j = (i + 1 + Int(rng.next() % 3)) % 4
                    let r = await round(c[i], c[j])
                    #expect(r.succeeded)
                }
            }
            for _ in 0..<2 {
                for i in 0..<4 { for j in 0..<4 where i != j { _ = await round(c[i], c[j]) } }
            }
            let digests = try Set(c.map { try $0.localHeads().digest })
            #expect(digests.count == 1, "seed \(seed) did not converge")
            for city in c { #expect(try city.audit().errors.isEmpty) }
        }
    }

    /// `audit --peers`: a city that showed different chains to different cities is
    /// caught by comparing heads, whichever node is ahead.
    @Test func comparingHeadsRevealsAForkShownToDifferentCities() async throws {
        try await withCities(["aa", "bb", "xx"]) { c in
            let (a, b, x) = (c[0], c[1], c[2])
            let first = try x.publish(practice("x1"))
            for city in [a, b] { _ = try city.receive([(first.body, first.signature)]) }
            let key = try signingKey(of: x)
            func entry(_ seq: Int64, prev: EntryID, _ title: String) throws -> Entry {
                try EntryDraft(
                    origin: x.id, seq: seq, prev: prev, clock: VectorClock([x.id: seq]), time: 1, kind: .publish,
                    payload: PracticeAction.publish(practice(title)).payload
                ).sign(with: key)
            }
            let left = try entry(2, prev: first.id, "left"), right = try entry(2, prev: first.id, "right")
            _ = try a.receive([(left.body, left.signature)])
            // Honest lag is not divergence: B's chain is a prefix of A's.
            let lag = await b.compare(with: a.id, transport: MemoryTransport(responder: SyncResponder(city: a)))
            #expect(lag.error == nil && lag.divergences.isEmpty && lag.comparison?.weLack == 1, "\(lag)")
            _ = try b.receive([(right.body, right.signature)])
            let same = await a.compare(with: b.id, transport: MemoryTransport(responder: SyncResponder(city: b)))
            #expect(same.divergences.map(\.origin) == [x.id] && same.divergences[0].seq == 2, "\(same.divergences)")
            // B goes further on its branch: A is now behind, and still sees the divergence.
            let right3 = try entry(3, prev: right.id, "right 3")
            _ = try b.receive([(right3.body, right3.signature)])
            let behind = await a.compare(with: b.id, transport: MemoryTransport(responder: SyncResponder(city: b)))
            #expect(behind.divergences.map(\.origin) == [x.id], "\(behind.divergences)")
            let ahead = await b.compare(with: a.id, transport: MemoryTransport(responder: SyncResponder(city: a)))
            #expect(ahead.divergences.map(\.origin) == [x.id], "\(ahead.divergences)")
        }
    }
}
