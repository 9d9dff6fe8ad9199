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
            `revise` and the other cities' `adopt` use (6 or more leading hex digits suffice).

            Example:
              c4csr add --title 'Зелени училища' --title-en 'Green schools' \\
                --summary 'Фирми осиновяват училищни дворове.' --summary-en 'Firms adopt schoolyards.' \\
                --challenge 'Few green spaces in dense districts' --theme environment --sdg 4 --sdg 13
            or from a file:
              c4csr add --file practice.toml
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var fields: PracticeOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if fields.file == nil, !fields.hasFieldFlags {
            throw ValidationError("give the practice as flags (--title, --title-en, …) or with --file FILE ('-' for standard input)")
        }
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let practice = try fields.practice(base: nil, defaultLanguage: city.card.language)
            let entry = try city.publish(practice)
            reportWrite("published", entry, practice: entry.id, json: output.json)
        }
    }
}
