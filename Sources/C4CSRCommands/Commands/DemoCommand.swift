import ArgumentParser
import C4CSRCore
import C4CSRCurl
import C4CSRNode
import C4CSRStore
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the ten CITIES4CSR cities on this machine and watch them converge.",
        discussion: """
            Creates the ten partner cities (keys, TLS certificates, peer cards) in a
            temporary directory and starts one `c4csr serve` daemon per city on loopback,
            peered as a partial mesh (each city talks to three others, so most entries
            are relayed). Each city's admin enrols an officer, who publishes practices
            from the city's CSR challenge in its own language with a key of their own,
            through the daemon's officers' socket; officers adopt each other's practices;
            Sofia revises one practice twice from the same version (a conflict). The log
            names each entry's officer. The demo waits until every city holds
            the same log, measures how fast a new entry reaches all ten, prints the
            digests, the head of the merged log and the audits, then stops every daemon.
            Each daemon also serves its city's read-only web portal on loopback; with
            --stay the ten keep running, each portal's address is printed, and Ctrl-C
            stops them.

            Example:
              c4csr demo
              c4csr demo --stay                          # then open a portal in a browser
              c4csr demo --keep --dir /tmp/c4csr-demo    # keep the data directories
            """)

    @Option(help: ArgumentHelp("Where to create the cities (default: a new temporary directory).", valueName: "dir"))
    var dir: String?
    @Flag(help: "Keep the cities' data directories afterwards.")
    var keep = false
    @Option(help: ArgumentHelp("Seconds to wait for convergence before giving up.", valueName: "seconds"))
    var timeout: Double = 45
    @Option(help: ArgumentHelp("New entries whose propagation to all ten cities is timed (median and worst).", valueName: "n"))
    var samples = 5
    @Flag(help: "Afterwards keep the ten daemons running, print each city's portal address, and stop them on Ctrl-C.")
    var stay = false

    func validate() throws {
        guard (1...500).contains(samples) else { throw ValidationError("--samples must be from 1 to 500") }
    }

    func run() async throws {
        try await Console.run {
            let runner = try DemoRunner(directory: dir, keep: keep, timeout: timeout, samples: samples, stay: stay)
            // SIGTERM, SIGINT or SIGHUP (`timeout 3 c4csr demo`, Ctrl-C, a closed terminal):
            // stop every daemon started, then exit as the signal would.
            // With --stay, a signal is how the demo is meant to end: success.
            let signals = DemoSignals.install { signal in
                runner.interrupt(by: signal)
                Foundation.exit(runner.staying ? 0 : 128 + signal)
            }
            defer { signals.cancel() }
            do {
                try await runner.run()
            } catch {
                // Daemons stopped under the demo by a signal: the signal's status, not an error.
                if runner.interruption != nil {
                    while true { try await Task.sleep(for: .seconds(1)) }  // the handler exits
                }
                throw error
            }
        }
    }
}

/// Runs `handler` once on the first of SIGTERM, SIGINT and SIGHUP (dispatch sources; the
/// signals' default actions are turned off while installed).
struct DemoSignals: @unchecked Sendable {
    // @unchecked: the sources are only cancelled, from the command's task.
    private let sources: [any DispatchSourceSignal]

    static func install(_ handler: @escaping @Sendable (Int32) -> Void) -> DemoSignals {
        let queue = DispatchQueue(label: "c4csr.demo.signals")
        let sources = [SIGTERM, SIGINT, SIGHUP].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { handler(sig) }
            source.resume()
            return source
        }
        return DemoSignals(sources: sources)
    }

    func cancel() { for s in sources { s.cancel() } }
}

/// The demo: processes it starts are always stopped, whatever happens.
final class DemoRunner: @unchecked Sendable {
    // @unchecked: used from the command's task only.
    let root: URL
    let keep: Bool
    let timeout: Double
    let samples: Int
    let stay: Bool
    let binary: String
    var cities: [City] = []
    var daemons: [Process] = []
    var ports: [Int] = []
    let started = Date()

