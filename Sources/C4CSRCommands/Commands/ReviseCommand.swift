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
            flags, and signs a revise entry. Only the city that published a practice may
            revise it. The new version supersedes every current version unless --base
            names the versions it was written from; two revisions from the same base are a
            conflict that `show` and `audit` report, and a later revise resolves it.

            Example:
              c4csr revise 3f2a9c --status completed --outcomes '12 schoolyards greened'
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The practice id (6 or more leading hex digits).", valueName: "practice"))
    var practiceID: String
    @OptionGroup var fields: PracticeOptions
    @Option(name: .customLong("base"), help: ArgumentHelp("A version this revision supersedes (repeatable; default: all current versions).", valueName: "version"))
    var base: [String] = []
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if fields.file == nil, !fields.hasFieldFlags {
            throw ValidationError("give the changed fields as flags (--status, --summary-en, …) or with --file FILE")
        }
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let (record, _, _) = try city.store.practice(practiceID)
            let practice = try fields.practice(base: record.current.json, defaultLanguage: city.card.language)
            let entry = try city.revise(record.id.hex, with: practice, base: base)
            reportWrite("revised", entry, practice: record.id, json: output.json)
        }
    }
}
