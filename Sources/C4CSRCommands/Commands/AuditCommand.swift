import ArgumentParser
import C4CSRCore
import C4CSRCurl
import C4CSRNode
import C4CSRStore
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Re-verify the whole log from its stored bytes.",
        discussion: """
            Checks every entry: its id is the SHA-256 of its bytes, its Ed25519 signature
            verifies with its city's key, its chain link and vector clock are consistent and
            its causal past precedes it; then forks (a city that signed two entries with one
            seq), practice rules (a city changing another's practice, invalid references)
            and revision conflicts. Prints per-city heads and the network digest, which two
            cities compare to know that they hold the same log.

            With --peers, also asks every peer for its heads and reports whether its log
            agrees with this one, and any city whose chain two nodes see differently (a
            fork shown to different cities: an error). Peers that cannot be reached are
            reported and do not fail the audit.

            Findings come in three categories. Tampering (errors: a stored entry that does
            not verify, a damaged table, a broken chain) exits with status 2. A member's
            protocol violations that the log records faithfully (a city that signed two
            entries at one seq, entries the practice rules ignore, a chain two peers see
            differently) and revision conflicts are reported and exit 0, unless --strict:
            one bad member cannot make every city's audit fail for ever, nor hide real
            tampering. Progress goes to standard error on a terminal.

            With FILE, audits that export (JSON Lines, from `c4csr export`) instead of the
            city's log, with the keys of the cards in --cards: no city, data directory or
            store is needed (a coordinator or an auditor checking what a city sent). The
            export's lines must also be in merged order.

            Examples:
              c4csr audit --peers-dir Peers
              c4csr audit --peers
              c4csr audit network.jsonl --cards Peers
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("An export to audit instead of this city's log ('-': standard input).", valueName: "file"))
    var file: String?
    @Option(name: .customLong("cards"), help: ArgumentHelp("A directory of peer cards whose keys verify FILE (repeatable).", valueName: "dir"))
    var cards: [String] = []
    @OptionGroup var output: OutputOptions
    @Flag(help: "Exit with status 2 on members' violations and conflicts too.")
    var strict = false
    @Flag(name: .customLong("peers"), help: "Also compare heads with every reachable peer.")
    var comparePeers = false
    @OptionGroup var network: NetworkOptions

    func validate() throws {
        if file != nil, cards.isEmpty { throw ValidationError("an export is verified with the keys of peer cards: give --cards DIR (such as the repository's Peers/)") }
        if file == nil, !cards.isEmpty { throw ValidationError("--cards goes with an export FILE; the city's own log uses its peer cards") }
        if file != nil, comparePeers { throw ValidationError("--peers compares this city's log with its peers; it does not apply to an export FILE") }
    }

    func run() async throws {
        try await Console.run {
            let showProgress = Console.stderrIsTerminal && !output.json
            let started = Date()
            let progress: (Int, Int) -> Void = { done, total in
                if showProgress { FileHandle.standardError.write(Data("\raudit: \(Format.count(done)) / \(Format.count(total)) entries".utf8)) }
            }
            if let file {
                try auditExport(file, progress: progress, started: started)
                return
            }
            let city = try global.openCity(warnings: !output.json)
            let report = try city.audit(progress: progress)
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let seconds = Date().timeIntervalSince(started)
            var agreements = [PeerAgreement]()
            if comparePeers {
                let network = self.network
                agreements = await Network.each(try network.cards(of: city)) { card in
                    do { return await city.compare(with: card.city, transport: try network.transport(card, city)) } catch {
                        var a = PeerAgreement(peer: card.city)
                        a.error = "\(error)"
                        return a
                    }
                }
            }
            try show(report, of: city.id.rawValue, seconds: seconds, agreements: agreements, erasures: try Render.erasures(of: city))
        }
    }

    /// `audit FILE --cards DIR`.
    func auditExport(_ file: String, progress: @escaping (Int, Int) -> Void, started: Date) throws {
        let directory = PeerDirectory.load(cards.map { URL(fileURLWithPath: $0, isDirectory: true) })
        if !output.json { for w in directory.warnings + directory.readErrors { Console.warn(w) } }
        for dir in cards where !FileManager.default.fileExists(atPath: dir) { throw NodeError.notFound("no card directory \(dir)") }
        guard !directory.keys.isEmpty else { throw NodeError.invalidInput("no card in \(cards.joined(separator: ", ")) has a public_key to verify with") }
        let data: Data
        if file == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else {
            guard let d = FileManager.default.contents(atPath: file) else {
                throw NodeError.notFound(FileAccess.readProblem(file) ?? "cannot read \(file)")
            }
            data = d
        }
        let report = ExportAudit.audit(Array(data), verifier: EntryVerifier(keys: directory.keys), progress: progress)
        if Console.stderrIsTerminal && !output.json { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        try show(report, of: "export \(file == "-" ? "(standard input)" : file)", seconds: Date().timeIntervalSince(started), agreements: [])
    }

    /// Prints the report and exits 2 when it failed.
    /// - Parameter erasures: a city's erasures (§14) and who has not confirmed each
    ///   (`nil` for an export, which has no members to wait for).
    func show(_ report: AuditReport, of subject: String, seconds: Double, agreements: [PeerAgreement], erasures: [Render.ErasureState]? = nil) throws {
        let divergent = agreements.contains { !$0.divergences.isEmpty }
        let failed = !report.errors.isEmpty || (strict && (!report.violations.isEmpty || !report.warnings.isEmpty || divergent))
        if output.json {
            Console.json(.object([
                "ok": .bool(!failed), "city": .string(subject), "entries": .int(Int64(report.checked)),
                "practices": .int(Int64(report.practices)), "errors": .int(Int64(report.errors.count)),
                "violations": .int(Int64(report.violations.count)), "warnings": .int(Int64(report.warnings.count)),
                "findings": .array(report.findings.map(\.json)),
                "equivocations": .object(Dictionary(uniqueKeysWithValues: report.equivocations.map { ($0.key.rawValue, JSONValue.array($0.value.map { .int($0) })) })),
                "heads": Render.headsJSON(report.heads), "forks": Render.headsJSON(report.forks),
                "digest": .string(report.digest.hex),
                "authors": .object(report.authors.mapValues { .int(Int64($0)) }),
                "peers": comparePeers ? .array(agreements.map { a in Self.json(a, erasures: erasures ?? []) }) : .null,
                "erasures": erasures.map { .array($0.map(Render.erasureJSON)) } ?? .null,
            ]))
        } else {
            for f in report.findings { Console.out(f.description) }
            if !report.findings.isEmpty { Console.out("") }
            for (origin, seqs) in report.equivocations.sorted(by: { $0.key < $1.key }) {
                Console.out("equivocation: \(origin) signed two entries at seq \(seqs.map(String.init).joined(separator: ", ")) (evidence kept)")
            }
            Console.out("audit of \(subject): \(Format.plural(report.checked, "entry", "entries")), \(Format.plural(report.practices, "practice")), \(String(format: "%.2f", seconds)) s")
            if !report.authors.isEmpty {
                let byOfficer = report.authors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                Console.out("written by officers (signatures verified): \(byOfficer)")
            }
            Console.out("heads:")
            for line in Render.headsText(report.heads, forks: report.forks, digest: report.digest, entries: nil) { Console.out(line) }
            if comparePeers {
                Console.out("peers:")
                if agreements.isEmpty { Console.out("  (no peer card has an endpoint)") }
                for a in agreements {
                    Console.out(Self.line(a))
                    let owed = (erasures ?? []).filter { $0.pending.contains(a.peer) }
                    if !owed.isEmpty {
                        Console.out("    has not confirmed \(Format.plural(owed.count, "erasure")): \(owed.map(\.erasure.entry.short).joined(separator: ", "))")
                    }
                }
            }
            for item in erasures ?? [] { Console.out(Render.erasureLine(item)) }
            let counts = [Format.plural(report.errors.count, "tampering error"), Format.plural(report.violations.count, "member violation"),
                          Format.plural(report.warnings.count, "conflict")].joined(separator: ", ")
            Console.out(failed ? "FAILED: \(counts)"
                               : "OK: every signature, chain and causal link verifies" + (report.findings.isEmpty ? "" : " (\(counts))"))
        }
        if failed { throw Exit.problems }
    }

    static func line(_ a: PeerAgreement) -> String {
        let name = "  " + Format.pad(a.peer.rawValue, 18)
        if let e = a.error { return "\(name) not reachable: \(e)" }
        var line = name
        let ours = a.local?.digest.prefix(16) ?? "", theirs = a.remote?.digest.prefix(16) ?? ""
        if a.agrees {
            line += "agrees: both hold network digest \(ours)"
        } else if let c = a.comparison {
            line += "differs: this node's digest \(ours), the peer's \(theirs); it lacks \(c.theyLack), this city lacks \(c.weLack)"
        }
        for d in a.divergences { line += "\n    violation: [chain_divergence] \(d)" }
        return line
    }

    static func json(_ a: PeerAgreement, erasures: [Render.ErasureState]) -> JSONValue {
        var o: [String: JSONValue] = ["city": .string(a.peer.rawValue), "agrees": .bool(a.agrees), "reachable": .bool(a.error == nil)]
        o["unconfirmed_erasures"] = .array(erasures.filter { $0.pending.contains(a.peer) }.map { .string($0.erasure.entry.hex) })
        if let e = a.error { o["error"] = .string(e) }
        if let r = a.remote { o["digest"] = .string(r.digest); o["entries"] = .int(r.entries) }
        if let l = a.local { o["local_digest"] = .string(l.digest) }
        if let c = a.comparison { o["they_lack"] = .int(c.theyLack); o["we_lack"] = .int(c.weLack) }
        o["divergences"] = .array(a.divergences.map { d in
            .object([
                "origin": .string(d.origin.rawValue), "seq": .int(d.seq), "ours": d.ours.map { .string($0.hex) } ?? .null,
                "theirs": d.theirs.map { .string($0.hex) } ?? .null, "message": .string(d.description),
            ])
        })
        return .object(o)
    }
}
