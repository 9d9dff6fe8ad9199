import C4CSRCore
import C4CSRNode
import Foundation

/// The configuration file (`/etc/c4csr/c4csr.toml`; `systemd/c4csr.toml` documents
/// every key with its default and range). Every key is optional; unknown keys are
/// errors, so that a typo never silently keeps a default.
///
/// Precedence, lowest first: built-in defaults, this file, `C4CSR_*` environment
/// variables, command-line flags.
public struct ConfigFile: Sendable, Hashable {
    /// `data_dir`: the city's data directory.
    public var dataDir: String?
    /// `peers_dirs`: more directories of peer cards.
    public var peersDirs: [String] = []
    /// `log_level`.
    public var logLevel: String?
    /// `server.listen`: host and port.
    public var listen: ListenAddress?
    /// `sync.interval`, `sync.connect_timeout`, `sync.request_timeout`, `sync.backoff_max` (ms).
    public var intervalMS: Int64?
    public var connectTimeoutMS: Int64?
    public var requestTimeoutMS: Int64?
    public var backoffMaxMS: Int64?
    /// `sync.peers`: sync only with these cities (empty: every card with an endpoint).
    public var peers: [CityID] = []
    /// `metrics.listen`: `nil` when absent (default applies), "" turns metrics off.
    public var metricsListen: String?
    /// `web.listen`: the read-only portal's address; `nil` when absent, "" turns it off.
    public var webListen: String?
    /// `officer.socket`: the officers' Unix socket; `nil` when absent, "" turns it off.
    public var officerSocket: String?
    /// `officer.group`: the group whose members may open it.
    public var officerGroup: String?
    /// `daemon.shutdown_grace` (ms).
    public var shutdownGraceMS: Int64?
    /// `server.max_connections`, `server.max_connections_per_address` (1 … 65,536).
    public var maxConnections: Int?
    public var maxConnectionsPerAddress: Int?
    /// `server.handshake_timeout` (100 ms … 10 min), `server.request_timeout` (100 ms … 1 h), in ms.
    public var handshakeTimeoutMS: Int64?
    public var serverRequestTimeoutMS: Int64?

    public init() {}

    public static let keys: [String: String] = [
        "data_dir": "string", "peers_dirs": "array of strings", "log_level": "string",
        "server.listen": "\"host:port\"", "sync.interval": "duration", "sync.connect_timeout": "duration",
        "sync.request_timeout": "duration", "sync.backoff_max": "duration", "sync.peers": "array of city ids",
        "metrics.listen": "\"host:port\" or \"\"", "web.listen": "\"host:port\" or \"\"", "daemon.shutdown_grace": "duration",
        "server.max_connections": "integer", "server.max_connections_per_address": "integer",
        "server.handshake_timeout": "duration", "server.request_timeout": "duration",
        "officer.socket": "absolute path or \"\"", "officer.group": "group name",
    ]

    /// Which keys a command checks. The CLI's commands read only `data_dir`,
    /// `peers_dirs` and `log_level`: a typo in a daemon's key (`[server]`, `[sync]`,
    /// `[metrics]`, `[web]`, `[officer]`, `[daemon]`) must not stop an officer's `c4csr list`. `serve` and
    /// `config check` check every key.
    public enum Scope: Sendable {
        case client
        case daemon

        /// Whether a problem with `key` (dotted) concerns this scope.
        func covers(_ key: String) -> Bool {
            switch self {
            case .daemon: true
            case .client: !key.contains(".")
            }
        }
    }

    /// Reads and validates a configuration file.
    /// - Throws: `ConfigError` naming the file, the line and the key of every problem
    ///   in `scope` (values of keys outside it are left unset).
    public static func load(path: String, scope: Scope = .daemon) throws(ConfigError) -> ConfigFile {
        let data: [UInt8]
        do { data = try FileAccess.read(path, limit: FileAccess.maxConfigBytes, what: "a configuration") } catch {
            throw ConfigError(file: path, problems: [error.reason == .unreadable ? FileAccess.readProblem(path) ?? "the file does not exist" : error.message])
        }
        return try parse(data, file: path, scope: scope)
    }

