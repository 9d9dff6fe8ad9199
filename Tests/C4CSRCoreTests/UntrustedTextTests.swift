import Crypto
import Foundation
import Testing
@testable import C4CSRCore

/// Text from other cities is inert, and §6 says exactly what is valid (issue: the hostile member).
@Suite struct UntrustedTextTests {
    func fields(title: String = "Green schoolyards", summary: String = "Firms adopt schoolyards.", extra: [String: JSONValue] = [:]) -> JSONValue {
        var o = samplePractice().json.objectValue!
        o["title"] = .object(["local": .string(title), "en": .string("Green")])
        o["summary"] = .object(["local": .string(summary), "en": .string("Firms")])
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    @Test(arguments: [
        ("\u{1B}[31mred", "U+001B"), ("C1 \u{9B}31m", "U+009B"), ("DEL \u{7F}", "U+007F"),
        ("override \u{202E}txt.exe", "U+202E"), ("isolate \u{2066}x", "U+2066"), ("two\nlines", "U+000A"),
        ("tab\tin title", "U+0009"), ("line \u{2028}sep", "U+2028"),
    ])
    func controlsAreRefusedInTitles(_ title: String, _ code: String) {
        #expect(throws: ValidationErrors.self) { try Practice(json: fields(title: title)) }
        do { _ = try Practice(json: fields(title: title)) } catch {
            #expect(error.description.contains("title.local"))
            #expect(error.description.contains(code), "\(error)")
        }
    }

    @Test func summariesMayHoldLineBreaksButNotControls() throws {
        _ = try Practice(json: fields(summary: "First paragraph.\n\n\tSecond."))
        #expect(throws: ValidationErrors.self) { try Practice(json: fields(summary: "bell \u{07}")) }
        #expect(throws: ValidationErrors.self) { try Practice(json: fields(summary: "C1 \u{85} next line")) }
    }

    /// Lengths count Unicode scalars: 200 scalars that make 100 grapheme clusters are
    /// at the limit, one more scalar is over it (grapheme counts change with Unicode versions).
    @Test func lengthsCountUnicodeScalars() throws {
        let combining = String(repeating: "e\u{301}", count: 100)
        #expect(combining.count == 100 && combining.unicodeScalars.count == 200)
        _ = try Practice(json: fields(title: combining))
        #expect(throws: ValidationErrors.self) { try Practice(json: fields(title: combining + "x")) }
        // 150 flags: 150 grapheme clusters, 300 scalars: over the limit.
        let flags = String(repeating: "🇧🇬", count: 150)
        #expect(throws: ValidationErrors.self) { try Practice(json: fields(title: flags)) }
    }

    @Test(arguments: [
        ("2020-05", "2020", true), ("2020", "2020-12", true), ("2021", "2020-12", false), ("2020-05", "2020-04", false),
        ("2020", "2020", true), ("2020-12", "2020", true),
    ])
    func periodsCompareAYearAsItsMonths(_ start: String, _ end: String, _ valid: Bool) {
        let json = fields(extra: ["period": .object(["start": .string(start), "end": .string(end)])])
        #expect((try? Practice(json: json)) != nil ? valid : !valid, "\(start) … \(end)")
    }

    /// A signed payload that is valid only once normalised is invalid as it stands.
    @Test(arguments: [
        ["title": JSONValue.object(["local": .string(" padded"), "en": .string("Green")])],
        ["themes": JSONValue.array([.string("Environment")])],
        ["themes": JSONValue.array([.string("environment"), .string("environment")])],
        ["sdgs": JSONValue.array([.int(13), .int(4)])],
        ["companies": JSONValue.array([])],
    ])
    func payloadsNotInNormalFormAreInvalid(_ change: [String: JSONValue]) throws {
        var o = samplePractice().json.objectValue!
        for (k, v) in change { o[k] = v }
        let draft = EntryDraft(
            origin: CityID("sofia")!, seq: 1, prev: nil, clock: VectorClock([CityID("sofia")!: 1]), time: 0, kind: .publish,
            payload: ["fields": .object(o)])
        let entry = try draft.sign(with: TestKeys.key("sofia"))
        #expect(throws: ValidationErrors.self) { try PracticeAction(entry: entry) }
        // What the CLI signs for the same input is in normal form and reads back.
        let normal = try Practice(json: .object(o))
        let signed = try EntryDraft(
            origin: CityID("sofia")!, seq: 1, prev: nil, clock: VectorClock([CityID("sofia")!: 1]), time: 0, kind: .publish,
            payload: PracticeAction.publish(normal).payload).sign(with: TestKeys.key("sofia"))
        _ = try PracticeAction(entry: signed)
    }

    @Test func inertEscapesWhatATerminalWouldRun() {
        #expect(TextRules.inert("a\u{1B}[2Jb") == "a\\u{1B}[2Jb")
        #expect(TextRules.inert("x\u{202E}y\u{9B}") == "x\\u{202E}y\\u{9B}")
        #expect(TextRules.inert("line\nbreak") == "line\\u{A}break")
        #expect(TextRules.inert("line\nbreak", multiline: true) == "line\nbreak")
        #expect(TextRules.inert("Зелени дворове") == "Зелени дворове")
        #expect(PrettyJSON.string(.string("a\u{9B}b\u{202E}")) == "\"a\\u009bb\\u202e\"")
    }
}

/// Which Ed25519 keys and signatures are acceptable (docs/PROTOCOL.md §3).
@Suite struct WeakKeyTests {
    static let smallOrder: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        Hex.decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")!,
        Hex.decode("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")!,
        Hex.decode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")!,
    ]

