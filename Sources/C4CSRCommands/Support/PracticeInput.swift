import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

/// Practice fields as flags, shared by `add` and `revise`. With `--file`, flags
/// override the file's fields.
struct PracticeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Read the practice from a JSON or TOML file; '-' reads standard input.",
        discussion: "The file has the fields below (see docs/CLI.md for an example). Flags override its fields.",
        valueName: "file"))
    var file: String?

    @Option(help: "Title in the city's language.") var title: String?
    @Option(help: "Title in English.") var titleEn: String?
    @Option(help: "Summary in the city's language.") var summary: String?
    @Option(help: "Summary in English.") var summaryEn: String?
    @Option(help: "The local challenge the practice answers.") var challenge: String?
    @Option(help: ArgumentHelp("BCP 47 language of the local texts (default: the city's).", valueName: "tag")) var language: String?
    @Option(name: .customLong("theme"), help: "A CSR theme, such as 'urban regeneration' (repeatable).") var themes: [String] = []
    @Option(name: .customLong("company"), help: "A company involved (repeatable).") var companies: [String] = []
    @Option(name: .customLong("partner"), help: "Another partner: NGO, school, public body (repeatable).") var partners: [String] = []
    @Option(name: .customLong("sdg"), help: ArgumentHelp("A UN Sustainable Development Goal, 1–17 (repeatable).", valueName: "n")) var sdgs: [Int] = []
    @Option(help: "Neighbourhood or area.") var area: String?
    @Option(help: ArgumentHelp("Start of the period, YYYY or YYYY-MM.", valueName: "date")) var start: String?
    @Option(help: ArgumentHelp("End of the period, YYYY or YYYY-MM.", valueName: "date")) var end: String?
    @Option(help: ArgumentHelp("planned, running, completed or discontinued (default: running).", valueName: "status")) var status: String?
    @Option(help: "Outcomes so far.") var outcomes: String?
    @Option(name: .customLong("link"), help: ArgumentHelp("An http(s) link (repeatable).", valueName: "url")) var links: [String] = []
    @Option(help: "Contact person or address.") var contact: String?

    var hasFieldFlags: Bool {
        title != nil || titleEn != nil || summary != nil || summaryEn != nil || challenge != nil || language != nil
            || !themes.isEmpty || !companies.isEmpty || !partners.isEmpty || !sdgs.isEmpty || area != nil || start != nil
            || end != nil || status != nil || outcomes != nil || !links.isEmpty || contact != nil
    }

    /// The `--file` fields, read once (before any write transaction: it may be standard input).
    struct FileFields: Sendable {
        let fields: [String: JSONValue]
        let lines: [String: Int]
        let name: String
    }

    /// Reads `--file`, if given.
    func loadFile() throws -> FileFields? {
        guard let file else { return nil }
        let (value, lines, name) = try Self.readFile(file)
        guard case .object(let o) = value else { throw NodeError.invalidInput("\(name): must hold an object of practice fields") }
        return FileFields(fields: o, lines: lines, name: name)
    }

    /// Builds the practice: `base` fields (for `revise`: the current version), then
    /// the file, then the flags. Reports every invalid field at once.
    func practice(base: JSONValue?, defaultLanguage: String) throws -> Practice {
        try practice(base: base, file: loadFile(), defaultLanguage: defaultLanguage)
    }

    /// As `practice(base:defaultLanguage:)`, with the file already read.
    func practice(base: JSONValue?, file loaded: FileFields?, defaultLanguage: String) throws -> Practice {
        var fields = base?.objectValue ?? [:]
        var lines: [String: Int] = [:]
        var source = "flags"
        if let loaded {
            for (k, v) in loaded.fields { fields[k] = v }
            lines = loaded.lines
            source = loaded.name
        }
        func set(_ key: String, _ v: String?) { if let v { fields[key] = .string(v) } }
        func setPair(_ key: String, local: String?, en: String?) {
            guard local != nil || en != nil else { return }
            var o = fields[key]?.objectValue ?? [:]
            if let local { o["local"] = .string(local) }
            if let en { o["en"] = .string(en) }
            fields[key] = .object(o)
        }
        setPair("title", local: title, en: titleEn)
        setPair("summary", local: summary, en: summaryEn)
        set("challenge", challenge)
        set("language", language)
        if !themes.isEmpty { fields["themes"] = .array(themes.map { .string($0) }) }
        if !companies.isEmpty { fields["companies"] = .array(companies.map { .string($0) }) }
        if !partners.isEmpty { fields["partners"] = .array(partners.map { .string($0) }) }
        if !sdgs.isEmpty { fields["sdgs"] = .array(sdgs.map { .int(Int64($0)) }) }
        set("area", area)
        if start != nil || end != nil {
            var o = fields["period"]?.objectValue ?? [:]
            if let start { o["start"] = .string(start) }
            if let end { o["end"] = .string(end) }
            fields["period"] = .object(o)
        }
        set("status", status)
        set("outcomes", outcomes)
        if !links.isEmpty { fields["links"] = .array(links.map { .string($0) }) }
        set("contact", contact)
        if fields["language"] == nil { fields["language"] = .string(defaultLanguage) }
        if fields["status"] == nil { fields["status"] = .string("running") }
        do {
            return try Practice(json: .object(fields))
        } catch {
            throw ValidationErrors(error.errors.map { e in
                let top = String(e.field.prefix { $0 != "[" })
                if let line = lines[top] ?? lines[String(top.prefix { $0 != "." })] {
                    return FieldError("\(source), line \(line): \(e.field)", e.problem)
                }
                return FieldError(source == "flags" ? e.field : "\(source): \(e.field)", e.problem)
            })
        }
    }

    /// Reads a JSON or TOML file ('-' for standard input): JSON when the name ends in
    /// .json or the text starts with '{', TOML otherwise.
    static func readFile(_ path: String) throws -> (JSONValue, [String: Int], String) {
        let name = path == "-" ? "standard input" : path
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: path) else { throw NodeError.notFound("cannot read \(path)") }
            data = d
        }
        guard data.count <= 1 << 20 else { throw NodeError.invalidInput("\(name) is larger than 1 MiB") }
        let bytes = Array(data)
        let firstChar = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        if path.hasSuffix(".json") || (!path.hasSuffix(".toml") && firstChar == UInt8(ascii: "{")) {
            do { return (try JSONParser.parse(bytes), [:], name) } catch {
                throw NodeError.invalidInput("\(name): not valid JSON: \(error)")
            }
        }
        do {
            let doc = try TOMLParser.parse(bytes)
            return (doc.value, doc.lines, name)
        } catch {
            throw NodeError.invalidInput("\(name): not valid TOML: \(error)")
        }
    }
}

