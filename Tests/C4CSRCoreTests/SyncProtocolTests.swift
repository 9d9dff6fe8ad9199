import C4CSRCore
import Foundation
import Testing

@Suite struct EntryStreamTests {
    func sample(_ n: Int) -> [SignedEntry] {
        (0..<n).map { i in
            SignedEntry(body: Array("{\"n\":\(i),\"text\":\"Зелени дворове \(i)\"}".utf8), signature: [UInt8](repeating: UInt8(i & 0xFF), count: 64))
        }
    }

    @Test(arguments: [0, 1, 7]) func roundTrips(_ n: Int) throws {
        for more in [false, true] {
            let bytes = EntryStream.encode(sample(n), more: more)
            let (entries, flag) = try EntryStream.decode(bytes)
            #expect(entries == sample(n))
            #expect(flag == more)
        }
    }

    @Test func everyTruncationIsAnErrorNeverACrash() {
        let bytes = EntryStream.encode(sample(3), more: true)
        for cut in 0..<bytes.count {
            #expect(throws: SyncProtocolError.self) { try EntryStream.decode(Array(bytes[0..<cut])) }
        }
    }

    @Test func rejectsWhatIsNotAStream() throws {
        var bytes = EntryStream.encode(sample(2), more: false)
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(throws: SyncProtocolError.self) { try EntryStream.decode(wrongMagic) }
        var flags = bytes
        flags[4] = 0x80
        #expect(throws: SyncProtocolError.self) { try EntryStream.decode(flags) }
        var huge = bytes
        huge[9...12] = [0x7F, 0xFF, 0xFF, 0xFF][...]  // first body length: 2 GiB
        #expect(throws: SyncProtocolError.self) { try EntryStream.decode(huge) }
        var count = bytes
        count[5...8] = [0xFF, 0xFF, 0xFF, 0xFF][...]  // announces 4 billion entries
        #expect(throws: SyncProtocolError.self) { try EntryStream.decode(count) }
        bytes.append(0)
        do {
            _ = try EntryStream.decode(bytes)
            Issue.record("trailing bytes accepted")
        } catch {
            #expect(error.description.contains("after its last entry"))
        }
    }
}

@Suite struct SyncMessageTests {
    let sofia = CityID("sofia")!, milano = CityID("milano")!
    var id1: EntryID { EntryID.of(body: [1]) }
    var id2: EntryID { EntryID.of(body: [2]) }

    @Test func headsRoundTripAndVector() throws {
        let heads = PeerHeads(
            city: sofia, heads: [Head(origin: sofia, seq: 4, id: id1), Head(origin: milano, seq: 9, id: id2)],
            digest: String(repeating: "ab", count: 32), entries: 13, forks: 0)
        let back = try PeerHeads.decode(heads.encoded)
        #expect(back == heads)
        #expect(back.vector == VectorClock([sofia: 4, milano: 9]))
        #expect(heads.encoded.count < 400, "one head is about 100 bytes")
    }

