import Foundation
import GRDB
import Testing

/// SIGKILL at random moments while c4csr writes: the store must open, audit clean,
/// and hold every entry whose command had reported success.
@Suite(.serialized) struct CrashTests {
    /// Runs `script` in a new process group, kills the whole group with SIGKILL after
    /// `delay` seconds, and returns the lines it printed.
    func killAfter(_ delay: TimeInterval, _ script: String) throws -> [String] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-crash-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        // Foundation starts the child as the leader of a new process group, so
        // kill(-pid) reaches bash and every c4csr it started.
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        p.standardOutput = try FileHandle(forWritingTo: out)
        try p.run()
        usleep(useconds_t(delay * 1_000_000))
        let group = getpgid(p.processIdentifier)
        #expect(group == p.processIdentifier || group == -1, "the child must lead its own process group")
        kill(-p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // Let the killed group's processes go before the store is read.
        usleep(100_000)
        return String(decoding: try Data(contentsOf: out), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test(.timeLimit(.minutes(timeLimitMinutes(3)))) func killedAddsLoseNothingAcknowledged() throws {
        try withTemporaryDirectory { root in
            var rng = SystemRandomNumberGenerator()
            let cycles = Int(ProcessInfo.processInfo.environment["C4CSR_CRASH_CYCLES"] ?? "6")!
            // A fresh city every 10 kills, so the audit after each stays cheap in the long run.
            let cyclesPerCity = 10
            var dir = "", acknowledged = Set<String>()
            var totals = (acknowledged: 0, stored: 0, lost: 0)
            func checkCity() throws {
                guard !dir.isEmpty else { return }
                let db = try DatabaseQueue(path: dir + "/store.sqlite")
                let stored = Set(try db.read { try String.fetchAll($0, sql: "SELECT lower(hex(id)) FROM entry") })
                let lost = acknowledged.subtracting(stored)
                #expect(lost.isEmpty, "acknowledged entries lost: \(lost)")
                totals.acknowledged += acknowledged.count
                totals.stored += stored.count
                totals.lost += lost.count
            }
            for cycle in 0..<cycles {
                if cycle % cyclesPerCity == 0 {
                    try checkCity()
                    dir = root.appendingPathComponent("kekava-\(cycle)").path
                    acknowledged = []
                    #expect(try run(["init", "--data-dir", dir, "--city", "kekava", "--name", "Kekava", "--local-name", "Ķekava", "--country", "LV", "--language", "lv"]).status == 0)
                }
                // Each add prints its practice id only after it returned success.
                let script = """
                    for i in $(seq 1 5000); do
                      "\(c4csrBinary)" add --data-dir "\(dir)" --json --title "Ķekavas prakse \(cycle)-$i" --title-en "Practice \(cycle)-$i" \
                        --summary "Uzņēmumi un pašvaldība kopā." --summary-en "Firms and the municipality together." --challenge "c" \
                        | grep -o '"practice": "[0-9a-f]*"' || exit 1
                    done
                    """
                let lines = try killAfter(Double.random(in: 0.4...1.6, using: &rng), script)
                // A line cut by the kill is not an acknowledgement; a complete one is.
                for line in lines {
                    let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
                    if parts.count == 5, parts[3].count == 64 { acknowledged.insert(String(parts[3])) }
                }
                let audit = try run(["audit", "--data-dir", dir, "--json"])
                #expect(audit.status == 0, "cycle \(cycle): \(audit.stdout)")
            }
            try checkCity()
            #expect(totals.acknowledged > cycles, "the loop should have acknowledged some adds")
            print("crash: \(cycles) SIGKILLs of c4csr add, \(totals.acknowledged) acknowledged adds, \(totals.lost) lost, \(totals.stored) entries stored")
        }
    }

    /// A killed import leaves all or none of its batch.
    @Test(.timeLimit(.minutes(timeLimitMinutes(3)))) func killedImportIsAllOrNothing() throws {
        try withTemporaryDirectory { root in
            let a = root.appendingPathComponent("guimaraes").path
            let b = root.appendingPathComponent("molina").path
            _ = try run(["init", "--data-dir", a, "--city", "guimaraes", "--name", "Guimarães", "--country", "PT", "--language", "pt"])
            _ = try run(["init", "--data-dir", b, "--city", "molina", "--name", "Molina de Segura", "--country", "ES", "--language", "es"])
            _ = try run(["peers", "add", "--data-dir", b, a + "/city.toml"])
            // Many entries quickly: one revise chain on one practice.
            let id = try jsonObject(try run(["add", "--data-dir", a, "--json", "--title", "Parque", "--title-en", "Park", "--summary", "s", "--summary-en", "s", "--challenge", "c"]).stdout)["practice"] as! String
            for i in 0..<150 { _ = try run(["revise", "--data-dir", a, id, "--outcomes", "step \(i)"]) }
            let export = root.appendingPathComponent("a.jsonl").path
            _ = try run(["export", "--data-dir", a, "--output", export])
            var outcomes = Set<Int>()
            for _ in 0..<5 {
                _ = try killAfter(Double.random(in: 0.02...0.3), "\"\(c4csrBinary)\" import --data-dir \"\(b)\" \"\(export)\"")
                let n = try jsonObject(try run(["heads", "--data-dir", b, "--json"]).stdout)["entries"] as! Int
                #expect(n == 0 || n == 151, "import left \(n) entries")
                outcomes.insert(n)
                #expect(try run(["audit", "--data-dir", b]).status == 0)
                if n == 151 { break }
            }
            _ = outcomes
        }
    }
}
