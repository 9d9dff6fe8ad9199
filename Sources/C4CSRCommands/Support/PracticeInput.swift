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
    @Option(help: "Contact person or address (always sealed: erasable).") var contact: String?
    @Option(name: .customLong("personal"), help: ArgumentHelp(
        "Seal this field too, as it names people: summary, challenge, outcomes or area (repeatable).",
        discussion: "A sealed field's text is kept beside the signed log and can be erased everywhere (c4csr erase).",
        valueName: "field")) var personal: [String] = []

    /// The fields `--personal` names.
    func personalFields() throws -> Set<PersonalField> {
        Set(try personal.map { name in
            guard let f = PersonalField(rawValue: name) else {
                throw NodeError.invalidInput("--personal \(name): not a personal field (summary, challenge, outcomes, area, contact)")
            }
            return f
        })
    }

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
        return try Self.readFile(file)
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
        // The fields given as flags: their errors name the flag.
        let given: [(String, Bool)] = [
            ("title.local", title != nil), ("title.en", titleEn != nil), ("summary.local", summary != nil), ("summary.en", summaryEn != nil),
            ("challenge", challenge != nil), ("language", language != nil), ("themes", !themes.isEmpty), ("companies", !companies.isEmpty),
            ("partners", !partners.isEmpty), ("sdgs", !sdgs.isEmpty), ("area", area != nil), ("period.start", start != nil),
            ("period.end", end != nil), ("status", status != nil), ("outcomes", outcomes != nil), ("links", !links.isEmpty),
            ("contact", contact != nil),
        ]
        let flagged = Set(given.filter(\.1).map(\.0))
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
                if source == "flags" || flagged.contains(String(e.field.prefix { $0 != "[" })) {
                    // Name the flag the officer typed, not the JSON path.
                    return FieldError(Self.flag(for: e.field) ?? e.field, e.problem)
                }
                return FieldError("\(source): \(e.field)", e.problem)
            })
        }
    }

    /// Reads a JSON or TOML file ('-' for standard input): JSON when the name ends in
    /// .json or the text starts with '{', TOML otherwise.
    static func readFile(_ path: String, as displayName: String? = nil) throws -> FileFields {
        try parseFile(try readBytes(path), path: path, as: displayName)
    }

    /// The bytes of a practice file ('-': standard input), at most `limit`.
    static func readBytes(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        let data: [UInt8]
        do {
            data = path == "-" ? try FileAccess.readStandardInput(limit: limit, what: "a practice") : try FileAccess.read(path, limit: limit, what: "a practice")
        } catch {
            throw NodeError(error)
        }
        return data
    }

    /// One practice from a file's bytes (JSON or TOML).
    static func parseFile(_ bytes: [UInt8], path: String, as displayName: String? = nil) throws -> FileFields {
        let (value, lines, name) = try readDocument(bytes, path: path, as: displayName)
        guard case .object(let o) = value else { throw NodeError.invalidInput("\(name): must hold an object of practice fields") }
        return FileFields(fields: o, lines: lines, name: name)
    }

    private static func readDocument(_ bytes: [UInt8], path: String, as displayName: String?) throws -> (JSONValue, [String: Int], String) {
        let name = displayName ?? (path == "-" ? "standard input" : path)
        guard bytes.count <= 1 << 20 else { throw NodeError.invalidInput("\(name) is larger than 1 MiB") }
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

/// The practice file an officer fills in: `add --template` prints it, `add` on a terminal
/// (or `add --edit`) opens it in $VISUAL / $EDITOR, as `git commit` does.
enum PracticeTemplate {
    static func text(city: CityID, language: String) -> String {
        """
        # A new practice of \(city), to be signed and published to the network.
        # Fill in the fields, save and close the editor. Lines starting with # are
        # comments; leave the template as it is to publish nothing.
        # Texts: one line for titles; summary, challenge and outcomes may span lines
        # with TOML's triple quotes (\"\"\"…\"\"\").

        language = "\(language)"\(String(repeating: " ", count: max(1, 23 - language.count)))# BCP 47 tag of the local texts
        status = "running"                  # planned | running | completed | discontinued
        challenge = ""                      # the local challenge it answers (required)
        themes = []                         # lower-case, e.g. ["environment", "education"]
        sdgs = []                           # UN Sustainable Development Goals 1–17, e.g. [4, 13]
        companies = []                      # e.g. ["Lidl Bulgaria"]
        partners = []                       # NGOs, schools, public bodies
        # area = ""                         # neighbourhood or area
        # outcomes = ""                     # results so far
        links = []                          # http(s) links
        # contact = ""                      # a contact person or address

        [title]
        local = ""                          # in the local language (required)
        en = ""                             # in English (required)

        [summary]
        local = ""                          # required
        en = ""                             # required

        # [period]
        # start = "2024-09"                 # YYYY or YYYY-MM
        # end = "2026"

        """
    }

    /// A practice's current fields as a practice file (`revise --edit`): the whole
    /// practice, so that a line deleted is a field removed.
    static func text(of practice: Practice, id: EntryID, city: CityID, versions: [EntryID]) -> String {
        guard case .object(let o) = practice.json else { return "" }
        var out = """
            # Practice \(id.short) of \(city), version\(versions.count == 1 ? "" : "s") \(versions.map(\.short).joined(separator: ", ")).
            # Change the fields, save and close the editor: the file is the whole practice
            # (a line deleted is a field removed). Leave it as it is to write nothing.
            # If another officer revises it meanwhile, both versions are kept as a conflict
            # that `c4csr show` reports and a later revise resolves.

            """
        func value(_ v: JSONValue) -> String {
            switch v {
            case .string(let s) where s.contains("\n"): return TOMLWriter.multiline(s)
            case .string(let s): return TOMLWriter.string(s)
            case .int(let n): return String(n)
            case .array(let a): return "[" + a.map(value).joined(separator: ", ") + "]"
            default: return TOMLWriter.string("\(v)")
            }
        }
        let order = ["language", "status", "challenge", "themes", "sdgs", "companies", "partners", "area", "outcomes", "links", "contact"]
        for key in order { if let v = o[key] { out += "\(key) = \(value(v))\n" } }
        for table in ["title", "summary", "period"] {
            guard case .object(let t)? = o[table] else { continue }
            out += "\n[\(table)]\n"
            for key in ["local", "en", "start", "end"] { if let v = t[key] { out += "\(key) = \(value(v))\n" } }
        }
        return out
    }

    /// Opens `text` in the officer's editor and returns the file they saved, or `nil` if
    /// they left it as it was. The file stays on disk (mode 0600) until the caller
    /// removes it, so that nothing typed is lost when the practice is refused.
    static func edit(_ text: String) throws -> (path: String, changed: Bool) {
        let env = ProcessInfo.processInfo.environment
        let editor = [env["VISUAL"], env["EDITOR"]].compactMap { $0 }.first { !$0.isEmpty }
            ?? (FileManager.default.isExecutableFile(atPath: "/usr/bin/sensible-editor") ? "sensible-editor" : "vi")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-practice-\(UUID().uuidString.prefix(8)).toml").path
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw NodeError.io("cannot create \(path)")
        }
        // Through the shell, as git does: EDITOR may carry arguments ("code --wait").
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "\(editor) \"$1\"", "c4csr-editor", path]
        do { try p.run() } catch { throw NodeError.io("cannot start the editor \(editor): \(error.localizedDescription)") }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NodeError.io("the editor (\(editor)) exited with status \(p.terminationStatus); nothing was written; your text is in \(path)")
        }
        let saved = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return (path, saved != text)
    }
}

