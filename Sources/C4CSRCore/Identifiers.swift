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

    private init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Chain ids (docs/PROTOCOL.md §15): a city's entries live in one chain per generation,
/// the chain of generation 1 named by the city id, of generation g ≥ 2 by the city id,
/// `~` and g (`sofia~2`). A `CityID` made by `init(_:)` is always a city id (cards,
/// flags, configuration); `chain(_:)` also reads a later generation's chain id.
extension CityID {
    /// The highest generation a chain id may name.
    public static let maxGeneration = 999

    /// Reads a chain id: a city id, or a city id, `~` and a generation 2…999 in decimal
    /// without leading zeros; `nil` for anything else.
    public static func chain(_ rawValue: String) -> CityID? {
        guard let tilde = rawValue.utf8.firstIndex(of: UInt8(ascii: "~")) else { return CityID(rawValue) }
        let city = String(rawValue[..<tilde]), digits = Array(rawValue.utf8[rawValue.utf8.index(after: tilde)...])
        guard CityID.isValid(city), (1...3).contains(digits.count), digits[0] != UInt8(ascii: "0"),
              digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let g = Int(String(decoding: digits, as: UTF8.self)), (2...CityID.maxGeneration).contains(g) else { return nil }
        return CityID(unchecked: rawValue)
    }

    /// The chain of `city`'s generation `generation` (1…999).
    public static func chain(of city: CityID, generation: Int) -> CityID {
        precondition((1...maxGeneration).contains(generation), "generation \(generation) is out of range")
        let base = city.city
        return generation == 1 ? base : CityID(unchecked: "\(base.rawValue)~\(generation)")
    }

    /// The city whose chain this is: the id up to `~`.
    public var city: CityID {
        guard let tilde = rawValue.utf8.firstIndex(of: UInt8(ascii: "~")) else { return self }
        return CityID(unchecked: String(rawValue[..<tilde]))
    }

    /// The chain's generation: 1 for a city id.
    public var generation: Int {
        guard let tilde = rawValue.utf8.firstIndex(of: UInt8(ascii: "~")) else { return 1 }
        return Int(String(rawValue[rawValue.index(after: tilde)...])) ?? 1
    }
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