    @Test(arguments: smallOrder)
    func smallOrderKeysAreRefused(_ key: [UInt8]) {
        #expect(CityPublicKey(rawRepresentation: key) == nil)
        var signBit = key
        signBit[31] |= 0x80
        #expect(CityPublicKey(rawRepresentation: signBit) == nil)
    }

    /// Why: with the identity as key, the signature (R = identity, S = 0) verifies for any
    /// message in a verifier that does not refuse such keys.
    @Test func theIdentityKeyWouldAcceptAFixedSignature() throws {
        let identity = [1] + [UInt8](repeating: 0, count: 31)
        let sig = identity + [UInt8](repeating: 0, count: 32)
        if let raw = try? Curve25519.Signing.PublicKey(rawRepresentation: identity) {
            // Documented, not required: swift-crypto may or may not refuse it itself.
            _ = raw.isValidSignature(sig, for: Array("anything at all".utf8))
        }
        #expect(CityPublicKey(rawRepresentation: identity) == nil)
        let card = """
            format = "c4csr-card/1"
            city = "evil"
            name = "Evil"
            local_name = "Evil"
            country = "BG"
            language = "bg"
            public_key = "\(Data(identity).base64EncodedString())"
            """
        #expect(throws: ValidationErrors.self) { try PeerCard.parse(card) }
    }

    @Test func nonCanonicalEncodingsAreRefused() {
        for low: UInt8 in 0xed...0xff {
            let key = [low] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
            #expect(CityPublicKey(rawRepresentation: key) == nil, "\(low)")
        }
        #expect(CityPublicKey(rawRepresentation: Array(TestKeys.key("sofia").publicKey.rawRepresentation)) != nil)
    }

    /// S ≥ L (the same signature with L added to S) is refused: signatures are not malleable.
    @Test func nonCanonicalSignaturesAreRefused() {
        let key = TestKeys.key("sofia")
        let message = Array("a body".utf8)
        let sig = key.signature(for: message)
        #expect(key.publicKey.isValidSignature(sig, for: message))
        // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l = Hex.decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")!
        var s = Array(sig[32...])
        var carry = 0
        for i in 0..<32 {
            let v = Int(s[i]) + Int(l[i]) + carry
            s[i] = UInt8(v & 0xff)
            carry = v >> 8
        }
        #expect(carry == 0)
        #expect(!key.publicKey.isValidSignature(Array(sig[..<32]) + s, for: message))
    }
}

/// Cells a spreadsheet would run as formulas are neutralised in CSV exports.
@Suite struct CSVFormulaTests {
    @Test func formulaCellsGetAQuote() {
        #expect(CSVCell.escape("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSVCell.escape("+1") == "'+1")
        #expect(CSVCell.escape("-2+3") == "'-2+3")
        #expect(CSVCell.escape("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVCell.escape("Sofia, BG") == "\"Sofia, BG\"")
        #expect(CSVCell.escape("plain") == "plain")
    }
}
