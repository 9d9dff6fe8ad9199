import Crypto

/// One head of a log: an entry at its origin's highest seq. (More than one per
/// origin only when that origin's chain forked at its top.)
public struct Head: Sendable, Hashable, Comparable {
    public let origin: CityID
    public let seq: Int64
    public let id: EntryID
    public init(origin: CityID, seq: Int64, id: EntryID) {
        self.origin = origin
        self.seq = seq
        self.id = id
    }
    public static func < (a: Head, b: Head) -> Bool {
        if a.origin != b.origin { return a.origin < b.origin }
        if a.seq != b.seq { return a.seq < b.seq }
        return a.id < b.id
    }
}

/// The network digest (invariant 6): SHA-256 over one line per head, then one line
/// per entry at a forked position, each sorted by origin, seq, id:
///
///     head <origin> <seq> <id hex>\n
///     fork <origin> <seq> <id hex>\n
///
/// Chains are hash-linked, so equal heads mean equal chains; the fork lines make
/// two logs that differ only in fork evidence differ in digest too.
public struct NetworkDigest: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(heads: [Head], forks: [Head]) {
        var text = ""
        for h in heads.sorted() { text += "head \(h.origin) \(h.seq) \(h.id.hex)\n" }
        for f in forks.sorted() { text += "fork \(f.origin) \(f.seq) \(f.id.hex)\n" }
        bytes = Array(SHA256.hash(data: Array(text.utf8)))
    }

    public var hex: String { Hex.encode(bytes) }
    /// The first 16 hex digits: enough to compare two cities in one line.
    public var short: String { String(hex.prefix(16)) }
    public var description: String { short }
}
