import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the practices of the merged network log.",
        discussion: """
            One line per practice, newest first: id, city, status, titles. Filters combine.

            Example:
              c4csr list --city sofia --theme environment --sdg 13 --status running
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("city"), help: ArgumentHelp("Only practices published by this city (repeatable).", valueName: "id"))
    var cities: [String] = []
    @Option(help: "Only practices with this theme.")
    var theme: String?
    @Option(help: ArgumentHelp("Only practices contributing to this SDG (1–17).", valueName: "n"))
    var sdg: Int?
    @Option(help: ArgumentHelp("Only practices with this status: planned, running, completed, discontinued, retracted.", valueName: "status"))
    var status: String?
    @Flag(help: "Only practices with a revision conflict.")
    var conflicts = false
    @Option(help: "At most this many practices.")
    var limit: Int?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        for c in cities where CityID(c) == nil { throw ValidationError("--city \(c): not a city id (\(CityID.rule))") }
        if let sdg, !(1...17).contains(sdg) { throw ValidationError("--sdg must be from 1 to 17") }
        if let status, !(PracticeStatus.allCases.map(\.rawValue) + ["retracted"]).contains(status) {
            throw ValidationError("--status must be planned, running, completed, discontinued or retracted")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            var filter = PracticeFilter()
            filter.cities = cities.compactMap(CityID.init)
            filter.theme = theme
            filter.sdg = sdg
            filter.status = status
            filter.conflictsOnly = conflicts
            filter.limit = limit
            let list = try city.store.practices(filter)
            if output.json {
                Console.json(.array(list.map(Render.summaryJSON)))
            } else if list.isEmpty {
                Console.err("no practices match")
            } else {
                for line in Render.summaryLines(list) { Console.out(line) }
            }
        }
    }
}
