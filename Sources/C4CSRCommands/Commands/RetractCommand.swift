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
    @OptionGroup var asOfficer: OfficerOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let reasonText = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
            if let client = try asOfficer.client() {
                guard base.isEmpty else { throw NodeError.invalidInput("as an officer, a retraction supersedes the current versions (--base needs the city's own node)") }
                let written = try ValidationErrors.naming(flags: ["payload.reason": "--reason"]) {
                    try submitAsOfficer(client, practice: practiceID) { city, state in
                        return .retract(practice: state.id, base: state.heads, reason: reasonText?.isEmpty == true ? nil : reasonText)
                    }
                }
                reportOfficerWrite("retracted", written, officer: client.officer, json: output.json)
                return
            }
            let city = try global.openCity(signing: true)
            let entry = try ValidationErrors.naming(flags: ["payload.reason": "--reason"]) {
                try city.retract(practiceID, reason: reasonText?.isEmpty == true ? nil : reasonText, base: base)
            }
            reportWrite("retracted", entry, practice: PracticeAction.subject(of: entry)!, json: output.json)
        }
    }
}
