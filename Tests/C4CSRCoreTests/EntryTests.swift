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
    @Test func membershipAndRecoveryAreRefusedUntilBuilt() throws {
        let e = try entry()
        guard case .object(let original) = try JSONParser.parse(e.body) else { Issue.record("body is not an object"); return }
        var bodies = [(String, [String: JSONValue])]()
        for kind in ["vouch", "member", "recover"] {
            var o = original
            o["format"] = .string("c4csr/2")
            o["kind"] = .string(kind)
            o["payload"] = .object(["network": .string(String(repeating: "0", count: 64))])
            bodies.append((kind, o))
        }
        var later = original
        later["format"] = .string("c4csr/2")
        later["origin"] = .string("sofia~2")
        later["clock"] = .object(["sofia~2": .int(1)])
        bodies.append(("origin sofia~2", later))
        var naming = original
        naming["format"] = .string("c4csr/2")
        naming["clock"] = .object(["sofia": .int(1), "milano~2": .int(1)])
        bodies.append(("clock naming milano~2", naming))
        for (what, o) in bodies {
            let body = CanonicalJSON.encode(.object(o))
            do {
                _ = try verifier.verify(body: body, signature: sofia.signature(for: body))
                Issue.record("\(what) accepted")
            } catch {
                #expect(error.codeName == "entry_malformed", "\(what): \(error)")
            }
        }
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
