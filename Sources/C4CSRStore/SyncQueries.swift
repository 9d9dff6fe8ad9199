import C4CSRCore
import Foundation
import GRDB

/// What the sync protocol reads of the log. Each read is one snapshot; none of them
/// scans the log: their cost follows what is asked, not the log's size.
extension LogStore {
    /// The entries this log holds that a node with version vector `have` lacks (per
    /// origin, those with seq above `have[origin]`), the first `limit` of them in
    /// merged order, stopping before `maxBytes` of stream (but always at least one).
    ///
    /// A prefix of the lacking set in merged order is always acceptable to a node
    /// whose log is causally closed and matches `have`: every entry's causal past is
    /// either held there or earlier in the page (docs/PROTOCOL.md §10).
    ///
    /// Cost: per origin with something lacking, one range read of at most `limit`
    /// index rows (origin, rank), then one point read per returned entry.
    public func lacking(_ have: VectorClock, limit: Int, maxBytes: Int) throws -> (entries: [SignedEntry], more: Bool) {
        try read { db in
            struct Candidate: Comparable {
                let rank: Int64, origin: String, seq: Int64, id: [UInt8], position: Int64
                static func < (a: Candidate, b: Candidate) -> Bool {
                    if a.rank != b.rank { return a.rank < b.rank }
                    if a.origin != b.origin { return a.origin.utf8.lexicographicallyPrecedes(b.origin.utf8) }
                    if a.seq != b.seq { return a.seq < b.seq }
                    return a.id.lexicographicallyPrecedes(b.id)
                }
            }
            var candidates = [Candidate]()
            var truncated = false
            let tops = try Row.fetchAll(db, sql: "SELECT origin, max(seq) FROM head GROUP BY origin")
            for top in tops {
                let origin: String = top[0]
                let ourTop: Int64 = top[1]
                let theirs = CityID.chain(origin).map { have[$0] } ?? 0
                guard ourTop > theirs else { continue }
                // Every entry above `theirs` descends from an entry at `theirs`, so its
                // rank exceeds the smallest rank there: start the index range after it.
                let floor = theirs == 0 ? -1 : (try Int64.fetchOne(
                    db, sql: "SELECT min(rank) FROM entry INDEXED BY entry_chain WHERE origin = ? AND seq = ?", arguments: [origin, theirs]) ?? -1)
                let rows = try Row.fetchAll(db, sql: """
                    SELECT rank, seq, id, position FROM entry INDEXED BY entry_origin_rank
                    WHERE origin = ? AND rank > ? AND seq > ? ORDER BY rank, seq, id LIMIT ?
                    """, arguments: [origin, floor, theirs, limit])
                if rows.count == limit { truncated = true }
                for r in rows {
                    candidates.append(Candidate(rank: r[0], origin: origin, seq: r[1], id: Array(r[2] as Data), position: r[3]))
                }
            }
            candidates.sort()
            let statement = try db.cachedStatement(sql: "SELECT body, sig FROM entry WHERE position = ?")
            var out = [SignedEntry]()
            var bytes = EntryStream.headerSize
            for c in candidates.prefix(limit) {
                guard let row = try Row.fetchOne(statement, arguments: [c.position]) else { continue }
                let e = SignedEntry(body: Array(row[0] as Data), signature: Array(row[1] as Data))
                if !out.isEmpty && bytes + e.streamSize > maxBytes { return (out, true) }
                bytes += e.streamSize
                out.append(e)
            }
            return (out, truncated || candidates.count > out.count)
        }
    }

