/// A CSR practice as a city publishes it. The same JSON shape is used in entry
/// payloads (`fields`), in `--file` input and in `show --json`.
public struct Practice: Sendable, Hashable {
    /// BCP 47 language of the local texts ("bg", "it", "lv", "hu", "fr", …).
    public var language: String
    public var title: LocalizedText
    public var summary: LocalizedText
    /// The local challenge the practice answers.
    public var challenge: String
    /// CSR themes, lowercase words or phrases ("urban regeneration", "green skills").
    public var themes: [String]
    public var companies: [String]
    /// Other partners: NGOs, schools, public bodies.
    public var partners: [String]
    /// UN Sustainable Development Goals, 1–17.
    public var sdgs: [Int]
    /// Neighbourhood or area.
    public var area: String?
    /// Start and optional end, "YYYY" or "YYYY-MM".
    public var period: Period?
    public var status: PracticeStatus
    public var outcomes: String?
    /// http(s) URLs.
    public var links: [String]
    public var contact: String?
    /// The personal fields signed as seals (§14, `c4csr/2`): their properties above are
    /// empty unless `revealed` names them (`revealing`, with their checked content).
    public var sealed: [PersonalField: Seal] = [:]
    /// The sealed fields whose values are in place.
    public var revealed: Set<PersonalField> = []

    public init(
        language: String, title: LocalizedText, summary: LocalizedText, challenge: String,
        themes: [String] = [], companies: [String] = [], partners: [String] = [], sdgs: [Int] = [],
        area: String? = nil, period: Period? = nil, status: PracticeStatus = .running, outcomes: String? = nil,
        links: [String] = [], contact: String? = nil
    ) {
        self.language = language
        self.title = title
        self.summary = summary
        self.challenge = challenge
        self.themes = themes
        self.companies = companies
        self.partners = partners
        self.sdgs = sdgs
        self.area = area
        self.period = period
        self.status = status
        self.outcomes = outcomes
        self.links = links
        self.contact = contact
    }

    /// Text in the city's language and in English.
    public struct LocalizedText: Sendable, Hashable {
        public var local: String
        public var en: String
        public init(local: String, en: String) {
            self.local = local
            self.en = en
        }
    }

    public struct Period: Sendable, Hashable {
        public var start: String
        public var end: String?
        public init(start: String, end: String? = nil) {
            self.start = start
            self.end = end
        }
    }

    public static let maxTitle = 200
    public static let maxText = 8000
    public static let maxListItems = 50
    public static let maxItem = 200
}

public enum PracticeStatus: String, Sendable, Hashable, CaseIterable {
    case planned, running, completed, discontinued
}

/// A problem with input, naming the field ("title.en: must not be empty").
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    public let field: String
    public let problem: String
    public init(_ field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }
    public var description: String { field.isEmpty ? problem : "\(field): \(problem)" }
}

/// All problems found in one input, so a person can fix them in one go.
public struct ValidationErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public let errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension Practice {
    public static let fieldNames: Set<String> = [
        "language", "title", "summary", "challenge", "themes", "companies", "partners", "sdgs", "area",
        "period", "status", "outcomes", "links", "contact",
    ]

