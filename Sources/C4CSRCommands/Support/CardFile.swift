import C4CSRNode

/// A peer card file named on the command line (`init --from-card`, `peers add`): read
/// bounded (`FileAccess.maxCardBytes`, a regular file), and UTF-8.
enum CardFile {
    static func read(_ path: String) throws -> String {
        let bytes: [UInt8]
        do { bytes = try FileAccess.read(path, limit: FileAccess.maxCardBytes, what: "a peer card") } catch { throw NodeError(error) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw NodeError.invalidInput("\(path) is not UTF-8 text; a peer card is") }
        return text
    }
}

extension NodeError {
    /// A file that cannot be read is not found (exit 66); one that is not a regular file
    /// or too large is bad input (exit 65).
    init(_ error: FileReadError) {
        self = error.reason == .unreadable ? .notFound(error.message) : .invalidInput(error.message)
    }
}
