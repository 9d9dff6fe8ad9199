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

            --since keeps the practices published, revised, retracted or adopted at or after
            a date.

            Example:
              c4csr list --city sofia --theme environment --sdg 13 --status running
              c4csr list --since 2026-11-01
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
    @Option(help: ArgumentHelp("Only practices with an entry signed at or after this date (YYYY-MM-DD, UTC, or RFC 3339).", valueName: "date"))
    var since: String?
    @OptionGroup var output: OutputOptions
    @OptionGroup var pager: PagerOptions

    func validate() throws {
        for c in cities where CityID(c) == nil { throw ValidationError("--city \(c): not a city id (\(CityID.rule))") }
        if let sdg, !(1...17).contains(sdg) { throw ValidationError("--sdg must be from 1 to 17") }
        if let status, !(PracticeStatus.allCases.map(\.rawValue) + ["retracted"]).contains(status) {
            throw ValidationError("--status must be planned, running, completed, discontinued or retracted")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        try SinceDate.check(since)
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            Pager.start(pager, json: output.json)
            var filter = PracticeFilter()
            filter.cities = cities.compactMap(CityID.init)
            filter.theme = theme
            filter.sdg = sdg
            filter.status = status
            filter.conflictsOnly = conflicts
            filter.limit = since == nil ? limit : nil
            var list = try city.store.practices(filter)
            if let from = since.flatMap(SinceDate.parse) {
                var touched = Set<EntryID>()
                try city.store.forEachMerged { e in
                    if e.time >= from, let subject = PracticeAction.subject(of: e) { touched.insert(subject) }
                }
                list = list.filter { touched.contains($0.id) }
                if let limit { list = Array(list.prefix(limit)) }
            }
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
