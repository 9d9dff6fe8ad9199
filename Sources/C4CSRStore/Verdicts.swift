import C4CSRCore
import Foundation
import GRDB

/// The verdicts of docs/PROTOCOL.md §15 kept beside the log: which entries a recovery
/// revoked, and which `member` and `recover` entries are not valid. A function of the
/// entries held (`MembershipVerdicts`), recomputed in the merge transaction when an entry
/// that can change them arrives; the practices named by an entry whose verdict changed
/// are projected again, reading revoked entries as absent.
extension LogStore {
    /// What the verdicts are computed against: the network's charter and the founding key
    /// of each city (its card's), which an admission must name.
    public struct Membership: Sendable {
        public let charter: Charter
        public let foundingKeys: [CityID: CityPublicKey]
        public init(charter: Charter, foundingKeys: [CityID: CityPublicKey]) {
            self.charter = charter
            self.foundingKeys = foundingKeys
        }
    }

    /// The revoked entries held.
    public func revokedEntries() throws -> Set<EntryID> {
        try read { db in try Self.revoked(db) }
    }

    /// Every `vouch`, `member` and `recover` entry held, in log order.
    public func membershipEntries() throws -> [Entry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT body, sig FROM entry WHERE kind IN ('vouch', 'member', 'recover') ORDER BY position")
                .map { try Self.decode($0, bodyColumn: 0) }
        }
    }

    /// The `member` and `recover` entries held that are not valid, with why.
    public func invalidMembership() throws -> [EntryID: String] {
        try read { db in
            var out = [EntryID: String]()
            for row in try Row.fetchAll(db, sql: "SELECT id, reason FROM membership_invalid") {
                if let id = EntryID(bytes: Array(row[0] as Data)) { out[id] = row[1] }
            }
            return out
        }
    }

    static func revoked(_ db: Database) throws -> Set<EntryID> {
        Set(try Data.fetchAll(db, sql: "SELECT id FROM revoked").compactMap { EntryID(bytes: Array($0)) })
    }

    /// Whether inserting `entries` can change a verdict: a membership entry, a fork (it
    /// can make a member's vouches count for nothing, or change what a recovery stood
    /// by), or an entry of a city that has a later generation's chain (it may be revoked).
    static func verdictsMayChange(_ entries: [Entry], forks: Set<EntryID>, db: Database) throws -> Bool {
        if entries.contains(where: { $0.kind.isMembership || $0.origin.generation > 1 || forks.contains($0.id) }) { return true }
        let later = try db.cachedStatement(sql: "SELECT 1 FROM head WHERE origin > ? AND origin < ? LIMIT 1")
        for city in Set(entries.map(\.origin.city)) {
            if try Bool.fetchOne(later, arguments: [city.rawValue + "~", city.rawValue + "\u{7f}"]) != nil { return true }
        }
        return false
    }

    /// The verdicts over what the store holds, computed now (what `audit` compares the
    /// kept ones with).
    public func computeVerdicts(_ membership: Membership) throws -> MembershipVerdicts {
        try read { db in try Self.computeVerdicts(membership, db: db) }
    }

    /// Computes the verdicts over what the store holds and writes them.
    /// - Returns: the entries whose revocation changed (revoked now, or no longer).
    static func refreshVerdicts(_ membership: Membership, db: Database) throws -> Set<EntryID> {
        let verdicts = try computeVerdicts(membership, db: db)
        let now = verdicts.revoked
        let before = try revoked(db)
        let insertRevoked = try db.cachedStatement(sql: "INSERT INTO revoked (id) VALUES (?)")
        let deleteRevoked = try db.cachedStatement(sql: "DELETE FROM revoked WHERE id = ?")
        for id in now.subtracting(before) { try insertRevoked.execute(arguments: [Data(id.bytes)]) }
        for id in before.subtracting(now) { try deleteRevoked.execute(arguments: [Data(id.bytes)]) }
        try db.execute(sql: "DELETE FROM membership_invalid")
        let insertInvalid = try db.cachedStatement(sql: "INSERT INTO membership_invalid (id, reason) VALUES (?, ?)")
        for (id, reason) in verdicts.invalid { try insertInvalid.execute(arguments: [Data(id.bytes), reason]) }
        return now.symmetricDifference(before)
    }

    /// The facts the verdicts read — every membership entry, and every entry of the
    /// chains of each city with a later generation — and the verdicts over them.
    static func computeVerdicts(_ membership: Membership, db: Database) throws -> MembershipVerdicts {
        var facts = [EntryID: MembershipFacts]()
        // Every membership entry, with its statement.
        for row in try Row.fetchAll(db, sql: "SELECT body, sig FROM entry WHERE kind IN ('vouch', 'member', 'recover')") {
            let e = try decode(row, bodyColumn: 0)
            facts[e.id] = MembershipFacts(e)
        }
        // Every entry of the chains of each city with a later generation: only there can an
        // entry be revoked, and only there do the verdicts walk `prev`.
        var recovered = Set<CityID>()
        for text in try String.fetchAll(db, sql: "SELECT DISTINCT origin FROM head WHERE origin GLOB '*~*'") {
            if let chain = CityID.chain(text) { recovered.insert(chain.city) }
        }
        let firstChain = try db.cachedStatement(sql: "SELECT id, origin, seq, prev, clock FROM entry WHERE origin = ?")
        let laterChains = try db.cachedStatement(sql: "SELECT id, origin, seq, prev, clock FROM entry WHERE origin > ? AND origin < ?")
        for city in recovered {
            let rows = try Row.fetchAll(firstChain, arguments: [city.rawValue])
                + Row.fetchAll(laterChains, arguments: [city.rawValue + "~", city.rawValue + "\u{7f}"])
            for row in rows {
                guard let id = EntryID(bytes: Array(row[0] as Data)) else { throw StoreError.corrupt("an entry row has an invalid id") }
                if facts[id] != nil { continue }
                guard let origin = CityID.chain(row[1]), let clock = SQLIndex.clock(row[4]) else {
                    throw StoreError.corrupt("entry \(id.short) has an invalid origin or clock")
                }
                let prev = (row[3] as Data?).flatMap { EntryID(bytes: Array($0)) }
                facts[id] = MembershipFacts(id: id, origin: origin, seq: row[2], prev: prev, clock: clock, statement: nil)
            }
        }
        return MembershipVerdicts(charter: membership.charter, entries: facts.values, foundingKeys: membership.foundingKeys)
    }
}

extension LocalContext {
    /// The later generation's chain of `city` that a valid recovery opened (§15), if the
    /// log holds one: then the key of `city`'s own chain no longer speaks for it.
    public func recoveredInto(_ city: CityID) throws -> CityID? {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT e.origin FROM entry e WHERE e.origin > ? AND e.origin < ? AND e.seq = 1 AND e.kind = 'recover'
            AND NOT EXISTS (SELECT 1 FROM revoked r WHERE r.id = e.id) AND NOT EXISTS (SELECT 1 FROM membership_invalid i WHERE i.id = e.id)
            """), arguments: [city.rawValue + "~", city.rawValue + "\u{7f}"])
        return rows.compactMap { CityID.chain($0[0]) }.max { $0.generation < $1.generation }
    }
}
