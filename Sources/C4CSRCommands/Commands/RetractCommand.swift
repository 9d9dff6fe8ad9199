import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct RetractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Withdraw one of this city's practices.",
        discussion: """
            Signs a retract entry. The practice and its history stay in the log (nothing is
            ever deleted); `list` shows it as retracted. Only the publishing city may
            retract.

            Example:
              c4csr retract 3f2a9c --reason 'Replaced by the city-wide programme'
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The practice id (6 or more leading hex digits).", valueName: "practice"))
    var practiceID: String
    @Option(help: "Why the practice is withdrawn.")
    var reason: String?
    @Option(name: .customLong("base"), help: ArgumentHelp("A version this retraction supersedes (repeatable; default: all current versions).", valueName: "version"))
    var base: [String] = []
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity(signing: true)
            let reasonText = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
            let entry = try ValidationErrors.naming(flags: ["payload.reason": "--reason"]) {
                try city.retract(practiceID, reason: reasonText?.isEmpty == true ? nil : reasonText, base: base)
            }
            reportWrite("retracted", entry, practice: PracticeAction.subject(of: entry)!, json: output.json)
        }
    }
}
