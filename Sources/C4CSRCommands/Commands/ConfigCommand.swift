import ArgumentParser
import C4CSRCore
import C4CSRDaemon
import C4CSRNode
import Foundation
import Logging

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the configuration file.",
        subcommands: [ConfigCheckCommand.self],
        defaultSubcommand: ConfigCheckCommand.self)
}

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration without starting the daemon.",
        discussion: """
            Reads the configuration file (--config, else $C4CSR_CONFIG, else
            /etc/c4csr/c4csr.toml), reports every invalid or unknown key with its line,
            and prints the settings `c4csr serve` would use after the environment and
            flags. Also checks that the data directory holds a city and that the peer
            card directories can be read. Exits 78 if the configuration is invalid, 66
            if the data directory holds no city, 77 if this user cannot read its files,
            65 if a peer card cannot be read.

            `systemctl reload c4csr` runs `c4csr config check --quiet` before it signals
            the daemon, so that a broken file fails the reload instead of being only
            logged.

            Example:
              c4csr config check --config /etc/c4csr/c4csr.toml
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print only problems (for systemctl reload).")
    var quiet = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let file = try global.configFile(scope: .daemon)
            let dataDir = try global.dataDirectory
            let city = try City.open(dataDir, extraPeerDirectories: try global.extraPeerDirectories, signing: false)
            var c = file.apply(to: DaemonConfiguration())
            if file.listen == nil, let endpoint = city.card.endpoint, let port = URLComponents(string: endpoint)?.port { c.port = port }
            let peers = PeerBook(city: city, only: c.only).snapshot
            var warnings = city.peers.warnings
            for d in try global.extraPeerDirectories where !FileManager.default.fileExists(atPath: d.path) {
                warnings.append("peer card directory \(d.path) does not exist")
            }
            warnings += peers.warnings.filter { !warnings.contains($0) }
            // The daemon keeps its old cards when a card cannot be read (SIGHUP): a reload
            // must fail rather than report success and change nothing.
            if !city.peers.readErrors.isEmpty {
                throw NodeError.invalidInput("cannot read the peer cards; the daemon would keep its old ones:\n"
                    + city.peers.readErrors.map { "  - \($0)" }.joined(separator: "\n"))
            }
            let settings: [(String, String)] = [
                ("config", global.configPath ?? "(none)"),
                ("data_dir", dataDir.root.path),
                ("city", "\(city.id) (\(city.card.localName), \(city.card.country))"),
                ("peers_dirs", ([city.directory.peersDirectory] + (try global.extraPeerDirectories)).map(\.path).joined(separator: ", ")),
                ("log_level", global.level(default: .info).rawValue),
                ("server.listen", "\(c.host):\(c.port)"),
                ("sync.interval", formatDuration(c.intervalMS)),
                ("sync.connect_timeout", formatDuration(Int64(c.connectTimeoutMS))),
                ("sync.request_timeout", formatDuration(Int64(c.requestTimeoutMS))),
                ("sync.backoff_max", formatDuration(c.backoffCapMS)),
                ("sync.peers", peers.syncPeers.isEmpty ? "(none yet: no card with endpoint, tls_pin and public_key)"
                    : peers.syncPeers.map(\.city.rawValue).joined(separator: ", ")),
                ("metrics.listen", c.metrics?.description ?? "(off)"),
                ("web.listen", c.web?.description ?? "(off)"),
                ("officer.socket", city.isObserver ? "(off: an observer has no officers)" : c.officerSocket ?? "(off)"),
                ("officer.group", c.officerGroup),
                ("daemon.shutdown_grace", formatDuration(Int64(c.shutdownGraceSeconds) * 1000)),
            ]
            if output.json {
                Console.json(.object([
                    "ok": .bool(true), "settings": .object(Dictionary(uniqueKeysWithValues: settings.map { ($0.0, JSONValue.string($0.1)) })),
                    "warnings": .array(warnings.map { .string($0) }),
                ]))
            } else if quiet {
                for w in warnings { Console.err("warning: \(w)") }
            } else {
                for (k, v) in settings { Console.out("\(Format.pad(k, 22)) \(v)") }
                for w in warnings { Console.out("warning: \(w)") }
                Console.out("OK: the configuration is valid")
            }
        }
    }
}
