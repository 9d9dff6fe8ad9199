import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Publish a new practice in the local log.",
        discussion: """
            Signs a publish entry with the city's key and appends it to the log. Works
            whether the daemon runs or not. The printed practice id is what `show`,
            `revise` and the other cities' `adopt` use (6 or more leading hex digits
            suffice).

            On a terminal with no fields given (or with --edit), opens $VISUAL or $EDITOR
            on a commented practice template, as `git commit` does; leave it unchanged to
            publish nothing. If the practice is refused, the file is kept and named, so
            nothing typed is lost. --template prints the template; --dry-run shows the
            bytes that would be signed and writes nothing.

            --file may hold many practices: JSON Lines (one practice object per line) or
            CSV with a header row (the columns of `export --format csv`: title_local,
            title_en, summary_local, summary_en, challenge, themes as "a; b", …). Every
            practice is checked first; one bad row writes nothing, and each problem
            names its line. Flags apply to every practice.

            Examples:
              c4csr add
              c4csr add --title 'Зелени училища' --title-en 'Green schools' \\
                --summary 'Фирми осиновяват училищни дворове.' \\
                --summary-en 'Firms adopt schoolyards.' \\
                --challenge 'Few green spaces' --theme environment --sdg 4 --sdg 13
              c4csr add --template > practice.toml; c4csr add --file practice.toml
                c4csr add --file practice.toml --dry-run
              c4csr add --file practices.csv      # many: CSV or JSON Lines
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var fields: PracticeOptions
    @Flag(help: "Write the practice in $VISUAL or $EDITOR, from a commented template.")
    var edit = false
    @Flag(help: "Print the commented practice template (TOML) and exit.")
    var template = false
    @Flag(help: "Show the entry that would be signed; write nothing.")
    var dryRun = false
    @OptionGroup var asOfficer: OfficerOptions
    @OptionGroup var output: OutputOptions

    /// No fields and a person at a terminal: the editor, as `git commit`.
    var useEditor: Bool { edit || (fields.file == nil && !fields.hasFieldFlags && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1) }

    func validate() throws {
        if !template, !useEditor, fields.file == nil, !fields.hasFieldFlags {
            throw ValidationError("give the practice as flags (--title, --title-en, …), with --file FILE ('-' for standard input), or with --edit")
        }
        if edit, fields.file != nil { throw ValidationError("--edit and --file both give the practice: choose one") }
    }

    func run() async throws {
        try Console.run {
            if let client = try asOfficer.client() {
                try addAsOfficer(client)
                return
            }
            let city = try global.openCity(signing: true)
            if template {
                Console.data(PracticeTemplate.text(city: city.id, language: city.card.language))
                return
            }
            var kept: String?
            var file: PracticeOptions.FileFields?
            if let path = fields.file {
                // Many practices (JSON Lines, CSV): one entry each, all or none.
                let bytes = try PracticeOptions.readBytes(path, limit: 64 << 20)
                if let many = try BulkFile.read(path, data: bytes) {
                    try addMany(many, city: city)
                    return
                }
                file = try PracticeOptions.parseFile(bytes, path: path)
            }
            if useEditor {
                let (path, changed) = try PracticeTemplate.edit(PracticeTemplate.text(city: city.id, language: city.card.language))
                guard changed else {
                    try? FileManager.default.removeItem(atPath: path)
                    Console.err("c4csr: the template was left as it was; nothing was written")
                    throw Exit.failure
                }
                kept = path
                file = try PracticeOptions.readFile(path, as: "your practice")
            }
            do {
                let practice = try fields.practice(base: nil, file: file, defaultLanguage: city.card.language)
                let entry = try city.publish(practice, personal: try fields.personalFields(), dryRun: dryRun)
                if let kept { try? FileManager.default.removeItem(atPath: kept) }
                if dryRun { reportDryRun("publish", entry, json: output.json) } else { reportWrite("published", entry, practice: entry.id, json: output.json) }
            } catch where kept != nil {
                Console.err("c4csr: your practice is kept in \(kept!); fix it and run: c4csr add --file \(kept!)")
                throw error
            }
        }
    }

    /// `--officer`: one practice (flags or a file), through the daemon.
    func addAsOfficer(_ client: OfficerClient) throws {
        guard !template, !useEditor, !dryRun else {
            throw NodeError.invalidInput("as an officer, give the practice with flags or --file (--edit, --template and --dry-run need the city's own node)")
        }
        let city = try client.city()
        var file: PracticeOptions.FileFields?
        if let path = fields.file {
            let bytes = try PracticeOptions.readBytes(path, limit: 1 << 20)
            if try BulkFile.read(path, data: bytes) != nil {
                throw NodeError.invalidInput("as an officer, add one practice at a time (\(path) holds several)")
            }
            file = try PracticeOptions.parseFile(bytes, path: path)
        }
        let practice = try fields.practice(base: nil, file: file, defaultLanguage: city.language)
        let written = try client.submit(.publish(practice), city: city.id, personal: try fields.personalFields())
        reportOfficerWrite("published", written, officer: client.officer, json: output.json)
    }

    /// A bulk add: every practice checked, then all published in one transaction.
    func addMany(_ many: [PracticeOptions.FileFields], city: City) throws {
        guard !many.isEmpty else { throw NodeError.invalidInput("\(fields.file ?? "the file") holds no practice") }
        var practices = [Practice](), errors = [FieldError]()
        for item in many {
            do { practices.append(try fields.practice(base: nil, file: item, defaultLanguage: city.card.language)) } catch let e as ValidationErrors {
                errors += e.errors
            }
        }
        guard errors.isEmpty else { throw ValidationErrors(errors) }
        if dryRun {
            if output.json { Console.json(.object(["dry_run": .bool(true), "practices": .int(Int64(practices.count))])) } else {
                Console.out("dry run: \(Format.plural(practices.count, "practice")) valid; nothing was written")
            }
            return
        }
        let entries = try city.publishAll(practices)
        if output.json {
            Console.json(.object(["published": .int(Int64(entries.count)), "practices": .array(entries.map { .string($0.id.hex) })]))
        } else {
            for e in entries { Console.out("published practice \(e.id.short) (entry \(e.origin)#\(e.seq))") }
            let range = entries.count > 1 ? "\(entries.first!.origin)#\(entries.first!.seq)–\(entries.last!.seq)" : "\(entries[0].origin)#\(entries[0].seq)"
            Console.out("published \(Format.plural(entries.count, "practice")) in one transaction (entries \(range))")
        }
    }
}
