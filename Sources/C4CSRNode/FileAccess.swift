import Foundation

/// The user this process runs as, for messages: "alice (uid 1000)".
public enum Account {
    public static var current: String { describe(uid: getuid()) }

    static func describe(uid: uid_t) -> String {
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }
}

/// Why a file cannot be read by this process, as a sentence that names the file (or the
/// directory that blocks the way), its owner and mode, and the user we run as: "no city
/// here" or "the key is missing" would send an administrator looking for a file that
/// is there all along.
public enum FileAccess {
    /// `nil` when `path` can be read (and written, with `write`), or does not exist and nothing blocks the way to it;
    /// otherwise what stands in the way.
    public static func readProblem(_ path: String, write: Bool = false) -> String? {
        if access(path, write ? R_OK | W_OK : R_OK) == 0 { return nil }
        if errno == EACCES, let problem = blocked(path, verb: write ? "write" : "read") { return problem }
        // Missing, or hidden behind a directory this user may not enter.
        var url = URL(fileURLWithPath: path).standardizedFileURL
        var ancestors = [String]()
        while url.path != "/" {
            url.deleteLastPathComponent()
            ancestors.append(url.path)
        }
        for dir in ancestors.reversed() where access(dir, X_OK) != 0 && errno == EACCES {
            return blocked(dir, verb: "enter") ?? "cannot enter \(dir) as user \(Account.current)"
        }
        return nil
    }

    /// "cannot read P as user alice (uid 1000): it belongs to c4csr (uid 998), mode 0600;
    /// run c4csr as c4csr …".
    static func blocked(_ path: String, verb: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let owner = (attributes[.ownerAccountID] as? NSNumber).map({ uid_t($0.uint32Value) }),
              let permissions = attributes[.posixPermissions] as? Int else { return nil }
        let mode = String(permissions & 0o7777, radix: 8)
        var s = "cannot \(verb) \(path) as user \(Account.current): it belongs to \(Account.describe(uid: owner)), mode \(String(repeating: "0", count: max(0, 4 - mode.count)) + mode)"
        if owner != getuid(), let pw = getpwuid(owner), let name = pw.pointee.pw_name {
            let user = String(cString: name)
            s += "; run c4csr as that user (sudo -u \(user) c4csr …), or give the files to the user that runs c4csr (chown -R); an officer writes practices through the daemon with `--officer ID` instead (docs/OPERATIONS.md, Officers)"
        }
        return s
    }
}

/// Why a named file could not be read: a sentence that names it.
public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable { case unreadable, notRegular, tooLarge }
    public let reason: Reason
    public let message: String
    public var description: String { message }
}

extension FileAccess {
    /// The largest peer card read (cards are about 1 KB).
    public static let maxCardBytes = 64 * 1024
    /// The largest configuration file read.
    public static let maxConfigBytes = 1 << 20

    /// Reads a file that a command line, a configuration or a directory of cards names,
    /// bounded: at most `limit` bytes, and only a regular file. A device (`/dev/zero`),
    /// a FIFO or a file that keeps growing is refused with a sentence, never read
    /// without end; opening never blocks (a FIFO is opened non-blocking, then refused).
    ///
    /// - Parameter what: what the file should be, for the message ("a peer card").
    /// - Throws: `FileReadError` naming the file: it cannot be read (who may, see
    ///   `readProblem`), is not a regular file, or is larger than `limit`.
    public static func read(_ path: String, limit: Int, what: String) throws(FileReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            throw FileReadError(reason: .unreadable, message: readProblem(path) ?? "cannot read \(path) (\(why))")
        }
        defer { close(fd) }
        // The type and size of what the path names now (symbolic links followed); the
        // read below is bounded whatever replaces it meanwhile.
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let attributes = try? FileManager.default.attributesOfItem(atPath: resolved)
        guard attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw FileReadError(reason: .notRegular, message: "\(path) is not a regular file; \(what) is read from a file")
        }
        let tooLarge = FileReadError(reason: .tooLarge, message: "\(path) is larger than \(Self.size(limit)); \(what) is far smaller")
        guard ((attributes?[.size] as? NSNumber)?.intValue ?? 0) <= limit else { throw tooLarge }
        return try readAll(fd, limit: limit, name: path, tooLarge: tooLarge)
    }

    /// Reads standard input (or any descriptor) to its end, at most `limit` bytes.
    public static func readStandardInput(limit: Int, what: String) throws(FileReadError) -> [UInt8] {
        try readAll(STDIN_FILENO, limit: limit, name: "standard input",
                    tooLarge: FileReadError(reason: .tooLarge, message: "standard input is larger than \(size(limit)); \(what) is far smaller"))
    }

    private static func readAll(_ fd: Int32, limit: Int, name: String, tooLarge: FileReadError) throws(FileReadError) -> [UInt8] {
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return bytes }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    // A descriptor in non-blocking mode with nothing yet: wait for it.
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&p, 1, -1)
                    continue
                }
                throw FileReadError(reason: .unreadable, message: "cannot read \(name) (\(String(cString: strerror(errno))))")
            }
            bytes += chunk[0..<n]
            if bytes.count > limit { throw tooLarge }
        }
    }

    static func size(_ n: Int) -> String {
        n >= 1 << 20 && n % (1 << 20) == 0 ? "\(n >> 20) MiB" : n >= 1024 && n % 1024 == 0 ? "\(n >> 10) KiB" : "\(n) bytes"
    }
}
