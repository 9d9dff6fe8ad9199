import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

extension AdoptionMode: ExpressibleByArgument {}

struct AdoptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adopt",
        abstract: "Record that this city adopted or adapted another city's practice.",
        discussion: """
            Signs an adopt entry naming the practice and the version adopted (by default
            its current version). This is the point of a transfer network: `show` lists
            every city that took a practice over, and whether it has changed since.

            Example:
              c4csr adopt 3f2a9c --mode adapted --notes 'Run with our secondary schools'
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The other city's practice id (6 or more leading hex digits).", valueName: "practice"))
    var practiceID: String
    @Option(help: "adopted (taken over as is) or adapted (with local changes).")
    var mode: AdoptionMode = .adopted
    @Option(help: "What this city did with it.")
    var notes: String?
    @Option(help: ArgumentHelp("The version adopted (default: the current one).", valueName: "version"))
    var version: String?
    @OptionGroup var asOfficer: OfficerOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let trimmed = notes?.trimmingCharacters(in: .whitespacesAndNewlines)
            if let client = try asOfficer.client() {
                let written = try ValidationErrors.naming(flags: ["payload.notes": "--notes"]) {
                    try submitAsOfficer(client, practice: practiceID) { city, state in
                        var adopted = state.currentVersion
                        if let version {
                            let matches = state.heads.filter { $0.hex.hasPrefix(version.lowercased()) }
                            guard version.count >= 6, matches.count == 1 else {
                                throw NodeError.invalidInput("as an officer, --version names one of the current versions (\(state.heads.map(\.short).joined(separator: ", ")))")
                            }
                            adopted = matches[0]
                        }
                        return .adopt(practice: state.id, version: adopted, mode: mode, notes: trimmed?.isEmpty == true ? nil : trimmed)
                    }
                }
                reportOfficerWrite("adopted", written, officer: client.officer, json: output.json)
                return
            }
            let city = try global.openCity(signing: true)
            let entry = try ValidationErrors.naming(flags: ["payload.notes": "--notes"]) {
                try city.adopt(practiceID, mode: mode, notes: trimmed?.isEmpty == true ? nil : trimmed, version: version)
            }
            reportWrite("adopted", entry, json: output.json)
        }
    }
}
