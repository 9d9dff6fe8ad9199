import C4CSRCore
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// Personal content on the sync API (docs/PROTOCOL.md §10, §14): it travels after its
/// entries, in both directions, is checked against its seal, and erased content never
/// travels again.
@Suite struct ContentSyncTests {
    func sealedPractice(_ title: String, contact: String) -> Practice {
        var p = practice(title)
        p.contact = contact
        p.outcomes = "Outcomes naming \(contact)"
        return p
    }

    func contact(of entry: Entry, in city: City) throws -> String? {
        try city.store.contents(of: [entry.id]).first { $0.field == .contact }?.value.stringValue
    }

    /// Gives `to` the entries of `from` without their content (an export without content).
    func bare(from: City, into to: City) throws {
        var text = ""
        _ = try from.exportJSONL(content: false) { text += $0 }
        let report = try to.importJSONL(Array(text.utf8), name: "bare.jsonl")
        #expect(report.problems.isEmpty && report.inserted > 0)
    }

    @Test func contentTravelsWithItsEntriesBothWays() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let fromB = try b.publish(sealedPractice("Pulled", contact: "Bea Pull, +359 1"))
            let fromA = try a.publish(sealedPractice("Pushed", contact: "Ada Push, +359 2"), personal: [.outcomes])
            let r = await round(a, b)
            #expect(r.succeeded && r.inSync && r.contentError == nil, "\(String(describing: r.error)) \(String(describing: r.contentError))")
            #expect(r.contentReceived == 1 && r.contentSent == 2, "contact of B's; contact and outcomes of A's")
            #expect(try contact(of: fromB, in: a) == "Bea Pull, +359 1")
            #expect(try contact(of: fromA, in: b) == "Ada Push, +359 2")
            #expect(try b.store.contents(of: [fromA.id]).map(\.field) == [.contact, .outcomes])
            #expect(try a.store.lackingContent(after: 0, limit: 10).entries.isEmpty)
            #expect(try b.store.lackingContent(after: 0, limit: 10).entries.isEmpty)
            let again = await round(a, b)
            #expect(again.requests == 1 && again.contentReceived == 0 && again.contentSent == 0, "a no-op round stays one request")
        }
    }

    @Test func aContentRoundFetchesWhatEntriesArrivedWithout() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let e = try b.publish(sealedPractice("Imported bare", contact: "Cid Bare"))
            // A receives the entry without its content (an export without content lines).
            try bare(from: b, into: a)
            #expect(try a.store.lackingContent(after: 0, limit: 10).entries == [e.id])
            let plain = await round(a, b)
            #expect(plain.inSync && plain.contentReceived == 0 && plain.requests == 1, "digests agree: an ordinary round does not look")
            var r = SyncRound(city: a, peer: b.id, transport: MemoryTransport(responder: SyncResponder(city: b)))
            r.contentRound = true
            let report = await r.run()
            #expect(report.contentReceived == 1 && report.contentError == nil)
            #expect(try contact(of: e, in: a) == "Cid Bare")
            #expect(try a.store.lackingContent(after: 0, limit: 10).entries.isEmpty)
        }
    }

    /// An entry can reach a node before its content reaches the peer that relays it (the
    /// content travels in its own request): the node asks again in its next round, with
    /// any peer, rather than waiting for the hourly content round (the ten-city demo saw
    /// a contact missing for more than 45 s this way).
    @Test func contentThatArrivesAfterItsEntryIsAskedForByTheNextRound() async throws {
        try await withCities(["aa", "bb", "cc"]) { c in
            let (a, b, cc) = (c[0], c[1], c[2])
            let e = try cc.publish(sealedPractice("Relayed early", contact: "Eve Early"))
            try bare(from: cc, into: b)  // bb holds the entry, its content not yet
            let first = await round(a, b)
            #expect(first.received == 1 && first.contentReceived == 0 && first.contentError == nil)
            #expect(try contact(of: e, in: a) == nil && a.awaitedContent() == [e.id])
            // With cc the digests agree: the round still asks for what is awaited.
            let second = await round(a, cc)
            #expect(second.inSync && second.contentReceived == 1, "\(second)")
            #expect(try contact(of: e, in: a) == "Eve Early" && a.awaitedContent().isEmpty)
            // A pushed entry is awaited the same way by the node it was pushed to.
            let f = try cc.publish(sealedPractice("Pushed early", contact: "Fay Pushed"))
            try bare(from: cc, into: a)
            _ = await round(a, b)  // a pushes f to bb, without content (a lacks it)
            #expect(try contact(of: f, in: b) == nil && b.awaitedContent().contains(f.id))
            _ = await round(b, cc)
            #expect(try contact(of: f, in: b) == "Fay Pushed")
        }
    }

    @Test func erasedContentIsNeitherServedNorStored() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let e = try b.publish(sealedPractice("Erased", contact: "Dee Erased"))
            let held = try b.store.contents(of: [e.id])
            _ = await round(a, b)
            #expect(try contact(of: e, in: a) == "Dee Erased")
            _ = try b.erase(e.id.hex, fields: [.contact], reason: "Request DPO-1")
            _ = await round(a, b)
            #expect(try a.store.isErased(e.id, .contact) && contact(of: e, in: a) == nil)
            // Neither side serves it, and offering it again stores nothing.
            for city in [a, b] {
                let served = try SyncResponder(city: city).content(ContentRequest(entries: [e.id])).content
                #expect(!served.contains { $0.field == .contact })
                let result = try SyncResponder(city: city).pushContent(ContentList(content: held))
                #expect(result.refused.map(\.code) == ["content_erased"] && result.stored == 0)
                #expect(try contact(of: e, in: city) == nil)
                #expect(try city.store.lackingContent(after: 0, limit: 10).entries.isEmpty, "an erased field is not missing")
            }
        }
    }

    @Test func aPeerCannotSlipInContentThatIsNotSealedOrNotAskedFor() async throws {
        try await withCities(["aa", "bb", "cc"]) { c in
            let (a, b, other) = (c[0], c[1], c[2])
            let e = try b.publish(sealedPractice("Guarded", contact: "Eve True"))
            let unasked = try other.publish(sealedPractice("Elsewhere", contact: "Fay Else"))
            try bare(from: other, into: a)  // `a` holds the entry, not its content
            let truth = try b.store.contents(of: [e.id])
            let forged = truth.map { PersonalContent(entry: $0.entry, field: $0.field, salt: $0.salt, value: .string("Mallory")) }
            // A lying peer: its answer swaps in forged values and adds (true) content that
            // was not asked for.
            let liar = ContentLiar(
                base: MemoryTransport(responder: SyncResponder(city: b)), forged: forged, extra: try other.store.contents(of: [unasked.id]))
            let r = await SyncRound(city: a, peer: b.id, transport: liar).run()
            #expect(r.succeeded && r.received == 1 && r.contentReceived == 0)
            #expect(r.refusedFromPeer.contains { $0.hasPrefix("content_invalid") }, "\(r.refusedFromPeer)")
            #expect(try contact(of: e, in: a) == nil, "a forged value is not stored")
            #expect(try contact(of: unasked, in: a) == nil, "content not asked for is not stored")
        }
    }

    /// A peer that forges every content it serves makes the round count each refusal,
    /// and keep the first 20 as sentences: the report does not grow with the peer's lies.
    @Test func refusalsAreCountedAllAndKeptFirst() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            var truth = [PersonalContent]()
            for i in 0..<60 {
                let e = try b.publish(sealedPractice("Forged \(i)", contact: "Person \(i)"))
                truth += try b.store.contents(of: [e.id])
            }
            let forged = truth.map { PersonalContent(entry: $0.entry, field: $0.field, salt: $0.salt, value: .string("Mallory")) }
            let liar = ContentLiar(base: MemoryTransport(responder: SyncResponder(city: b)), forged: forged, extra: [])
            let r = await SyncRound(city: a, peer: b.id, transport: liar).run()
            #expect(r.succeeded && r.received == 60 && r.contentReceived == 0)
            #expect(r.refusedFromPeer.count == RoundReport.keptRefusals, "\(r.refusedFromPeer.count)")
            #expect(r.refusedFromPeerByCode == ["content_invalid": 60] && r.refusedFromPeerCount == 60)
            var status = PeerStatus(city: b.id, endpoint: "memory")
            status.apply(r, started: 0, finished: 1)
            #expect(status.refused == 60)
        }
    }

    /// Issue 13, item 3: the metrics name, per member city, the erasures it has not confirmed.
    @Test func theMetricsShowWhoHasNotConfirmedAnErasure() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let e = try a.publish(sealedPractice("Metered", contact: "Hal Meter"))
            _ = try a.erase(e.id.hex, fields: [.contact], reason: "Request DPO-3")
            func scrape() throws -> String {
                let m = DaemonMetrics()
                m.observe(erasures: try a.store.erasures().map(\.erasure), members: a.confirmingMembers)
                return m.text()
            }
            let before = try scrape()
            #expect(before.contains("\nc4csr_erasures 1"), "\(before)")
            #expect(before.contains("c4csr_erasures_unconfirmed{city=\"bb\"} 1") && before.contains("c4csr_erasures_unconfirmed{city=\"aa\"} 0"))
            _ = await round(b, a)  // b receives the erasure and writes its ack
            _ = await round(a, b)  // the ack reaches a
            let after = try scrape()
            #expect(after.contains("c4csr_erasures_unconfirmed{city=\"bb\"} 0"), "\(after)")
        }
    }

    /// An ack waits until the write-ahead log is folded in (§14). When a reader holds it
    /// as the erasure arrives, the ack is owed, and the next round writes and sends it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "needs the sqlite3 shell"))
    func anAckThatCouldNotBeWrittenIsWrittenAtTheNextRound() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let e = try a.publish(sealedPractice("Owed", contact: "Ivy Owed"))
            _ = await round(b, a)
            let erase = try a.erase(e.id.hex, fields: [.contact], reason: "Request DPO-4")
            // Another process reads b's store in an open transaction (a backup, say).
            let reader = Process()
            reader.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            reader.arguments = [b.directory.root.appendingPathComponent("store.sqlite").path]
            let input = Pipe()
            reader.standardInput = input
            reader.standardOutput = FileHandle.nullDevice
            try reader.run()
            defer { if reader.isRunning { reader.terminate() } }
            input.fileHandleForWriting.write(Data("BEGIN; SELECT count(*) FROM entry;\n".utf8))
            try await Task.sleep(for: .milliseconds(300))
            let r = await round(b, a)
            let erasedAtOnce = try b.store.isErased(e.id, .contact)
            #expect(r.succeeded && erasedAtOnce, "erased at once")
            func confirmed() throws -> [CityID] { try a.store.erasures().first { $0.erasure.entry == erase.id }?.erasure.confirmedBy ?? [] }
            #expect(try confirmed() == [a.id], "no ack while the reader holds the log")
            input.fileHandleForWriting.write(Data("COMMIT;\n.quit\n".utf8))
            try input.fileHandleForWriting.close()
            reader.waitUntilExit()
            _ = await round(b, a)
            #expect(try Set(confirmed()) == [a.id, b.id], "the owed ack is written and sent at the next round")
        }
    }

    @Test func aPeerWithoutTheContentRoutesDoesNotFailTheRound() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            _ = try b.publish(sealedPractice("Older peer", contact: "Gus Old"))
            let r = await SyncRound(city: a, peer: b.id, transport: NoContentTransport(base: MemoryTransport(responder: SyncResponder(city: b)))).run()
            #expect(r.succeeded && r.received == 1 && r.inSync)
            #expect(r.contentError?.contains("not_found") == true, "\(String(describing: r.contentError))")
        }
    }
}

