import C4CSRCore
import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one event per line to standard error:
///
///     2026-11-25T13:35:18Z warning sync round failed c4csr.peer=sofia c4csr.error="…"
///
/// Under journald (systemd sets `JOURNAL_STREAM`) it drops its own timestamp, which
/// the journal records, and prefixes the syslog priority (`<4>`) so that
/// `journalctl -p warning` filters by level.
struct LineLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    let label: String
    let journald: Bool

    private static let lock = Mutex(())
    /// One level for the whole process, so that a reload (SIGHUP) changes it everywhere.
    private static let level = Mutex<Logger.Level>(.info)

    var logLevel: Logger.Level {
        get { Self.level.withLock { $0 } }
        set { Self.setLevel(newValue) }
    }

    static func setLevel(_ l: Logger.Level) { level.withLock { $0 = l } }

    init(label: String, journald: Bool) {
        self.label = label
        self.journald = journald
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = ""
        if journald {
            line += "<\(Self.priority(event.level))>"
        } else {
            line += Self.timestamp() + " "
        }
        // Peer-controlled text reaches messages and metadata: nothing in it may end the
        // line or drive the terminal (TextRules.inert escapes controls, C1 and bidi).
        line += "\(event.level) \(TextRules.inert("\(event.message)"))"
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in all.keys.sorted() {
            line += " \(key)=\(Self.quote("\(all[key]!)"))"
        }
        line += "\n"
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Quotes a value that holds spaces, quotes or `=`, so that each line splits into key=value pairs.
    static func quote(_ raw: String) -> String {
        guard raw.isEmpty || raw.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" })
            || raw.unicodeScalars.contains(where: { !TextRules.isAllowed($0, multiline: false) }) else { return raw }
        // Backslashes and quotes first, then controls as \u{…}: a reader can undo each.
        let escaped = raw.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + TextRules.inert(escaped) + "\""
    }

    /// syslog priorities (sd-daemon.h): 7 debug … 2 critical.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func timestamp() -> String {
        var t = time(nil)
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
    }

    /// Installs the handler for the whole process, once (swift-log traps on a second call).
    static func bootstrap(level: Logger.Level) {
        let journald = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        setLevel(level)
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, journald: journald) }
    }
}
