import Foundation
import Testing
@testable import C4CSRCore

@Suite struct EntryTests {
    let sofia = TestKeys.key("sofia")
    let verifier = TestKeys.verifier(["sofia", "milano"])

    func entry(seq: Int64 = 1, prev: EntryID? = nil, clock: [String: Int64] = ["sofia": 1]) throws -> Entry {
        let c = VectorClock(Dictionary(uniqueKeysWithValues: clock.map { (CityID($0.key)!, $0.value) }))
        return try EntryDraft(
            origin: CityID("sofia")!, seq: seq, prev: prev, clock: c, time: 1_764_000_000_000, kind: .publish,
            payload: PracticeAction.publish(samplePractice()).payload
        ).sign(with: sofia)
    }

    @Test func signsVerifiesAndIdIsSHA256OfBody() throws {
        let e = try entry()
        #expect(e.id == EntryID.of(body: e.body))
        #expect(try verifier.verify(body: e.body, signature: e.signature) == e)
        #expect(e.origin.rawValue == "sofia" && e.seq == 1 && e.prev == nil)
    }

    /// Invariant 1: flipping any single byte of the body or the signature makes
    /// verification fail (decoding, canonical form or signature).
    @Test func flippingAnyByteFailsVerification() throws {
        let e = try entry()
        for i in 0..<e.body.count {
            for flip: UInt8 in [0x01, 0x80] {
                var body = e.body
                body[i] ^= flip
                #expect(throws: EntryError.self, "body byte \(i) ^ \(flip)") { try verifier.verify(body: body, signature: e.signature) }
            }
        }
        for i in 0..<e.signature.count {
            var sig = e.signature
            sig[i] ^= 0x01
            #expect(throws: EntryError.self, "signature byte \(i)") { try verifier.verify(body: e.body, signature: sig) }
        }
    }

    @Test func rejectsNonCanonicalBodyEvenWhenSigned() throws {
        let e = try entry()
        var text = String(decoding: e.body, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"format\":", with: " \"format\" : ")
        let body = Array(text.utf8)
        do {
            _ = try verifier.verify(body: body, signature: sofia.signature(for: body))
            Issue.record("non-canonical body accepted")
        } catch {
            #expect(error.codeName == "entry_not_canonical")
        }
    }

    @Test func rejectsWrongKeyAndUnknownCity() throws {
        let e = try entry()
        let forged = try Entry.decode(body: e.body, signature: TestKeys.key("milano").signature(for: e.body))
        #expect(throws: EntryError.badSignature(CityID("sofia")!)) { try verifier.verify(forged, inForce: .founding) }
        let stranger = EntryVerifier(keys: [:])
        #expect(throws: EntryError.unknownOrigin(CityID("sofia")!)) { try stranger.verify(e, inForce: .founding) }
    }

    @Test(arguments: [
        (["sofia": 2] as [String: Int64], Int64(1), "must equal seq"),
        (["sofia": 1, "milano": 0], 1, ""),  // zero components are dropped: valid
    ])
    func clockMustCountOwnSeq(_ clock: [String: Int64], _ seq: Int64, _ message: String) throws {
        if message.isEmpty {
            #expect(try entry(seq: seq, clock: clock).clock.components.count == 1)
        } else {
            #expect(throws: EntryError.self) { try entry(seq: seq, clock: clock) }
        }
    }

    @Test func envelopeRules() throws {
        // seq 2 without prev, seq 1 with prev.
        #expect(throws: EntryError.self) { try entry(seq: 2, prev: nil, clock: ["sofia": 2]) }
        let first = try entry()
        #expect(throws: EntryError.self) { try entry(seq: 1, prev: first.id) }
        // Unknown top-level fields, wrong format, oversized bodies.
        let extra = CanonicalJSON.encode(.object(["format": .string("c4csr/1"), "x": .int(1)]))
        #expect(throws: EntryError.self) { try Entry.decode(body: extra, signature: sofia.signature(for: extra)) }
        let huge = [UInt8](repeating: 0x20, count: Entry.maxBodyBytes + 1)
        #expect(throws: EntryError.tooLarge(huge.count)) { try Entry.decode(body: huge, signature: sofia.signature(for: huge)) }
    }

