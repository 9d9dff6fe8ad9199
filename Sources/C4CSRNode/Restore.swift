import C4CSRCore
import C4CSRStore
import Foundation

/// What `City.restore` did.
public struct RestoreReport: Sendable {
    /// The store now in place: its entries, digest and the city's own top seq.
    public var summary: LogSummary
    public var ownTop: Int64
    /// Where the store it replaced was kept (`nil`: there was none).
    public var keptAs: String?
}

extension City {
    /// Puts a backup in place as the city's store, marked as restored (`RestoreMark`): the
    /// city then signs nothing until a completed pull from a peer, or an admin's
    /// confirmation, shows that it holds its own latest entry. The caller holds the
    /// daemon's lock (the daemon must not run).
    ///
    /// The backup is copied and checked (SQLite integrity, the insert-only triggers)
    /// before anything in the directory changes; the store it replaces is kept beside it
    /// as `store.sqlite.before-restore-<time>` with its WAL, never deleted.
    public static func restore(
        backup: String, into directory: DataDirectory, now: @escaping @Sendable () -> Int64 = City.systemClock
    ) throws -> RestoreReport {
        let fm = FileManager.default
        guard let cardText = fm.contents(atPath: directory.cardFile.path).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw NodeError.notFound(
                "no city in \(directory.root.path): put back its city.toml, keys/ and tls.crt (kept apart from the log backups) first")
        }
        let card: PeerCard
        do { card = try PeerCard.parse(cardText) } catch { throw NodeError.invalidInput("\(directory.cardFile.path): \(error)") }
        guard fm.fileExists(atPath: backup) else { throw NodeError.notFound(FileAccess.readProblem(backup) ?? "\(backup) does not exist") }

        let store = directory.storeFile.path
        let staged = store + ".restoring"
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: staged + suffix) }
        let summary: LogSummary
        let ownTop: Int64
        do {
            try fm.copyItem(atPath: backup, toPath: staged)
            let copy = try LogStore(path: staged, now: now)
            let problems = try copy.integrityProblems()
            guard problems.isEmpty else { throw NodeError.invalidInput("\(backup) is not a sound c4csr store: \(problems.joined(separator: "; "))") }
            summary = try copy.summary()
            ownTop = try copy.heads().filter { $0.origin == card.city }.map(\.seq).max() ?? 0
            try copy.setRestoreMark(RestoreMark(restoredAt: now(), source: backup, ownTop: ownTop))
            try copy.checkpointAndClose()
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: staged)
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: staged + suffix) }
            if let e = error as? NodeError { throw e }
            throw NodeError.invalidInput("\(backup) cannot be restored: \(error)")
        }

        // Keep what it replaces, WAL included, under one new name.
        var keptAs: String?
        if fm.fileExists(atPath: store) {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd'T'HHmmss'Z'"
            let stamp = f.string(from: Date(timeIntervalSince1970: Double(now()) / 1000))
            let kept = "\(store).before-restore-\(stamp)"
            do {
                for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: store + suffix) {
                    try fm.moveItem(atPath: store + suffix, toPath: kept + suffix)
                }
            } catch {
                throw NodeError.io("cannot move the current store aside to \(kept): \(error.localizedDescription); nothing was restored")
            }
            keptAs = kept
        }
        do {
            try fm.moveItem(atPath: staged, toPath: store)
        } catch {
            throw NodeError.io("cannot put \(staged) in place as \(store): \(error.localizedDescription)")
        }
        return RestoreReport(summary: summary, ownTop: ownTop, keptAs: keptAs)
    }
}
