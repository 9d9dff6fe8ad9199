/// A parsed TOML document: its value as JSON (TOML tables become objects) and the
/// line on which each key was defined, so later checks can say "line 7: status: …".
public struct TOMLDocument: Sendable {
    public let value: JSONValue
    /// Dotted key path ("title.en", "links") → 1-based line.
    public let lines: [String: Int]

    public func line(of path: String) -> Int? { lines[path] }
}

/// Why a TOML document could not be read, with its 1-based line.
/// Where and why a document is not TOML. It names the line and never quotes the text it
/// could not read: a key file given by mistake (`peers add keys/entry-signing.key`) must
/// not be printed in the error.
public struct TOMLParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public var description: String { "line \(line): \(message)" }
}

/// A strict parser for the TOML that c4csr reads (peer cards, practice files,
/// configuration): comments; bare, quoted and dotted keys; basic, literal and
/// multi-line strings; integers; booleans; arrays; inline tables; `[table]` and
/// `[[array of tables]]` headers. Floats and dates are refused with a clear
/// message (nothing c4csr reads uses them). Duplicate keys are errors.
public struct TOMLParser {
    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var root = Table()
    private var lines: [String: Int] = [:]

    public static func parse(_ text: String) throws(TOMLParseError) -> TOMLDocument {
        var p = TOMLParser(bytes: Array(text.utf8))
        return try p.parseDocument()
    }

    public static func parse(_ bytes: [UInt8]) throws(TOMLParseError) -> TOMLDocument {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TOMLParseError(message: "document is not valid UTF-8", line: 1)
        }
        return try parse(text)
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    // MARK: Tree

    /// A table under construction. `defined` marks tables created by a header or a
    /// key/value, so that a second `[a]` is an error.
    private final class Table {
        var members: [String: Node] = [:]
        var order: [String] = []
        var explicitlyDefined = false
        var isInline = false
    }
    private enum Node {
        case value(JSONValue)
        case table(Table)
        case tableArray([Table])
    }

    private func fail(_ message: String) -> TOMLParseError { TOMLParseError(message: message, line: line) }

