/// A vector timestamp: for each city, how many of its entries are in the causal
/// past (inclusive). Components that are zero are absent, so two clocks are equal
/// exactly when their dictionaries are equal.
public struct VectorClock: Hashable, Sendable, CustomStringConvertible {
    public private(set) var components: [CityID: Int64]

    public init(_ components: [CityID: Int64] = [:]) {
        self.components = components.filter { $0.value != 0 }
    }

    public subscript(city: CityID) -> Int64 {
        get { components[city] ?? 0 }
        set { components[city] = newValue == 0 ? nil : newValue }
    }

    /// The sum of all components: the first key of the merged order. Saturating, so
    /// that no clock can trap it; a decoded entry's clock is bounded
    /// (`ProtocolLimits.maxClockComponents`) so that its sum never reaches the bound.
    public var sum: Int64 { components.values.reduce(0) { $0.addingSaturating($1) } }

    /// `self ≤ other` componentwise.
    public func isDominated(by other: VectorClock) -> Bool {
        components.allSatisfy { other[$0.key] >= $0.value }
    }

    /// Happened-before: `self ≤ other` componentwise and the clocks differ.
    public func happenedBefore(_ other: VectorClock) -> Bool {
        self != other && isDominated(by: other)
    }

    /// Neither happened before the other, and they differ.
    public func isConcurrent(with other: VectorClock) -> Bool {
        self != other && !isDominated(by: other) && !other.isDominated(by: self)
    }

    /// The componentwise maximum.
    public func merged(with other: VectorClock) -> VectorClock {
        var out = self
        for (city, n) in other.components where n > out[city] { out[city] = n }
        return out
    }

    public var json: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: components.map { ($0.key.rawValue, JSONValue.int($0.value)) }))
    }

    public var description: String {
        "{" + components.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",") + "}"
    }
}
