import C4CSRCore
import Foundation
import GRDB

/// The mark `c4csr restore` leaves on a store put back from a backup. While it is there the
/// city signs nothing: the backup may lack entries of its own that the network already
/// holds, and signing now would re-use their sequence numbers (a fork of the city against
/// itself). It is lifted once a pull from every peer the city syncs with has completed (the
/// city then holds every entry of its own that any of them held), or by an admin's
/// `c4csr restore --confirm-latest`. One peer is not enough: it may lag as the backup does.
public struct RestoreMark: Sendable, Hashable {
    /// When the store was restored (milliseconds since the epoch).
    public var restoredAt: Int64
    /// The backup file it was restored from.
    public var source: String
    /// The city's own highest seq in the backup.
    public var ownTop: Int64
    /// The peers whose pull has completed since the restore.
    public var confirmedBy: Set<CityID>

    public init(restoredAt: Int64, source: String, ownTop: Int64, confirmedBy: Set<CityID> = []) {
        self.restoredAt = restoredAt
        self.source = source
        self.ownTop = ownTop
        self.confirmedBy = confirmedBy
    }
}

extension LogStore {
    /// The store's restore mark, if it has one.
    public func restoreMark() throws -> RestoreMark? {
        try read { db in
            try Self.restoreMark(db)
        }
    }

    static func restoreMark(_ db: Database) throws -> RestoreMark? {
        try Row.fetchOne(db, sql: "SELECT restored_at, source, own_top, confirmed FROM restore_mark WHERE id = 1").map { r in
            let confirmed: String = r["confirmed"]
            return RestoreMark(
                restoredAt: r["restored_at"], source: r["source"], ownTop: r["own_top"],
                confirmedBy: Set(confirmed.split(separator: " ").compactMap { CityID(String($0)) }))
        }
    }

    /// Records that `peer`'s pull completed with nothing newer of this city, and lifts the
    /// mark once every peer of `needed` (never empty) has. - Returns: whether it was lifted.
    @discardableResult
    public func confirmRestore(by peer: CityID, needed: Set<CityID>) throws -> Bool {
        try write { db in
            guard var mark = try Self.restoreMark(db) else { return false }
            mark.confirmedBy.insert(peer)
            if !needed.isEmpty, needed.isSubset(of: mark.confirmedBy) {
                try db.execute(sql: "DELETE FROM restore_mark")
                return true
            }
            try db.execute(
                sql: "UPDATE restore_mark SET confirmed = ? WHERE id = 1",
                arguments: [mark.confirmedBy.map(\.rawValue).sorted().joined(separator: " ")])
            return false
        }
    }

    /// Marks the store as restored (replacing any earlier mark).
    public func setRestoreMark(_ mark: RestoreMark) throws {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO restore_mark (id, restored_at, source, own_top, confirmed) VALUES (1, ?, ?, ?, ?)",
                arguments: [mark.restoredAt, mark.source, mark.ownTop, mark.confirmedBy.map(\.rawValue).sorted().joined(separator: " ")])
        }
    }

    /// Removes the mark. - Returns: whether there was one.
    @discardableResult
    public func clearRestoreMark() throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM restore_mark")
            return db.changesCount > 0
        }
    }
}