    /// The entries with these ids that the log holds, in merged order.
    public func entries(ids: [EntryID]) throws -> [SignedEntry] {
        try read { db in
            let statement = try db.cachedStatement(sql: "SELECT rank, origin, seq, id, body, sig FROM entry WHERE id = ?")
            var rows = [(MergedOrderKey, SignedEntry)]()
            for id in Set(ids) {
                guard let r = try Row.fetchOne(statement, arguments: [Data(id.bytes)]), let origin = CityID.chain(r[1]) else { continue }
                rows.append((MergedOrderKey(rank: r[0], origin: origin, seq: r[2], id: id),
                             SignedEntry(body: Array(r[4] as Data), signature: Array(r[5] as Data))))
            }
            return rows.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Whether the log holds an entry.
    public func contains(_ id: EntryID) throws -> Bool {
        try read { db in try SQLIndex(db: db).contains(id) }
    }

    /// The entry at (origin, seq), the first by id if that position is forked.
    public func entryID(origin: CityID, seq: Int64) throws -> EntryID? {
        try read { db in
            try (Data.fetchOne(db, sql: "SELECT id FROM entry INDEXED BY entry_chain WHERE origin = ? AND seq = ? ORDER BY id LIMIT 1",
                               arguments: [origin.rawValue, seq])).flatMap { EntryID(bytes: Array($0)) }
        }
    }

    /// A number that grows whenever an entry is added, by this process or another:
    /// the daemon polls it to notice entries added with the CLI. O(1): the entry count.
    public func changeCounter() throws -> Int64 { Int64(try count()) }
}

/// What the daemon (or `c4csr sync`) last learned about a peer, for `c4csr status`.
/// Kept in its own table: the log itself stays insert-only.
public struct PeerStatus: Sendable, Hashable {
    public var city: CityID
    public var endpoint: String
    /// Milliseconds since the epoch of the last round's start, end, and last success.
    public var lastAttempt: Int64?
    public var lastSuccess: Int64?
    /// The last failure as one sentence; `nil` after a success.
    public var lastError: String?
    /// Its kind, when the transport named one (`pin_mismatch`, `timeout`, `http`…).
    public var lastErrorKind: String?
    public var failures: Int
    public var remoteDigest: String?
    public var remoteEntries: Int64?
    /// After the last round: entries the peer holds that we lack, and the reverse.
    public var weLack: Int64?
    public var theyLack: Int64?
    public var inSync: Bool
    /// Entries received from and sent to the peer, in total.
    public var received: Int64
    public var sent: Int64
    /// Entries from this peer refused (bad signature, broken chain…), in total, and the last reason.
    public var refused: Int64
    public var lastRefusal: String?

    public init(city: CityID, endpoint: String) {
        self.city = city
        self.endpoint = endpoint
        failures = 0
        inSync = false
        received = 0
        sent = 0
        refused = 0
    }
}

extension LogStore {
    /// Records a peer's status (one row per peer, replaced).
    public func savePeerStatus(_ s: PeerStatus) throws {
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO peer_status (city, endpoint, last_attempt, last_success, last_error, failures,
                    remote_digest, remote_entries, we_lack, they_lack, in_sync, received, sent, refused, last_refusal, last_error_kind)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    s.city.rawValue, s.endpoint, s.lastAttempt, s.lastSuccess, s.lastError, s.failures, s.remoteDigest,
                    s.remoteEntries, s.weLack, s.theyLack, s.inSync, s.received, s.sent, s.refused, s.lastRefusal, s.lastErrorKind,
                ])
        }
    }

    /// Every recorded peer status, by city.
    public func peerStatuses() throws -> [PeerStatus] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM peer_status ORDER BY city").compactMap { r in
                guard let city = CityID(r["city"]) else { return nil }
                var s = PeerStatus(city: city, endpoint: r["endpoint"])
                s.lastAttempt = r["last_attempt"]
                s.lastSuccess = r["last_success"]
                s.lastError = r["last_error"]
                s.lastErrorKind = r["last_error_kind"]
                s.failures = r["failures"]
                s.remoteDigest = r["remote_digest"]
                s.remoteEntries = r["remote_entries"]
                s.weLack = r["we_lack"]
                s.theyLack = r["they_lack"]
                s.inSync = r["in_sync"]
                s.received = r["received"]
                s.sent = r["sent"]
                s.refused = r["refused"]
                s.lastRefusal = r["last_refusal"]
                return s
            }
        }
    }

    public func peerStatus(_ city: CityID) throws -> PeerStatus? {
        try peerStatuses().first { $0.city == city }
    }
}