extension PracticeOptions {
    /// The flag an officer typed for a field path (`title.en` → `--title-en`).
    static func flag(for field: String) -> String? {
        let top = String(field.prefix { $0 != "[" })
        let flags = [
            "title.local": "--title", "title.en": "--title-en", "summary.local": "--summary", "summary.en": "--summary-en",
            "challenge": "--challenge", "language": "--language", "themes": "--theme", "companies": "--company",
            "partners": "--partner", "sdgs": "--sdg", "area": "--area", "period.start": "--start", "period.end": "--end",
            "status": "--status", "outcomes": "--outcomes", "links": "--link", "contact": "--contact",
        ]
        guard let flag = flags[top] else { return nil }
        // sdgs[1] → "--sdg #2": which of the repeated values.
        if let open = field.firstIndex(of: "["), let close = field.firstIndex(of: "]"),
           let i = Int(field[field.index(after: open)..<close]) {
            return "\(flag) #\(i + 1)"
        }
        return flag
    }
}

/// Prints an entry signed in a dry run: the bytes that would be signed, as JSON.
func reportDryRun(_ verb: String, _ entry: Entry, json: Bool) {
    if json {
        Console.json(.object([
            "dry_run": .bool(true), "entry": .string(entry.id.hex), "origin": .string(entry.origin.rawValue), "seq": .int(entry.seq),
            "kind": .string(entry.kind.rawValue), "body": .string(String(decoding: entry.body, as: UTF8.self)),
        ]))
        return
    }
    Console.out("dry run: would \(verb) entry \(entry.origin)#\(entry.seq) \(entry.id.short); nothing was written")
    Console.out("the signed bytes would be (\(entry.body.count) bytes, canonical JSON; time and seq are taken again when it is written):")
    Console.out(String(decoding: entry.body, as: UTF8.self))
}

