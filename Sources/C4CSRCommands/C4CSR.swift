import ArgumentParser
import C4CSRCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `c4csr` command. It holds only its configuration; each subcommand is a file.
public struct C4CSR: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "c4csr",
        abstract: "Exchange signed CSR practices between the CITIES4CSR cities.",
        discussion: """
            Each city keeps a signed, append-only log of CSR practices. Officers add
            practices with the CLI; cities exchange entries; anyone can audit the
            merged network log.

            Start with `c4csr init`, then `c4csr add`. Read with `list`, `show`,
            `search` and `log`; check with `audit`. Cities sync with `c4csr serve`
            (the daemon) or `c4csr sync` (one round now); `status` shows who is in
            sync; `export` and `import` exchange entries offline.

            `c4csr --version` prints the version.

            Exit codes: 0 success; 1 an operation failed; 2 audit or import found
            problems; 64 invalid arguments; 65 invalid input data (nothing changed);
            66 not found; 69 a peer could not be reached; 77 not allowed by the
            network's rules, or a file this user may not read; 78 invalid
            configuration. `status` answers as a monitoring check: 0 OK, 1 WARNING,
            2 CRITICAL.
            """,
        subcommands: [
            InitCommand.self, AddCommand.self, ReviseCommand.self, RetractCommand.self, AdoptCommand.self, EraseCommand.self,
            ListCommand.self, ShowCommand.self, SearchCommand.self, LogCommand.self,
            AuditCommand.self, HeadsCommand.self, ExportCommand.self, ImportCommand.self, PeersCommand.self,
            ServeCommand.self, SyncCommand.self, StatusCommand.self, BackupCommand.self, RestoreCommand.self, KeyCommand.self, ConfigCommand.self, DemoCommand.self,
            ReportCommand.self, SiteCommand.self, ThemesCommand.self, OfficerCommand.self, CompletionCommand.self,
        ]
    )

    public init() {}
}

extension C4CSR {
    /// Parses the process arguments, runs the command and exits (the executable's entry point).
    public static func start() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if answeredWithoutRunning() { return }
        // A mistyped subcommand: the nearest names, as git does ("did you mean").
        if let first = arguments.first, !first.hasPrefix("-"), let hint = suggestion(for: first) {
            FileHandle.standardError.write(Data("c4csr: '\(first)' is not a command. \(hint)\nSee 'c4csr --help'.\n".utf8))
            Glibc.exit(ExitCode.validationFailure.rawValue)
        }
        await main()
    }

    /// `c4csr --version`: prints the version and returns `true`. Synchronous, so that the
    /// executable calls it before its first `await`, which starts the concurrency
    /// runtime's threads (issue 14: the whole process in a few milliseconds).
    ///
    /// `--version` is read here, not declared as a flag: ArgumentParser lets a parent's
    /// flags appear after a subcommand, so a root `--version` flag would take the
    /// `--version V` of `adopt` and `show` (and its automatic one is offered by every
    /// subcommand, printing the program's version for `show X --version Y`).
    public static func answeredWithoutRunning() -> Bool {
        guard CommandLine.arguments.dropFirst().elementsEqual(["--version"]) else { return false }
        print(C4CSRVersion.string)
        return true
    }

    /// "Did you mean 'status'?" for a first argument that names no subcommand but is
    /// close to one (edit distance at most 2, or a prefix of exactly one); `nil` when
    /// it is a subcommand or nothing is close.
    static func suggestion(for word: String) -> String? {
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(word) else { return nil }
        var close = names.filter { editDistance(word, $0) <= 2 }
        if close.isEmpty { close = names.filter { $0.hasPrefix(word) } }
        guard !close.isEmpty else { return nil }
        return close.count == 1 ? "Did you mean '\(close[0])'?" : "Did you mean one of: \(close.map { "'\($0)'" }.joined(separator: ", "))?"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
