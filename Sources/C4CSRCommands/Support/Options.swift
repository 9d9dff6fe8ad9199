import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import Logging

/// Options every command takes, each with a `C4CSR_*` environment twin resolved here.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The city's data directory.",
        discussion: "Default: $C4CSR_DATA_DIR, else $STATE_DIRECTORY (systemd), else $XDG_DATA_HOME/c4csr, else ~/.local/share/c4csr.",
        valueName: "dir"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Another directory of peer cards to read (repeatable), such as the repository's Peers/.",
        discussion: "Cards in <data-dir>/peers are always read. Default: $C4CSR_PEERS_DIR (colon-separated).",
        valueName: "dir"))
    var peersDir: [String] = []

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical. Default: $C4CSR_LOG_LEVEL, else warning.", valueName: "level"))
    var logLevel: String?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var dataDirectory: DataDirectory { DataDirectory(dataDir ?? DataDirectory.defaultPath(environment: environment)) }

    var extraPeerDirectories: [URL] {
        let dirs = !peersDir.isEmpty ? peersDir : (environment["C4CSR_PEERS_DIR"].map { $0.split(separator: ":").map(String.init) } ?? [])
        return dirs.map { URL(fileURLWithPath: $0, isDirectory: true) }
    }

    /// The log level: the flag, else `C4CSR_LOG_LEVEL`, else `fallback`.
    func level(default fallback: Logger.Level) -> Logger.Level {
        (logLevel ?? environment["C4CSR_LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? fallback
    }

    func validate() throws {
        if let l = logLevel ?? environment["C4CSR_LOG_LEVEL"], Logger.Level(rawValue: l) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical (got \"\(l)\")")
        }
    }

    /// Opens the city, printing peer-card warnings to standard error when `warnings` is true.
    func openCity(warnings: Bool = false) throws -> City {
        let city = try City.open(dataDirectory, extraPeerDirectories: extraPeerDirectories)
        if warnings { for w in city.peers.warnings { Console.warn(w) } }
        return city
    }
}

/// `--json` for commands a script reads.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts instead of text for people.")
    var json = false
}
