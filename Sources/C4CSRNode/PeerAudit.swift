import C4CSRCore
import C4CSRStore

/// What `audit --peers` learned from one peer: whether its log agrees with ours, and
/// any city whose chain the two nodes see differently — a fork shown to different
/// cities, which no amount of syncing between honest nodes produces.
public struct PeerAgreement: Sendable {
    /// An origin whose chain differs between the two nodes at a seq both hold.
    public struct Divergence: Sendable, Hashable, CustomStringConvertible {
        public let origin: CityID
        public let seq: Int64
        /// The peer's entry at that seq, which this node does not hold.
        public let theirs: EntryID?
        public let ours: EntryID?
        public var description: String {
            "\(origin)'s chain differs at seq \(seq): this node holds \(ours?.short ?? "another entry"), the peer \(theirs?.short ?? "another entry")"
        }
    }

    public let peer: CityID
    /// This node's heads and digest, as compared (the store's, which peers see).
    public var local: PeerHeads?
    public var remote: PeerHeads?
    public var comparison: HeadsComparison?
    public var divergences: [Divergence] = []
    /// The peer could not be asked, as one sentence.
    public var error: String?

    public init(peer: CityID) { self.peer = peer }

    public var agrees: Bool { comparison?.digestsAgree ?? false }
}

extension City {
    /// Asks a peer for its heads and checks, origin by origin, that both nodes hold the
    /// same chain up to the lower of their two seqs (chains are hash-linked, so one
    /// entry id per origin settles it).
    public func compare(with peer: CityID, transport: any PeerTransport) async -> PeerAgreement {
        var result = PeerAgreement(peer: peer)
        do {
            let local = try localHeads()
            result.local = local
            let remote = try await transport.heads()
            result.remote = remote
            result.comparison = HeadsComparison(local: local, remote: remote)
            if result.agrees { return result }
            let lv = local.vector, rv = remote.vector
            var askPeer = [(origin: CityID, seq: Int64, id: EntryID)]()
            for (origin, theirSeq) in rv.components {
                let ourSeq = lv[origin]
                guard ourSeq > 0 else { continue }
                if theirSeq <= ourSeq {
                    // Their top entry must be in our chain.
                    for h in remote.heads where h.origin == origin && h.seq == theirSeq {
                        if try !store.contains(h.id) {
                            result.divergences.append(.init(origin: origin, seq: theirSeq, theirs: h.id, ours: try store.entryID(origin: origin, seq: theirSeq)))
                        }
                    }
                } else {
                    // Our top entry must be in their chain: ask for it by id.
                    for h in local.heads where h.origin == origin { askPeer.append((origin, h.seq, h.id)) }
                }
            }
            if !askPeer.isEmpty {
                let found = Set(try await transport.entries(IDsRequest(ids: askPeer.map(\.id))).map { EntryID.of(body: $0.body) })
                for a in askPeer where !found.contains(a.id) {
                    result.divergences.append(.init(origin: a.origin, seq: a.seq, theirs: nil, ours: a.id))
                }
            }
        } catch {
            result.error = "\(error)"
        }
        return result
    }
}
