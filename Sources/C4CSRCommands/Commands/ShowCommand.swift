import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a practice with its full history, adoptions and any conflict.",
        discussion: """
            Example:
              c4csr show 3f2a9c
              c4csr show 3f2a9c --json | jq .fields > practice.json
              # edit practice.json, then: c4csr revise 3f2a9c --file practice.json
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The practice id (6 or more leading hex digits).", valueName: "practice"))
    var practiceID: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let (record, _, _) = try city.store.practice(practiceID)
            if output.json { Console.json(Render.recordJSON(record)) } else { Console.out(Render.recordText(record)) }
        }
    }
}
