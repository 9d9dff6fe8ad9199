import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The network's figures for a report: practices, adoptions, changes, outcomes.",
        discussion: """
            From the merged network log this node holds: practices per city, theme, SDG
            and status; who adopted whose practices (a city × city matrix of distinct
            practices); with --since, what changed since that date; and the outcomes
            the practices state. As text, Markdown (to paste into a report) or JSON.

            Examples:
              c4csr report
              c4csr report --since 2026-01-01 --format markdown > report.md
              c4csr report --json | jq '.adoptions'
            """)

    enum Style: String, ExpressibleByArgument, CaseIterable { case text, markdown }

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Also list what changed since this date (YYYY-MM-DD, UTC, or an RFC 3339 time).", valueName: "date"))
    var since: String?
    @Option(help: "text or markdown.")
    var format: Style = .text
    @Flag(help: "Leave out the outcomes.")
    var noOutcomes = false
    @OptionGroup var output: OutputOptions
    @OptionGroup var pager: PagerOptions

    func validate() throws {
        try SinceDate.check(since)
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            Pager.start(pager, json: output.json)
            // One pass over the log; no entry is kept.
            var report = NetworkReport(
                practices: try city.store.practices(), outcomes: noOutcomes ? [] : try city.store.outcomes(), since: since.flatMap(SinceDate.parse))
            try city.store.forEachMerged { report.add($0) }
            if output.json {
                Console.json(Self.json(report, city: city.id))
            } else {
                Console.out(Self.text(report, city: city.id, markdown: format == .markdown, since: since))
            }
        }
    }

    static func json(_ r: NetworkReport, city: CityID) -> JSONValue {
        var o: [String: JSONValue] = [
            "version": .int(1), "node": .string(city.rawValue), "practices": .int(Int64(r.practiceCount)), "entries": .int(Int64(r.entryCount)),
            "cities": .array(r.cities.map { c in
                .object(["city": .string(c.city.rawValue), "practices": .int(Int64(c.practices)),
                         "adopted_by_others": .int(Int64(c.adoptedByOthers)), "adopted_from_others": .int(Int64(c.adoptedFromOthers))])
            }),
            "themes": .object(Dictionary(uniqueKeysWithValues: r.themes.map { ($0.0, JSONValue.int(Int64($0.1))) })),
            "sdgs": .object(Dictionary(uniqueKeysWithValues: r.sdgs.map { (String($0.0), JSONValue.int(Int64($0.1))) })),
            "statuses": .object(Dictionary(uniqueKeysWithValues: r.statuses.map { ($0.0, JSONValue.int(Int64($0.1))) })),
            "adoptions": .object(Dictionary(uniqueKeysWithValues: r.adoptions.map { adopter, sources in
                (adopter.rawValue, JSONValue.object(Dictionary(uniqueKeysWithValues: sources.map { ($0.key.rawValue, JSONValue.int(Int64($0.value))) })))
            })),
            "outcomes": .array(r.outcomes.map { .object(["practice": .string($0.id.hex), "city": .string($0.publisher.rawValue),
                                                          "title": .string($0.title), "outcomes": .string($0.outcomes)]) }),
        ]
        if let since = r.since {
            o["since"] = .string(SinceDate.format(since))
            o["entries_since"] = .object(Dictionary(uniqueKeysWithValues: r.entriesSince.map { ($0.key, JSONValue.int(Int64($0.value))) }))
            o["changes"] = .array(r.changes.map { c in
                .object(["practice": .string(c.practice.hex), "city": .string(c.publisher.rawValue), "title": .string(c.title),
                         "what": .array(c.what.map { .string($0) })])
            })
        }
        return .object(o)
    }

    static func text(_ r: NetworkReport, city: CityID, markdown md: Bool, since: String?) -> String {
        var out = [String]()
        func heading(_ s: String) { out.append(md ? "\n## \(s)\n" : "\n\(s)") }
        func table(_ header: [String], _ rows: [[String]]) {
            if md {
                out.append("| " + header.joined(separator: " | ") + " |")
                out.append("|" + header.map { _ in "---|" }.joined())
                for row in rows { out.append("| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |") }
            } else {
                let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
                for row in [header] + rows {
                    out.append("  " + row.indices.map { $0 == row.count - 1 ? row[$0] : Format.pad(row[$0], widths[$0]) }.joined(separator: "  "))
                }
            }
        }
        out.append(md ? "# CITIES4CSR network report" : "CITIES4CSR network report")
        out.append((md ? "\n" : "") + "From the log held by \(city): \(Format.plural(r.practiceCount, "practice")), \(Format.plural(r.entryCount, "entry", "entries")).")
        heading("Practices per city")
        table(["city", "practices", "adopted by others", "adopted from others"],
              r.cities.map { [$0.city.rawValue, String($0.practices), String($0.adoptedByOthers), String($0.adoptedFromOthers)] })
        heading("Status")
        table(["status", "practices"], r.statuses.map { [$0.0, String($0.1)] })
        heading("Themes")
        table(["theme", "practices"], r.themes.map { [$0.0, String($0.1)] })
        heading("Sustainable Development Goals")
        table(["SDG", "practices"], r.sdgs.map { ["SDG \($0.0)", String($0.1)] })
        heading("Adoptions (rows adopted practices of columns)")
        let sources = Array(Set(r.adoptions.values.flatMap(\.keys))).sorted()
        if sources.isEmpty { out.append(md ? "No practice has been adopted yet." : "  no practice has been adopted yet") } else {
            table(["adopter"] + sources.map(\.rawValue), r.adoptions.keys.sorted().map { adopter in
                [adopter.rawValue] + sources.map { r.adoptions[adopter]?[$0].map(String.init) ?? (md ? "" : "·") }
            })
        }
        if let since {
            heading("Changes since \(since)")
            let kinds = r.entriesSince.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            out.append((md ? "" : "  ") + (kinds.isEmpty ? "nothing changed" : kinds))
            for c in r.changes {
                out.append((md ? "- " : "  ") + "\(c.practice.short) \(c.publisher): \(c.title) — \(c.what.joined(separator: ", "))")
            }
        }
        if !r.outcomes.isEmpty {
            heading("Outcomes")
            for o in r.outcomes {
                let text = o.outcomes.replacingOccurrences(of: "\n", with: " ")
                out.append(md ? "- **\(o.title)** (\(o.publisher), \(o.id.short)): \(text)" : "  \(o.id.short) \(o.publisher): \(o.title)\n      \(text)")
            }
        }
        return out.joined(separator: "\n")
    }
}

