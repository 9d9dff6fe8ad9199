import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Issue 12, item 1 (docs/PROTOCOL.md §13): officers write through the daemon's socket
/// with their own keys, never the city's; every city checks the author; a removed or
/// unknown officer writes nothing; an edit built on a superseded version is refused,
/// never silently overwriting.
@Suite struct OfficerSocketTests {
    /// An officer key written where the CLI reads it.
    static func officerKey(_ root: URL, _ name: String) throws -> (CitySigningKey, URL) {
        let url = root.appendingPathComponent("home-\(name)/officer.key")
        return (try OfficerKeyFile.create(at: url), url)
    }

    @Test func officersWriteThroughTheSocketAndEveryCityChecksTheAuthor() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let root = a.directory.root.deletingLastPathComponent()
            let (key, keyFile) = try Self.officerKey(root, "mpetrova")
            let (_, otherFile) = try Self.officerKey(root, "other")
            let mpetrova = OfficerID("mpetrova")!
            let enrol = try a.changeOfficer(.enrol(mpetrova, key.publicKey))
            #expect(enrol.kind == .officer && enrol.format == .v2)
            #expect(throws: NodeError.self, "the same enrolment twice writes nothing") { try a.changeOfficer(.enrol(mpetrova, key.publicKey)) }
            #expect(throws: NodeError.self, "removing an officer not enrolled writes nothing") { try a.changeOfficer(.remove(OfficerID("nobody")!)) }
            #expect(throws: NodeError.self, "the city's own key is not an officer's") { try a.changeOfficer(.enrol(OfficerID("admin")!, try signingKey(of: a).publicKey)) }

            let socket = root.appendingPathComponent("aa-officer.sock").path
            let serve = try ServeProcess(city: a, extra: ["--interval", "60s", "--officer-socket", socket])
            defer { serve.kill() }
            _ = try #require(try await serve.waitForPort())
            try await eventually("serve.json names the officer socket", within: 20) { serve.info()?["officer_socket"]?.stringValue == socket }
            let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
            #expect(mode == 0o600 || mode == 0o660, "only the daemon's user, or its officers' group, may open it: \(String(describing: mode))")

            // The CLI as the officer: no data directory, only the socket and their key.
            let officerFlags = ["--officer", "mpetrova", "--officer-key", keyFile.path, "--officer-socket", socket, "--json"]
            let added = try await runBinary(["add", "--title", "Green roofs", "--title-en", "Green roofs", "--summary", "Firms green roofs.", "--summary-en", "Firms green roofs.", "--challenge", "Heat", "--theme", "environment", "--sdg", "11"] + officerFlags)
            #expect(added.status == 0, "\(added.stderr)")
            let practiceID = try #require(JSONParser.parse(added.stdout)["practice"]?.stringValue)
            let revised = try await runBinary(["revise", String(practiceID.prefix(10)), "--status", "completed"] + officerFlags)
            #expect(revised.status == 0, "\(revised.stderr)")
            let b1 = try b.publish(practice("bb's practice"))
            _ = await round(a, b)
            let adopted = try await runBinary(["adopt", String(b1.id.hex.prefix(10)), "--mode", "adapted", "--notes", "With our schools"] + officerFlags)
            #expect(adopted.status == 0, "\(adopted.stderr)")

