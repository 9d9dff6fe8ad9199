import Crypto

/// A city's identifier in the network: 2–32 characters of `a-z`, `0-9` and `-`,
/// starting with a letter (`milano`, `molina-de-segura`).
///
/// Ordering is by UTF-8 bytes (all ASCII), the same as SQLite's BINARY collation,
/// so merged order agrees between Swift, SQL and any other implementation.
public struct CityID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ rawValue: String) {
        guard CityID.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    public static func isValid(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (2...32).contains(u.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(u[0]) else { return false }
        return u.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
    }

    public static let rule = "2–32 characters of a-z, 0-9 and '-', starting with a letter"

    public static func < (a: CityID, b: CityID) -> Bool {
        a.rawValue.utf8.lexicographicallyPrecedes(b.rawValue.utf8)
    }
    public var description: String { rawValue }
}

/// An entry's id: the SHA-256 of its signed bytes (the body).
public struct EntryID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64, let b = Hex.decode(hex) else { return nil }
        self.bytes = b
    }

    /// The id of `body`: SHA-256 over exactly those bytes.
    public static func of(body: [UInt8]) -> EntryID {
        EntryID(uncheckedBytes: Array(SHA256.hash(data: body)))
    }

    init(uncheckedBytes: [UInt8]) { self.bytes = uncheckedBytes }

    public var hex: String { Hex.encode(bytes) }
    /// The first 12 hex digits, as shown to people (like a short git hash).
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }

    public static func < (a: EntryID, b: EntryID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