    @Test(arguments: [
        (#"{"format":"c4csr-sync/2"}"#, "c4csr-sync/2"),
        (#"[1,2]"#, "JSON object"),
        (#"{"format":"c4csr-sync/1","city":"Sofia"}"#, "city"),
        (#"{"format":"c4csr-sync/1","city":"sofia","digest":"xyz"}"#, "digest"),
        (#"{"format":"c4csr-sync/1","city":"sofia","digest":"\#(String(repeating: "0", count: 64))","entries":1,"forks":0,"heads":[["sofia",0,"aa"]]}"#, "item 1"),
    ])
    func headsErrorsNameWhatIsWrong(_ text: String, _ expected: String) {
        do {
            _ = try PeerHeads.decode(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test func pullRequestsAreClampedAndStrict() throws {
        let r = PullRequest(have: VectorClock([sofia: 3]), limit: 10_000_000, maxBytes: 1)
        #expect(r.limit == PullRequest.maxLimit)
        #expect(r.maxBytes > Entry.maxBodyBytes)
        #expect(try PullRequest.decode(r.encoded) == r)
        #expect(throws: SyncProtocolError.self) { try PullRequest.decode(Array(#"{"have":{"sofia":-1}}"#.utf8)) }
        #expect(throws: SyncProtocolError.self) { try PullRequest.decode(Array(#"{"have":{"sofia":1},"limit":"all"}"#.utf8)) }
        #expect(try PullRequest.decode(Array(#"{"have":{}}"#.utf8)).limit == PullRequest.defaultLimit)
    }

    /// Heads, version vectors and fork lists are per chain (§15): a later generation's chain
    /// id is read back; anything else with `~` is still malformed.
    @Test func headsAndPullsNameLaterGenerationsChains() throws {
        let chain = try #require(CityID.chain("sofia~2"))
        let heads = PeerHeads(city: sofia, heads: [Head(origin: chain, seq: 4, id: id1), Head(origin: sofia, seq: 9, id: id2)],
                              digest: String(repeating: "0", count: 64), entries: 13, forks: 0)
        #expect(try PeerHeads.decode(heads.encoded) == heads)
        let pull = PullRequest(have: VectorClock([sofia: 9, chain: 4]))
        #expect(try PullRequest.decode(pull.encoded) == pull)
        let forks = ForkList(entries: [Head(origin: chain, seq: 1, id: id1), Head(origin: chain, seq: 1, id: id2)])
        #expect(try ForkList.decode(forks.encoded) == forks)
        for bad in ["sofia~1", "sofia~02", "sofia~1000", "~2", "sofia~"] {
            #expect(throws: SyncProtocolError.self, "\(bad)") { try PullRequest.decode(Array("{\"have\":{\"\(bad)\":1}}".utf8)) }
        }
    }

    @Test func pushResultAndForkListRoundTrip() throws {
        let heads = PeerHeads(city: sofia, heads: [], digest: String(repeating: "0", count: 64), entries: 0, forks: 0)
        let result = PushResult(
            inserted: 3, duplicates: 1, forks: 0,
            refused: [PushResult.Refusal(index: 2, code: "entry_bad_signature", message: "signature does not verify")], heads: heads)
        #expect(try PushResult.decode(result.encoded) == result)
        let forks = ForkList(entries: [Head(origin: sofia, seq: 2, id: id2), Head(origin: sofia, seq: 2, id: id1)])
        #expect(try ForkList.decode(forks.encoded) == forks)
        let ids = IDsRequest(ids: [id1, id2])
        #expect(try IDsRequest.decode(ids.encoded) == ids)
        let tooMany = "{\"ids\":[" + Array(repeating: "\"\(id1.hex)\"", count: SyncAPI.maxIDs + 1).joined(separator: ",") + "]}"
        #expect(throws: SyncProtocolError.self) { try IDsRequest.decode(Array(tooMany.utf8)) }
    }

    @Test func contentMessagesRoundTripAndAreBounded() throws {
        let (id1, id2) = (EntryID.of(body: Array("a".utf8)), EntryID.of(body: Array("b".utf8)))
        let request = ContentRequest(entries: [id1, id2])
        #expect(try ContentRequest.decode(request.encoded) == request)
        let tooMany = "{\"entries\":[" + Array(repeating: "\"\(id1.hex)\"", count: ProtocolLimits.maxContentItems + 1).joined(separator: ",") + "]}"
        #expect(throws: SyncProtocolError.self) { try ContentRequest.decode(Array(tooMany.utf8)) }
        #expect(throws: SyncProtocolError.self) { try ContentRequest.decode(Array("{\"entries\":[\"ab\"]}".utf8)) }

        let content = PersonalContent(entry: id1, field: .contact, salt: Array(repeating: 7, count: 32), value: .string("Ana, +359"))
        let list = ContentList(content: [content, content])
        #expect(try ContentList.decode(list.encoded, maxItems: 2) == list)
        #expect(throws: SyncProtocolError.self) { try ContentList.decode(list.encoded, maxItems: 1) }
        // A content not of §14's form (a short salt, an unknown field, a member more) is malformed.
        for bad in [
            #"{"content":[{"entry":"\#(id1.hex)","field":"contact","salt":"AAAA","value":"x"}]}"#,
            #"{"content":[{"entry":"\#(id1.hex)","field":"title","salt":"\#(Data(repeating: 1, count: 32).base64EncodedString())","value":"x"}]}"#,
            #"{"content":[{"entry":"\#(id1.hex)","extra":1,"field":"contact","salt":"\#(Data(repeating: 1, count: 32).base64EncodedString())","value":"x"}]}"#,
            #"{"content":{}}"#,
        ] {
            #expect(throws: SyncProtocolError.self, "\(bad)") { try ContentList.decode(Array(bad.utf8), maxItems: 10) }
        }

        let result = ContentPushResult(stored: 3, held: 1, refused: [.init(index: 4, code: "content_invalid", message: "no")])
        #expect(try ContentPushResult.decode(result.encoded) == result)
        for bad in [#"{"held":0,"refused":[],"stored":-1}"#, #"{"held":0,"refused":[],"stored":1001}"#,
                    #"{"held":0,"refused":[{"code":"x","index":-1,"message":"m"}],"stored":0}"#] {
            #expect(throws: SyncProtocolError.self, "\(bad)") { try ContentPushResult.decode(Array(bad.utf8)) }
        }
    }

    @Test func errorBodies() {
        let e = APIErrorBody(code: "payload_too_large", message: "too big")
        #expect(APIErrorBody.decode(e.encoded) == e)
        #expect(APIErrorBody.decode(Array("<html>502</html>".utf8)) == nil)
    }
}

@Suite struct HeadsComparisonTests {
    let a = CityID("aa")!, b = CityID("bb")!

    func heads(_ hs: [(CityID, Int64, UInt8)], digest: String = String(repeating: "1", count: 64)) -> PeerHeads {
        PeerHeads(city: a, heads: hs.map { Head(origin: $0.0, seq: $0.1, id: EntryID.of(body: [$0.2])) }, digest: digest, entries: 0, forks: 0)
    }

    @Test func countsWhatEachSideLacks() {
        let local = heads([(a, 5, 1), (b, 2, 2)], digest: String(repeating: "1", count: 64))
        let remote = heads([(a, 3, 3), (b, 7, 4)], digest: String(repeating: "2", count: 64))
        let c = HeadsComparison(local: local, remote: remote)
        #expect(c.weLack == 5 && c.theyLack == 2)
        #expect(!c.digestsAgree && !c.needsForkExchange)
        #expect(c.divergent.isEmpty)
    }

    @Test func sameSeqOtherIdIsDivergence() {
        let local = heads([(a, 5, 1)], digest: String(repeating: "1", count: 64))
        let remote = heads([(a, 5, 9)], digest: String(repeating: "2", count: 64))
        let c = HeadsComparison(local: local, remote: remote)
        #expect(c.divergent == [a])
        #expect(c.needsForkExchange)
    }

    @Test func equalDigestsAreInSync() {
        let h = heads([(a, 5, 1)])
        let c = HeadsComparison(local: h, remote: h)
        #expect(c.digestsAgree && c.weLack == 0 && c.theyLack == 0)
    }

    @Test func forkExchangeFetchesAndSends() {
        let x = Head(origin: a, seq: 2, id: EntryID.of(body: [1]))
        let y = Head(origin: a, seq: 2, id: EntryID.of(body: [2]))
        let z = Head(origin: a, seq: 2, id: EntryID.of(body: [3]))
        let plan = ForkExchange(local: [x, y], remote: [y, z]) { $0 == x.id || $0 == y.id }
        #expect(plan.fetch == [z.id])
        #expect(plan.send == [x.id])
    }
}

@Suite struct SyncSchedulerTests {
    let p = CityID("pp")!, q = CityID("qq")!
    var config: SyncScheduler.Configuration { .init(interval: 60_000, jitter: 0.2, backoffBase: 2_000, backoffCap: 60_000) }

    @Test func newPeersAreDueAtOnceAndNeverRunTwice() {
        var s = SyncScheduler(configuration: config, seed: 1)
        s.setPeers([p, q], now: 0)
        #expect(s.tick(now: 0) == [.startRound(p), .startRound(q)])
        #expect(s.tick(now: 10).isEmpty, "a round in flight is not started again")
        s.localChange(now: 20)
        #expect(s.tick(now: 30).isEmpty)
        s.roundFinished(p, success: true, now: 40)
        #expect(s.tick(now: 40) == [.startRound(p)], "a change during the round runs it again right after")
    }

    @Test(arguments: [UInt64(1), 2, 3, 99]) func successWaitsAnIntervalWithJitter(seed: UInt64) {
        var s = SyncScheduler(configuration: config, seed: seed)
        s.setPeers([p], now: 0)
        _ = s.tick(now: 0)
        s.roundFinished(p, success: true, now: 1_000)
        let due = s.due(of: p)!
        #expect((1_000 + 48_000)...(1_000 + 72_000) ~= due)
        #expect(s.tick(now: due - 1).isEmpty)
        #expect(s.tick(now: due) == [.startRound(p)])
    }

    @Test func failuresBackOffExponentiallyUpToTheCap() {
        let s = SyncScheduler(configuration: config, seed: 7)
        #expect((1...7).map { s.backoff(failures: $0) } == [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000])
        #expect(s.backoff(failures: 1_000) == 60_000, "no overflow")
    }

    @Test func aPeerBackingOffIsNotWokenByLocalChanges() {
        var s = SyncScheduler(configuration: config, seed: 3)
        s.setPeers([p, q], now: 0)
        _ = s.tick(now: 0)
        s.roundFinished(p, success: false, now: 100)
        s.roundFinished(q, success: true, now: 100)
        #expect(s.failures(of: p) == 1)
        s.localChange(now: 200)
        #expect(s.tick(now: 200) == [.startRound(q)])
        s.syncAll(now: 300)
        #expect(s.tick(now: 300) == [.startRound(p)], "an operator's sync-now wakes it")
        s.roundFinished(p, success: true, now: 400)
        #expect(s.failures(of: p) == 0)
    }

    @Test func aPeerThatCallsUsIsRetriedAtOnce() {
        var s = SyncScheduler(configuration: config, seed: 5)
        s.setPeers([p, q], now: 0)
        _ = s.tick(now: 0)
        s.roundFinished(p, success: false, now: 10)
        s.roundFinished(q, success: true, now: 10)
        s.roundFinished(p, success: false, now: 20)  // ignored: not in flight
        s.peerContacted(p, now: 30)
        s.peerContacted(q, now: 30)
        #expect(s.tick(now: 30) == [.startRound(p)], "only the peer that was backing off is woken")
    }

    @Test func sameSeedSameSchedule() {
        func run(_ seed: UInt64) -> [Int64] {
            var s = SyncScheduler(configuration: config, seed: seed)
            s.setPeers([p], now: 0)
            var dues = [Int64]()
            var t: Int64 = 0
            for i in 0..<20 {
                _ = s.tick(now: t)
                s.roundFinished(p, success: i % 3 != 0, now: t)
                t = s.due(of: p)!
                dues.append(t)
            }
            return dues
        }
        #expect(run(42) == run(42))
        #expect(run(42) != run(43))
    }

    @Test func removedPeersAreForgotten() {
        var s = SyncScheduler(configuration: config, seed: 1)
        s.setPeers([p, q], now: 0)
        _ = s.tick(now: 0)
        s.setPeers([q], now: 5)
        s.roundFinished(p, success: true, now: 10)
        #expect(s.peerIDs == [q])
        #expect(s.due(of: p) == nil)
    }
}
