import Testing
@testable import C4CSRCore

@Suite struct JSONTests {
    @Test(arguments: [
        ("{\"a\":1,\"a\":2}", "duplicate key"),
        ("1.5", "only integers"),
        ("1e3", "only integers"),
        ("9007199254740992", "out of range"),
        ("-0", "negative zero"),
        ("01", "leading zeros"),
        ("\"\\ud800\"", "unpaired surrogate"),
        ("\"a\nb\"", "control character"),
        ("[1,]", "unexpected character"),
        ("{\"a\":1} x", "after the end"),
        ("\"\\x\"", "invalid escape"),
        ("tru", "invalid literal"),
    ])
    func rejects(_ text: String, _ expected: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
        do { _ = try JSONParser.parse(text) } catch { #expect(error.message.contains(expected), "\(error)") }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep, limits: JSONLimits(maxDepth: 32)) }
        #expect((try? JSONParser.parse(deep, limits: JSONLimits(maxDepth: 64))) != nil)
    }

    @Test func errorsCarryLineAndColumn() {
        do {
            _ = try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": x\n}")
            Issue.record("should fail")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 8)
        }
    }

    @Test func canonicalFormSortsKeysAndEscapesMinimally() throws {
        let v = try JSONParser.parse("{ \"b\": [1, -2, true, null], \"a\": \"é\\u00e9\\n\\u0001\\\"\\\\/\" }")
        #expect(CanonicalJSON.string(v) == "{\"a\":\"éé\\n\\u0001\\\"\\\\/\",\"b\":[1,-2,true,null]}")
        // Canonical form is a fixed point.
        #expect(CanonicalJSON.encode(try JSONParser.parse(CanonicalJSON.encode(v))) == CanonicalJSON.encode(v))
    }

    /// Vectors produced by Python's json.dumps(ensure_ascii=False, separators=(",",":"), sort_keys=True):
    /// the canonical form must be what an independent implementation writes.
    @Test func matchesPythonCanonicalVectors() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/canonical-json", withExtension: "txt"))
        let text = try String(contentsOf: url, encoding: .utf8)
        var n = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let value = try JSONParser.parse(String(line))
            #expect(CanonicalJSON.string(value) == String(line))
            n += 1
        }
        #expect(n >= 10)
    }
}

import Foundation

/// `CanonicalJSON.isCanonical` (one pass, no allocation per value) must agree with the
/// reference definition, `encode(parse(b)) == b`, on every text the parser accepts.
@Suite struct CanonicalValidatorTests {
    func reference(_ bytes: [UInt8]) -> Bool? {
        guard let v = try? JSONParser.parse(bytes) else { return nil }
        return CanonicalJSON.encode(v) == bytes
    }

    func randomString(_ rng: inout SeededRNG) -> String {
        let alphabet: [String] = ["a", "z", "é", "Ж", "ő", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", " ", "😀", "0", "A"]
        return (0..<Int(rng.next() % 6)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
    }

    func randomValue(_ rng: inout SeededRNG, depth: Int = 0) -> JSONValue {
        switch rng.next() % (depth > 3 ? 4 : 6) {
        case 0: return .null
        case 1: return .bool(rng.next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: rng.next()) % 10_000)
        case 3: return .string(randomString(&rng))
        case 4: return .array((0..<Int(rng.next() % 4)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var o = [String: JSONValue]()
            for _ in 0..<Int(rng.next() % 5) { o[randomString(&rng)] = randomValue(&rng, depth: depth + 1) }
            return .object(o)
        }
    }

    /// Small edits that keep the text parseable but often break canonical form.
    func mutate(_ bytes: [UInt8], _ rng: inout SeededRNG) -> [UInt8] {
        var b = bytes
        guard !b.isEmpty else { return b }
        let at = Int(rng.next() % UInt64(b.count))
        switch rng.next() % 8 {
        case 0: b.insert(0x20, at: at)
        case 1: b.insert(contentsOf: Array("\\/".utf8), at: at)
        case 2: b.insert(contentsOf: Array("-0".utf8), at: at)
        case 3: b.insert(contentsOf: Array("\\u0041".utf8), at: at)
        case 4: b.insert(contentsOf: Array("\\u001F".utf8), at: at)
        case 5: b.insert(contentsOf: Array("\\u000a".utf8), at: at)
        case 6: b.insert(contentsOf: Array(",\"\":0".utf8), at: at)
        default: b.remove(at: at)
        }
        return b
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func agreesWithParseThenEncode(seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        var parsedMutations = 0
        for _ in 0..<400 {
            let canonical = CanonicalJSON.encode(randomValue(&rng))
            #expect(CanonicalJSON.isCanonical(canonical), "\(String(decoding: canonical, as: UTF8.self))")
            for _ in 0..<5 {
                let m = mutate(canonical, &rng)
                guard let expected = reference(m) else { continue }
                parsedMutations += 1
                #expect(CanonicalJSON.isCanonical(m) == expected, "\(String(decoding: m, as: UTF8.self))")
            }
        }
        #expect(parsedMutations > 100, "the mutations must reach the parser")
    }

    @Test(arguments: [
        (#"{"a":1,"b":2}"#, true), (#"{"b":1,"a":2}"#, false), (#"{"a": 1}"#, false), (#"[1,-0]"#, false),
        (#"["\u001f"]"#, true), (#"["\u001F"]"#, false), (#"["\u000a"]"#, false), (#"["\n"]"#, true), (#"["\/"]"#, false),
        (#"{"\u0001":1,"a":2}"#, true), (#"{"é":1,"z":2}"#, false), (#"{"z":1,"é":2}"#, true),
    ])
    func handPicked(_ text: String, _ canonical: Bool) {
        // The parser refuses some of these outright ("-0"); those it accepts must agree.
        if let r = reference(Array(text.utf8)) { #expect(r == canonical) }
        #expect(CanonicalJSON.isCanonical(Array(text.utf8)) == canonical)
    }
}