    /// Versioning (PROTOCOL.md): the format is read first, so a body of a newer format
    /// is refused as *unsupported* ("upgrade c4csr"), whatever members that format adds,
    /// and never reported as a malformed v1 body.
    @Test func aNewerFormatIsRefusedAsUnsupportedWhateverItsMembers() throws {
        let e = try entry()
        #expect(e.format == .v1)
        guard case .object(var o) = try JSONParser.parse(e.body) else { Issue.record("body is not an object"); return }
        o["format"] = .string("c4csr/3")
        o["author"] = .object(["officer": .string("ana")])
        for format: JSONValue in [.string("c4csr/3"), .int(2), .null] {
            o["format"] = format
            let body = CanonicalJSON.encode(.object(o))
            do {
                _ = try verifier.verify(body: body, signature: sofia.signature(for: body))
                Issue.record("format \(format) accepted")
            } catch {
                #expect(error.codeName == "entry_unsupported_format", "\(format): \(error)")
                #expect(error.message.contains("upgrade c4csr"), "\(error)")
            }
        }
        // Without a format member the body is malformed, and says so.
        o["format"] = nil
        let body = CanonicalJSON.encode(.object(o))
        #expect(throws: EntryError.malformed("body has no format member")) { try Entry.decode(body: body, signature: sofia.signature(for: body)) }
    }

    /// PROTOCOL.md §15 is specified, not built: until it is, the kinds it adds and chain
    /// ids of a later generation (`sofia~2`) are malformed in every format, so that no
    /// node accepts a recovery it cannot judge.
    /// §15's envelope: the three membership kinds and chain ids of later generations are
    /// read in `c4csr/2` only; seq 1 of a later generation is its recover and a recover
    /// is only that entry.
    @Test func membershipKindsAndLaterChainsAreReadInVersion2Only() throws {
        let network = String(repeating: "ab", count: 32)
        let newKey = TestKeys.key("sofia-new")
        let motion = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: newKey.publicKey, lastSeq: 0, lastID: nil)
        func body(_ format: String, origin: String, seq: Int64 = 1, prev: EntryID? = nil, clock: [String: Int64]? = nil,
                  kind: String, payload: [String: JSONValue]) -> [UInt8] {
            CanonicalJSON.encode(.object([
                "clock": .object((clock ?? [origin: seq]).mapValues { .int($0) }), "format": .string(format), "kind": .string(kind),
                "origin": .string(origin), "payload": .object(payload), "prev": prev.map { .string($0.hex) } ?? .null,
                "seq": .int(seq), "time": .int(1_764_000_000_000),
            ]))
        }
        let vouch = MembershipStatement.vouch(.recover(motion)).payload(network: network)
        let recover = MembershipStatement.recover(motion).payload(network: network)
        let join = MembershipStatement.join.payload(network: network)
        let practice = PracticeAction.publish(samplePractice()).payload
        let prev = EntryID.of(body: [])
        let readable: [(String, [UInt8])] = [
            ("a vouch", body("c4csr/2", origin: "milano", kind: "vouch", payload: vouch)),
            ("a join", body("c4csr/2", origin: "budaors", kind: "member", payload: join)),
            ("a recover at seq 1 of sofia~2", body("c4csr/2", origin: "sofia~2", clock: ["sofia~2": 1, "milano": 1], kind: "recover", payload: recover)),
            ("a publish at seq 2 of sofia~2", body("c4csr/2", origin: "sofia~2", seq: 2, prev: prev, kind: "publish", payload: practice)),
            ("a clock naming milano~3", body("c4csr/2", origin: "sofia", clock: ["sofia": 1, "milano~3": 4], kind: "publish", payload: practice)),
        ]
        for (what, b) in readable {
            let e = try Entry.decode(body: b, signature: newKey.signature(for: b))
            #expect(e.format == .v2, "\(what)")
        }
        let decoded = try Entry.decode(body: readable[2].1, signature: [UInt8](repeating: 0, count: 64))
        #expect(decoded.origin.city == CityID("sofia")! && decoded.origin.generation == 2)
        guard case .recover(let r)? = decoded.membership?.statement else { Issue.record("the recover's statement"); return }
        #expect(r == motion && decoded.membership?.network == network)
        #expect(ChainState.start(of: decoded).key == newKey.publicKey, "seq 1 of sofia~2 is signed by the key its recover names")

