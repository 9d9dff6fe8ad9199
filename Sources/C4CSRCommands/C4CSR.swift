import ArgumentParser
import C4CSRCore

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
            InitCommand.self, AddCommand.self, ReviseCommand.self, RetractCommand.self, AdoptCommand.self,
            ListCommand.self, ShowCommand.self, SearchCommand.self, LogCommand.self,
            AuditCommand.self, HeadsCommand.self, ExportCommand.self, ImportCommand.self, PeersCommand.self,
            ServeCommand.self, SyncCommand.self, StatusCommand.self, BackupCommand.self, ConfigCommand.self, DemoCommand.self,
        ]
    )

    public init() {}
}

extension C4CSR {
    /// Parses the process arguments, runs the command and exits (the executable's entry point).
    public static func start() async {
        // `c4csr --version` is read here, not declared as a flag: ArgumentParser lets a
        // parent's flags appear after a subcommand, so a root `--version` flag would
        // take the `--version V` of `adopt` and `show` (and its automatic one is offered
        // by every subcommand, printing the program's version for `show X --version Y`).
        if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
            print(C4CSRVersion.string)
            return
        }
        await main()
    }
}