/// Many practices in one file for a bulk `add --file`: JSON Lines (one practice object
/// per line) or CSV with a header row (the columns of `export --format csv`).
enum BulkFile {
    /// The practices of `path`, one `FileFields` per line or row; `nil` when the file
    /// holds a single practice (JSON or TOML, read as before).
    static func read(_ path: String, data: [UInt8]) throws -> [PracticeOptions.FileFields]? {
        let name = path == "-" ? "standard input" : path
        let text = String(decoding: data.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(data.dropFirst(3)) : data, as: UTF8.self)
        if path.hasSuffix(".csv") { return try csv(text, name: name) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let filled = lines.enumerated().filter { !$0.element.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        let looksLikeLines = filled.count >= 2 && filled.allSatisfy {
            let t = $0.element.trimmingCharacters(in: .whitespacesAndNewlines)
            return t.hasPrefix("{") && t.hasSuffix("}")
        }
        guard path.hasSuffix(".jsonl") || looksLikeLines else { return nil }
        return try filled.map { number, line in
            let value: JSONValue
            do { value = try JSONParser.parse(Array(line.utf8)) } catch {
                throw NodeError.invalidInput("\(name), line \(number + 1): not a JSON object (\(error))")
            }
            guard case .object(let o) = value else { throw NodeError.invalidInput("\(name), line \(number + 1): not a JSON object of practice fields") }
            return PracticeOptions.FileFields(fields: o, lines: [:], name: "\(name), line \(number + 1)")
        }
    }

    /// The CSV columns a practice is read from (others of `export --format csv`, such as
    /// `id` or `versions`, are ignored); lists are separated by `;` within a cell.
    static let columns: Set<String> = [
        "title_local", "title_en", "summary_local", "summary_en", "challenge", "outcomes", "themes", "sdgs", "companies",
        "partners", "area", "start", "end", "links", "contact", "status", "language",
    ]
    static let ignored: Set<String> = ["id", "city", "published", "revised", "versions", "adopted_by", "conflict", "officers"]

    static func csv(_ text: String, name: String) throws -> [PracticeOptions.FileFields] {
        let firstLine = text.prefix { $0 != "\n" }
        let delimiter: Character = firstLine.filter { $0 == ";" }.count > firstLine.filter { $0 == "," }.count ? ";"
            : firstLine.contains("\t") && !firstLine.contains(",") ? "\t" : ","
        let rows = parseCSV(text, delimiter: delimiter)
        guard let header = rows.first?.cells.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw NodeError.invalidInput("\(name): empty; expected a header row (title_local, title_en, summary_local, …)")
        }
        let unknown = header.filter { !columns.contains($0) && !ignored.contains($0) && !$0.isEmpty }
        guard unknown.isEmpty else {
            // A header that is not a list of names (a key file read as CSV) is not echoed.
            let named = unknown.map { $0.count <= 40 && $0.allSatisfy { $0.isLetter || $0 == "_" || $0 == " " } ? $0 : "(not a column name)" }
            throw NodeError.invalidInput("\(name): unknown column\(unknown.count == 1 ? "" : "s") \(named.joined(separator: ", ")) (known: \(columns.sorted().joined(separator: ", ")))")
        }
        return rows.dropFirst().filter { !$0.cells.allSatisfy(\.isEmpty) }.map { row in
            var f = [String: JSONValue]()
            func cell(_ column: String) -> String? {
                guard let i = header.firstIndex(of: column), i < row.cells.count else { return nil }
                let v = row.cells[i].trimmingCharacters(in: .whitespacesAndNewlines)
                // A cell export neutralised ('=…) reads back as written.
                return v.isEmpty ? nil : (v.hasPrefix("'") && "=+-@".contains(v.dropFirst().first ?? " ") ? String(v.dropFirst()) : v)
            }
            func list(_ column: String) -> [String]? { cell(column)?.split(separator: column == "links" ? " " : ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            if cell("title_local") != nil || cell("title_en") != nil { f["title"] = .object(["local": cell("title_local").map { .string($0) } ?? .null, "en": cell("title_en").map { .string($0) } ?? .null].compactMapValues { $0 == .null ? nil : $0 }) }
            if cell("summary_local") != nil || cell("summary_en") != nil { f["summary"] = .object(["local": cell("summary_local").map { .string($0) } ?? .null, "en": cell("summary_en").map { .string($0) } ?? .null].compactMapValues { $0 == .null ? nil : $0 }) }
            for key in ["challenge", "outcomes", "area", "contact", "status", "language"] { if let v = cell(key) { f[key] = .string(v) } }
            for key in ["themes", "companies", "partners", "links"] { if let v = list(key) { f[key] = .array(v.map { .string($0) }) } }
            if let v = list("sdgs") { f["sdgs"] = .array(v.map { Int64($0).map { .int($0) } ?? .string($0) }) }
            if cell("start") != nil || cell("end") != nil { f["period"] = .object(["start": cell("start").map { .string($0) } ?? .null, "end": cell("end").map { .string($0) } ?? .null].compactMapValues { $0 == .null ? nil : $0 }) }
            return PracticeOptions.FileFields(fields: f, lines: [:], name: "\(name), line \(row.line)")
        }
    }

    /// RFC 4180 rows with the line each starts on: quoted cells may hold the delimiter,
    /// doubled quotes and line breaks.
    static func parseCSV(_ text: String, delimiter: Character) -> [(line: Int, cells: [String])] {
        var rows = [(line: Int, cells: [String])]()
        var cells = [String](), cell = "", quoted = false, line = 1, start = 1
        // One character of look-ahead over the string itself: no array of Characters
        // (16 bytes each) for a file of up to 64 MiB.
        var chars = text.makeIterator()
        var next = chars.next()
        while let c = next {
            next = chars.next()
            if quoted {
                if c == "\"" {
                    if next == "\"" { cell.append("\""); next = chars.next() } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    cell.append(c)
                }
            } else if c == "\"" && cell.isEmpty {
                quoted = true
            } else if c == delimiter {
                cells.append(cell); cell = ""
            } else if c == "\n" || c == "\r\n" || c == "\r" {
                cells.append(cell); cell = ""
                rows.append((start, cells)); cells = []
                line += 1; start = line
            } else {
                cell.append(c)
            }
        }
        if !cell.isEmpty || !cells.isEmpty { cells.append(cell); rows.append((start, cells)) }
        return rows
    }
}
