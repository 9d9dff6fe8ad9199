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

            Example:
              c4csr revise 3f2a9c --status completed --outcomes '12 schoolyards greened'
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The practice id (6 or more leading hex digits).", valueName: "practice"))
    var practiceID: String
    @OptionGroup var fields: PracticeOptions
    @Option(name: .customLong("base"), help: ArgumentHelp("A version this revision supersedes (repeatable; default: all current versions).", valueName: "version"))
    var base: [String] = []
    @Flag(help: "Show the entry that would be signed; write nothing.")
    var dryRun = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if fields.file == nil, !fields.hasFieldFlags {
            throw ValidationError("give the changed fields as flags (--status, --summary-en, …) or with --file FILE")
        }
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity(signing: true)
            let fields = self.fields
            let file = try fields.loadFile()
            let language = city.card.language
            // The current fields are read inside the write transaction that signs the
            // revision: a revision by another officer committed meanwhile is built upon,
            // never silently overwritten.
            let write = try city.revise(practiceID, base: base, dryRun: dryRun) { current in
                try fields.practice(base: current.json, file: file, defaultLanguage: language)
            }
            if dryRun, let entry = write.entry { reportDryRun("revise with", entry, json: output.json) } else { reportWrite("revised", write, json: output.json) }
        }
    }
}
