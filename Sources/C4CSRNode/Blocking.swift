import Dispatch

/// Runs blocking work (SQLite transactions, signature verification of a page) on a
/// Dispatch thread rather than on Swift's cooperative pool, so that a long merge
/// never starves the tasks that serve requests and drive timers.
public enum Blocking {
    private static let queue = DispatchQueue(label: "c4csr.blocking", qos: .userInitiated, attributes: .concurrent)

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
