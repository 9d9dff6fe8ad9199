import Foundation
import Testing

/// Two officers revising one practice at the same moment (issue: no lost edits): every
/// round starts `revise --outcomes A<i>` and `revise --area B<i>` together; afterwards
/// both edits are in the current version, or a conflict is shown. No edit may vanish.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ConcurrentReviseTests {
    @Test func twoOfficersRevisingAtOnceLoseNoEdit() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-revise-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            let dir = root.appendingPathComponent("nantes").path
            #expect(try run(["init", "--data-dir", dir, "--city", "nantes", "--name", "Nantes", "--local-name", "Nantes", "--country", "FR", "--language", "fr"]).status == 0)
            let added = try run(["add", "--data-dir", dir, "--json", "--title", "Jardins", "--title-en", "Gardens",
                                 "--summary", "s", "--summary-en", "s", "--challenge", "c"])
            let id = try jsonObject(added.stdout)["practice"] as! String
            let rounds = Int(ProcessInfo.processInfo.environment["C4CSR_REVISE_ROUNDS"] ?? "12") ?? 12
            var lost = [String]()
            for i in 0..<rounds {
                let a = try start(["revise", "--data-dir", dir, id, "--outcomes", "A\(i)"])
                let b = try start(["revise", "--data-dir", dir, id, "--area", "B\(i)"])
                // Waited for without holding a thread of the cooperative pool.
                while a.isRunning || b.isRunning { try await Task.sleep(for: .milliseconds(5)) }
                #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "round \(i)")
                let shown = try jsonObject(try run(["show", "--data-dir", dir, id, "--json"]).stdout)
                let fields = try #require(shown["fields"] as? [String: Any])
                let conflict = shown["conflict"] as? Bool ?? false
                if !conflict && (fields["outcomes"] as? String != "A\(i)" || fields["area"] as? String != "B\(i)") {
                    lost.append("round \(i): outcomes \(fields["outcomes"] ?? "-"), area \(fields["area"] ?? "-")")
                }
                if conflict {
                    // Settle it, so that the next round starts from one version.
                    #expect(try run(["revise", "--data-dir", dir, id, "--status", "running"]).status == 0)
                }
            }
            #expect(lost.isEmpty, "edits lost without a conflict:\n\(lost.joined(separator: "\n"))")
            #expect(try run(["audit", "--data-dir", dir]).status == 0)
        }
    }

    /// Starts the binary without waiting for it.
    private func start(_ arguments: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: c4csrBinary)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_CONFIG"] = ""
        env["C4CSR_DATA_DIR"] = nil
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }
}
