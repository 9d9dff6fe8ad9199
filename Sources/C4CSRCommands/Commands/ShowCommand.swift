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
            Takes a practice id, or the id of any entry about a practice (as `log` and
            the history print them): a revision or retraction shows the practice as that
            version left it, an adoption shows the version adopted. --version shows an
            earlier version's fields; the history always lists every version.

            Example:
              c4csr show 3f2a9c
              c4csr show 3f2a9c --version 81c0d2
              c4csr show 3f2a9c --json | jq .fields > practice.json
              # edit practice.json, then: c4csr revise 3f2a9c --file practice.json
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("A practice id, or the id of an entry about one (6 or more leading hex digits).", valueName: "id"))
    var practiceID: String
    @Option(help: ArgumentHelp("Show the fields of this version of the practice (an entry id from its history).", valueName: "version"))
    var version: String?
    @OptionGroup var output: OutputOptions
    @OptionGroup var pager: PagerOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            Pager.start(pager, json: output.json)
            var record: PracticeRecord
            var versionPrefix = version
            do {
                record = try city.store.practice(practiceID).0
            } catch let e as StoreError where e.isNotFound {
                // Not a practice id: perhaps the id of an entry about one.
                guard let (entry, subject) = try? city.store.entry(withPrefix: practiceID) else { throw e }
                guard let subject else { throw NodeError.notFound("entry \(entry.short) is not about a practice") }
                record = try city.store.practice(subject.hex).0
                if let adoption = record.adoptions.first(where: { $0.entry == entry }) {
                    versionPrefix = versionPrefix ?? adoption.version.hex
                } else if versionPrefix == nil, record.versions.contains(where: { $0.entry == entry }) {
                    versionPrefix = entry.hex
                } else if !record.versions.contains(where: { $0.entry == entry }) {
                    throw NodeError.notFound("entry \(entry.short) names practice \(subject.short) but the practice rules ignore it (see `c4csr audit`)")
                }
            }
            var shown: PracticeRecord.Version?
            if let v = versionPrefix?.lowercased() {
                let matches = record.versions.filter { $0.entry.hex.hasPrefix(v) }
                guard matches.count == 1, v.count >= 6 else {
                    throw NodeError.notFound(matches.count > 1 ? "several versions of \(record.id.short) start with \(v); give more digits"
                        : "practice \(record.id.short) has no version \(v) (its versions: \(record.versions.map(\.entry.short).joined(separator: ", ")))")
                }
                shown = matches[0].entry == record.currentVersion && !record.conflict ? nil : matches[0]
            }
            // The content of the shown fields' sealed personal fields held here (§14).
            let fields = shown?.fields ?? record.current
            let contents = fields.sealed.isEmpty ? [] : try city.store.contents(of: [shown.map { $0.fieldsEntry ?? $0.entry } ?? record.fieldsEntry])
            if output.json {
                Console.json(Render.recordJSON(record, shown: shown, contents: contents))
            } else {
                Console.out(Render.recordText(record, shown: shown, contents: contents))
            }
        }
    }
}