        let refused: [(String, [UInt8])] = [
            ("a vouch in c4csr/1", body("c4csr/1", origin: "milano", kind: "vouch", payload: vouch)),
            ("origin sofia~2 in c4csr/1", body("c4csr/1", origin: "sofia~2", seq: 2, prev: prev, kind: "publish", payload: practice)),
            ("a clock naming milano~2 in c4csr/1", body("c4csr/1", origin: "sofia", clock: ["sofia": 1, "milano~2": 1], kind: "publish", payload: practice)),
            ("a publish at seq 1 of sofia~2", body("c4csr/2", origin: "sofia~2", kind: "publish", payload: practice)),
            ("a recover at seq 2 of sofia~2", body("c4csr/2", origin: "sofia~2", seq: 2, prev: prev, kind: "recover", payload: recover)),
            ("a recover in sofia's first chain", body("c4csr/2", origin: "sofia", kind: "recover", payload: recover)),
            ("a recover at seq 1 of sofia~3 naming generation 2", body("c4csr/2", origin: "sofia~3", kind: "recover", payload: recover)),
            ("generation 1000", body("c4csr/2", origin: "sofia~1000", seq: 2, prev: prev, kind: "publish", payload: practice)),
            ("generation 01", body("c4csr/2", origin: "sofia~01", seq: 2, prev: prev, kind: "publish", payload: practice)),
            ("a vouch without its network", body("c4csr/2", origin: "milano", kind: "vouch", payload: ["motion": Motion.recover(motion).json])),
            ("a member with an unknown action", body("c4csr/2", origin: "milano", kind: "member", payload: ["action": .string("expel"), "network": .string(network)])),
        ]
        for (what, b) in refused {
            do {
                _ = try Entry.decode(body: b, signature: newKey.signature(for: b))
                Issue.record("\(what) accepted")
            } catch {
                #expect(error.codeName == "entry_malformed", "\(what): \(error)")
            }
        }
    }

    /// A membership entry waits on a node without the network's charter, or with another
    /// one (`entry_unknown_network`, §15), once its signature verified; with the charter's
    /// network id it verifies like any entry. A later generation's chain takes its city's card.
    @Test func membershipEntriesWaitForTheNetworkTheyName() throws {
        let network = String(repeating: "ab", count: 32)
        let milano = TestKeys.key("milano")
        let motion = Motion.admit(city: CityID("budaors")!, key: TestKeys.key("budaors").publicKey)
        let vouch = try EntryDraft(
            origin: CityID("milano")!, seq: 1, prev: nil, clock: VectorClock([CityID("milano")!: 1]), time: 1_764_000_000_000, kind: .vouch,
            payload: MembershipStatement.vouch(motion).payload(network: network)
        ).sign(with: milano)
        let keys = verifier.keys
        for ours in [nil, String(repeating: "cd", count: 32)] {
            #expect(throws: EntryError.unknownNetwork(network, ours: ours)) { try EntryVerifier(keys: keys, network: ours).verify(vouch, inForce: .founding) }
        }
        #expect(EntryError.unknownNetwork(network, ours: nil).isUnknownNetwork)
        #expect(try EntryVerifier(keys: keys, network: network).verify(vouch, inForce: .founding) == milano.publicKey)
        let forged = try Entry.decode(body: vouch.body, signature: sofia.signature(for: vouch.body))
        #expect(throws: EntryError.badSignature(CityID("milano")!)) { try EntryVerifier(keys: keys, network: nil).verify(forged, inForce: .founding) }
        // sofia~2's entries take sofia's card (or what its chain rotated or recovered to).
        #expect(try verifier.key(for: CityID.chain("sofia~2")!, rotated: nil) == sofia.publicKey)
        #expect(throws: EntryError.unknownOrigin(CityID("vratsa")!)) { try verifier.key(for: CityID.chain("vratsa~4")!, rotated: nil) }
    }

    /// The worked example of docs/PROTOCOL.md: a fixed seed and draft give these exact
    /// body bytes and id; the signature is checked by verification, never by comparison.
    @Test func knownAnswerVector() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/entry-vector", withExtension: "json"))
        let vector = try JSONParser.parse(Array(try Data(contentsOf: url)))
        let seed = try #require(Hex.decode(vector["seed"]!.stringValue!))
        let key = try #require(CitySigningKey(rawRepresentation: seed))
        #expect(key.publicKey.base64 == vector["public_key"]!.stringValue!)
        let draft = EntryDraft(
            origin: CityID("sofia")!, seq: 1, prev: nil, clock: VectorClock([CityID("sofia")!: 1]), time: 1_764_061_200_000,
            kind: .publish, payload: PracticeAction.publish(Practice(
                language: "bg", title: .init(local: "Зелени дворове", en: "Green schoolyards"),
                summary: .init(local: "Фирми озеленяват училищни дворове.", en: "Firms green schoolyards."),
                challenge: "Few green spaces", themes: ["environment"], sdgs: [13])).payload)
        let e = try draft.sign(with: key)
        #expect(String(decoding: e.body, as: UTF8.self) == vector["body"]!.stringValue!)
        #expect(e.id.hex == vector["id"]!.stringValue!)
        let publishedSig = try #require(Data(base64Encoded: vector["sig"]!.stringValue!))
        #expect(key.publicKey.isValidSignature(Array(publishedSig), for: e.body))
        #expect(key.publicKey.isValidSignature(e.signature, for: e.body))
    }
}
