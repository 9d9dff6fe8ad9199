import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct ExportCommand: AsyncParsableCommand {
    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case jsonl, csv
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the signed entries as JSON Lines, or current practices as CSV.",
        discussion: """
            jsonl: every entry exactly as signed, one per line, in merged order:
              {"body":"<base64 of the signed bytes>","id":"<sha-256 hex>","sig":"<base64>"}
            Anyone can verify it with an Ed25519 library and docs/PROTOCOL.md, and another
            city merges it with `c4csr import`.
            csv: one row per practice (current version), for spreadsheets: UTF-8 with a
            byte-order mark, local and English texts, outcomes, published and revised
            dates, the cities that adopted it; a cell a spreadsheet would run as a
            formula starts with '. --delimiter ';' for spreadsheets set to a decimal
            comma (most of continental Europe); --no-bom for tools that want plain UTF-8.

            Example:
              c4csr export --output sofia.jsonl
              c4csr export --format csv --delimiter ';' --output practices.csv
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "jsonl (signed entries) or csv (current practices).")
    var format: ExportFormat = .jsonl
    @Option(help: ArgumentHelp("Write to this file instead of standard output (replaced atomically).", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("The CSV cell separator: ',', ';' or 'tab'.", valueName: "char"))
    var delimiter: String = ","
    @Flag(help: "CSV without the UTF-8 byte-order mark.")
    var noBom = false

    func validate() throws {
        guard [",", ";", "tab", "\t"].contains(delimiter) else { throw ValidationError("--delimiter must be ',', ';' or 'tab' (got \"\(delimiter)\")") }
        if format == .jsonl, delimiter != "," || noBom { throw ValidationError("--delimiter and --no-bom apply to --format csv") }
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            var chunks = [Data]()
            var sink: (String) throws -> Void = { Console.data($0) }
            if output != nil { sink = { chunks.append(Data($0.utf8)) } }
            var count: Int?
            switch format {
            case .jsonl:
                let progress = Progress("export", total: try city.store.count())
                count = try city.exportJSONL(progress: progress.update, sink)
                progress.finish()
            case .csv: try city.exportCSV(delimiter: delimiter == "tab" || delimiter == "\t" ? "\t" : Character(delimiter), byteOrderMark: !noBom, sink)
            }
            if let output {
                var all = Data()
                for c in chunks { all.append(c) }
                do { try all.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                    throw NodeError.io("cannot write \(output): \(error.localizedDescription)")
                }
                Console.err("wrote \(count.map { Format.plural($0, "entry", "entries") } ?? "practices") to \(output)")
            }
        }
    }
}
