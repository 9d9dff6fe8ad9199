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
