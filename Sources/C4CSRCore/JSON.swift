/// A JSON value restricted to what c4csr exchanges: no floating-point numbers,
/// integers within ±(2^53 − 1) so that every JSON implementation reads them exactly.
///
/// Objects are dictionaries: the parser rejects duplicate keys, and the canonical
/// writer emits keys sorted by their UTF-8 bytes, so key order never matters.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The largest magnitude an integer may have (2^53 − 1, "safe" in IEEE doubles).
    public static let maxSafeInteger: Int64 = 9_007_199_254_740_991

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// A short name of the value's type, for error messages ("expected a string, found an array").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Why a document is not acceptable JSON, with the 1-based line and column of the problem.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// Limits that keep a hostile document from exhausting the stack or memory.
public struct JSONLimits: Sendable {
    public var maxDepth: Int
    public var maxBytes: Int
    public init(maxDepth: Int = 32, maxBytes: Int = 16 << 20) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
    }
}

/// A strict RFC 8259 parser over bytes: valid UTF-8 only, no duplicate keys, no
/// unpaired surrogates, no floating point, integers within ±(2^53 − 1), bounded depth.
public struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private let limits: JSONLimits

    public static func parse(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, limits: limits)
        return try parser.parseDocument()
    }

    public static func parse(_ text: String, limits: JSONLimits = JSONLimits()) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    private init(bytes: [UInt8], limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.count > limits.maxBytes {
            throw JSONParseError(message: "document is larger than \(limits.maxBytes) bytes", line: 1, column: 1)
        }
        if String(validating: bytes, as: UTF8.self) == nil {
            throw error("document is not valid UTF-8", at: firstInvalidUTF8Offset())
        }
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index != bytes.count { throw error("unexpected data after the end of the value") }
        return value
    }

    private func firstInvalidUTF8Offset() -> Int {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput: return bytes.count
            case .error: return offset
            }
        }
    }

    private func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let end = min(offset ?? index, bytes.count)
        var line = 1
        var column = 1
        var i = 0
        while i < end {
            if bytes[i] == 0x0A { line += 1; column = 1 } else if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return JSONParseError(message: message, line: line, column: column)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of document") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < limits.maxDepth else { throw error("nesting deeper than \(limits.maxDepth) levels") }
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < limits.maxDepth else { throw error("nesting deeper than \(limits.maxDepth) levels") }
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .int(try parseInteger())
        default:
            throw error("unexpected character '\(String(decoding: [bytes[index]], as: UTF8.self))'")
        }
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONParseError) {
        let expected = Array(literal.utf8)
        guard index + expected.count <= bytes.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
            throw error("invalid literal")
        }
        index += expected.count
    }

    private mutating func parseInteger() throws(JSONParseError) -> Int64 {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
            throw error("invalid number")
        }
        if bytes[index] == UInt8(ascii: "0"), index + 1 < bytes.count,
           (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1]) {
            throw error("numbers must not have leading zeros")
        }
        var value: Int64 = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let digit = Int64(bytes[index] - UInt8(ascii: "0"))
            if value > (JSONValue.maxSafeInteger - digit) / 10 {
                throw error("number out of range (integers must lie within ±9007199254740991)", at: start)
            }
            value = value * 10 + digit
            index += 1
        }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
            throw error("only integers are allowed (no fractions or exponents)", at: start)
        }
        if negative && value == 0 { throw error("negative zero is not allowed", at: start) }
        return negative ? -value : value
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        var out = [UInt8]()
        var runStart = index
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw error("control character in string must be escaped") }
            if b != UInt8(ascii: "\\") { index += 1; continue }
            out.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard index < bytes.count else { throw error("unterminated escape") }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape sequence")
            }
            runStart = index
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("invalid \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = Hex.nibble(bytes[index]) else { throw error("invalid \\u escape") }
            v = v << 4 | UInt32(d)
            index += 1
        }
        return v
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var items = [JSONValue]()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error("expected ',' or ']' in array")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var members = [String: JSONValue]()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key in object") }
            let keyStart = index
            let key = try parseString()
            if members[key] != nil { throw error("duplicate key \"\(key)\"", at: keyStart) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after object key") }
            index += 1
            skipWhitespace()
            members[key] = try parseValue(depth: depth)
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw error("expected ',' or '}' in object")
        }
    }
}

/// The canonical form of a `JSONValue` (RFC 8785 restricted to integers):
/// no insignificant whitespace, object keys sorted by their UTF-8 bytes, strings
/// with the minimal escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
/// controls below U+0020 as `\u00xx` in lowercase hex), everything else literal UTF-8.
///
/// Python produces the same bytes with
/// `json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()`
/// for the ASCII keys c4csr uses.
public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(512)
        write(value, into: &out)
        return out
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (n, key) in keys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(Hex.digits[Int(b >> 4)])
                out.append(Hex.digits[Int(b & 0x0F)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The canonical form as a `String` (always valid UTF-8).
    public static func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Whether JSON text that `JSONParser` accepts is already in canonical form, that
    /// is `encode(JSONParser.parse(bytes)) == bytes`, decided in one pass over the
    /// bytes without building or re-encoding anything. The result is meaningful only
    /// for text the parser accepts (call it first); the tests check the equivalence
    /// over random values and mutations.
    public static func isCanonical(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var v = CanonicalValidator(b: buffer)
            return v.value() && v.i == buffer.count
        }
    }
}

