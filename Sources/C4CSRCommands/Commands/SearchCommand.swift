import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the practices' texts in any language.",
        discussion: """
            Every word must occur (as the start of a word) in a title, summary, challenge,
            theme, company, partner, area or outcome of the current version. Case and
            accents are ignored: "budaors" finds "Budaörs", "зелени" finds "Зелени".

            Example:
              c4csr search зелени училища
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The words to look for.")
    var words: [String]
    @Option(help: "At most this many results.")
    var limit: Int = 50
    @OptionGroup var output: OutputOptions
    @OptionGroup var pager: PagerOptions

    func validate() throws {
        if words.joined().trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("give at least one word to search for") }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            Pager.start(pager, json: output.json)
            let list = try city.store.search(words.joined(separator: " "), limit: limit)
            if output.json {
                Console.json(.array(list.map(Render.summaryJSON)))
            } else if list.isEmpty {
                Console.err("no practice matches \"\(words.joined(separator: " "))\"")
            } else {
                for line in Render.summaryLines(list) { Console.out(line) }
            }
        }
    }
}
