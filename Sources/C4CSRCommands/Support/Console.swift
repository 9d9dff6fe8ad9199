import ArgumentParser
import C4CSRCore
import C4CSRDaemon
import C4CSRNode
import C4CSRStore
import Foundation

/// Named exit codes (also listed in `c4csr --help` and docs/CLI.md).
enum Exit {
    static let failure = ExitCode(1)
    /// `audit` found problems, or `import` could not merge some entries.
    static let problems = ExitCode(2)
    /// Invalid input data (a file, a card, a field value); nothing was changed.
    static let invalidInput = ExitCode(65)
    /// No such city, practice or file.
    static let notFound = ExitCode(66)
    /// A peer could not be reached or refused the request (`sync`, `status --probe`, `audit --peers`).
    static let unreachable = ExitCode(69)
    /// The network's rules forbid it (changing another city's practice), or this user may
    /// not read a file that is there (EX_NOPERM).
    static let forbidden = ExitCode(77)
    /// The configuration is invalid (`config check`, `serve`).
    static let config = ExitCode(78)
    /// What the command was built from changed meanwhile; nothing was written: run it again (EX_TEMPFAIL).
    static let conflict = ExitCode(75)
}

/// Standard output and error. Human text goes through `TextRules.inert`: much of what
/// is printed (titles, refusals, a peer's error messages) comes from other cities, and no
/// escape sequence or bidirectional control in it may reach the terminal. `data` writes
/// exports and JSON untouched.
enum Console {
    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data((TextRules.inert(s, multiline: true) + "\n").utf8))
    }
    /// Human text without a newline added.
    static func write(_ s: String) {
        FileHandle.standardOutput.write(Data(TextRules.inert(s, multiline: true).utf8))
    }
    /// Machine-readable output (exports, JSON), exactly as given.
    static func data(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }
    static func err(_ s: String) {
        FileHandle.standardError.write(Data((TextRules.inert(s, multiline: true) + "\n").utf8))
    }
    static func warn(_ s: String) { err("c4csr: warning: \(s)") }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Prints a command's JSON (docs/CLI.md, "JSON output"): an object gets
    /// `"version": 1`, and every time given as `X_ms` (milliseconds since the epoch)
    /// also as `X`, an RFC 3339 string in UTC.
    static func json(_ v: JSONValue) {
        var v = withTimes(v)
        if case .object(var o) = v, o["version"] == nil {
            o["version"] = .int(1)
            v = .object(o)
        }
        data(PrettyJSON.string(v) + "\n")
    }

    static func withTimes(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out = o.mapValues(withTimes)
            for (key, value) in o where key.hasSuffix("_ms") {
                let name = String(key.dropLast(3))
                if out[name] == nil, let ms = value.intValue { out[name] = .string(rfc3339(ms)) }
            }
            return .object(out)
        case .array(let a): return .array(a.map(withTimes))
        default: return v
        }
    }

    /// "2026-11-30T14:36:23.120Z".
    static func rfc3339(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Whether the command was asked for JSON: its errors are JSON on standard error too.
    static var jsonErrors: Bool { CommandLine.arguments.contains("--json") }

    /// One error, as a line for a person or (with --json) a JSON object on standard error.
    static func fail(_ code: String, _ message: String, details: [String: JSONValue] = [:], exit: ExitCode) -> ExitCode {
        if jsonErrors {
            var o: [String: JSONValue] = ["code": .string(code), "message": .string(message), "exit": .int(Int64(exit.rawValue))]
            for (k, v) in details { o[k] = v }
            FileHandle.standardError.write(Data((CanonicalJSON.string(.object(["error": .object(o), "version": .int(1)])) + "\n").utf8))
        } else {
            err("c4csr: error: \(message)")
        }
        return exit
    }

    /// Runs a command body; turns errors into one line on standard error and a named exit code.
    static func run(_ body: () throws -> Void) throws {
        defer { Pager.finish() }
        do {
            try body()
        } catch {
            try report(error)
        }
    }

    /// `run` for commands that await (network, the daemon).
    static func run(_ body: () async throws -> Void) async throws {
        defer { Pager.finish() }
        do {
            try await body()
        } catch {
            try report(error)
        }
    }

    private static func report(_ error: any Error) throws -> Never {
        do {
            throw error
        } catch let e as ExitCode {
            throw e
        } catch let e as NodeError {
            switch e.kind {
            case .invalidInput: throw fail("invalid_input", e.message, exit: Exit.invalidInput)
            case .notFound: throw fail("not_found", e.message, exit: Exit.notFound)
            case .forbidden: throw fail("forbidden", e.message, exit: Exit.forbidden)
            case .permission: throw fail("permission", e.message, exit: Exit.forbidden)
            case .io: throw fail("io", e.message, exit: Exit.failure)
            case .conflict: throw fail("conflict", e.message, exit: Exit.conflict)
            }
        } catch let e as StoreError {
            throw fail(e.isNotFound ? "not_found" : "store", e.description, exit: e.isNotFound ? Exit.notFound : Exit.failure)
        } catch let e as ValidationErrors {
            if jsonErrors {
                let fields = JSONValue.array(e.errors.map { .object(["field": .string($0.field), "problem": .string($0.problem)]) })
                throw fail("invalid_input", "invalid input; nothing was changed", details: ["fields": fields], exit: Exit.invalidInput)
            }
            err("c4csr: error: invalid input:\n" + e.errors.map { "  - \($0)" }.joined(separator: "\n") + "\nnothing was changed")
            throw Exit.invalidInput
        } catch let e as ConfigError {
            throw fail("invalid_configuration", "\(e)", details: ["file": .string(e.file), "problems": .array(e.problems.map { .string($0) })],
                       exit: Exit.config)
        } catch let e as ValidationError {
            throw e
        } catch {
            throw fail("failed", "\(error)", exit: Exit.failure)
        }
    }
}

