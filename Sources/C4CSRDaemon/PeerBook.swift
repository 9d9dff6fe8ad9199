import C4CSRCore
import C4CSRNode
import Synchronization

/// The daemon's view of its peers, reloadable at run time (SIGHUP): which TLS pins
/// may connect (and as which city), and which cities to sync with.
///
/// A card with a `tls_pin` lets that city connect to us; a card with `endpoint`,
/// `tls_pin` and `public_key` is a peer we sync with, unless `only` restricts the set.
public final class PeerBook: Sendable {
    /// What a caller may do with the sync API (docs/SYNC.md, "Who may call what").
    public enum Access: Int, Sendable, Comparable {
        /// `GET /v1/health` only: a card with a pin but no `public_key` (not onboarded).
        case health
        /// Reading routes too (heads, pull, forks, entries): a member outside `sync.peers`,
        /// or an observer.
        case read
        /// Everything, push included: a member this city syncs with.
        case push

        public static func < (a: Access, b: Access) -> Bool { a.rawValue < b.rawValue }
    }

    public struct Snapshot: Sendable {
        /// TLS pin → city, for every card that has a pin.
        public var pins: [String: CityID] = [:]
        /// What each city with a pin may call.
        public var access: [CityID: Access] = [:]
        /// The cards we run rounds with.
        public var syncPeers: [PeerCard] = []
        /// Cards skipped, one sentence each.
        public var warnings: [String] = []
    }

    private let state: Mutex<Snapshot>
    private let restriction: Mutex<Set<CityID>?>

    public init(city: City, only: Set<CityID>? = nil) {
        restriction = Mutex(only)
        state = Mutex(Self.snapshot(city.peers, only: only))
    }

    /// If set, only these cities are synced with (a partial mesh, or a firewall).
    public var only: Set<CityID>? { restriction.withLock { $0 } }

    /// Changes the restriction; takes effect at the next `reload`.
    public func restrict(to only: Set<CityID>?) { restriction.withLock { $0 = only } }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Re-reads the cards through the city (its verifier keys change with them).
    /// - Returns: the new snapshot.
    @discardableResult
    public func reload(_ city: City) -> Snapshot {
        let s = Self.snapshot(city.reloadPeers(), only: only)
        state.withLock { $0 = s }
        return s
    }

    /// The city whose card carries this pin, if any.
    public func city(forPin pin: String) -> CityID? { state.withLock { $0.pins[pin] } }

    /// What `city` may call now (`nil`: nothing; its card is gone).
    public func access(of city: CityID) -> Access? { state.withLock { $0.access[city] } }

    static func snapshot(_ directory: PeerDirectory, only: Set<CityID>?) -> Snapshot {
        var s = Snapshot()
        s.warnings = directory.warnings
        for card in directory.cards {
            if let pin = card.tlsPin {
                s.pins[pin] = card.city
                s.access[card.city] = card.isObserver ? .read
                    : card.publicKey == nil ? .health : (only.map { $0.contains(card.city) } ?? true) ? .push : .read
            }
            // An observer reads from us; we never run rounds with it (it holds nothing of its own).
            if card.isObserver { continue }
            if let only, !only.contains(card.city) { continue }
            if card.isSyncable {
                s.syncPeers.append(card)
            } else if only != nil || card.endpoint != nil {
                s.warnings.append("\(card.city): its card lacks endpoint, tls_pin or public_key; not synced with")
            }
        }
        if let only {
            for id in only.sorted() where !directory.cards.contains(where: { $0.city == id }) {
                s.warnings.append("\(id): no peer card; not synced with")
            }
        }
        return s
    }
}
