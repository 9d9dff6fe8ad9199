import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct ReviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revise",
        abstract: "Change the fields of one of this city's practices.",
        discussion: """
            Starts from the practice's current fields, applies the file (if any) and the
            flags, and signs a revise entry; the fields are read in the same transaction
            that writes, so two officers revising at once never lose an edit. Only the city
            that published a practice may revise it. The new version supersedes every
            current version unless --base names the versions it was written from; two
            revisions from the same base are a conflict that `show` and `audit` report, and
            a later revise resolves it. A revision that changes nothing is not written; one
            of a retracted practice reinstates it. --dry-run shows the bytes that would be
            signed and writes nothing.

            --edit opens the practice's current fields in $VISUAL or $EDITOR (as
            `git commit` does): the file saved is the whole practice, and the revision
            supersedes exactly the versions that were shown, so an officer who revises
            the practice while the editor is open is not overwritten: both versions are
            kept as a conflict. A file left as it was writes nothing; one that is refused
            stays on disk, and the error says how to submit it again.

            Example:
              c4csr revise 3f2a9c --status completed --outcomes '12 schoolyards greened'
              c4csr revise 3f2a9c --edit
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The practice id (6 or more leading hex digits).", valueName: "practice"))
    var practiceID: String
    @OptionGroup var fields: PracticeOptions
    @Option(name: .customLong("base"), help: ArgumentHelp("A version this revision supersedes (repeatable; default: all current versions).", valueName: "version"))
    var base: [String] = []
    @Flag(help: "Open the practice's current fields in $VISUAL or $EDITOR; the saved file is the whole practice.")
    var edit = false
    @Flag(help: "Show the entry that would be signed; write nothing.")
    var dryRun = false
    @OptionGroup var asOfficer: OfficerOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if edit, fields.file != nil { throw ValidationError("--edit and --file both give the fields: choose one") }
        if edit, !base.isEmpty { throw ValidationError("--edit supersedes the versions it shows; --base is for --file and flags") }
        if !edit, fields.file == nil, !fields.hasFieldFlags {
            throw ValidationError("give the changed fields as flags (--status, --summary-en, …), with --file FILE, or with --edit")
        }
    }

    func run() async throws {
        try Console.run {
            let fields = self.fields
            if let client = try asOfficer.client() {
                guard !edit, !dryRun, base.isEmpty else {
                    throw NodeError.invalidInput("as an officer, give the changes with flags or --file (--edit, --dry-run and --base need the city's own node)")
                }
                let file = try fields.loadFile()
                // Built from the current fields the daemon holds, superseding exactly its
                // current versions; rebuilt if another revision lands first.
                // Sealed fields (§14) come revealed and are sealed again under fresh salts.
                let written = try submitAsOfficer(client, practice: practiceID, personal: try fields.personalFields()) { city, state in
                    let practice = try fields.practice(base: state.fields, file: file, defaultLanguage: city.language)
                    return .revise(practice: state.id, base: state.heads, fields: practice)
                }
                reportOfficerWrite("revised", written, officer: client.officer, json: output.json)
                return
            }
            let city = try global.openCity(signing: true)
            if edit {
                try editAndRevise(city)
                return
            }
            let file = try fields.loadFile()
            let language = city.card.language
            // The current fields are read inside the write transaction that signs the
            // revision: a revision by another officer committed meanwhile is built upon,
            // never silently overwritten.
            let write = try city.revise(practiceID, base: base, personal: try fields.personalFields(), dryRun: dryRun) { current in
                try fields.practice(base: current.json, file: file, defaultLanguage: language)
            }
            if dryRun, let entry = write.entry { reportDryRun("revise with", entry, json: output.json) } else { reportWrite("revised", write, json: output.json) }
        }
    }

    /// `--edit`: the current fields in the editor, then a revision of exactly the
    /// versions shown (read before the editor opened: another officer's revision made
    /// meanwhile becomes a conflict, never a lost edit).
    private func editAndRevise(_ city: City) throws {
        try city.checkCanSign()
        let (record, _, _) = try city.store.practice(practiceID)
        guard record.publisher == city.id else {
            throw NodeError.forbidden("practice \(record.id.short) was published by \(record.publisher); only \(record.publisher) may revise it")
        }
        let shown = record.heads
        // Sealed fields (§14) with the content this node holds.
        let current = record.current.sealed.isEmpty ? record.current : record.current.revealing(try city.store.contents(of: [record.fieldsEntry]))
        let (path, changed) = try PracticeTemplate.edit(
            PracticeTemplate.text(of: current, id: record.id, city: city.id, versions: shown))
        guard changed else {
            try? FileManager.default.removeItem(atPath: path)
            Console.err("c4csr: the practice was left as it was; nothing was written")
            throw Exit.failure
        }
        do {
            let file = try PracticeOptions.readFile(path, as: "your revision")
            let practice = try fields.practice(base: nil, file: file, defaultLanguage: city.card.language)
            if practice.json == current.json, !record.conflict, !record.retracted {
                try? FileManager.default.removeItem(atPath: path)
                Console.err("c4csr: the fields are those of version \(record.currentVersion.short); nothing was written")
                throw Exit.failure
            }
            let write = try city.revise(record.id.hex, base: shown.map(\.hex), personal: try fields.personalFields(), dryRun: dryRun) { _ in practice }
            try? FileManager.default.removeItem(atPath: path)
            if dryRun, let entry = write.entry { reportDryRun("revise with", entry, json: output.json) } else { reportWrite("revised", write, json: output.json) }
        } catch where FileManager.default.fileExists(atPath: path) {
            let bases = shown.map { "--base \($0.short)" }.joined(separator: " ")
            Console.err("c4csr: your revision is kept in \(path); fix it and run: c4csr revise \(record.id.short) --file \(path) \(bases)")
            throw error
        }
    }
}