/// Progress of long work on standard error, only when it is a terminal and no JSON was
/// asked for: one line rewritten in place, at most ten times a second, cleared at the end.
final class Progress {
    let label: String
    let total: Int?
    let enabled: Bool
    private var shown = Date.distantPast

    init(_ label: String, total: Int? = nil, enabled: Bool = Console.stderrIsTerminal && !Console.jsonErrors) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    func update(_ done: Int) {
        guard enabled, Date().timeIntervalSince(shown) >= 0.1 else { return }
        shown = Date()
        let of = total.map { " / \(Format.count($0))" } ?? ""
        FileHandle.standardError.write(Data("\r\(label): \(Format.count(done))\(of) entries\u{1B}[K".utf8))
    }

    func say(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\(label): \(TextRules.inert(text, multiline: false))\u{1B}[K".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

enum Format {
    /// "2026-11-25 09:30 UTC" from milliseconds since the epoch (the same on every node).
    static func time(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)) + " UTC"
    }

    static func day(_ ms: Int64) -> String { String(time(ms).prefix(10)) }

    /// Pads to `width` columns (by characters: good enough for Latin, Cyrillic and Greek).
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func truncate(_ s: String, _ width: Int) -> String {
        s.count <= width ? s : String(s.prefix(width - 1)) + "…"
    }

    /// "812 B", "1.2 KB", "3.4 MB".
    static func bytes(_ n: Int) -> String {
        if n < 1000 { return "\(n) B" }
        if n < 1_000_000 { return String(format: "%.1f KB", Double(n) / 1000) }
        return String(format: "%.1f MB", Double(n) / 1_000_000)
    }

    /// "1 entry", "2 entries", "1,204 practices".
    static func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
        "\(count(n)) \(n == 1 ? one : many ?? one + "s")"
    }

    static func count(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.locale = Locale(identifier: "en_US")
        return f.string(from: NSNumber(value: n)) ?? String(n)
    }
}
