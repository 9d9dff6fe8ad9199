import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the log to a file, consistently, while the daemon runs.",
        discussion: """
            Uses SQLite's online backup inside one read snapshot: the daemon and the CLI
            keep writing meanwhile, and the copy holds exactly the log at one instant.
            The copy is checked (SQLite integrity, the append-only triggers) before it
            is renamed into place, and its digest printed. It holds the log only: keep
            a copy of keys/, tls.crt and city.toml once, somewhere safe.

            To restore: stop the daemon, run `c4csr restore FILE`, start it; the city
            signs nothing until its rounds have fetched whatever it wrote and received
            after the backup (see `c4csr restore --help`).

            Example:
              c4csr backup /var/backups/c4csr/store-$(date +%F).sqlite
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The file to create (it must not exist).", valueName: "file"))
    var file: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let showProgress = Console.stderrIsTerminal && !output.json
            let summary = try city.store.backup(to: file) { done, total in
                if showProgress, total > 0 { FileHandle.standardError.write(Data("\rbackup: \(done * 100 / total) %".utf8)) }
            }
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            if output.json {
                Console.json(.object([
                    "file": .string(file), "entries": .int(Int64(summary.entries)), "digest": .string(summary.digest.hex),
                ]))
            } else {
                Console.out("backed up \(Format.plural(summary.entries, "entry", "entries")) of \(city.id) to \(file); network digest \(summary.digest.short)")
            }
        }
    }
}
