import C4CSRCore
import C4CSRCurl
import C4CSRNode
import C4CSRStore
import Foundation
import Testing

/// SIGKILL of `c4csr serve` at random moments while a peer pushes pages to it. After
/// every kill: the store opens, passes SQLite's integrity check, audits clean, holds
/// every batch the daemon acknowledged, and no batch in part.
///
///     C4CSR_CRASH_CYCLES=300 swift test --filter CrashSuite      # the long run
@Suite(.serialized, .timeLimit(.minutes(timeLimitMinutes(30))))
struct CrashSuiteTests {
    /// Kills per server store: after this many the suite moves to a fresh city, so that
    /// the audit after every kill stays as cheap in the 300-cycle run as in CI.
    static let cyclesPerStore = 10

    @Test func killedDaemonLosesNothingAcknowledged() async throws {
        let cycles = Int(ProcessInfo.processInfo.environment["C4CSR_CRASH_CYCLES"] ?? "12") ?? 12
        try await withServiceCity { root, first in
            let pusher = try makeCity("pusher", in: root)
            let synthetic = SyntheticLog(origins: 3)
            try synthetic.introduce(to: [pusher])
            var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
            let batchSize = 100, offered = 30
            let all = synthetic.entries(from: 0, count: batchSize * (Self.cyclesPerStore * 8 + offered))
            let batches = stride(from: 0, to: all.count, by: batchSize).map { Array(all[$0..<$0 + batchSize]) }
            let ids = batches.map { $0.map { EntryID.of(body: $0.body) } }
            var server = first
            var next = 0  // index of the next batch to offer to this server
            var acknowledged = Set<Int>()  // by this server
            var acknowledgedTotal = 0, killedMidBatch = 0, stores = 0
            for cycle in 0..<cycles {
                if cycle % Self.cyclesPerStore == 0 {
                    // A fresh store (the first is the one withServiceCity made).
                    if cycle > 0 { server = try makeCity("served-\(cycle)", in: root) }
                    try synthetic.introduce(to: [server])
                    try exchangeCards(server, pusher, serverEndpoint: nil)
                    acknowledgedTotal += acknowledged.count
                    next = 0
                    acknowledged = []
                    stores += 1
                }
                let serve = try ServeProcess(city: server, extra: ["--interval", "1h", "--peer", "pusher"])
                guard let port = try await serve.waitForPort() else { serve.kill(); break }
                var card = server.card
                card.endpoint = "https://127.0.0.1:\(port)"
                let transport = try HTTPPeerTransport(card: card, city: pusher, connectTimeoutMS: 2_000, requestTimeoutMS: 20_000)
                let first = min(next, batches.count - offered)
                let pushing = Task { () -> [Int] in
                    var acks = [Int]()
                    for i in first..<(first + offered) {
                        do {
                            let r = try await transport.push(batches[i])
                            if r.refused.isEmpty { acks.append(i) }
                        } catch { break }
                    }
                    return acks
                }
                try await Task.sleep(for: .milliseconds(Int(20 + rng.next() % 400)))
                serve.signal(SIGKILL)
                _ = serve.wait(seconds: 10)
                let acks = await pushing.value
                acknowledged.formUnion(acks)
                next = (acks.max() ?? (first - 1)) + 1
                if acks.count < offered { killedMidBatch += 1 }

                // The store after the kill.
                let store = try LogStore(path: server.directory.storeFile.path)
                #expect(try store.integrityProblems().isEmpty, "cycle \(cycle)")
                for i in 0..<(first + offered) {
                    let held = try ids[i].filter { try store.contains($0) }.count
                    #expect(held == 0 || held == batchSize, "cycle \(cycle), batch \(i): \(held) of \(batchSize) entries")
                    if acknowledged.contains(i) { #expect(held == batchSize, "cycle \(cycle): acknowledged batch \(i) lost entries") }
                    if held == batchSize { next = max(next, i + 1) }
                }
                let audit = try City.open(server.directory).audit()
                #expect(audit.errors.isEmpty, "cycle \(cycle): \(audit.errors.prefix(3))")
            }
            acknowledgedTotal += acknowledged.count
            #expect(killedMidBatch > cycles / 3, "most kills should land during a push (\(killedMidBatch) of \(cycles))")
            #expect(acknowledgedTotal > 0)
            print("crash suite: \(cycles) SIGKILLs of c4csr serve during pushes (\(killedMidBatch) mid-batch) over \(stores) stores, \(acknowledgedTotal) acknowledged batches of \(batchSize), none lost, none in part")
        }
    }
}