            // Refused, and nothing written: an officer not enrolled; a key that is not theirs.
            let before = try a.store.count()
            let stranger = try await runBinary(["retract", String(practiceID.prefix(10)), "--officer", "other", "--officer-key", otherFile.path, "--officer-socket", socket])
            #expect(stranger.status == 77 && stranger.stderr.contains("not enrolled"), "\(stranger.stderr)")
            let wrongKey = try await runBinary(["retract", String(practiceID.prefix(10)), "--officer", "mpetrova", "--officer-key", otherFile.path, "--officer-socket", socket])
            #expect(wrongKey.status == 77 && wrongKey.stderr.contains("does not verify"), "\(wrongKey.stderr)")
            // The daemon's own checks, beneath the CLI: a body that is not content, a time far off.
            let client = OfficerClient(socket: socket, officer: mpetrova, key: key)
            #expect(throws: NodeError.self) {
                try client.submit(.publish(practice("from the past")), city: a.id, time: 1_000)
            }
            #expect(throws: NodeError.self, "content signed for another city") {
                try client.submit(.publish(practice("for bb")), city: b.id)
            }
            #expect(try a.store.count() == before)

            // Removed: nothing more from her; what she wrote stays valid and names her.
            _ = try a.changeOfficer(.remove(mpetrova))
            #expect(throws: NodeError.self) { try client.submit(.publish(practice("after removal")), city: a.id) }
            #expect(try a.store.count() == before + 1)

            // B verifies every author from the log alone.
            let r = await round(b, a)
            #expect(r.succeeded, "\(String(describing: r.error))")
            #expect(try a.localHeads().digest == b.localHeads().digest)
            let (record, _, _) = try b.store.practice(practiceID)
            #expect(record.versions.map(\.author) == [mpetrova, mpetrova] && record.retracted == false)
            #expect(try b.store.practice(b1.id.hex).0.adoptions.first?.author == mpetrova)
            let audit = try b.audit()
            #expect(audit.findings.isEmpty, "\(audit.findings)")
            #expect(audit.authors == ["aa/mpetrova": 3], "the audit names who wrote what: \(audit.authors)")
            #expect(try a.audit().findings.isEmpty)
            var csv = ""
            try b.exportCSV { csv += $0 }
            let row = try #require(csv.split(separator: "\r\n").first { $0.hasPrefix(practiceID) })
            #expect(row.hasSuffix(",mpetrova"), "the CSV names the officers of a practice's versions: \(row)")
            #expect(try b.store.stateInForce(nextOf: a.id).officers.isEmpty)
            let history = try b.store.officerChanges().filter { $0.origin == a.id }.compactMap(\.officerChange)
            #expect(history == [.enrol(mpetrova, key.publicKey), .remove(mpetrova)])
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }

    /// The lost edit, for officers: content built on a version another write has since
    /// superseded is refused as a conflict (HTTP 409, exit 75), and nothing is written;
    /// the CLI then builds the edit again from the new version.
    @Test func anEditBuiltOnASupersededVersionIsRefused() async throws {
        try await withCities(["aa"]) { c in
            let a = c[0]
            let root = a.directory.root.deletingLastPathComponent()
            let (key, _) = try Self.officerKey(root, "o1")
            let o1 = OfficerID("o1")!
            _ = try a.changeOfficer(.enrol(o1, key.publicKey))
            let p = try a.publish(practice("shared"))
            // The officer read version p; another officer (the admin here) revises first.
            var seen = practice("shared")
            seen.status = .completed
            let stale = OfficerContent.signed(
                by: key, officer: o1, city: a.id, kind: .revise, payload: PracticeAction.revise(practice: p.id, base: [p.id], fields: seen).payload,
                time: Int64(Date().timeIntervalSince1970 * 1000))
            _ = try a.revise(p.id.hex) { var f = $0; f.outcomes = "12 roofs"; return f }
            let count = try a.store.count()
            do {
                _ = try a.submit(stale)
                Issue.record("a revision of a superseded version was written")
            } catch let e as NodeError {
                #expect(e.kind == .conflict, "\(e)")
            }
            #expect(try a.store.count() == count)
            #expect(try a.store.practice(p.id.hex).0.current.outcomes == "12 roofs", "the other edit stands")
        }
    }

    /// Issue 13 through the officers' socket (§14): the officer's CLI seals the contact
    /// (and `--personal` fields) and sends their content beside the signed payload; the
    /// daemon checks each against its seal and stores it with the entry. A contact in
    /// clear, a seal without its content, content for a field not sealed and content
    /// that does not match its seal are refused, and nothing is written.
    @Test func officersSealPersonalFieldsThroughTheSocket() async throws {
        try await withCities(["aa"]) { c in
            let a = c[0]
            let root = a.directory.root.deletingLastPathComponent()
            let (key, keyFile) = try Self.officerKey(root, "o1")
            let o1 = OfficerID("o1")!
            _ = try a.changeOfficer(.enrol(o1, key.publicKey))
            let time = Int64(Date().timeIntervalSince1970 * 1000)
            func send(_ payload: [String: JSONValue], _ content: [PersonalContent], kind: EntryKind = .publish) throws -> Entry {
                try a.submit(OfficerContent.signed(by: key, officer: o1, city: a.id, kind: kind, payload: payload, time: time), sealed: content)
            }
            var withContact = practice("with a contact")
            withContact.contact = "Ana Ivanova, +359 2 000 0000"
            let (sealed, values) = withContact.sealing([.contact])
            let truth = PersonalContent(entry: EntryID.of(body: []), field: .contact, salt: values[.contact]!.salt, value: values[.contact]!.value)
            let wrong = PersonalContent(entry: truth.entry, field: .contact, salt: truth.salt, value: .string("Someone Else"))
            let spare = PersonalContent(entry: truth.entry, field: .area, salt: truth.salt, value: .string("Lozenets"))
            let count = try a.store.count()
            for (what, payload, content) in [
                ("a contact in clear", PracticeAction.publish(withContact).payload, [PersonalContent]()),
                ("a seal without its content", PracticeAction.publish(sealed).payload, []),
                ("content that does not match its seal", PracticeAction.publish(sealed).payload, [wrong]),
                ("content for a field not sealed", PracticeAction.publish(sealed).payload, [truth, spare]),
            ] {
                do {
                    _ = try send(payload, content)
                    Issue.record("written: \(what)")
                } catch let e as NodeError {
                    #expect(e.kind == .invalidInput, "\(what): \(e)")
                }
            }
            #expect(try a.store.count() == count && a.store.contentCount() == 0)
            let written = try send(PracticeAction.publish(sealed).payload, [truth])
            #expect(try a.store.contents(of: [written.id]).map(\.value) == [.string("Ana Ivanova, +359 2 000 0000")])

            // The CLI as the officer, through a running daemon: add with a contact and a
            // personal outcome, then revise; each version sealed under fresh salts.
            let socket = root.appendingPathComponent("aa-officer.sock").path
            let serve = try ServeProcess(city: a, extra: ["--interval", "60s", "--officer-socket", socket])
            defer { serve.kill() }
            _ = try #require(try await serve.waitForPort())
            try await eventually("serve.json names the officer socket", within: 20) { serve.info()?["officer_socket"]?.stringValue == socket }
            let flags = ["--officer", "o1", "--officer-key", keyFile.path, "--officer-socket", socket, "--json"]
            let added = try await runBinary(["add", "--title", "Mentors", "--title-en", "Mentors", "--summary", "Firms mentor pupils.", "--summary-en", "Firms mentor pupils.",
                                             "--challenge", "Drop-outs", "--theme", "education", "--sdg", "4", "--contact", "Boris Petrov, boris@example.bg",
                                             "--outcomes", "Mentored by Boris Petrov", "--personal", "outcomes"] + flags)
            #expect(added.status == 0, "\(added.stderr)")
            let id = try #require(JSONParser.parse(added.stdout)["practice"]?.stringValue.flatMap(EntryID.init(hex:)))
            let first = try a.store.practice(id.hex).0
            #expect(Set(first.current.sealed.keys) == [.contact, .outcomes])
            #expect(try a.store.contents(of: [id]).map(\.field) == [.contact, .outcomes])
            let revised = try await runBinary(["revise", String(id.hex.prefix(10)), "--status", "completed"] + flags)
            #expect(revised.status == 0, "\(revised.stderr)")
            let record = try a.store.practice(id.hex).0
            #expect(record.versions.count == 2 && record.current.status == .completed)
            #expect(Set(record.current.sealed.keys) == [.contact, .outcomes], "a revision keeps sealed what was sealed")
            #expect(record.current.sealed[.contact] != first.current.sealed[.contact], "a fresh salt, a new seal")
            let shown = record.current.revealing(try a.store.contents(of: [record.fieldsEntry]))
            #expect(shown.contact == "Boris Petrov, boris@example.bg" && shown.outcomes == "Mentored by Boris Petrov")
            #expect(try a.audit().findings.isEmpty)
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }

    /// Issue 12's test with real accounts (it runs as root, as CI does; it creates and
    /// removes its users and group): an unprivileged officer in the officers' group adds
    /// a practice through the daemon and can neither read a key nor write the store; an
    /// account outside the group is refused at the socket.
    @Test(.enabled(if: getuid() == 0, "creates Unix users and a group: needs root (CI runs as root)"))
    func aRealOfficerAccountWritesThroughTheSocketAndNothingElse() async throws {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let group = "c4o-\(tag)", officer = "c4o-off-\(tag)", outsider = "c4o-out-\(tag)"
        func sh(_ args: [String]) throws -> (status: Int32, output: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(try sh(["groupadd", group]).status == 0)
        #expect(try sh(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "-G", group, officer]).status == 0)
        #expect(try sh(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", outsider]).status == 0)
        defer {
            _ = try? sh(["userdel", officer])
            _ = try? sh(["userdel", outsider])
            _ = try? sh(["groupdel", group])
        }
        try await withCities(["aa"]) { c in
            let a = c[0]
            let root = a.directory.root.deletingLastPathComponent()
            // Each account's own directory for its key; the socket's directory: the
            // officers' group, setgid, as systemd/c4csr.tmpfiles makes /run/c4csr.
            var homes = [String: URL]()
            for user in [officer, outsider] {
                let home = root.appendingPathComponent("home-\(user)")
                try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
                #expect(try sh(["chown", user, home.path]).status == 0)
                homes[user] = home
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path)
            let run = root.appendingPathComponent("run")
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            #expect(try sh(["chown", "root:\(group)", run.path]).status == 0)
            #expect(try sh(["chmod", "2750", run.path]).status == 0)
            let config = root.appendingPathComponent("c4csr.toml")
            try Data("[officer]\ngroup = \"\(group)\"\n".utf8).write(to: config)

            let made = try sh(["runuser", "-u", officer, "--", c4csrBinary, "officer", "key", "--output", homes[officer]!.path + "/officer.key", "--json"])
            #expect(made.status == 0, "the officer can run c4csr: \(made.output)")
            let keyText = try JSONParser.parse(Array(made.output.utf8))["key"]?.stringValue ?? ""
            let key = try #require(CityPublicKey(base64: keyText), "\(made.output)")
            _ = try a.changeOfficer(.enrol(OfficerID("maria")!, key))
            #expect(try sh(["runuser", "-u", outsider, "--", c4csrBinary, "officer", "key", "--output", homes[outsider]!.path + "/officer.key"]).status == 0)

            let socket = run.appendingPathComponent("officer.sock").path
            let serve = try ServeProcess(city: a, extra: ["--interval", "60s", "--config", config.path, "--officer-socket", socket])
            defer { serve.kill() }
            _ = try #require(try await serve.waitForPort())
            try await eventually("serve.json names the officer socket", within: 20) { serve.info()?["officer_socket"]?.stringValue == socket }
            let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
            #expect(mode == 0o660, "the socket is open to the officers' group: \(String(describing: mode)); \(serve.log())")

            let add = ["add", "--officer", "maria", "--officer-socket", socket, "--title", "Ours", "--title-en", "Ours", "--summary", "s",
                       "--summary-en", "s", "--challenge", "c", "--json"]
            let before = try a.store.count()
            let written = try sh(["runuser", "-u", officer, "--", c4csrBinary] + add + ["--officer-key", homes[officer]!.path + "/officer.key"])
            #expect(written.status == 0, "\(written.output)")
            #expect(try a.store.count() == before + 1)
            let practiceID = try #require(JSONParser.parse(Array(written.output.utf8))["practice"]?.stringValue)
            #expect(try a.store.practice(practiceID).0.versions.first?.author == OfficerID("maria")!)
            // Nothing else: no key, no TLS key, no store.
            for file in [a.directory.signingKeyFile.path, a.directory.tlsKeyFile.path, a.directory.storeFile.path] {
                #expect(try sh(["runuser", "-u", officer, "--", "cat", file]).status != 0, "the officer read \(file)")
            }
            #expect(try sh(["runuser", "-u", officer, "--", "sh", "-c", "echo x >> '\(a.directory.storeFile.path)'"]).status != 0, "the officer wrote the store")
            #expect(try sh(["runuser", "-u", officer, "--", c4csrBinary, "key", "rotate", "--data-dir", a.directory.root.path]).status != 0)
            // Outside the group: refused at the socket, nothing written.
            let refused = try sh(["runuser", "-u", outsider, "--", c4csrBinary] + add + ["--officer-key", homes[outsider]!.path + "/officer.key"])
            #expect(refused.status == 77 && refused.output.contains("officers' group"), "\(refused.output)")
            #expect(try a.store.count() == before + 1)
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }

    /// What anyone who can open the socket may send: garbage, a huge body, a request for a
    /// kind an officer may not write: each answered with an error, nothing written. A
    /// second node's daemon configured with the same path refuses to start rather than
    /// take the socket over.
    @Test func theSocketRefusesGarbageAndIsNeverTakenOver() async throws {
        try await withCities(["aa", "bb"]) { c in
            let (a, b) = (c[0], c[1])
            let root = a.directory.root.deletingLastPathComponent()
            let socket = root.appendingPathComponent("shared.sock").path
            let serve = try ServeProcess(city: a, extra: ["--interval", "60s", "--officer-socket", socket])
            defer { serve.kill() }
            _ = try #require(try await serve.waitForPort())
            try await eventually("the officer socket is up", within: 20) { serve.info()?["officer_socket"]?.stringValue == socket }
            let before = try a.store.count()
            func exchange(_ request: [UInt8]) -> String {
                let fd = socket.withCString { path -> Int32 in
                    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                    var address = sockaddr_un()
                    address.sun_family = sa_family_t(AF_UNIX)
                    withUnsafeMutableBytes(of: &address.sun_path) { raw in
                        for (i, byte) in socket.utf8.enumerated() { raw[i] = byte }
                    }
                    let ok = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                    }
                    _ = path
                    return ok == 0 ? fd : -1
                }
                guard fd >= 0 else { return "" }
                defer { close(fd) }
                var timeout = timeval(tv_sec: 10, tv_usec: 0), sendTimeout = timeval(tv_sec: 2, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
                var offset = 0
                while offset < request.count {
                    let n = request[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, min($0.count, 65_536)) }
                    if n <= 0 { break }
                    offset += n
                }
                var out = [UInt8](), buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    out += buffer[0..<n]
                }
                return String(decoding: out, as: UTF8.self)
            }
            func post(_ body: [UInt8]) -> String {
                exchange(Array("POST /v1/officer/entries HTTP/1.1\r\nHost: c4csr\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            }
            let garbage = post(Array("{not json".utf8))
            #expect(garbage.hasPrefix("HTTP/1.1 400") && garbage.contains("invalid_input"), "\(garbage)")
            let sig = Data(repeating: 1, count: 64).base64EncodedString()
            let rotate = post(Array("{\"kind\":\"rotate\",\"officer\":\"x1\",\"payload\":{},\"sig\":\"\(sig)\",\"time\":1}".utf8))
            #expect(rotate.hasPrefix("HTTP/1.1 400") && rotate.contains("publish, revise, retract or adopt"), "\(rotate)")
            let extra = post(Array("{\"kind\":\"publish\",\"officer\":\"x1\",\"payload\":{},\"sig\":\"\(sig)\",\"time\":1,\"seq\":9}".utf8))
            #expect(extra.hasPrefix("HTTP/1.1 400"), "\(extra)")
            // The server stops reading past 1 MiB and answers 413; this client stops writing
            // after its send timeout, then reads the answer.
            let huge = post([UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20))
            #expect(huge.hasPrefix("HTTP/1.1 413"), "a body over 1 MiB is refused: \(huge.prefix(200))")
            let unknown = exchange(Array("GET /v1/officer/practices/zzzzzz HTTP/1.1\r\nHost: c4csr\r\nConnection: close\r\n\r\n".utf8))
            #expect(unknown.hasPrefix("HTTP/1.1 404"), "\(unknown)")
            #expect(try a.store.count() == before, "nothing was written")
            #expect(serve.isRunning)

            // Another node's daemon given the same path: refuses, and the socket stays a's.
            let second = try ServeProcess(city: b, extra: ["--interval", "60s", "--officer-socket", socket])
            defer { second.kill() }
            #expect(second.wait(seconds: 30) == 1, "\(second.log())")
            #expect(second.log().contains("another daemon already listens for officers"), "\(second.log())")
            let still = exchange(Array("GET /v1/officer/city HTTP/1.1\r\nHost: c4csr\r\nConnection: close\r\n\r\n".utf8))
            #expect(still.contains("\"city\":\"aa\""), "\(still)")
            serve.signal(SIGTERM)
            #expect(serve.wait(seconds: 30) == 0)
        }
    }
}