    /// Reads and validates a practice from JSON (the payload's `fields`, or an input file).
    /// - Parameter sealing: a personal field may be a seal `{"commit": …}` (§14: the
    ///   fields of a `c4csr/2` entry); its value is then not read.
    /// - Throws: `ValidationErrors` listing every field that is missing or wrong.
    public init(json: JSONValue, path: String = "", sealing: Bool = false) throws(ValidationErrors) {
        var r = FieldReader(json: json, path: path)
        // A seal stands for the value: the value is not read (an ill-formed seal is an error).
        var sealed = [PersonalField: Seal]()
        var withheld = Set<PersonalField>()
        if sealing {
            for f in PersonalField.allCases {
                guard let v = r.object[f.rawValue], case .object(let o) = v, o["commit"] != nil else { continue }
                withheld.insert(f)
                if let seal = Seal(json: v) { sealed[f] = seal } else {
                    r.fail(f.rawValue, "must be a seal: exactly {\"commit\": 64 lowercase hex digits}")
                }
            }
        }
        func open(_ f: PersonalField) -> Bool { !withheld.contains(f) }
        let language = r.string("language", required: true, max: 35) ?? ""
        if !language.isEmpty, !Practice.isLanguageTag(language) {
            r.fail("language", "must be a BCP 47 language tag such as \"bg\" or \"pt-PT\"")
        }
        let title = r.localized("title", max: Practice.maxTitle)
        let summary = open(.summary) ? r.localized("summary", max: Practice.maxText, multiline: true) : LocalizedText(local: "", en: "")
        let challenge = open(.challenge) ? r.string("challenge", required: true, max: Practice.maxText, multiline: true) ?? "" : ""
        var themes = [String]()
        for t in r.strings("themes").map({ $0.lowercased() }) where !themes.contains(t) { themes.append(t) }
        let companies = r.strings("companies")
        let partners = r.strings("partners")
        let sdgs = r.ints("sdgs", range: 1...17)
        let area = open(.area) ? r.string("area", required: false, max: Practice.maxItem) : nil
        let period = r.period("period")
        let statusText = r.string("status", required: true, max: 20) ?? PracticeStatus.running.rawValue
        let status = PracticeStatus(rawValue: statusText)
        if status == nil {
            r.fail("status", "must be one of \(PracticeStatus.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(statusText)\"")
        }
        let outcomes = open(.outcomes) ? r.string("outcomes", required: false, max: Practice.maxText, multiline: true) : nil
        let links = r.strings("links")
        for (i, link) in links.enumerated() where !Practice.isWebLink(link) {
            r.fail("links[\(i)]", "must be an http:// or https:// URL")
        }
        let contact = open(.contact) ? r.string("contact", required: false, max: Practice.maxItem) : nil
        r.rejectUnknown(allowed: Practice.fieldNames)
        if !r.errors.isEmpty { throw ValidationErrors(r.errors) }
        self.init(
            language: language, title: title, summary: summary, challenge: challenge, themes: themes,
            companies: companies, partners: partners, sdgs: sdgs, area: area, period: period, status: status!,
            outcomes: outcomes, links: links, contact: contact)
        self.sealed = sealed
    }

    /// The practice as JSON, with optional fields omitted when empty.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "language": .string(language),
            "title": .object(["local": .string(title.local), "en": .string(title.en)]),
            "summary": .object(["local": .string(summary.local), "en": .string(summary.en)]),
            "challenge": .string(challenge),
            "status": .string(status.rawValue),
        ]
        if !themes.isEmpty { o["themes"] = .array(themes.map { .string($0) }) }
        if !companies.isEmpty { o["companies"] = .array(companies.map { .string($0) }) }
        if !partners.isEmpty { o["partners"] = .array(partners.map { .string($0) }) }
        if !sdgs.isEmpty { o["sdgs"] = .array(sdgs.map { .int(Int64($0)) }) }
        if let area { o["area"] = .string(area) }
        if let period {
            var p: [String: JSONValue] = ["start": .string(period.start)]
            if let end = period.end { p["end"] = .string(end) }
            o["period"] = .object(p)
        }
        if let outcomes { o["outcomes"] = .string(outcomes) }
        if !links.isEmpty { o["links"] = .array(links.map { .string($0) }) }
        if let contact { o["contact"] = .string(contact) }
        // A sealed field is written as signed: its seal, unless its value was revealed.
        for (f, seal) in sealed where !revealed.contains(f) { o[f.rawValue] = seal.json }
        return .object(o)
    }

    static func isLanguageTag(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLowercase }) else {
            return false
        }
        return parts.dropFirst().allSatisfy { p in (1...8).contains(p.count) && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    static func isWebLink(_ s: String) -> Bool {
        (s.hasPrefix("https://") || s.hasPrefix("http://")) && s.count > 8 && !s.contains(where: { $0.isWhitespace })
    }

    /// "YYYY" → "YYYY-01"; "YYYY-MM" unchanged (for comparing periods).
    static func firstMonth(_ s: String) -> String { s.utf8.count == 4 ? s + "-01" : s }
    /// "YYYY" → "YYYY-12"; "YYYY-MM" unchanged.
    static func lastMonth(_ s: String) -> String { s.utf8.count == 4 ? s + "-12" : s }

    static func isPeriodDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        func digits(_ r: Range<Int>) -> Bool { r.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(u[$0]) } }
        if u.count == 4 { return digits(0..<4) }
        if u.count == 7, u[4] == UInt8(ascii: "-"), digits(0..<4), digits(5..<7) {
            let month = Int(s.suffix(2))!
            return (1...12).contains(month)
        }
        return false
    }
}