/// The single-pass checker behind `CanonicalJSON.isCanonical`.
private struct CanonicalValidator {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private var byte: UInt8? { i < b.count ? b[i] : nil }

    mutating func value() -> Bool {
        guard let c = byte else { return false }
        switch c {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""):
            var scratch = [UInt8]()
            return string(key: &scratch, keep: false)
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    private mutating func number() -> Bool {
        let start = i
        if byte == UInt8(ascii: "-") { i += 1 }
        let digits = i
        while let c = byte, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { i += 1 }
        guard i > digits else { return false }
        if b[digits] == UInt8(ascii: "0") {
            // "0" alone; never "-0" (it encodes as "0") nor a leading zero.
            return i == digits + 1 && digits == start
        }
        return true
    }

    private mutating func array() -> Bool {
        i += 1
        if byte == UInt8(ascii: "]") { i += 1; return true }
        while true {
            guard value() else { return false }
            guard let c = byte else { return false }
            i += 1
            if c == UInt8(ascii: "]") { return true }
            guard c == UInt8(ascii: ",") else { return false }
        }
    }

    private mutating func object() -> Bool {
        i += 1
        if byte == UInt8(ascii: "}") { i += 1; return true }
        var previous = [UInt8]()
        var key = [UInt8]()
        var first = true
        while true {
            guard byte == UInt8(ascii: "\"") else { return false }
            key.removeAll(keepingCapacity: true)
            guard string(key: &key, keep: true) else { return false }
            // Members sorted by key, compared as UTF-8 bytes (the parser has refused duplicates).
            if !first && !previous.lexicographicallyPrecedes(key) { return false }
            first = false
            swap(&previous, &key)
            guard byte == UInt8(ascii: ":") else { return false }
            i += 1
            guard value() else { return false }
            guard let c = byte else { return false }
            i += 1
            if c == UInt8(ascii: "}") { return true }
            guard c == UInt8(ascii: ",") else { return false }
        }
    }

    /// A string with only the minimal escapes; with `keep`, its decoded bytes go to `key`.
    private mutating func string(key: inout [UInt8], keep: Bool) -> Bool {
        i += 1
        while let c = byte {
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                return true
            case UInt8(ascii: "\\"):
                guard let e = byte else { return false }
                i += 1
                let decoded: UInt8
                switch e {
                case UInt8(ascii: "\""): decoded = 0x22
                case UInt8(ascii: "\\"): decoded = 0x5C
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    // Only \u00xx, lowercase hex, for controls without a short escape.
                    guard i + 4 <= b.count, b[i] == UInt8(ascii: "0"), b[i + 1] == UInt8(ascii: "0"),
                          let hi = Self.lowerHex(b[i + 2]), let lo = Self.lowerHex(b[i + 3]) else { return false }
                    let v = hi << 4 | lo
                    guard v < 0x20, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(v) else { return false }
                    i += 4
                    decoded = v
                default:
                    return false  // "\/" and every other escape are not canonical
                }
                if keep { key.append(decoded) }
            default:
                if keep { key.append(c) }
            }
        }
        return false
    }

    private static func lowerHex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// Pretty JSON for people (two-space indent, sorted keys). Not used for signing.
public enum PrettyJSON {
    public static func string(_ value: JSONValue, indent: String = "") -> String {
        switch value {
        case .array(let items) where !items.isEmpty:
            let inner = indent + "  "
            return "[\n" + items.map { inner + string($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members) where !members.isEmpty:
            let inner = indent + "  "
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return "{\n" + keys.map { key in
                inner + terminalSafe(CanonicalJSON.string(.string(key))) + ": " + string(members[key]!, indent: inner)
            }.joined(separator: ",\n") + "\n" + indent + "}"
        case .string:
            return terminalSafe(CanonicalJSON.string(value))
        default:
            return CanonicalJSON.string(value)
        }
    }

    /// A JSON string literal with DEL, C1 and bidirectional controls written as `\uXXXX`
    /// (still the same JSON value), so that `--json` output printed on a terminal is inert.
    static func terminalSafe(_ literal: String) -> String {
        guard literal.unicodeScalars.contains(where: { !TextRules.isAllowed($0, multiline: true) }) else { return literal }
        var out = ""
        for c in literal.unicodeScalars {
            if TextRules.isAllowed(c, multiline: true) || c.value < 0x20 {
                out.unicodeScalars.append(c)  // C0 controls are already escaped by the canonical writer
            } else {
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out
    }
}