/// Answers content requests with forged values, plus one content nobody asked for.
struct ContentLiar: PeerTransport {
    let base: MemoryTransport
    let forged: [PersonalContent]
    let extra: [PersonalContent]
    func heads() async throws -> PeerHeads { try await base.heads() }
    func pull(_ r: PullRequest) async throws -> (entries: [SignedEntry], more: Bool) { try await base.pull(r) }
    func push(_ entries: [SignedEntry]) async throws -> PushResult { try await base.push(entries) }
    func forks() async throws -> ForkList { try await base.forks() }
    func entries(_ r: IDsRequest) async throws -> [SignedEntry] { try await base.entries(r) }
    func content(_ r: ContentRequest) async throws -> [PersonalContent] { forged + extra }
    func pushContent(_ c: [PersonalContent]) async throws -> ContentPushResult { try await base.pushContent(c) }
}

/// A peer of an older version: `/v1/content` is not a route.
struct NoContentTransport: PeerTransport {
    struct NotFound: Error, CustomStringConvertible { var description: String { "HTTP 404 not_found: no such route: /v1/content" } }
    let base: MemoryTransport
    func heads() async throws -> PeerHeads { try await base.heads() }
    func pull(_ r: PullRequest) async throws -> (entries: [SignedEntry], more: Bool) { try await base.pull(r) }
    func push(_ entries: [SignedEntry]) async throws -> PushResult { try await base.push(entries) }
    func forks() async throws -> ForkList { try await base.forks() }
    func entries(_ r: IDsRequest) async throws -> [SignedEntry] { try await base.entries(r) }
    func content(_ r: ContentRequest) async throws -> [PersonalContent] { throw NotFound() }
    func pushContent(_ c: [PersonalContent]) async throws -> ContentPushResult { throw NotFound() }
}
