import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Verify and merge another city's JSON Lines export.",
        discussion: """
            The offline path between cities, through the same merge code as sync.
            Every entry's signature is checked against its city's peer card; entries
            whose causal past is present are merged in one transaction; entries
            already held are skipped. A file that is not an export is refused whole
            and nothing changes; an entry that fails verification is reported with
            its line and the others still merge (exit 2).

            Example:
              c4csr import sofia.jsonl
              c4csr export --data-dir a | c4csr import --data-dir b -
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The export to import; '-' reads standard input.", valueName: "file"))
    var file: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCityToReceive(warnings: !output.json)
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let d = FileManager.default.contents(atPath: file) else {
                    throw NodeError.notFound(FileAccess.readProblem(file) ?? "cannot read \(file)")
                }
                data = d
            }
            let progress = Progress("import")
            progress.say("reading \(Format.bytes(data.count))")
            let report = try city.importJSONL(Array(data), name: file == "-" ? "standard input" : file, phase: progress.say)
            progress.finish()
            if output.json {
                Console.json(.object([
                    "ok": .bool(report.isClean), "entries": .int(Int64(report.lines)), "inserted": .int(Int64(report.inserted)),
                    "duplicates": .int(Int64(report.duplicates)), "forks": .array(report.forks.map { .string($0) }),
                    "problems": .array(report.problems.map { .string($0) }), "digest": .string(report.summary.digest.hex),
                ]))
            } else {
                for p in report.problems { Console.err("c4csr: \(p)") }
                for f in report.forks { Console.err("c4csr: warning: fork kept as evidence: \(f)") }
                Console.out("imported \(Format.count(report.inserted)) new \(report.inserted == 1 ? "entry" : "entries") of \(Format.count(report.lines)) (\(Format.count(report.duplicates)) already held, \(report.problems.count) not merged)")
                Console.out("network digest now \(report.summary.digest.short) (\(Format.plural(report.summary.entries, "entry", "entries")))")
            }
            if !report.isClean { throw Exit.problems }
        }
    }
}