    private mutating func parseDocument() throws(TOMLParseError) -> TOMLDocument {
        var table = root
        var prefix: [String] = []
        while true {
            skipBlankAndComments()
            guard i < bytes.count else { break }
            if bytes[i] == UInt8(ascii: "[") {
                let isArray = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "[")
                i += isArray ? 2 : 1
                skipSpaces()
                let keys = try parseKey()
                skipSpaces()
                guard expect("]") else { throw fail("expected ']' to close the table header") }
                if isArray { guard expect("]") else { throw fail("expected ']]' to close the array-of-tables header") } }
                try endOfLine()
                (table, prefix) = try openHeader(keys, isArray: isArray)
            } else {
                let keyLine = line
                let keys = try parseKey()
                skipSpaces()
                guard expect("=") else { throw fail("expected '=' after the key") }
                skipSpaces()
                let value = try parseValue(depth: 0)
                try insert(value, at: keys, into: table, prefix: prefix, line: keyLine)
                try endOfLine()
            }
        }
        return TOMLDocument(value: Self.json(root), lines: lines)
    }

    private mutating func openHeader(_ keys: [String], isArray: Bool) throws(TOMLParseError) -> (Table, [String]) {
        var table = root
        var path: [String] = []
        for (n, key) in keys.enumerated() {
            path.append(key)
            let last = n == keys.count - 1
            switch table.members[key] {
            case nil:
                if last && isArray {
                    let t = Table()
                    t.explicitlyDefined = true
                    table.members[key] = .tableArray([t])
                    table.order.append(key)
                    lines[path.joined(separator: ".")] = line
                    return (t, path)
                }
                let t = Table()
                table.members[key] = .table(t)
                table.order.append(key)
                if last { lines[path.joined(separator: ".")] = line }
                table = t
            case .table(let t):
                if last && isArray { throw fail("\"\(path.joined(separator: "."))\" is a table, not an array of tables") }
                if t.isInline { throw fail("cannot extend inline table \"\(path.joined(separator: "."))\"") }
                table = t
            case .tableArray(var ts):
                if last && isArray {
                    let t = Table()
                    t.explicitlyDefined = true
                    ts.append(t)
                    table.members[key] = .tableArray(ts)
                    return (t, path)
                }
                table = ts[ts.count - 1]
            case .value:
                throw fail("key \"\(path.joined(separator: "."))\" is already a value, not a table")
            }
        }
        if table.explicitlyDefined { throw fail("table [\(path.joined(separator: "."))] is defined twice") }
        table.explicitlyDefined = true
        return (table, path)
    }

    private mutating func insert(_ value: JSONValue, at keys: [String], into start: Table, prefix: [String], line keyLine: Int) throws(TOMLParseError) {
        var table = start
        var path = prefix
        for key in keys.dropLast() {
            path.append(key)
            switch table.members[key] {
            case nil:
                let t = Table()
                table.members[key] = .table(t)
                table.order.append(key)
                table = t
            case .table(let t) where !t.isInline:
                table = t
            default:
                throw TOMLParseError(message: "key \"\(path.joined(separator: "."))\" is already defined", line: keyLine)
            }
        }
        let key = keys[keys.count - 1]
        path.append(key)
        if table.members[key] != nil {
            throw TOMLParseError(message: "key \"\(path.joined(separator: "."))\" is defined twice", line: keyLine)
        }
        if case .object(let o) = value {
            // An inline table: keep it as a sealed table so it cannot be extended later.
            let t = Self.table(from: o)
            t.isInline = true
            table.members[key] = .table(t)
        } else {
            table.members[key] = .value(value)
        }
        table.order.append(key)
        lines[path.joined(separator: ".")] = keyLine
    }

    private static func table(from o: [String: JSONValue]) -> Table {
        let t = Table()
        for (k, v) in o {
            t.members[k] = .value(v)
            t.order.append(k)
        }
        return t
    }

    private static func json(_ t: Table) -> JSONValue {
        var o = [String: JSONValue]()
        for (k, node) in t.members {
            switch node {
            case .value(let v): o[k] = v
            case .table(let sub): o[k] = json(sub)
            case .tableArray(let subs): o[k] = .array(subs.map(json))
            }
        }
        return .object(o)
    }

    // MARK: Lexing

    private mutating func expect(_ c: Character) -> Bool {
        guard i < bytes.count, bytes[i] == c.asciiValue! else { return false }
        i += 1
        return true
    }

    private mutating func skipSpaces() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func skipComment() {
        if i < bytes.count, bytes[i] == UInt8(ascii: "#") {
            while i < bytes.count, bytes[i] != 0x0A { i += 1 }
        }
    }

    private mutating func skipBlankAndComments() {
        while i < bytes.count {
            skipSpaces()
            skipComment()
            if i < bytes.count, bytes[i] == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
            if i < bytes.count, bytes[i] == 0x0A {
                i += 1
                line += 1
            } else {
                return
            }
        }
    }

    private mutating func endOfLine() throws(TOMLParseError) {
        skipSpaces()
        skipComment()
        if i < bytes.count, bytes[i] == 0x0D { i += 1 }
        guard i >= bytes.count || bytes[i] == 0x0A else { throw fail("unexpected text after the value; one key = value per line") }
    }

    private mutating func parseKey() throws(TOMLParseError) -> [String] {
        var parts = [String]()
        while true {
            skipSpaces()
            guard i < bytes.count else { throw fail("expected a key") }
            if bytes[i] == UInt8(ascii: "\"") {
                parts.append(try parseBasicString())
            } else if bytes[i] == UInt8(ascii: "'") {
                parts.append(try parseLiteralString())
            } else {
                let start = i
                while i < bytes.count, Self.isBareKeyByte(bytes[i]) { i += 1 }
                guard i > start else { throw fail("expected a key (letters, digits, '_' or '-', or a quoted key)") }
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
            }
            skipSpaces()
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") { i += 1; continue }
            return parts
        }
    }

    private static func isBareKeyByte(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    private mutating func parseValue(depth: Int) throws(TOMLParseError) -> JSONValue {
        guard depth < 32 else { throw fail("nesting deeper than 32 levels") }
        guard i < bytes.count else { throw fail("expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            if startsWith("\"\"\"") { return .string(try parseMultilineBasic()) }
            return .string(try parseBasicString())
        case UInt8(ascii: "'"):
            if startsWith("'''") { return .string(try parseMultilineLiteral()) }
            return .string(try parseLiteralString())
        case UInt8(ascii: "["):
            return try parseArray(depth: depth)
        case UInt8(ascii: "{"):
            return try parseInlineTable(depth: depth)
        case UInt8(ascii: "t"):
            if startsWith("true") { i += 4; return .bool(true) }
        case UInt8(ascii: "f"):
            if startsWith("false") { i += 5; return .bool(false) }
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            break
        }
        throw fail("expected a value (a \"string\", an integer, true/false, [array] or {table})")
    }

    private func startsWith(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return i + u.count <= bytes.count && bytes[i..<i + u.count].elementsEqual(u)
    }

    private mutating func parseNumber() throws(TOMLParseError) -> JSONValue {
        let start = i
        while i < bytes.count, !([0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "#")].contains(bytes[i])) {
            i += 1
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if text.contains(":") || (text.filter { $0 == "-" }.count >= 2 && !text.hasPrefix("-")) {
            throw fail("dates and times are not supported here; write the value as a quoted string")
        }
        if text.contains(".") || text.lowercased().contains("e") && !text.hasPrefix("0x") || text.contains("inf") || text.contains("nan") {
            throw fail("only integers are supported (no fraction or exponent)")
        }
        var digits = String(text.filter { $0 != "_" })
        var negative = false
        if digits.hasPrefix("+") { digits.removeFirst() } else if digits.hasPrefix("-") { negative = true; digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), !(digits.count > 1 && digits.hasPrefix("0")),
              !text.hasPrefix("_"), !text.hasSuffix("_"), !text.contains("__"),
              let magnitude = Int64(digits), magnitude <= JSONValue.maxSafeInteger
        else {
            throw fail("invalid integer (decimal, within ±9007199254740991)")
        }
        return .int(negative ? -magnitude : magnitude)
    }

    private mutating func parseBasicString() throws(TOMLParseError) -> String {
        i += 1
        var out = [UInt8]()
        while true {
            guard i < bytes.count, bytes[i] != 0x0A else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if b == UInt8(ascii: "\\") {
                try parseEscape(into: &out)
                continue
            }
            if b < 0x20 && b != 0x09 || b == 0x7F { throw fail("control character in string") }
            out.append(b)
            i += 1
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(TOMLParseError) {
        i += 1
        guard i < bytes.count else { throw fail("unterminated escape") }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = e == UInt8(ascii: "u") ? 4 : 8
            guard i + n <= bytes.count else { throw fail("invalid unicode escape") }
            var v: UInt32 = 0
            for k in 0..<n {
                guard let d = Hex.nibble(bytes[i + k]) else { throw fail("invalid unicode escape") }
                v = v << 4 | UInt32(d)
            }
            i += n
            guard let scalar = Unicode.Scalar(v) else { throw fail("invalid unicode scalar in escape") }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw fail("invalid escape sequence '\\\(String(decoding: [e], as: UTF8.self))'")
        }
    }

    private mutating func parseLiteralString() throws(TOMLParseError) -> String {
        i += 1
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "'") {
            if bytes[i] == 0x0A { throw fail("unterminated string") }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string") }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        i += 1
        return s
    }

    private mutating func parseMultilineBasic() throws(TOMLParseError) -> String {
        i += 3
        if i < bytes.count, bytes[i] == 0x0A { i += 1; line += 1 }
        var out = [UInt8]()
        while true {
            guard i < bytes.count else { throw fail("unterminated multi-line string") }
            if startsWith("\"\"\"") {
                i += 3
                // Up to two quotes may end the content right before the delimiter.
                var extra = 0
                while i < bytes.count, bytes[i] == UInt8(ascii: "\""), extra < 2 { out.append(0x22); i += 1; extra += 1 }
                return String(decoding: out, as: UTF8.self)
            }
            let b = bytes[i]
            if b == UInt8(ascii: "\\") {
                // Line-ending backslash: trim the newline and following whitespace.
                var j = i + 1
                while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x0D { j += 1 }
                if j < bytes.count, bytes[j] == 0x0A {
                    i = j
                    while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) {
                        if bytes[i] == 0x0A { line += 1 }
                        i += 1
                    }
                    continue
                }
                try parseEscape(into: &out)
                continue
            }
            if b == 0x0A { line += 1 }
            out.append(b)
            i += 1
        }
    }

    private mutating func parseMultilineLiteral() throws(TOMLParseError) -> String {
        i += 3
        if i < bytes.count, bytes[i] == 0x0A { i += 1; line += 1 }
        let start = i
        while i < bytes.count, !startsWith("'''") {
            if bytes[i] == 0x0A { line += 1 }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated multi-line string") }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        i += 3
        return s
    }

    private mutating func skipArrayWhitespace() {
        while i < bytes.count {
            skipSpaces()
            skipComment()
            if i < bytes.count, bytes[i] == 0x0D { i += 1; continue }
            if i < bytes.count, bytes[i] == 0x0A { i += 1; line += 1; continue }
            return
        }
    }

    private mutating func parseArray(depth: Int) throws(TOMLParseError) -> JSONValue {
        i += 1
        var items = [JSONValue]()
        while true {
            skipArrayWhitespace()
            guard i < bytes.count else { throw fail("unterminated array") }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            items.append(try parseValue(depth: depth + 1))
            skipArrayWhitespace()
            guard i < bytes.count else { throw fail("unterminated array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']' in array")
        }
    }

    private mutating func parseInlineTable(depth: Int) throws(TOMLParseError) -> JSONValue {
        i += 1
        var o = [String: JSONValue]()
        skipSpaces()
        if expect("}") { return .object(o) }
        while true {
            skipSpaces()
            let keys = try parseKey()
            guard keys.count == 1 else { throw fail("dotted keys are not supported inside inline tables") }
            skipSpaces()
            guard expect("=") else { throw fail("expected '=' in inline table") }
            skipSpaces()
            let v = try parseValue(depth: depth + 1)
            if o[keys[0]] != nil { throw fail("key \"\(keys[0])\" is defined twice in inline table") }
            o[keys[0]] = v
            skipSpaces()
            if expect(",") { continue }
            if expect("}") { return .object(o) }
            throw fail("expected ',' or '}' in inline table")
        }
    }
}

/// Writes TOML for the simple documents c4csr produces (peer cards): top-level
/// keys with string, integer, boolean and string-array values.
public enum TOMLWriter {
    /// A basic string on one line: quotes, backslashes and control characters escaped.
    public static func string(_ s: String) -> String { "\"" + escaped(s, keepingLineBreaks: false) + "\"" }

    /// A multi-line basic string (`"""…"""`): the text as it reads, line breaks and tabs
    /// kept, only backslashes, quotes and other control characters escaped.
    public static func multiline(_ s: String) -> String { "\"\"\"\n" + escaped(s, keepingLineBreaks: true) + "\"\"\"" }

    private static func escaped(_ s: String, keepingLineBreaks: Bool) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n" where keepingLineBreaks, "\t" where keepingLineBreaks: out.unicodeScalars.append(scalar)
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