struct ThemesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "themes",
        abstract: "List the themes in use, with how many practices carry each.",
        discussion: """
            Example:
              c4csr themes
              c4csr list --theme environment
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let themes = try global.openCity().store.themes()
            if output.json {
                Console.json(.array(themes.map { .object(["theme": .string($0.theme), "practices": .int(Int64($0.practices))]) }))
            } else if themes.isEmpty {
                Console.err("no practice has a theme yet")
            } else {
                let width = themes.map(\.theme.count).max() ?? 0
                for t in themes { Console.out("\(Format.pad(t.theme, width))  \(Format.plural(t.practices, "practice"))") }
            }
        }
    }
}

/// `--since DATE`: a day (YYYY-MM-DD, from midnight UTC) or an RFC 3339 time.
enum SinceDate {
    static func parse(_ s: String) -> Int64? {
        if s.count == 10, let d = ISO8601DateFormatter.day.date(from: s) { return Int64(d.timeIntervalSince1970 * 1000) }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return Int64(d.timeIntervalSince1970 * 1000) }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    static func format(_ ms: Int64) -> String { Console.rfc3339(ms) }

    /// Validates a `--since` flag.
    static func check(_ since: String?) throws {
        if let since, parse(since) == nil {
            throw ValidationError("--since must be a date such as 2026-01-31 or 2026-01-31T12:00:00Z (got \"\(since)\")")
        }
    }
}

private extension ISO8601DateFormatter {
    static var day: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        return f
    }
}