    public static func parse(_ bytes: [UInt8], file: String, scope: Scope = .daemon) throws(ConfigError) -> ConfigFile {
        let doc: TOMLDocument
        do { doc = try TOMLParser.parse(bytes) } catch {
            throw ConfigError(file: file, problems: ["line \(error.line): \(error.message)"])
        }
        var problems = [String]()
        func at(_ key: String) -> String { doc.line(of: key).map { "line \($0): \(key)" } ?? key }
        func report(_ key: String, _ problem: String) {
            if scope.covers(key) { problems.append("\(at(key)): \(problem)") }
        }
        guard case .object(let root) = doc.value else { throw ConfigError(file: file, problems: ["not a TOML table"]) }

        // Flatten one level of tables into dotted keys and refuse unknown ones.
        var flat = [String: JSONValue]()
        for (k, v) in root {
            if case .object(let table) = v, ["server", "sync", "metrics", "web", "officer", "daemon"].contains(k) {
                for (k2, v2) in table { flat["\(k).\(k2)"] = v2 }
            } else {
                flat[k] = v
            }
        }
        for key in flat.keys.sorted() where keys[key] == nil {
            report(key, "unknown key (known: \(keys.keys.sorted().joined(separator: ", ")))")
        }

        var c = ConfigFile()
        func string(_ key: String) -> String? {
            guard let v = flat[key] else { return nil }
            guard let s = v.stringValue else { report(key, "must be a string"); return nil }
            return s
        }
        func duration(_ key: String, _ range: ClosedRange<Int64>) -> Int64? {
            guard let v = flat[key] else { return nil }
            // A plain integer is seconds, as on the command line (`--interval 60`).
            let text = v.intValue.map { "\($0)s" } ?? v.stringValue
            guard let s = text, let ms = parseDuration(s) else {
                report(key, "must be a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\" (a plain number is seconds)")
                return nil
            }
            guard range.contains(ms) else {
                report(key, "\(s) is out of range (\(formatDuration(range.lowerBound)) … \(formatDuration(range.upperBound)))")
                return nil
            }
            return ms
        }

        c.dataDir = string("data_dir")
        if let d = c.dataDir, d.isEmpty { report("data_dir", "must not be empty") }
        if let v = flat["peers_dirs"] {
            if let a = v.arrayValue, a.allSatisfy({ $0.stringValue?.isEmpty == false }) {
                c.peersDirs = a.compactMap(\.stringValue)
            } else {
                report("peers_dirs", "must be an array of directory paths")
            }
        }
        if let l = string("log_level") {
            if ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(l) { c.logLevel = l } else {
                report("log_level", "must be one of trace, debug, info, notice, warning, error, critical (got \"\(l)\")")
            }
        }
        if let l = string("server.listen") {
            if let hp = ListenAddress(l) { c.listen = hp } else {
                report("server.listen", "must be \"host:port\" with a port from 0 to 65535 (got \"\(l)\")")
            }
        }
        c.intervalMS = duration("sync.interval", 1_000...86_400_000)
        c.connectTimeoutMS = duration("sync.connect_timeout", 100...600_000)
        c.requestTimeoutMS = duration("sync.request_timeout", 100...600_000)
        c.backoffMaxMS = duration("sync.backoff_max", 2_000...86_400_000)
        c.shutdownGraceMS = duration("daemon.shutdown_grace", 1_000...300_000)
        func integer(_ key: String, _ range: ClosedRange<Int64>) -> Int? {
            guard let v = flat[key] else { return nil }
            guard let n = v.intValue, range.contains(n) else {
                report(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return Int(n)
        }
        c.maxConnections = integer("server.max_connections", 1...65_536)
        c.maxConnectionsPerAddress = integer("server.max_connections_per_address", 1...65_536)
        c.handshakeTimeoutMS = duration("server.handshake_timeout", 100...600_000)
        c.serverRequestTimeoutMS = duration("server.request_timeout", 100...3_600_000)
        if let ct = c.connectTimeoutMS, let rt = c.requestTimeoutMS, ct > rt {
            report("sync.connect_timeout", "must not exceed sync.request_timeout")
        }
        if let v = flat["sync.peers"] {
            if let a = v.arrayValue {
                for item in a {
                    if let s = item.stringValue, let id = CityID(s) { c.peers.append(id) } else {
                        report("sync.peers", "\(item) is not a city id (\(CityID.rule))")
                    }
                }
            } else {
                report("sync.peers", "must be an array of city ids")
            }
        }
        if let m = string("metrics.listen") {
            if m.isEmpty || ListenAddress(m) != nil { c.metricsListen = m } else {
                report("metrics.listen", "must be \"host:port\", or \"\" to turn metrics off (got \"\(m)\")")
            }
        }
        if let w = string("web.listen") {
            if w.isEmpty || ListenAddress(w) != nil { c.webListen = w } else {
                report("web.listen", "must be \"host:port\", or \"\" to turn the portal off (got \"\(w)\")")
            }
        }
        if let o = string("officer.socket") {
            if o.isEmpty || (o.hasPrefix("/") && o.utf8.count < 100) { c.officerSocket = o } else {
                report("officer.socket", "must be an absolute path shorter than 100 bytes, or \"\" to turn the socket off (got \"\(o)\")")
            }
        }
        if let g = string("officer.group") {
            if !g.isEmpty, g.utf8.count <= 32 { c.officerGroup = g } else { report("officer.group", "must be a group name") }
        }
        if !problems.isEmpty { throw ConfigError(file: file, problems: problems) }
        return c
    }

    /// Applies the file's settings over `base`.
    public func apply(to base: DaemonConfiguration) -> DaemonConfiguration {
        var d = base
        if let listen { (d.host, d.port) = (listen.host, listen.port) }
        if let v = intervalMS { d.intervalMS = v }
        if let v = connectTimeoutMS { d.connectTimeoutMS = Int(v) }
        if let v = requestTimeoutMS { d.requestTimeoutMS = Int(v) }
        if let v = backoffMaxMS { d.backoffCapMS = v }
        if let v = shutdownGraceMS { d.shutdownGraceSeconds = Int((v + 999) / 1000) }
        if !peers.isEmpty { d.only = Set(peers) }
        if let m = metricsListen { d.metrics = ListenAddress(m) }
        if let w = webListen { d.web = ListenAddress(w) }
        if let o = officerSocket { d.officerSocket = o.isEmpty ? nil : o }
        if let g = officerGroup { d.officerGroup = g }
        if let v = maxConnections { d.listener.maxConnections = v }
        if let v = maxConnectionsPerAddress { d.listener.maxConnectionsPerAddress = v }
        if let v = handshakeTimeoutMS { d.listener.handshakeTimeout = .milliseconds(v) }
        if let v = serverRequestTimeoutMS { d.listener.requestTimeout = .milliseconds(v) }
        return d
    }
}

/// "500ms", "30s", "5m", "1h" → milliseconds.
public func parseDuration(_ s: String) -> Int64? {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (suffix, factor) in units where s.hasSuffix(suffix) {
        let number = s.dropLast(suffix.count)
        guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit), let n = Int64(number), n <= 1_000_000_000 else { return nil }
        return n * factor
    }
    return nil
}

public func formatDuration(_ ms: Int64) -> String {
    if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
    if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
    if ms % 1000 == 0 { return "\(ms / 1000)s" }
    return "\(ms)ms"
}

/// A listening address: "host:port" or "[v6]:port"; port 0 picks a free one.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ s: String) {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// A configuration that cannot be used: the file and every problem, each naming its
/// line and key.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let problems: [String]
    public var description: String {
        "invalid configuration \(file):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
