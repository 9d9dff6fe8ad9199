import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Re-verify the whole log from its stored bytes.",
        discussion: """
            Checks every entry: its id is the SHA-256 of its bytes, its Ed25519 signature
            verifies with its city's key, its chain link and vector clock are consistent and
            its causal past precedes it; then forks (a city that signed two entries with one
            seq), practice rules (a city changing another's practice, invalid references)
            and revision conflicts. Prints per-city heads and the network digest, which two
            cities compare to know that they hold the same log.

            Errors exit with status 2; conflicts are warnings (exit 0) unless --strict.
            Progress goes to standard error on a terminal.

            Example:
              c4csr audit --peers-dir Peers
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Exit with status 2 on warnings (conflicts) too.")
    var strict = false

    func run() async throws {
        try Console.run {
            let city = try global.openCity(warnings: !output.json)
            let showProgress = Console.stderrIsTerminal && !output.json
            let started = Date()
            let report = try city.audit { done, total in
                if showProgress { FileHandle.standardError.write(Data("\raudit: \(Format.count(done)) / \(Format.count(total)) entries".utf8)) }
            }
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let seconds = Date().timeIntervalSince(started)
            let failed = !report.errors.isEmpty || (strict && !report.warnings.isEmpty)
            if output.json {
                Console.json(.object([
                    "ok": .bool(!failed), "city": .string(city.id.rawValue), "entries": .int(Int64(report.checked)),
                    "practices": .int(Int64(report.practices)), "errors": .int(Int64(report.errors.count)),
                    "warnings": .int(Int64(report.warnings.count)), "findings": .array(report.findings.map(\.json)),
                    "heads": Render.headsJSON(report.heads), "forks": Render.headsJSON(report.forks),
                    "digest": .string(report.digest.hex),
                ]))
            } else {
                for f in report.findings { Console.out(f.description) }
                if !report.findings.isEmpty { Console.out("") }
                Console.out("audit of \(city.id): \(Format.count(report.checked)) entries, \(Format.count(report.practices)) practices, \(String(format: "%.2f", seconds)) s")
                Console.out("heads:")
                for line in Render.headsText(report.heads, forks: report.forks, digest: report.digest, entries: nil) { Console.out(line) }
                Console.out(failed ? "FAILED: \(report.errors.count) error(s), \(report.warnings.count) warning(s)"
                                   : "OK: every signature, chain and causal link verifies" + (report.warnings.isEmpty ? "" : " (\(report.warnings.count) warning(s))"))
            }
            if failed { throw Exit.problems }
        }
    }
}
