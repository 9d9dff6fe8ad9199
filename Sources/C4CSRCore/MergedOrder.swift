/// The merged network order (invariant 5): sum of the vector clock, then origin
/// (bytes), then seq, then id (bytes). If e1 happened before e2 then e1's clock
/// sum is smaller, so this is a linear extension of happened-before; and it uses
/// only what is inside the entries, so every node orders the same entries the same way.
public struct MergedOrderKey: Comparable, Hashable, Sendable {
    public let rank: Int64
    public let origin: CityID
    public let seq: Int64
    public let id: EntryID

    public init(rank: Int64, origin: CityID, seq: Int64, id: EntryID) {
        self.rank = rank
        self.origin = origin
        self.seq = seq
        self.id = id
    }

    public static func < (a: MergedOrderKey, b: MergedOrderKey) -> Bool {
        if a.rank != b.rank { return a.rank < b.rank }
        if a.origin != b.origin { return a.origin < b.origin }
        if a.seq != b.seq { return a.seq < b.seq }
        return a.id < b.id
    }
}

extension Sequence where Element == Entry {
    /// The entries in merged network order.
    public func mergedOrder() -> [Entry] { sorted { $0.orderKey < $1.orderKey } }
}
