/// What two nodes' heads say about each other (invariants 6 and 7): who lacks how
/// many entries, and whether their logs are the same. Pure: both sides are values.
public struct HeadsComparison: Sendable, Hashable {
    /// Entries the remote holds beyond the local vector (sum over origins).
    public let weLack: Int64
    /// Entries the local node holds beyond the remote vector.
    public let theyLack: Int64
    /// The network digests are equal: the two logs hold the same entries.
    public let digestsAgree: Bool
    /// Origins whose chains the two nodes see differently at a seq both hold: the
    /// same highest seq with other ids. Only a fork explains this.
    public let divergent: [CityID]

    public init(local: PeerHeads, remote: PeerHeads) {
        let lv = local.vector, rv = remote.vector
        var weLack: Int64 = 0, theyLack: Int64 = 0
        // Saturating: a peer's heads may name up to `maxHeads` origins at 2⁵³ − 1.
        for (o, n) in rv.components where n > lv[o] { weLack = weLack.addingSaturating(n - lv[o]) }
        for (o, n) in lv.components where n > rv[o] { theyLack = theyLack.addingSaturating(n - rv[o]) }
        self.weLack = weLack
        self.theyLack = theyLack
        digestsAgree = local.digest == remote.digest
        // Grouped once: linear in the number of heads, however many a peer sends.
        let mine = Dictionary(grouping: local.heads, by: \.origin).mapValues { Set($0.map(\.id)) }
        let theirs = Dictionary(grouping: remote.heads, by: \.origin).mapValues { Set($0.map(\.id)) }
        var divergent = [CityID]()
        for (o, n) in lv.components where rv[o] == n && mine[o] != theirs[o] { divergent.append(o) }
        self.divergent = divergent.sorted()
    }

    /// Neither side lacks anything by seq, yet the logs differ: only fork evidence
    /// (entries at forked positions) can explain it, and the fork exchange settles it.
    public var needsForkExchange: Bool { !digestsAgree && weLack == 0 && theyLack == 0 }
}

/// Which entries at forked positions each side should fetch or send, from the two
/// fork lists. Every entry at a forked position is evidence that must reach everyone.
public struct ForkExchange: Sendable, Hashable {
    /// Ids the remote lists that the local node does not hold.
    public let fetch: [EntryID]
    /// Ids at local forked positions that the remote does not list.
    public let send: [EntryID]

    /// - Parameters:
    ///   - local: every entry at a local forked position.
    ///   - remote: every entry at a remote forked position.
    ///   - holds: whether the local log holds an id (the remote may list an entry
    ///     the local node holds at a position that is not forked locally).
    public init(local: [Head], remote: [Head], holds: (EntryID) throws -> Bool) rethrows {
        let remoteIDs = Set(remote.map(\.id))
        var fetch = [EntryID]()
        for h in remote.sorted() where try !holds(h.id) { fetch.append(h.id) }
        self.fetch = fetch
        send = local.sorted().map(\.id).filter { !remoteIDs.contains($0) }
    }
}