/// Prints what a write did, or why nothing was written (exit 0: the log already says it).
func reportWrite(_ verb: String, _ w: LocalWrite, json: Bool) {
    guard let entry = w.entry else {
        if json {
            Console.json(.object(["practice": .string(w.practice.hex), "written": .bool(false), "reason": .string(w.note ?? "")]))
        } else {
            Console.out(w.note ?? "nothing was written")
        }
        return
    }
    reportWrite(verb, entry, practice: w.practice, json: json, note: w.note)
}

/// Prints what a write did.
func reportWrite(_ verb: String, _ entry: Entry, practice: EntryID, json: Bool, note: String? = nil) {
    if json {
        var o: [String: JSONValue] = [
            "practice": .string(practice.hex), "entry": .string(entry.id.hex), "origin": .string(entry.origin.rawValue),
            "seq": .int(entry.seq), "kind": .string(entry.kind.rawValue), "written": .bool(true),
        ]
        if let note { o["note"] = .string(note) }
        Console.json(.object(o))
    } else {
        Console.out("\(verb) practice \(practice.short) (entry \(entry.origin)#\(entry.seq) \(entry.id.short))" + (note.map { "; \($0)" } ?? ""))
    }
}

extension ValidationErrors {
    /// Runs a write and renames the payload paths of its validation errors to the flags
    /// the officer typed (`payload.reason` → `--reason`).
    static func naming<T>(flags: [String: String], _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ValidationErrors {
            throw ValidationErrors(e.errors.map { FieldError(flags[$0.field] ?? $0.field, $0.problem) })
        }
    }
}
