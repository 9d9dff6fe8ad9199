import ArgumentParser
import C4CSRCore
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation
import Logging

/// Options every command takes, each with a `C4CSR_*` environment twin resolved here.
///
/// Precedence, lowest first: built-in defaults, the configuration file, the
/// environment, the flag.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The configuration file (TOML).",
        discussion: "Default: $C4CSR_CONFIG (empty: none), else /etc/c4csr/c4csr.toml if it exists, else none.",
        valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp(
        "The city's data directory.",
        discussion: "Default: $C4CSR_DATA_DIR, else the configuration's data_dir, else $STATE_DIRECTORY (systemd), else $XDG_DATA_HOME/c4csr, else ~/.local/share/c4csr.",
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

    /// The system-wide configuration `make install` puts in place.
    static let systemConfig = "/etc/c4csr/c4csr.toml"

    /// The configuration file's path, if any: the flag, `C4CSR_CONFIG`, or the system one if present.
    var configPath: String? {
        if let config { return config.isEmpty ? nil : config }
        if let c = environment["C4CSR_CONFIG"] { return c.isEmpty ? nil : c }
        return FileManager.default.fileExists(atPath: Self.systemConfig) ? Self.systemConfig : nil
    }

    /// The configuration file, read and validated (empty when there is none). The CLI's
    /// commands check only the keys they use (`scope: .client`); `serve` and
    /// `config check` check them all.
    /// - Throws: `ConfigError` naming the file, line and key of each problem.
    func configFile(scope: ConfigFile.Scope = .client) throws -> ConfigFile {
        guard let path = configPath else { return ConfigFile() }
        return try ConfigFile.load(path: path, scope: scope)
    }

    var dataDirectory: DataDirectory {
        get throws {
            if let dataDir { return DataDirectory(dataDir) }
            if let e = environment["C4CSR_DATA_DIR"], !e.isEmpty { return DataDirectory(e) }
            if let d = try configFile().dataDir { return DataDirectory(d) }
            return DataDirectory(DataDirectory.defaultPath(environment: environment))
        }
    }

    var extraPeerDirectories: [URL] {
        get throws {
            let dirs: [String]
            if !peersDir.isEmpty {
                dirs = peersDir
            } else if let e = environment["C4CSR_PEERS_DIR"] {
                dirs = e.split(separator: ":").map(String.init)
            } else {
                dirs = try configFile().peersDirs
            }
            return dirs.map { URL(fileURLWithPath: $0, isDirectory: true) }
        }
    }

    /// The log level: the flag, else `C4CSR_LOG_LEVEL`, else the configuration's, else `fallback`.
    func level(default fallback: Logger.Level) -> Logger.Level {
        let configured = (try? configFile())?.logLevel
        return (logLevel ?? environment["C4CSR_LOG_LEVEL"] ?? configured).flatMap(Logger.Level.init(rawValue:)) ?? fallback
    }

    func validate() throws {
        if let l = logLevel ?? environment["C4CSR_LOG_LEVEL"], Logger.Level(rawValue: l) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical (got \"\(l)\")")
        }
    }

    /// Opens the city, printing peer-card warnings to standard error when `warnings` is true.
    /// Only commands that sign entries pass `signing`: the others never open the signing
    /// key, so read access can be granted without signing rights.
    func openCity(warnings: Bool = false, signing: Bool = false) throws -> City {
        let city = try City.open(try dataDirectory, extraPeerDirectories: try extraPeerDirectories, signing: signing)
        if signing { try city.checkCanSign() }
        if warnings { for w in city.peers.warnings { Console.warn(w) } }
        return city
    }

    /// A city opened to receive entries (`import`, `sync`): with its signing key when this
    /// user may read it, so that it confirms the erasures it applies (§14: an `ack`);
    /// without, it receives all the same and `status` shows the erasures it has not
    /// confirmed.
    func openCityToReceive(warnings: Bool = false) throws -> City {
        let city = try openCity(warnings: warnings)
        if !city.isObserver { try? city.enableSigning() }
        return city
    }
}

/// `--json` for commands a script reads.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts instead of text for people.")
    var json = false
}