/// Collects field errors while reading a JSON object.
struct FieldReader {
    let object: [String: JSONValue]
    let path: String
    var errors: [FieldError] = []

    init(json: JSONValue, path: String) {
        self.path = path
        if case .object(let o) = json {
            object = o
        } else {
            object = [:]
            errors.append(FieldError(path, "must be an object, found \(json.typeName)"))
        }
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func fail(_ key: String, _ problem: String) { errors.append(FieldError(name(key), problem)) }

    mutating func string(_ key: String, required: Bool, max: Int, multiline: Bool = false) -> String? {
        guard let v = object[key], !v.isNull else {
            if required { fail(key, "is required") }
            return nil
        }
        guard let s = v.stringValue else { fail(key, "must be a string, found \(v.typeName)"); return nil }
        return checkText(s, key, required: required, max: max, multiline: multiline)
    }

    /// §6 text rules. Lengths are counted in Unicode scalar values (code points), which
    /// does not depend on the Unicode version, unlike grapheme clusters.
    mutating func checkText(_ raw: String, _ key: String, required: Bool, max: Int, multiline: Bool = false) -> String? {
        let s = raw.trimmingWhitespace()
        if s.isEmpty {
            if required { fail(key, "must not be empty") }
            return nil
        }
        let length = s.unicodeScalars.count
        if length > max { fail(key, "is \(length) characters long; the limit is \(max)"); return nil }
        if let bad = s.unicodeScalars.first(where: { !TextRules.isAllowed($0, multiline: multiline) }) {
            fail(key, "must not contain \(TextRules.describe(bad))")
            return nil
        }
        return s
    }

    mutating func localized(_ key: String, max: Int, multiline: Bool = false) -> Practice.LocalizedText {
        guard let v = object[key] else {
            fail(key, "is required (an object with \"local\" and \"en\")")
            return .init(local: "", en: "")
        }
        guard case .object = v else {
            fail(key, "must be an object with \"local\" and \"en\", found \(v.typeName)")
            return .init(local: "", en: "")
        }
        var inner = FieldReader(json: v, path: name(key))
        let local = inner.string("local", required: true, max: max, multiline: multiline) ?? ""
        let en = inner.string("en", required: true, max: max, multiline: multiline) ?? ""
        inner.rejectUnknown(allowed: ["local", "en"])
        errors += inner.errors
        return .init(local: local, en: en)
    }

    mutating func strings(_ key: String) -> [String] {
        guard let v = object[key], !v.isNull else { return [] }
        guard let items = v.arrayValue else { fail(key, "must be an array of strings, found \(v.typeName)"); return [] }
        if items.count > Practice.maxListItems { fail(key, "has \(items.count) items; the limit is \(Practice.maxListItems)") }
        var out = [String]()
        for (i, item) in items.prefix(Practice.maxListItems).enumerated() {
            guard let s = item.stringValue else { fail("\(key)[\(i)]", "must be a string, found \(item.typeName)"); continue }
            if let t = checkText(s, "\(key)[\(i)]", required: true, max: Practice.maxItem), !out.contains(t) { out.append(t) }
        }
        return out
    }

    mutating func ints(_ key: String, range: ClosedRange<Int>) -> [Int] {
        guard let v = object[key], !v.isNull else { return [] }
        guard let items = v.arrayValue else { fail(key, "must be an array of integers, found \(v.typeName)"); return [] }
        var out = [Int]()
        for (i, item) in items.prefix(Practice.maxListItems).enumerated() {
            guard let n = item.intValue, range.contains(Int(n)) else {
                fail("\(key)[\(i)]", "must be an integer from \(range.lowerBound) to \(range.upperBound)")
                continue
            }
            if !out.contains(Int(n)) { out.append(Int(n)) }
        }
        return out.sorted()
    }

    mutating func period(_ key: String) -> Practice.Period? {
        guard let v = object[key], !v.isNull else { return nil }
        var inner = FieldReader(json: v, path: name(key))
        let start = inner.string("start", required: true, max: 7)
        let end = inner.string("end", required: false, max: 7)
        inner.rejectUnknown(allowed: ["start", "end"])
        for (k, value) in [("start", start), ("end", end)] {
            if let value, !Practice.isPeriodDate(value) { inner.fail(k, "must be YYYY or YYYY-MM, found \"\(value)\"") }
        }
        // A year as start means its January, as end its December (§6): "2020-05" … "2020" is valid.
        if let start, let end, inner.errors.isEmpty, Practice.lastMonth(end) < Practice.firstMonth(start) {
            inner.fail("end", "is before start")
        }
        errors += inner.errors
        guard let start, inner.errors.isEmpty else { return nil }
        return .init(start: start, end: end)
    }

    /// An entry id (64 hex digits) at `key`, or `nil` with the error recorded.
    mutating func entryID(_ key: String) -> EntryID? {
        guard let s = object[key]?.stringValue, let id = EntryID(hex: s) else {
            fail(key, "must be an entry id (64 hex digits)")
            return nil
        }
        return id
    }

    mutating func rejectUnknown(allowed: Set<String>) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            fail(key, "is not a known field (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}

/// Which characters practice texts may hold (docs/PROTOCOL.md §6): no C0 or C1 control
/// characters, no DEL, no bidirectional embedding, override or isolate controls (they
/// reorder what a terminal or page shows), and in one-line fields no line breaks.
public enum TextRules {
    public static func isAllowed(_ c: Unicode.Scalar, multiline: Bool) -> Bool {
        switch c.value {
        case 0x0A, 0x09: return multiline
        case 0x00..<0x20, 0x7F...0x9F: return false
        case 0x202A...0x202E, 0x2066...0x2069: return false
        case 0x2028, 0x2029: return multiline
        default: return true
        }
    }

    /// `s` made safe to print on a terminal or write to a log: every character that
    /// `isAllowed` refuses (controls, C1, DEL, bidirectional controls; line breaks and
    /// tabs unless `multiline`) is replaced by a visible `\u{1B}`-style escape, so that
    /// text from a peer can neither forge a log line nor move the cursor.
    public static func inert(_ s: String, multiline: Bool = false) -> String {
        guard s.unicodeScalars.contains(where: { !isAllowed($0, multiline: multiline) }) else { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if isAllowed(c, multiline: multiline) {
                out.append(c)
            } else {
                out.append(contentsOf: "\\u{\(String(c.value, radix: 16, uppercase: true))}".unicodeScalars)
            }
        }
        return String(out)
    }

    /// "a control character (U+001B)", for an error message.
    public static func describe(_ c: Unicode.Scalar) -> String {
        let hex = String(c.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        switch c.value {
        case 0x0A, 0x09, 0x2028, 0x2029: return "a line break or tab (\(code)); this field is one line"
        case 0x202A...0x202E, 0x2066...0x2069: return "a bidirectional control character (\(code))"
        default: return "a control character (\(code))"
        }
    }
}

/// One CSV cell (RFC 4180).
public enum CSVCell {
    /// The cell as written: quoted when it holds the delimiter, a quote or a line break. A cell
    /// that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a
    /// tab or a carriage return) gets a leading `'`, which spreadsheets show as text: a
    /// peer's practice cannot run anything on a reader's machine.
    public static func escape(_ raw: String, delimiter: Character = ",") -> String {
        let s = raw.first.map { "=+-@\t\r".contains($0) } == true ? "'" + raw : raw
        guard s.contains(where: { $0 == delimiter || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\""
    }
}