    init(directory: String?, keep: Bool, timeout: Double, samples: Int, stay: Bool = false) throws {
        self.samples = samples
        self.stay = stay
        if let directory {
            root = URL(fileURLWithPath: directory, isDirectory: true)
            if FileManager.default.fileExists(atPath: root.path),
               !((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).isEmpty {
                throw NodeError.invalidInput("\(root.path) is not empty; give an empty or new directory")
            }
        } else {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-demo-\(getpid())-\(Int(Date().timeIntervalSince1970))")
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        self.keep = keep || directory != nil
        self.timeout = timeout
        binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    func say(_ s: String) { Console.out("\n== \(s)") }
    func elapsed() -> String { String(format: "%.1f s", Date().timeIntervalSince(started)) }

    func run() async throws {
        defer { stopAll() }
        do {
            try await runSteps()
        } catch {
            // The error names the directory and its serve.log files: they stay.
            processes.withLock { failed = true }
            throw error
        }
    }

    private func runSteps() async throws {
        say("Ten cities create their keys, TLS certificates and peer cards (in \(root.path))")
        for c in DemoData.cities {
            let card = PeerCard(city: CityID(c.id)!, name: c.name, localName: c.localName, country: c.country, language: c.language)
            let city = try City.create(at: DataDirectory(root.appendingPathComponent(c.id).path), card: card)
            cities.append(city)
            Console.out("  \(Format.pad(c.id, 17)) \(Format.pad(c.localName, 17)) \(c.country)  key \(city.card.publicKey!.base64.prefix(12))…  pin \(city.card.tlsPin!.dropFirst(8).prefix(12))…")
        }

        say("Each city starts its daemon on loopback, peered with three others")
        for (i, city) in cities.enumerated() {
            let peers = DemoData.neighbours(of: i).map { DemoData.cities[$0].id }
            try spawn(city, peers: peers)
        }
        try await waitForPorts()
        for (i, city) in cities.enumerated() {
            Console.out("  \(Format.pad(city.id.rawValue, 17)) https://127.0.0.1:\(ports[i])  ↔ \(DemoData.neighbours(of: i).map { DemoData.cities[$0].id }.joined(separator: ", "))")
        }
        // Every city knows every card (keys to verify relayed entries; pins to connect).
        for (i, city) in cities.enumerated() {
            for (j, other) in cities.enumerated() where i != j {
                var card = other.card
                card.endpoint = "https://127.0.0.1:\(ports[j])"
                try Data(card.toml.utf8).write(to: city.directory.peersDirectory.appendingPathComponent("\(other.id).toml"))
            }
            city.reloadPeers()
        }
        for d in daemons { kill(d.processIdentifier, SIGHUP) }

        say("Each city's admin enrols an officer, who writes with a key of their own (never the city's)")
        var officers = [OfficerClient]()
        for (i, city) in cities.enumerated() {
            let officer = OfficerID(DemoData.officers[i])!, key = CitySigningKey()
            let e = try city.changeOfficer(.enrol(officer, key.publicKey))
            officers.append(OfficerClient(socket: Self.officerSocket(city), officer: officer, key: key))
            Console.out("  \(Format.pad(city.id.rawValue, 17)) enrols \(Format.pad(officer.rawValue, 10)) key \(key.publicKey.base64.prefix(12))…  (entry \(city.id)#\(e.seq))")
        }

        say("Each city's officer publishes practices through the daemon's officers' socket")
        var published = [String: [EntryID]]()
        for (i, c) in DemoData.cities.enumerated() {
            for p in c.practices {
                let w = try officers[i].submit(.publish(p), city: cities[i].id)
                published[c.id, default: []].append(w.entry)
                Console.out("  \(Format.pad(c.id, 17)) \(w.entry.short)  \(Format.truncate(p.title.local, 44)) / \(Format.truncate(p.title.en, 34))  by \(officers[i].officer)")
            }
        }
        let firstWave = published.values.reduce(0) { $0 + $1.count } + cities.count
        try await waitForConvergence(entries: firstWave, what: "all practices reach every city")

        say("Cities adopt each other's practices")
        for (adopter, publisher, index, mode, notes) in DemoData.adoptions {
            let i = cities.firstIndex { $0.id.rawValue == adopter }!
            let practice = published[publisher]![index]
            _ = try officers[i].submit(.adopt(practice: practice, version: practice, mode: mode, notes: notes), city: cities[i].id)
            Console.out("  \(Format.pad(adopter, 17)) \(mode.rawValue) \(publisher)'s \(practice.short): \(notes)  (by \(officers[i].officer))")
        }

        say("Two revisions of one Sofia practice from the same version (two `revise --edit` at once): a conflict")
        let sofia = cities.first { $0.id.rawValue == "sofia" }!
        let schoolyards = published["sofia"]![0]
        var v1 = DemoData.cities[1].practices[0]
        v1.status = .completed
        v1.outcomes = "12 училищни двора озеленени"
        var v2 = DemoData.cities[1].practices[0]
        v2.outcomes = "15 двора, 9 фирми"
        _ = try sofia.revise(schoolyards.hex, with: v1, base: [schoolyards.hex])
        _ = try sofia.revise(schoolyards.hex, with: v2, base: [schoolyards.hex])
        Console.out("  sofia revised \(schoolyards.short) twice from the same version")
        let total = firstWave + DemoData.adoptions.count + 2
        try await waitForConvergence(entries: total, what: "adoptions and revisions reach every city")

        let nantes = cities.first { $0.id.rawValue == "nantes" }!
        let record = try nantes.store.practice(schoolyards.hex).0
        Console.out("  as Nantes sees it: \(record.versions.count) versions, \(record.adoptions.count) adoption(s), conflict: \(record.conflict ? "yes" : "no")")

        say("Propagation: how long from an officer's add (through the socket) until all ten cities hold the entry?")
        var worst = [Double]()
        for n in 0..<samples {
            let i = (n * 3 + 4) % cities.count  // rotate through the cities
            let (city, local) = (cities[i], DemoData.cities[i])
            let t0 = Date()
            let extra = try officers[i].submit(.publish(DemoData.practice(
                local.language, "\(local.practices[0].title.local) \(n + 2)", "\(local.practices[0].title.en) \(n + 2)",
                local.practices[0].summary.local, local.practices[0].summary.en, challenge: local.practices[0].challenge,
                themes: local.practices[0].themes, sdgs: local.practices[0].sdgs)), city: city.id)
            var reached = [String: Double]()
            while reached.count < cities.count {
                for c in cities where reached[c.id.rawValue] == nil {
                    if try c.store.contains(extra.entry) { reached[c.id.rawValue] = Date().timeIntervalSince(t0) }
                }
                guard Date().timeIntervalSince(t0) < timeout else { throw NodeError.io("a new entry did not reach every city within \(Int(timeout)) s") }
                try await Task.sleep(for: .milliseconds(5))
            }
            let slowest = reached.max { $0.value < $1.value }!
            worst.append(slowest.value)
            if samples <= 5 || n == samples - 1 {
                Console.out(String(format: "  %@ published; every city held it after %.2f s (last: %@)", city.id.rawValue, slowest.value, slowest.key))
            }
        }
        worst.sort()
        Console.out(String(format: "  propagation to all ten cities over %d entries: median %.2f s, worst %.2f s", samples, worst[worst.count / 2], worst.last!))
        try await waitForConvergence(entries: total + samples, what: "every city agrees")

        say("Erasure (GDPR Art. 17): a contact sealed by Sofia's officer reaches every city; Sofia erases it; how long until every city confirms?")
        let entries = total + samples + 2 + (cities.count - 1)  // the practice, the erasure, an ack from each other city
        try await eraseAcrossTheNetwork(sofia, officer: officers[1])
        try await waitForConvergence(entries: entries, what: "every city holds the erasure and its acks")

        say("An observer joins: the URBACT secretariat reads the network log and signs nothing")
        let observer = try await joinObserver(reading: ["sofia", "milano"], entries: entries)

        say("Network digests (equal means the same log, entry for entry)")
        var digests = Set<String>()
        for city in cities + [observer] {
            let h = try city.localHeads()
            digests.insert(h.digest)
            Console.out("  \(Format.pad(city.id.rawValue, 17)) \(h.entries) entries  digest \(h.digest.prefix(16))")
        }

        say("The merged network log (identical in every city), last 8 of \(entries) entries")
        var lines = [String]()
        var n = 0
        try nantes.store.forEachMerged { e in
            n += 1
            lines.append(Render.logLine(n, e))
        }
        for l in lines.suffix(8) { Console.out(l) }

        say("Audits")
        var failures = 0
        for city in cities + [observer] {
            let a = try city.audit()
            failures += a.errors.count
            let warn = a.warnings.isEmpty ? "" : ", \(a.warnings.count) warning(s): \(Set(a.warnings.map(\.code)).sorted().joined(separator: ", "))"
            Console.out("  \(Format.pad(city.id.rawValue, 17)) \(a.checked) entries, \(a.practices) practices, \(a.errors.count) errors\(warn)")
        }
        let clean = digests.count == 1 && failures == 0
        if !clean { processes.withLock { failed = true } }  // before stopAll: the logs stay
        if !stay {
            stopAll()
            Console.out("\n== Stopped \(cities.count) daemons")
        }
        guard clean else {
            throw NodeError.io("demo failed: \(digests.count) different digests, \(failures) audit errors (logs in \(root.path))")
        }
        Console.out("\nDone in \(elapsed()): ten cities and an observer, one log, digest \(digests.first!.prefix(16)), clean audits.")
        if keep { Console.out("The cities are kept in \(root.path) (each has serve.log).") }
        if stay { try await stayUntilSignalled() }
    }

    /// An officer of `city` publishes a practice with a contact (sealed by the officer's
    /// CLI); once every city holds the contact, the city's admin erases it, and the demo
    /// times how long until every city has deleted it and every city holds every other
    /// city's acknowledgement (docs/PRIVACY.md).
    private func eraseAcrossTheNetwork(_ city: City, officer: OfficerClient) async throws {
        var p = DemoData.practice(
            "bg", "Наставници от фирми", "Company mentors", "Служители на фирми менторират ученици.", "Company staff mentor pupils.",
            challenge: "Early school leaving", themes: ["education"], sdgs: [4, 8])
        p.contact = "Мария Петрова, +359 2 000 0000"
        let written = try officer.submit(.publish(p), city: city.id)
        guard let practice = written.practice else { throw NodeError.io("the daemon of \(city.id) named no practice for its officer's publish") }
        /// Waits until `done` holds in every city; the seconds from `start` when the last did.
        func until(_ what: String, from start: Date, _ done: (City) throws -> Bool) async throws -> (Double, String) {
            var at = [String: Double]()
            while at.count < cities.count {
                for c in cities where at[c.id.rawValue] == nil {
                    if try done(c) { at[c.id.rawValue] = Date().timeIntervalSince(start) }
                }
                guard Date().timeIntervalSince(start) < timeout else { throw NodeError.io("\(what) within \(Int(timeout)) s (logs in \(root.path))") }
                try await Task.sleep(for: .milliseconds(5))
            }
            let last = at.max { $0.value < $1.value }!
            return (last.value, last.key)
        }
        let published = Date()
        let (held, heldLast) = try await until("the sealed contact did not reach every city", from: published) { c in
            try c.store.contents(of: [written.entry]).contains { $0.field == .contact }
        }
        Console.out(String(format: "  sofia's officer published %@ with a sealed contact; every city held the contact after %.2f s (last: %@)", practice.short, held, heldLast))
        let erased = Date()
        let erase = try city.erase(practice.hex, fields: [.contact], reason: "Request DPO-2026-1")
        Console.out(String(format: "  sofia erased it (entry sofia#%lld, reason \"Request DPO-2026-1\")", erase.seq))
        let (gone, goneLast) = try await until("the contact was not erased everywhere", from: erased) { c in try c.store.isErased(written.entry, .contact) }
        let (confirmed, confirmedLast) = try await until("the erasure was not confirmed everywhere", from: erased) { c in
            let e = try c.store.erasures().first { $0.erasure.entry == erase.id }
            return e.map { Set($0.erasure.confirmedBy).count == cities.count } ?? false
        }
        Console.out(String(format: "  every city had deleted it %.2f s after the erasure (last: %@)", gone, goneLast))
        Console.out(String(format: "  every city held all %d confirmations %.2f s after the erasure (last: %@)", cities.count, confirmed, confirmedLast))
        for c in cities where try !c.store.contents(of: [written.entry]).filter({ $0.field == .contact }).isEmpty {
            throw NodeError.io("\(c.id) still holds the erased contact")
        }
    }

    /// Prints each city's portal and waits: the signal handler stops the daemons and exits.
    private func stayUntilSignalled() async throws {
        say("The ten daemons keep running; each serves its city's portal (Ctrl-C stops them)")
        for city in cities {
            let port = (FileManager.default.contents(atPath: city.directory.serveFile.path)
                .flatMap { try? JSONParser.parse(Array($0)) })?["web_port"]?.intValue
            Console.out("  \(Format.pad(city.id.rawValue, 17)) \(port.map { "http://127.0.0.1:\($0)/" } ?? "(no portal: see serve.log)")")
        }
        processes.withLock { isStaying = true }
        while true {
            try await Task.sleep(for: .seconds(1))
            let stopped = processes.withLock { daemons.filter { !$0.isRunning }.count }
            if stopped > 0 { throw NodeError.io("\(stopped) daemon(s) stopped on their own; see serve.log in \(root.path)") }
        }
    }

    /// Creates an observer, gives its card to the cities it reads from (their daemons
    /// reload their cards), and pulls the network log from them the way `c4csr sync`
    /// does, until it holds every entry. Then shows that it can neither sign nor push.
    private func joinObserver(reading sources: [String], entries: Int) async throws -> City {
        let card = PeerCard(
            city: CityID("urbact")!, name: "URBACT secretariat", localName: "URBACT secretariat", country: "FR", language: "en",
            role: .observer)
        let observer = try City.create(at: DataDirectory(root.appendingPathComponent("urbact").path), card: card)
        // It knows every city's card (relayed entries verify with their keys); the cities
        // it reads from learn its card, whose pin lets it connect.
        for (j, other) in cities.enumerated() {
            var c = other.card
            c.endpoint = "https://127.0.0.1:\(ports[j])"
            try Data(c.toml.utf8).write(to: observer.directory.peersDirectory.appendingPathComponent("\(other.id).toml"))
        }
        observer.reloadPeers()
        let readFrom = cities.enumerated().filter { sources.contains($0.element.id.rawValue) }
        for (i, city) in readFrom {
            try Data(observer.card.toml.utf8).write(to: city.directory.peersDirectory.appendingPathComponent("urbact.toml"))
            processes.withLock { kill(daemons[i].processIdentifier, SIGHUP) }
        }
        Console.out("  urbact: a TLS identity and a card with role = \"observer\", no signing key; \(sources.joined(separator: " and ")) add its card")
        let transports = try readFrom.map { (i, city) -> (CityID, HTTPPeerTransport) in
            var c = city.card
            c.endpoint = "https://127.0.0.1:\(ports[i])"
            return (city.id, try HTTPPeerTransport(card: c, city: observer, connectTimeoutMS: 2_000, requestTimeoutMS: 10_000))
        }
        let t0 = Date()
        var lastError = ""
        while try observer.localHeads().entries < entries {
            // The cities reload their cards on SIGHUP; until then the handshake is refused.
            for (peer, transport) in transports {
                let report = await SyncRound(city: observer, peer: peer, transport: transport).run()
                if let e = report.error { lastError = e } else if report.received > 0 {
                    Console.out(String(format: "  urbact pulled %d entries from %@ (%.2f s)", report.received, peer.rawValue, Date().timeIntervalSince(t0)))
                }
            }
            guard Date().timeIntervalSince(t0) < timeout else {
                throw NodeError.io("the observer did not get the network log within \(Int(timeout)) s: \(lastError)")
            }
            if try observer.localHeads().entries < entries { try await Task.sleep(for: .milliseconds(100)) }
        }
        do {
            _ = try observer.publish(DemoData.cities[0].practices[0])
            throw NodeError.io("the observer signed an entry")
        } catch let e as NodeError where e.kind == .forbidden {
            Console.out("  urbact tries to publish: refused: \(e.message.components(separatedBy: " (").first ?? e.message)")
        }
        let (peer, transport) = transports[0]
        do {
            _ = try await transport.push(try observer.store.lacking(VectorClock(), limit: 1, maxBytes: 1 << 20).entries)
            throw NodeError.io("\(peer) accepted a push from the observer")
        } catch let e as TransportError {
            let answer = e.description.components(separatedBy: "answered ").last?.components(separatedBy: ":").first ?? e.description
            Console.out("  urbact pushes to \(peer): refused with \(answer)")
        }
        return observer
    }

    /// Where a demo city's daemon listens for its officer.
    /// The city's officer socket: in its data directory, unless that path is too long for
    /// a Unix socket (a deep --dir or TMPDIR); then in /tmp, named by this process.
    static func officerSocket(_ city: City) -> String {
        let inside = city.directory.root.appendingPathComponent("officer.sock").path
        return inside.utf8.count < 100 ? inside : "/tmp/c4csr-demo-\(getpid())-\(city.id).sock"
    }

    private func spawn(_ city: City, peers: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve", "--data-dir", city.directory.root.path, "--listen", "127.0.0.1:0", "--interval", "10", "--web-listen", "127.0.0.1:0",
                       "--officer-socket", Self.officerSocket(city)]
            + peers.flatMap { ["--peer", $0] }
        var env = ProcessInfo.processInfo.environment
        env["C4CSR_LOG_LEVEL"] = env["C4CSR_LOG_LEVEL"] ?? "info"
        env["C4CSR_PEERS_DIR"] = nil
        env["C4CSR_CONFIG"] = ""  // the demo's daemons ignore any system configuration
        env["C4CSR_DIE_WITH_PARENT"] = "\(getpid())"  // and never outlive the demo
        p.environment = env
        let log = city.directory.root.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: log)
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try processes.withLock {
            try p.run()
            daemons.append(p)
        }
    }

    private func waitForPorts() async throws {
        let deadline = Date().addingTimeInterval(20)
        ports = []
        for (i, city) in cities.enumerated() {
            while true {
                if let data = FileManager.default.contents(atPath: city.directory.serveFile.path),
                   case .object(let o)? = try? JSONParser.parse(Array(data)), let port = o["port"]?.intValue {
                    ports.append(Int(port))
                    break
                }
                guard processes.withLock({ i < daemons.count && daemons[i].isRunning }) else {
                    throw NodeError.io("the daemon of \(city.id) exited; see \(city.directory.root.path)/serve.log")
                }
                guard Date() < deadline else { throw NodeError.io("the daemon of \(city.id) did not start listening within 20 s; see \(city.directory.root.path)/serve.log") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private func waitForConvergence(entries: Int, what: String) async throws {
        let t0 = Date()
        while true {
            let heads = try cities.map { try $0.localHeads() }
            if Set(heads.map(\.digest)).count == 1, heads[0].entries == entries {
                Console.out(String(format: "  %@: %d entries in every city after %.2f s", what, entries, Date().timeIntervalSince(t0)))
                return
            }
            let stopped = processes.withLock { zip(cities, daemons).filter { !$0.1.isRunning }.map(\.0.id.rawValue) }
            if !stopped.isEmpty {
                throw NodeError.io("the daemon of \(stopped.joined(separator: ", ")) exited; see serve.log in \(root.path)")
            }
            guard Date().timeIntervalSince(t0) < timeout else {
                throw NodeError.io("cities did not converge within \(Int(timeout)) s (\(heads.map { "\($0.city) \($0.entries)" }.joined(separator: ", "))); logs in \(root.path)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Guards `daemons` and `interruption` against the signal handler, which may stop the
    /// daemons from its own queue.
    private let processes = NSLock()
    private var interruptedBy: Int32?
    private var isStaying = false
    /// The run failed: its directory stays, whatever `keep` says.
    private var failed = false

    /// The run is over and the daemons stay until a signal (`--stay`).
    var staying: Bool { processes.withLock { isStaying } }

    /// The signal that stopped the demo, if one did.
    var interruption: Int32? { processes.withLock { interruptedBy } }

    /// A signal arrived: stop every daemon (the caller then exits).
    func interrupt(by signal: Int32) {
        processes.withLock { interruptedBy = signal }
        stopAll()
    }

    func stopAll() {
        let all = processes.withLock { () -> [Process] in
            let all = daemons
            daemons = []
            return all
        }
        let running = all.filter(\.isRunning)
        for d in running { kill(d.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(25)
        while running.contains(where: \.isRunning), Date() < deadline { usleep(20_000) }
        for d in running where d.isRunning { kill(d.processIdentifier, SIGKILL) }
        for d in all { d.waitUntilExit() }
        if !keep, !processes.withLock({ failed }) { try? FileManager.default.removeItem(at: root) }
    }
}
