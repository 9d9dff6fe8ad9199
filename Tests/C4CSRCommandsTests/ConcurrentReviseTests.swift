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

    /// `revise --edit`: the editor gets the current fields as a practice file; the file
    /// saved is the whole practice (a line deleted is a field removed); a file left as
    /// it was writes nothing; a broken one is kept and named; and an officer who revises
    /// while the editor is open is not overwritten (a conflict, both versions kept).
    @Test func reviseEditShowsTheFieldsAndLosesNoConcurrentEdit() throws {
        try withTemporaryDirectory { root in
            let dir = root.appendingPathComponent("nantes").path
            #expect(try run(["init", "--data-dir", dir, "--city", "nantes", "--name", "Nantes", "--local-name", "Nantes", "--country", "FR", "--language", "fr"]).status == 0)
            let added = try run(["add", "--data-dir", dir, "--json", "--title", "Jardins", "--title-en", "Gardens", "--summary", "Des \"jardins\"\nsur deux lignes",
                                 "--summary-en", "s", "--challenge", "c", "--area", "Malakoff"])
            let id = try #require(try jsonObject(added.stdout)["practice"] as? String)
            func editor(_ name: String, _ script: String) throws -> String {
                let path = root.appendingPathComponent(name).path
                try ("#!/bin/sh\n" + script + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
                return path
            }
            func show() throws -> [String: Any] { try jsonObject(try run(["show", "--data-dir", dir, id, "--json"]).stdout) }

            // Left as it was: nothing written.
            var r = try run(["revise", "--data-dir", dir, id, "--edit"], environment: ["EDITOR": "true", "VISUAL": ""])
            #expect(r.status == 1 && r.stderr.contains("left as it was; nothing was written"), "\(r)")
            // The editor sees the fields (the two-line summary as written), changes the
            // status and deletes the area line.
            let seen = root.appendingPathComponent("seen.toml").path
            r = try run(["revise", "--data-dir", dir, id, "--edit"], environment: ["VISUAL": "", "EDITOR": try editor("edit.sh", """
                cp "$1" \(seen)
                sed -i -e 's/^status = "running"/status = "completed"/' -e '/^area = /d' "$1"
                """)])
            #expect(r.status == 0, "\(r)")
            let file = try String(contentsOfFile: seen, encoding: .utf8)
            #expect(file.contains("area = \"Malakoff\"") && file.contains("local = \"\"\"\nDes \\\"jardins\\\"\nsur deux lignes\"\"\""), "\(file)")
            let fields = try #require(try show()["fields"] as? [String: Any])
            #expect(fields["status"] as? String == "completed" && fields["area"] == nil, "\(fields)")
            #expect(fields["summary"].flatMap { ($0 as? [String: Any])?["local"] as? String } == "Des \"jardins\"\nsur deux lignes")

            // A broken file: refused, kept, and the way to submit it again is named.
            r = try run(["revise", "--data-dir", dir, id, "--edit"], environment: ["VISUAL": "", "EDITOR": try editor("break.sh", "echo 'sdgs = [42]' >> \"$1\"")])
            #expect(r.status == 65 && r.stderr.contains("your revision is kept in") && r.stderr.contains("--file"), "\(r)")

            // Another officer revises while the editor is open: a conflict, both kept.
            r = try run(["revise", "--data-dir", dir, id, "--edit"], environment: ["VISUAL": "", "EDITOR": try editor("race.sh", """
                \(c4csrBinary) revise --data-dir \(dir) \(id) --outcomes 'by the other officer' >/dev/null || exit 3
                sed -i -e 's/^challenge = .*/challenge = "mine"/' "$1"
                """)])
            #expect(r.status == 0, "\(r)")
            let shown = try show()
            #expect(shown["conflict"] as? Bool == true, "\(shown)")
            let log = try run(["log", "--data-dir", dir]).stdout
            #expect(log.split(separator: "\n").filter { $0.contains("revise") }.count == 3, "\(log)")
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
