import Foundation
import GRDB
import Testing

/// The built binary, run as a subprocess: what an officer and an auditor actually type.
@Suite(.serialized) struct BinaryTests {
    func initCity(_ root: URL, _ id: String, _ name: String, _ local: String, _ country: String, _ lang: String) throws -> String {
        let dir = root.appendingPathComponent(id).path
        let r = try run(["init", "--data-dir", dir, "--city", id, "--name", name, "--local-name", local, "--country", country, "--language", lang])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("public_key = "))
        return dir
    }

    /// The practice file shown in docs/CLI.md is accepted as written: the docs stay true.
    @Test func documentedPracticeFileIsAccepted() throws {
        let doc = try String(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/CLI.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```toml\n"))
        let end = try #require(doc.range(of: "\n```", range: start.upperBound..<doc.endIndex))
        let toml = String(doc[start.upperBound..<end.lowerBound])
        try withTemporaryDirectory { root in
            let sofia = try initCity(root, "sofia", "Sofia", "София", "BG", "bg")
            let file = root.appendingPathComponent("practice.toml")
            try toml.write(to: file, atomically: true, encoding: .utf8)
            let r = try run(["add", "--data-dir", sofia, "--file", file.path, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let id = try #require(try jsonObject(r.stdout)["practice"] as? String)
            let shown = try jsonObject(try run(["show", "--data-dir", sofia, id, "--json"]).stdout)
            let fields = try #require(shown["fields"] as? [String: Any])
            #expect(fields["sdgs"] as? [Int] == [4, 13])
            #expect((fields["period"] as? [String: String])?["start"] == "2023-09")
        }
    }

    /// `config check`: every problem with its line and key, exit 78; a valid file prints the settings.
    @Test func configCheckNamesLineAndKey() throws {
        try withTemporaryDirectory { root in
            let dir = try initCity(root, "sofia", "Sofia", "София", "BG", "bg")
            let bad = root.appendingPathComponent("bad.toml")
            try "log_level = \"info\"\n[sync]\ninterval = -60\nintervall = \"5m\"\n".write(to: bad, atomically: true, encoding: .utf8)
            var r = try run(["config", "check", "--config", bad.path, "--data-dir", dir])
            #expect(r.status == 78, "\(r)")
            #expect(r.stderr.contains("bad.toml") && r.stderr.contains("line 3: sync.interval") && r.stderr.contains("line 4: sync.intervall: unknown key"), "\(r.stderr)")
            // An officer's command checks only the keys it reads: a daemon's typo does not stop it…
            r = try run(["list", "--config", bad.path, "--data-dir", dir])
            #expect(r.status == 0, "\(r)")
            // …but `serve` refuses it, and a bad key that `list` reads stops `list` too.
            r = try run(["serve", "--config", bad.path, "--data-dir", dir])
            #expect(r.status == 78 && r.stderr.contains("line 3: sync.interval"), "\(r)")
            let badTop = root.appendingPathComponent("bad-top.toml")
            try "log_level = \"loud\"\n[server]\nmax_conections = 5\n".write(to: badTop, atomically: true, encoding: .utf8)
            r = try run(["list", "--config", badTop.path, "--data-dir", dir])
            #expect(r.status == 78 && r.stderr.contains("line 1: log_level") && !r.stderr.contains("max_conections"), "\(r)")
            let good = root.appendingPathComponent("good.toml")
            try "[sync]\ninterval = \"90s\"\n".write(to: good, atomically: true, encoding: .utf8)
            r = try run(["config", "check", "--config", good.path, "--data-dir", dir])
            #expect(r.status == 0 && r.stdout.contains("sync.interval") && r.stdout.contains("90s"), "\(r)")
        }
    }

    @Test func twoCitiesExchangeAndAuditClean() throws {
        try withTemporaryDirectory { root in
            let sofia = try initCity(root, "sofia", "Sofia", "София", "BG", "bg")
            let nantes = try initCity(root, "nantes", "Nantes Métropole", "Nantes Métropole", "FR", "fr")
            #expect(try run(["peers", "add", "--data-dir", sofia, nantes + "/city.toml"]).status == 0)
            #expect(try run(["peers", "add", "--data-dir", nantes, sofia + "/city.toml"]).status == 0)

            var r = try run(["add", "--data-dir", sofia, "--json", "--title", "Зелени училищни дворове", "--title-en", "Green schoolyards",
                             "--summary", "Фирми осиновяват и озеленяват училищни дворове.", "--summary-en", "Companies adopt and green schoolyards.",
                             "--challenge", "Малко зелени площи", "--theme", "environment", "--sdg", "13", "--sdg", "4"])
            #expect(r.status == 0, "\(r.stderr)")
            let practice = try #require(try jsonObject(r.stdout)["practice"] as? String)
            let toml = root.appendingPathComponent("p.toml")
            try """
                language = "fr"
                status = "planned"
                challenge = "Relier entreprises et quartiers prioritaires"
                themes = ["inclusion"]
                sdgs = [8, 10]
                [title]
                local = "Plateforme RSE métropolitaine"
                en = "Metropolitan CSR platform"
                [summary]
                local = "Une plateforme où les entreprises proposent du mécénat de compétences."
                en = "A platform where firms offer skills-based volunteering."
                """.write(to: toml, atomically: true, encoding: .utf8)
            r = try run(["add", "--data-dir", nantes, "--file", toml.path])
            #expect(r.status == 0, "\(r.stderr)")

            r = try run(["list", "--data-dir", sofia])
            #expect(r.stdout.contains("Зелени училищни дворове / Green schoolyards"))
            r = try run(["search", "--data-dir", sofia, "ЗЕЛЕНИ", "двор"])
            #expect(r.status == 0 && r.stdout.contains(String(practice.prefix(12))), "\(r)")
            r = try run(["show", "--data-dir", sofia, String(practice.prefix(8))])
            #expect(r.status == 0 && r.stdout.contains("Summary (bg): Фирми осиновяват"))

            // Sofia → Nantes by export/import; Nantes adopts; Nantes → Sofia.
            let sofiaExport = root.appendingPathComponent("sofia.jsonl").path
            #expect(try run(["export", "--data-dir", sofia, "--output", sofiaExport]).status == 0)
            r = try run(["import", "--data-dir", nantes, sofiaExport])
            #expect(r.status == 0 && r.stdout.contains("imported 1 new entry"), "\(r)")
            r = try run(["adopt", "--data-dir", nantes, String(practice.prefix(10)), "--mode", "adapted", "--notes", "Dans les écoles de Nantes"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try run(["export", "--data-dir", nantes])
            r = try run(["import", "--data-dir", sofia, "-"], stdin: r.stdout)
            #expect(r.status == 0, "\(r)")

            for city in [sofia, nantes] {
                r = try run(["audit", "--data-dir", city])
                #expect(r.status == 0 && r.stdout.contains("OK:"), "\(r.stdout)\(r.stderr)")
            }
            let digests = try [sofia, nantes].map { try jsonObject(try run(["heads", "--data-dir", $0, "--json"]).stdout)["digest"] as? String }
            #expect(digests[0] != nil && digests[0] == digests[1])
            let logs = try [sofia, nantes].map { try run(["log", "--data-dir", $0]).stdout }
            #expect(logs[0] == logs[1] && logs[0].split(separator: "\n").count == 3)
            // Causal order: each entry's predecessor and dependencies precede it.
            let lines = try run(["log", "--data-dir", sofia, "--json"]).stdout.split(separator: "\n").map { try jsonObject(String($0)) }
            var seen = Set<String>()
            for e in lines {
                if let prev = e["prev"] as? String { #expect(seen.contains(prev)) }
                if e["kind"] as? String == "adopt" { #expect(seen.contains(practice)) }
                seen.insert(e["id"] as! String)
            }
            r = try run(["show", "--data-dir", sofia, practice])
            #expect(r.stdout.contains("nantes") && r.stdout.contains("adapted"))
        }
    }

    @Test func malformedInputGivesAClearErrorAndChangesNothing() throws {
        try withTemporaryDirectory { root in
            let dir = try initCity(root, "rijeka", "Rijeka", "Rijeka", "HR", "hr")
            func count() throws -> Int { try jsonObject(try run(["heads", "--data-dir", dir, "--json"]).stdout)["entries"] as! Int }
            let badJSON = root.appendingPathComponent("bad.json")
            try "{\n  \"title\": {\"local\": \"x\", \"en\": \"y\"},\n  \"sdgs\": [1, 2,]\n}".write(to: badJSON, atomically: true, encoding: .utf8)
            var r = try run(["add", "--data-dir", dir, "--file", badJSON.path])
            #expect(r.status == 65)
            #expect(r.stderr.contains("bad.json: not valid JSON: line 3"), "\(r.stderr)")

            let badTOML = root.appendingPathComponent("bad.toml")
            try "language = \"hr\"\nstatus = \"finished\"\nchallenge = \"c\"\n[title]\nlocal = \"x\"\nen = \"\"\n[summary]\nlocal = \"s\"\nen = \"s\"\n"
                .write(to: badTOML, atomically: true, encoding: .utf8)
            r = try run(["add", "--data-dir", dir, "--file", badTOML.path])
            #expect(r.status == 65)
            #expect(r.stderr.contains("line 2: status"), "\(r.stderr)")
            #expect(r.stderr.contains("line 6: title.en: must not be empty"), "\(r.stderr)")

            let garbage = root.appendingPathComponent("garbage.jsonl")
            try "{\"body\":\"e30=\",\"sig\":\"AAAA\"}\nnot json\n".write(to: garbage, atomically: true, encoding: .utf8)
            r = try run(["import", "--data-dir", dir, garbage.path])
            #expect(r.status == 65 && r.stderr.contains("line 1"), "\(r.stderr)")

            r = try run(["add", "--data-dir", dir, "--title", "t", "--sdg", "42"])
            #expect(r.status == 65 && r.stderr.contains("--sdg #1: must be"), "the flag typed, which of its values: \(r.stderr)")
            r = try run(["add", "--data-dir", dir])
            #expect(r.status == 64)
            r = try run(["show", "--data-dir", dir, "abcdef12"])
            #expect(r.status == 66)
            r = try run(["list", "--data-dir", root.appendingPathComponent("nowhere").path])
            #expect(r.status == 66 && r.stderr.contains("c4csr init"))
            #expect(try count() == 0)
        }
    }

    /// A file named on the command line or found among the peer cards is read bounded:
    /// a device that never ends (/dev/zero), a FIFO nobody writes to, a card of 100 KB
    /// or a practice of 2 MiB on standard input each get a sentence, promptly, and
    /// change nothing (they were read to their end, or for ever).
    @Test func filesThatNeverEndAreRefusedNotRead() throws {
        try withTemporaryDirectory { root in
            let dir = try initCity(root, "rijeka", "Rijeka", "Rijeka", "HR", "hr")
            let fifo = root.appendingPathComponent("card.fifo").path
            #expect(mkfifo(fifo, 0o600) == 0)
            let big = root.appendingPathComponent("big.toml")
            try ("city = \"porto\"\n# " + String(repeating: "x", count: 100_000) + "\n").write(to: big, atomically: true, encoding: .utf8)

            for card in ["/dev/zero", fifo] {
                let fresh = root.appendingPathComponent("fresh").path
                let r = try run(["init", "--data-dir", fresh, "--from-card", card], timeout: 20)
                #expect(r.status == 65 && r.stderr.contains("\(card) is not a regular file"), "\(r)")
                #expect(!FileManager.default.fileExists(atPath: fresh))
            }
            var r = try run(["peers", "add", "--data-dir", dir, big.path], timeout: 20)
            #expect(r.status == 65 && r.stderr.contains("big.toml is larger than 64 KiB"), "\(r)")
            r = try run(["config", "check", "--config", "/dev/zero", "--data-dir", dir], timeout: 20)
            #expect(r.status != 0 && r.stderr.contains("/dev/zero is not a regular file"), "\(r)")
            r = try run(["add", "--data-dir", dir, "--file", "-"], stdin: String(repeating: " ", count: 2 << 20), timeout: 20)
            #expect(r.status == 65 && r.stderr.contains("standard input is larger than 1 MiB"), "\(r)")

            // A device among the peer cards: the directory needs repair (a reload keeps the
            // old cards), and the check says which file, promptly.
            try FileManager.default.createSymbolicLink(atPath: dir + "/peers/zero.toml", withDestinationPath: "/dev/zero")
            r = try run(["config", "check", "--data-dir", dir], timeout: 20)
            #expect(r.status != 0 && r.stderr.contains("zero.toml is not a regular file"), "\(r)")
            r = try run(["heads", "--data-dir", dir, "--json"])
            #expect(try jsonObject(r.stdout)["entries"] as? Int == 0)
        }
    }

    @Test func onlyThePublisherMayRevise() throws {
        try withTemporaryDirectory { root in
            let a = try initCity(root, "milano", "Milano", "Milano", "IT", "it")
            let b = try initCity(root, "vratsa", "Vratsa", "Враца", "BG", "bg")
            _ = try run(["peers", "add", "--data-dir", b, a + "/city.toml"])
            let r = try run(["add", "--data-dir", a, "--json", "--title", "Piattaforma RSE", "--title-en", "CSR platform", "--summary", "s", "--summary-en", "s", "--challenge", "c"])
            let id = try jsonObject(r.stdout)["practice"] as! String
            _ = try run(["import", "--data-dir", b, "-"], stdin: try run(["export", "--data-dir", a]).stdout)
            let revise = try run(["revise", "--data-dir", b, id, "--status", "completed"])
            #expect(revise.status == 77 && revise.stderr.contains("only milano may revise"), "\(revise)")
            let adoptOwn = try run(["adopt", "--data-dir", a, id])
            #expect(adoptOwn.status == 77)
        }
    }

    /// Tampering with one stored byte makes audit name the entry and fail.
    @Test func auditNamesATamperedEntry() throws {
        try withTemporaryDirectory { root in
            let dir = try initCity(root, "budaors", "Budaörs", "Budaörs", "HU", "hu")
            for t in ["Zöld udvarok", "Munkáltatói fórum", "Helyi partnerség"] {
                #expect(try run(["add", "--data-dir", dir, "--title", t, "--title-en", t, "--summary", "s", "--summary-en", "s", "--challenge", "c"]).status == 0)
            }
            #expect(try run(["audit", "--data-dir", dir]).status == 0)
            let db = try DatabaseQueue(path: dir + "/store.sqlite")
            let (origin, seq): (String, Int) = try db.write { db in
                try db.execute(sql: "DROP TRIGGER entry_no_update")
                let row = try Row.fetchOne(db, sql: "SELECT position, origin, seq, body FROM entry WHERE seq = 2")!
                var body = Array(row["body"] as Data)
                let i = body.firstIndex(of: UInt8(ascii: "M"))!  // "Munkáltatói" → "Nunkáltatói"
                body[i] = UInt8(ascii: "N")
                try db.execute(sql: "UPDATE entry SET body = ? WHERE position = ?", arguments: [Data(body), row["position"] as Int64])
                return (row["origin"], row["seq"])
            }
            let r = try run(["audit", "--data-dir", dir])
            #expect(r.status == 2)
            #expect(r.stdout.contains("\(origin)#\(seq)"), "\(r.stdout)")
            #expect(r.stdout.contains("id_mismatch") || r.stdout.contains("bad_signature"))
            #expect(r.stdout.contains("entry_no_update"), "the dropped trigger is reported")
            let json = try jsonObject(try run(["audit", "--data-dir", dir, "--json"]).stdout)
            #expect(json["ok"] as? Bool == false)
        }
    }

    /// `key rotate` end to end: the rotation is in the log, `peers list` shows it, the
    /// next entry is signed with the new key and audits clean; a store whose key_after
    /// column was edited fails the audit, naming the entry.
    @Test func keyRotateThenAuditCatchesAnEditedKeyColumn() throws {
        try withTemporaryDirectory { root in
            let dir = try initCity(root, "vratsa", "Vratsa", "Враца", "BG", "bg")
            let add = ["add", "--data-dir", dir, "--title", "Т", "--title-en", "T", "--summary", "s", "--summary-en", "s", "--challenge", "c"]
            #expect(try run(add).status == 0)
            let dry = try run(["key", "rotate", "--data-dir", dir, "--dry-run", "--json"])
            let dryJSON = try jsonObject(dry.stdout)
            #expect(dry.status == 0 && dryJSON["written"] as? Bool == false, "\(dry)")
            let rotated = try run(["key", "rotate", "--data-dir", dir, "--json"])
            #expect(rotated.status == 0, "\(rotated)")
            let rotatedJSON = try jsonObject(rotated.stdout)
            let key = rotatedJSON["key"] as? String
            #expect(key != nil && rotatedJSON["seq"] as? Int == 2)
            #expect(try run(add).status == 0)
            let peers = try jsonArray(try run(["peers", "list", "--data-dir", dir, "--json"]).stdout)
            let own = try #require(peers.first { $0["self"] as? Bool == true })
            let history = own["rotations"] as? [[String: Any]] ?? []
            #expect(history.count == 1 && history.first?["key"] as? String == key && history.first?["seq"] as? Int == 2)
            #expect(own["public_key"] as? String != key, "the card keeps the founding key")
            #expect(try run(["audit", "--data-dir", dir]).status == 0)

            // Another city follows from the log; `peers show` tells the history; a card
            // edited to the rotated key is refused with the reason.
            let other = try initCity(root, "kekava", "Kekava", "Ķekava", "LV", "lv")
            #expect(try run(["peers", "add", "--data-dir", other, dir + "/city.toml"]).status == 0)
            #expect(try run(["import", "--data-dir", other, "-"], stdin: try run(["export", "--data-dir", dir]).stdout).status == 0)
            let shown = try jsonObject(try run(["peers", "show", "vratsa", "--data-dir", other, "--json"]).stdout)
            #expect(shown["key_in_force"] as? String == key && shown["top_seq"] as? Int == 3, "\(shown)")
            #expect((shown["rotations"] as? [[String: Any]])?.count == 1)
            let card = try String(contentsOfFile: dir + "/city.toml", encoding: .utf8)
            let founding = try #require(own["public_key"] as? String)
            let edited = root.appendingPathComponent("vratsa-edited.toml").path
            try card.replacingOccurrences(of: founding, with: key!).write(toFile: edited, atomically: true, encoding: .utf8)
            let refused = try run(["peers", "add", "--replace", "--data-dir", other, edited])
            #expect(refused.status == 65 && refused.stderr.contains("a card keeps the city's founding key"), "\(refused)")

            let db = try DatabaseQueue(path: dir + "/store.sqlite")
            try db.write { db in
                try db.execute(sql: "DROP TRIGGER entry_no_update")
                try db.execute(sql: "UPDATE entry SET key_after = NULL WHERE seq = 2")
            }
            let r = try run(["audit", "--data-dir", dir])
            #expect(r.status == 2 && r.stdout.contains("column_mismatch") && r.stdout.contains("vratsa#2"), "\(r.stdout)")
        }
    }

    /// `officer key`, `officer enrol`, `officer list`, `officer remove` end to end: the
    /// enrolment is in the log (another city lists it after an import), bad input writes
    /// nothing with a clear error, and a store whose officers column was edited fails the
    /// audit, naming the entry.
    @Test func officersAreEnrolledListedAndRemoved() throws {
        try withTemporaryDirectory { root in
            let dir = try initCity(root, "vratsa", "Vratsa", "Враца", "BG", "bg")
            let keyFile = root.appendingPathComponent("home/officer.key").path
            let made = try run(["officer", "key", "--output", keyFile, "--json"])
            #expect(made.status == 0, "\(made)")
            let key = try #require(try jsonObject(made.stdout)["key"] as? String)
            let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try run(["officer", "key", "--output", keyFile]).status == 65, "an officer key is never overwritten")
            let enrolled = try run(["officer", "enrol", "ivanova", "--key", key, "--data-dir", dir, "--json"])
            #expect(enrolled.status == 0, "\(enrolled)")
            #expect(try jsonObject(enrolled.stdout)["seq"] as? Int == 1)
            for (args, status) in [
                (["officer", "enrol", "Ivanova", "--key", key], 65),  // not an officer id
                (["officer", "enrol", "petrov", "--key", "AAAA"], 65),  // not a key
                (["officer", "enrol", "ivanova", "--key", key], 65),  // already enrolled so
                (["officer", "remove", "petrov"], 65),  // not enrolled
            ] {
                let r = try run(args + ["--data-dir", dir])
                #expect(r.status == Int32(status), "\(args): \(r)")
            }
            let listed = try jsonObject(try run(["officer", "list", "--data-dir", dir, "--json"]).stdout)
            #expect((listed["officers"] as? [[String: Any]])?.map { $0["officer"] as? String } == ["ivanova"], "\(listed)")
            #expect(try run(["officer", "remove", "ivanova", "--data-dir", dir]).status == 0)
            let after = try jsonObject(try run(["officer", "list", "--data-dir", dir, "--json"]).stdout)
            #expect((after["officers"] as? [Any])?.isEmpty == true && (after["changes"] as? [Any])?.count == 2, "\(after)")
            let log = try run(["log", "--data-dir", dir])
            #expect(log.stdout.contains("enrol ivanova") && log.stdout.contains("remove ivanova"), "\(log.stdout)")

            let other = try initCity(root, "kekava", "Kekava", "Ķekava", "LV", "lv")
            #expect(try run(["peers", "add", "--data-dir", other, dir + "/city.toml"]).status == 0)
            #expect(try run(["import", "--data-dir", other, "-"], stdin: try run(["export", "--data-dir", dir]).stdout).status == 0)
            let seen = try jsonObject(try run(["officer", "list", "--city", "vratsa", "--data-dir", other, "--json"]).stdout)
            #expect((seen["changes"] as? [Any])?.count == 2, "\(seen)")
            #expect(try run(["audit", "--data-dir", other]).status == 0)

            let db = try DatabaseQueue(path: dir + "/store.sqlite")
            try db.write { db in
                try db.execute(sql: "DROP TRIGGER entry_no_update")
                try db.execute(sql: "UPDATE entry SET roll_after = NULL WHERE seq = 1")
            }
            let r = try run(["audit", "--data-dir", dir])
            #expect(r.status == 2 && r.stdout.contains("column_mismatch") && r.stdout.contains("vratsa#1"), "\(r.stdout)")
        }
    }

    /// `add` seals the contact (and `--personal` fields); `show` prints them from the
    /// content; `erase` deletes them, `show` says when and by whom, `status --json` lists
    /// the erasure; a second erasure, an unknown field and a practice with nothing sealed
    /// are refused with exit 65 and change nothing.
    @Test func aContactIsSealedShownAndErased() throws {
        try withTemporaryDirectory { root in
            let dir = try initCity(root, "vratsa", "Vratsa", "Враца", "BG", "bg")
            let added = try run([
                "add", "--data-dir", dir, "--json", "--title", "Ментори", "--title-en", "Mentors", "--summary", "Служители менторстват.",
                "--summary-en", "Staff mentor pupils.", "--challenge", "Отпадане", "--contact", "Петя Колева, +359 92 000 000",
                "--personal", "outcomes", "--outcomes", "Водено от Петя Колева",
            ])
            #expect(added.status == 0, "\(added)")
            let id = try #require(try jsonObject(added.stdout)["practice"] as? String)
            let plain = try run(["add", "--data-dir", dir, "--json", "--title", "Plain", "--title-en", "Plain", "--summary", "S", "--summary-en", "S", "--challenge", "C"])
            let plainID = try #require(try jsonObject(plain.stdout)["practice"] as? String)
            let shown = try run(["show", id, "--data-dir", dir])
            #expect(shown.stdout.contains("Contact: Петя Колева, +359 92 000 000") && shown.stdout.contains("Outcomes: Водено от Петя Колева"), "\(shown)")
            let log = try run(["log", "--data-dir", dir, "--json"])
            #expect(!log.stdout.contains("Колева"), "the log holds commitments, not the contact")
            #expect(try run(["erase", id, "--field", "title", "--reason", "x", "--data-dir", dir]).status == 64)
            let nothing = try run(["erase", String(plainID.prefix(12)), "--reason", "x", "--data-dir", dir])
            #expect(nothing.status == 65 && nothing.stderr.contains("only sealed fields can be erased"), "\(nothing)")
            let erased = try run(["erase", String(id.prefix(12)), "--reason", "Request DPO-7", "--data-dir", dir, "--json"])
            #expect(erased.status == 0, "\(erased)")
            #expect((try jsonObject(erased.stdout)["fields"] as? [String]) == ["contact", "outcomes"])
            let after = try run(["show", id, "--data-dir", dir])
            #expect(after.stdout.contains("Contact: (erased on ") && after.stdout.contains("by vratsa)") && !after.stdout.contains("Колева"), "\(after)")
            #expect(after.stdout.contains("Erasures of personal data:") && after.stdout.contains("Request DPO-7"), "\(after)")
            let again = try run(["erase", id, "--reason", "again", "--data-dir", dir])
            #expect(again.status == 65 && again.stderr.contains("already erased"), "\(again)")
            let status = try run(["status", "--data-dir", dir, "--json", "--without-daemon"])
            let erasures = try jsonObject(status.stdout)["erasures"] as? [[String: Any]]
            #expect(erasures?.count == 1 && (erasures?.first?["confirmed_by"] as? [String]) == ["vratsa"], "\(status)")
            let store = try Data(contentsOf: URL(fileURLWithPath: dir + "/store.sqlite")) + ((try? Data(contentsOf: URL(fileURLWithPath: dir + "/store.sqlite-wal"))) ?? Data())
            #expect(store.range(of: Data("Колева".utf8)) == nil, "no byte of the erased contact in the store or its WAL")
            let audit = try run(["audit", "--data-dir", dir, "--json"])
            #expect(audit.status == 0, "\(audit)")
            let audited = try jsonObject(audit.stdout)["erasures"] as? [[String: Any]]
            #expect(audited?.count == 1 && (audited?.first?["pending"] as? [String]) == [], "audit lists the erasure: \(audit)")
            #expect(try run(["audit", "--data-dir", dir]).stdout.contains("confirmed by every member"))
        }
    }
}
