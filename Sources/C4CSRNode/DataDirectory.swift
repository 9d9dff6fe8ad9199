import C4CSRCore
import Foundation

/// The files of one city's data directory:
///
///     <data-dir>/
///       city.toml                 this city's peer card (public; give it to the others)
///       keys/entry-signing.key    Ed25519 seed, base64, mode 0600 (secret)
///       keys/tls.key              P-256 TLS key, PEM, mode 0600 (secret)
///       tls.crt                   self-signed TLS certificate, PEM (its pin is in city.toml)
///       peers/*.toml              peer cards of the cities this city knows
///       store.sqlite (+ -wal, -shm)  the log
///       serve.json                while `c4csr serve` runs: its pid and bound address
public struct DataDirectory: Sendable {
    public let root: URL

    public init(_ path: String) { root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL }

    public var cardFile: URL { root.appendingPathComponent("city.toml") }
    public var keysDirectory: URL { root.appendingPathComponent("keys", isDirectory: true) }
    public var signingKeyFile: URL { keysDirectory.appendingPathComponent("entry-signing.key") }
    /// The new key of a rotation, until the log has put it in force (`c4csr key rotate`).
    public var pendingSigningKeyFile: URL { keysDirectory.appendingPathComponent("entry-signing.key.next") }
    public var peersDirectory: URL { root.appendingPathComponent("peers", isDirectory: true) }
    public var storeFile: URL { root.appendingPathComponent("store.sqlite") }
    public var tlsKeyFile: URL { keysDirectory.appendingPathComponent("tls.key") }
    public var tlsCertificateFile: URL { root.appendingPathComponent("tls.crt") }
    public var serveFile: URL { root.appendingPathComponent("serve.json") }

    public var exists: Bool { FileManager.default.fileExists(atPath: cardFile.path) }

    /// Where the data directory is when no flag names it: `C4CSR_DATA_DIR`, else
    /// `$STATE_DIRECTORY` (set by systemd's `StateDirectory=`), else
    /// `$XDG_DATA_HOME/c4csr`, else `~/.local/share/c4csr`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = environment["C4CSR_DATA_DIR"], !p.isEmpty { return p }
        if let p = environment["STATE_DIRECTORY"], !p.isEmpty { return p.split(separator: ":").first.map(String.init) ?? p }
        if let p = environment["XDG_DATA_HOME"], !p.isEmpty { return p + "/c4csr" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/c4csr"
    }
}

/// Writes a secret file atomically-exclusively with mode 0600 from the start (no
/// window in which it is readable by others), refusing to overwrite.
func writeSecret(_ bytes: [UInt8], to url: URL) throws {
    let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw NodeError.io("cannot create \(url.path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw NodeError.io("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        offset += n
    }
    guard fsync(fd) == 0 else { throw NodeError.io("cannot sync \(url.path): \(String(cString: strerror(errno)))") }
}

/// Runs `body` holding an exclusive `flock` on `keys/rotate.lock`: one key rotation (or
/// the completion of one, at open) at a time, so that two admins rotating at once can
/// never install a key the log did not put in force.
func withKeyLock<T>(_ directory: DataDirectory, _ body: () throws -> T) throws -> T {
    let path = directory.keysDirectory.appendingPathComponent("rotate.lock").path
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw NodeError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
        guard errno == EINTR else { throw NodeError.io("cannot lock \(path): \(String(cString: strerror(errno)))") }
    }
    defer { flock(fd, LOCK_UN) }
    return try body()
}

/// Syncs a folder, so that a rename inside it survives a crash.
func syncDirectory(_ url: URL) {
    let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
}

/// Writes a file by a temporary file and rename, so readers never see half of it.
func writeAtomically(_ text: String, to url: URL) throws {
    do {
        try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
        throw NodeError.io("cannot write \(url.path): \(error.localizedDescription)")
    }
}

/// Why an operation of a city failed, as one sentence for a person.
public struct NodeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The input (a flag, a file, a card) is wrong: nothing was changed.
        case invalidInput
        /// Something that must exist does not (data directory, practice).
        case notFound
        /// A rule of the network forbids it (revising another city's practice).
        case forbidden
        /// A file or the store could not be read or written.
        case io
        /// This user may not read or write a file that is there (owner, mode).
        case permission
        /// What the request was built from changed meanwhile (an officer's revision of a
        /// practice another revision superseded): nothing was written; build it again.
        case conflict
    }
    public let kind: Kind
    public let message: String
    public var description: String { message }

    public static func invalidInput(_ m: String) -> NodeError { NodeError(kind: .invalidInput, message: m) }
    public static func notFound(_ m: String) -> NodeError { NodeError(kind: .notFound, message: m) }
    public static func forbidden(_ m: String) -> NodeError { NodeError(kind: .forbidden, message: m) }
    public static func io(_ m: String) -> NodeError { NodeError(kind: .io, message: m) }
    public static func permission(_ m: String) -> NodeError { NodeError(kind: .permission, message: m) }
    public static func conflict(_ m: String) -> NodeError { NodeError(kind: .conflict, message: m) }
}

/// What an officer hands the city's daemon (docs/PROTOCOL.md §13): the content they
/// wrote and their signature over its content message. The daemon places it in the
/// chain and signs the entry with the city key.
public struct OfficerContent: Sendable, Hashable {
    public let officer: OfficerID
    public let kind: EntryKind
    public let payload: [String: JSONValue]
    public let time: Int64
    public let signature: [UInt8]

    public init(officer: OfficerID, kind: EntryKind, payload: [String: JSONValue], time: Int64, signature: [UInt8]) {
        self.officer = officer
        self.kind = kind
        self.payload = payload
        self.time = time
        self.signature = signature
    }

    /// Content signed by `key` for `city` (what an officer's CLI makes).
    public static func signed(
        by key: CitySigningKey, officer: OfficerID, city: CityID, kind: EntryKind, payload: [String: JSONValue], time: Int64
    ) -> OfficerContent {
        let message = Author.contentMessage(city: city, kind: kind, officer: officer, payload: payload, time: time)
        return OfficerContent(officer: officer, kind: kind, payload: payload, time: time, signature: key.signature(for: message))
    }
}

/// What a write by this city did: the entry it signed, or `nil` when there was nothing
/// to write (a revision that changes nothing, an adoption already recorded); `note`
/// says why, or what else the entry does ("reinstates practice …").
public struct LocalWrite: Sendable {
    /// The practice written about.
    public let practice: EntryID
    public let entry: Entry?
    public let note: String?
}

/// An officer's personal signing key (docs/PROTOCOL.md §13): a file of its own, mode
/// 0600, in the officer's account; never in the city's data directory.
public enum OfficerKeyFile {
    /// Makes a new key at `url`; refuses to overwrite a file that is there.
    public static func create(at url: URL) throws -> CitySigningKey {
        let key = CitySigningKey()
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if FileManager.default.fileExists(atPath: url.path) {
            throw NodeError.invalidInput("\(url.path) already exists; an officer key is never overwritten (choose another --output, or remove the old one after its officer was removed)")
        }
        try writeSecret(Array((Data(key.rawRepresentation).base64EncodedString() + "\n").utf8), to: url)
        return key
    }

    /// Reads a key written by `create` (mode 0600, base64 of the 32-byte seed).
    public static func load(_ url: URL) throws -> CitySigningKey {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw NodeError.notFound("no officer key at \(url.path): make one with `c4csr officer key` (and have the admin enrol it), or name yours with --officer-key")
        }
        return try City.loadKey(url)
    }
}
