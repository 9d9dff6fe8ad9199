import Synchronization

/// Figures that cost a pass over every practice (the themes and their counts, practices
/// per city, a filter's count) and change only when the log does: kept until the
/// network digest moves. Shared by every request of one portal.
final class PortalCache: Sendable {
    private let state = Mutex<(digest: String, values: [String: any Sendable])>(("", [:]))
    /// Downloads of every practice (CSV, JSON) being built now.
    private let downloads = Mutex(0)
    static let maxDownloads = 1
    /// Values kept for one digest: the keys come from queries (a filter's total), so a
    /// crawler asking for many different filters between two entries must not grow it.
    static let maxValues = 1_024

    /// The value under `key` for the log whose digest is `digest`, computed once.
    func value<T: Sendable>(_ key: String, digest: String, _ compute: () throws -> T) rethrows -> T {
        if let hit = state.withLock({ $0.digest == digest ? $0.values[key] as? T : nil }) { return hit }
        let value = try compute()
        state.withLock { s in
            if s.digest != digest { s = (digest, [:]) }
            if s.values.count < Self.maxValues { s.values[key] = value }
        }
        return value
    }

    /// Runs `body` if fewer than `maxDownloads` downloads are being built; nil otherwise
    /// (each costs seconds of a core at 100,000 practices: a crawler must not queue dozens).
    func download<T>(_ body: () throws -> T) rethrows -> T? {
        guard downloads.withLock({ n -> Bool in
            guard n < Self.maxDownloads else { return false }
            n += 1
            return true
        }) else { return nil }
        defer { downloads.withLock { $0 -= 1 } }
        return try body()
    }
}
