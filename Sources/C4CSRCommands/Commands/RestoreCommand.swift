import ArgumentParser
import C4CSRCore
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup in place as the city's log; it signs nothing until caught up.",
        discussion: """
            With the daemon stopped, checks the backup (SQLite integrity, the append-only
            triggers), keeps the current store beside it (store.sqlite.before-restore-
            <time>, with its WAL) and puts the backup in place, marked as restored.

            A backup may lack entries of this city that the network already holds:
            signing now would re-use their sequence numbers and fork the city against
            itself. So until a sync round with every peer it syncs with has completed
            its pull (the city then holds every entry of its own that they held), add,
            revise, retract and adopt refuse and say why, and `status` shows it. An
            admin who knows that no newer entry exists may lift it: --confirm-latest.

            Examples:
              systemctl stop c4csr
              sudo -u c4csr c4csr restore /var/backups/c4csr/store-2026-11-29.sqlite
              systemctl start c4csr      # its first rounds lift the mark
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The backup file (made by `c4csr backup`).", valueName: "file"))
    var file: String?
    @Flag(help: "Lift the restore mark: you know that no peer holds a newer entry of this city.")
    var confirmLatest = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if confirmLatest == (file != nil) { throw ValidationError("give a backup FILE to restore, or --confirm-latest (not both)") }
    }

    func run() async throws {
        try Console.run {
            let directory = try global.dataDirectory
            if confirmLatest {
                let city = try global.openCity()
                guard let mark = try city.store.restoreMark() else {
                    Console.err("c4csr: \(city.id)'s store carries no restore mark; nothing to confirm")
                    return
                }
                try city.store.clearRestoreMark()
                let top = try city.store.heads().filter { $0.origin == city.id }.map(\.seq).max() ?? 0
                if output.json {
                    Console.json(.object(["confirmed": .bool(true), "source": .string(mark.source), "own_top": .int(top)]))
                } else {
                    Console.out("confirmed: \(city.id) may sign again; its next entry will be seq \(top + 1)")
                }
                return
            }
            let lock = try DaemonLock(directory)
            defer { lock.release() }
            let report = try City.restore(backup: file!, into: directory)
            if output.json {
                var o: [String: JSONValue] = [
                    "file": .string(file!), "entries": .int(Int64(report.summary.entries)), "digest": .string(report.summary.digest.hex),
                    "own_top": .int(report.ownTop),
                ]
                if let kept = report.keptAs { o["kept"] = .string(kept) }
                Console.json(.object(o))
            } else {
                Console.out("restored \(Format.plural(report.summary.entries, "entry", "entries")) from \(file!); network digest \(report.summary.digest.short)")
                if let kept = report.keptAs { Console.out("the store it replaced is kept as \(kept)") }
                Console.out("this city signs nothing until a round with every peer it syncs with shows that none holds a newer entry of it (its own top is seq \(report.ownTop)); run `c4csr sync` or start the daemon")
            }
        }
    }
}
