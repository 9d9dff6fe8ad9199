import C4CSRCore
import C4CSRStore
import Foundation

/// The JSON Lines exchange format (docs/PROTOCOL.md §5): one entry per line,
/// `{"body":"<base64>","id":"<hex>","sig":"<base64>"}` in canonical JSON.
public enum ExportLine {
    /// - Parameter content: the entry's sealed fields' content held (§14), sorted by field.
    public static func encode(body: [UInt8], signature: [UInt8], id: [UInt8], content: [PersonalContent] = []) -> String {
        var o: [String: JSONValue] = [
            "body": .string(Data(body).base64EncodedString()),
            "id": .string(Hex.encode(id)),
            "sig": .string(Data(signature).base64EncodedString()),
        ]
        if !content.isEmpty { o["content"] = .array(content.sorted { $0.field < $1.field }.map(\.lineJSON)) }
        return CanonicalJSON.string(.object(o))
    }

    /// Reads one line. - Throws: a sentence saying what is wrong with it.
    public static func decode(_ line: [UInt8]) throws(NodeError) -> (body: [UInt8], signature: [UInt8]) {
        let l = try decodeWithContent(line)
        return (l.body, l.signature)
    }

    /// Reads one line with its content (§14), each item checked for its form (not yet
    /// against the seal: that needs the entry verified).
    public static func decodeWithContent(_ line: [UInt8]) throws(NodeError) -> (body: [UInt8], signature: [UInt8], content: [PersonalContent]) {
        let value: JSONValue
        do { value = try JSONParser.parse(line, limits: JSONLimits(maxDepth: 4, maxBytes: 4 * Entry.maxBodyBytes)) } catch {
            throw .invalidInput("not a JSON object (\(error))")
        }
        guard case .object(let o) = value else { throw .invalidInput("not a JSON object") }
        for key in o.keys where !["body", "content", "id", "sig"].contains(key) { throw .invalidInput("unknown field \"\(key)\"") }
        guard let b = o["body"]?.stringValue, let body = Data(base64Encoded: b) else {
            throw .invalidInput("\"body\" must be the base64 of the entry's signed bytes")
        }
        guard let s = o["sig"]?.stringValue, let sig = Data(base64Encoded: s), sig.count == 64 else {
            throw .invalidInput("\"sig\" must be the base64 of a 64-byte Ed25519 signature")
        }
        if let idValue = o["id"] {
            guard let idText = idValue.stringValue, let id = EntryID(hex: idText) else { throw .invalidInput("\"id\" must be 64 hex digits") }
            guard id == EntryID.of(body: Array(body)) else {
                throw .invalidInput("\"id\" \(id.short) is not the SHA-256 of the body (\(EntryID.of(body: Array(body)).short))")
            }
        }
        var content = [PersonalContent]()
        if let items = o["content"] {
            guard let a = items.arrayValue, !a.isEmpty, a.count <= PersonalField.allCases.count else {
                throw .invalidInput("\"content\" must be a non-empty array of at most \(PersonalField.allCases.count) items")
            }
            let id = EntryID.of(body: Array(body))
            for item in a {
                do { content.append(try PersonalContent(json: item, entry: id)) } catch { throw .invalidInput("\"content\": \(error.description)") }
            }
            guard content.map(\.field) == Array(Set(content.map(\.field))).sorted() else {
                throw .invalidInput("\"content\" must be sorted by field, one item per field")
            }
        }
        return (Array(body), Array(sig), content)
    }
}

/// What `import` did, line by line.
public struct ImportReport: Sendable {
    public let lines: Int
    public let inserted: Int
    public let duplicates: Int
    public let forks: [String]
    /// Entries not merged: "line N (origin#seq id): why".
    public let problems: [String]
    public let summary: LogSummary
    /// Contents in the file for fields erased (§14): dropped, never stored.
    public var erasedContentDropped = 0
    public var isClean: Bool { problems.isEmpty }
}

extension City {
    /// Exports every entry as JSON Lines, in merged network order, exactly as stored.
    /// Two cities that hold the same entries produce byte-identical exports.
    /// - Returns: the number of entries written.
    /// - Parameter progress: called with the entries written so far, every 4,096.
    @discardableResult
    /// - Parameter content: whether lines carry the content held for sealed fields (§14);
    ///   without it, nodes that hold the same entries write the same bytes whatever
    ///   content each holds.
    public func exportJSONL(content withContent: Bool = true, progress: ((Int) -> Void)? = nil, _ write: (String) throws -> Void) throws -> Int {
        var n = 0
        var buffer = ""
        // Sealed fields' content (§14), held beside few entries: read once, by entry.
        let contents = withContent ? Dictionary(grouping: try store.allContents(), by: \.entry) : [:]
        try store.forEachMergedRow { row in
            let content = contents.isEmpty ? [] : EntryID(bytes: row.id).flatMap { contents[$0] } ?? []
            buffer += ExportLine.encode(body: row.body, signature: row.signature, id: row.id, content: content) + "\n"
            n += 1
            if n % 4096 == 0 { progress?(n) }
            if buffer.utf8.count > 1 << 20 {
                try write(buffer)
                buffer = ""
            }
        }
        if !buffer.isEmpty { try write(buffer) }
        return n
    }

    /// Imports a JSON Lines export. A file that is not an export (a malformed line)
    /// is refused whole: nothing changes. Otherwise every valid, causally ready entry
    /// is merged in one transaction, and each other entry is reported by line.
    /// - Parameter phase: told what the import does now ("verifying 100,000 entries"), for progress.
    public func importJSONL(_ data: [UInt8], name: String, phase: ((String) -> Void)? = nil) throws -> ImportReport {
        var items = [(body: [UInt8], signature: [UInt8])]()
        var contents = [(line: Int, content: PersonalContent)]()
        var lineNumbers = [Int]()
        var lineNo = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNo += 1
            var bytes = Array(line)
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                let l = try ExportLine.decodeWithContent(bytes)
                items.append((l.body, l.signature))
                contents += l.content.map { (lineNo, $0) }
            } catch {
                throw NodeError.invalidInput("\(name), line \(lineNo): \(error.message); nothing was imported")
            }
            lineNumbers.append(lineNo)
        }
        if items.isEmpty { throw NodeError.invalidInput("\(name) holds no entries; nothing was imported") }
        phase?("verifying the signatures of \(items.count) entries on every core")
        let batch = verify(items)
        phase?("merging \(batch.valid.count) entries in one transaction")
        let report = try merge(batch)
        var problems = [String]()
        var erasedDropped = 0
        for (index, error) in report.invalid {
            problems.append("line \(lineNumbers[index]): \(error.message)")
        }
        var lineOf = [EntryID: Int]()
        for (i, item) in items.enumerated() { lineOf[EntryID.of(body: item.body)] = lineNumbers[i] }
        for (entry, reason) in report.outcome.refused {
            problems.append("line \(lineOf[entry.id] ?? 0) (\(entry)): not merged: \(reason)")
        }
        // The content beside the entries (§14), each checked against its seal; erased
        // content is dropped (reported, not an error of the file: a node that has not yet
        // erased may have exported it).
        if !contents.isEmpty {
            phase?("storing the content of \(contents.count) sealed fields")
            for ((line, c), outcome) in zip(contents, try store.storeContent(contents.map(\.content))) {
                switch outcome {
                case .stored, .alreadyHeld: break
                case .entryNotHeld: problems.append("line \(line): the content of \(c.field.rawValue) was not stored: its entry is not in the log")
                case .refused(.erased): erasedDropped += 1
                case .refused(let why): problems.append("line \(line): the content of \(c.field.rawValue) was not stored: \(why.code): \(why)")
                }
            }
        }
        problems.sort { $0.localizedStandardCompare($1) == .orderedAscending }
        return ImportReport(
            lines: items.count, inserted: report.inserted, duplicates: report.outcome.duplicates,
            forks: report.outcome.forks.map { "\($0)" }, problems: problems, summary: try store.summary(), erasedContentDropped: erasedDropped)
    }

    /// Exports current practices as CSV (RFC 4180), one row per practice, in practice id
    /// order, from one query over the log: UTF-8 with a byte-order mark (so that the
    /// spreadsheets of every city read the Cyrillic, Greek and accented texts right),
    /// cells separated by `delimiter` (`;` for spreadsheets set to a decimal comma),
    /// and cells a spreadsheet would run as formulas neutralised.
    public func exportCSV(delimiter: Character = ",", byteOrderMark: Bool = true, _ write: (String) throws -> Void) throws {
        let header = ["id", "city", "status", "language", "title_local", "title_en", "summary_local", "summary_en", "challenge",
                      "outcomes", "themes", "sdgs", "companies", "partners", "area", "start", "end", "links", "contact", "published",
                      "revised", "versions", "adopted_by", "conflict", "officers"]
        let separator = String(delimiter)
        func row(_ cells: [String]) -> String { cells.map { CSVCell.escape($0, delimiter: delimiter) }.joined(separator: separator) + "\r\n" }
        try write((byteOrderMark ? "\u{FEFF}" : "") + row(header))
        let contents = Dictionary(grouping: try store.allContents(), by: \.entry)
        let revoked = try store.revokedEntries()
        try store.forEachPracticeEntries { subject, signed in
            let entries = signed.compactMap { try? Entry.decode(body: $0.body, signature: $0.signature) }
            let publish = entries.first { $0.id == subject && $0.kind == .publish }
            guard let r = PracticeRules.project(publish: publish, related: entries.filter { $0.id != subject }, revoked: revoked).0 else { return }
            // Sealed personal fields (§14): the content held, else empty.
            let p = r.current.sealed.isEmpty ? r.current : r.current.revealing(contents[r.fieldsEntry] ?? [])
            let revised = r.versions.dropFirst().last.map { Self.day($0.time) } ?? ""
            let adopters = Array(Set(r.adoptions.map(\.city.rawValue))).sorted()
            try write(row([
                r.id.hex, r.publisher.rawValue, r.retracted ? "retracted" : p.status.rawValue, p.language, p.title.local, p.title.en,
                p.summary.local, p.summary.en, p.challenge, p.outcomes ?? "", p.themes.joined(separator: "; "),
                p.sdgs.map(String.init).joined(separator: "; "), p.companies.joined(separator: "; "), p.partners.joined(separator: "; "),
                p.area ?? "", p.period?.start ?? "", p.period?.end ?? "", p.links.joined(separator: " "), p.contact ?? "",
                Self.day(r.versions[0].time), revised, String(r.versions.count), adopters.joined(separator: "; "), r.conflict ? "yes" : "no",
                Array(Set(r.versions.compactMap(\.author?.rawValue))).sorted().joined(separator: "; "),
            ]))
        }
    }

    /// "2026-11-30": the UTC day of a time in milliseconds since the epoch.
    static func day(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

/// The result of `audit`.
public struct AuditReport: Sendable {
    public let checked: Int
    public let findings: [AuditFinding]
    /// Heads, forks and digest recomputed from the entries' bytes.
    public let heads: [Head]
    public let forks: [Head]
    public let digest: NetworkDigest
    public let practices: Int
    /// Entries written by officers (§13), verified, by "city/officer".
    public var authors: [String: Int] = [:]

    /// Tampering: `audit` exits 2.
    public var errors: [AuditFinding] { findings.filter { $0.severity == .error } }
    /// A member's protocol violations, recorded faithfully by the log.
    public var violations: [AuditFinding] { findings.filter { $0.severity == .violation } }
    public var warnings: [AuditFinding] { findings.filter { $0.severity == .warning } }
    /// Cities that signed two entries at one seq, with the forked seqs.
    public var equivocations: [CityID: [Int64]] {
        Dictionary(grouping: forks, by: \.origin).mapValues { Array(Set($0.map(\.seq))).sorted() }
    }
}

extension City {
    /// Re-verifies the whole log from the stored bytes: ids, envelopes, signatures (on
    /// every core), derived columns, chains, causal order, forks, then the practice
    /// rules (unauthorised changes, invalid references, conflicts).
    ///
    /// - Parameter progress: called after each chunk with (entries checked, total).
    public func audit(progress: ((Int, Int) -> Void)? = nil) throws -> AuditReport {
        let total = try store.count()
        var auditor = LogAuditor()
        for problem in try store.integrityProblems() {
            auditor.add(AuditFinding(.error, "store_integrity", entry: nil, problem))
        }
        // Practices with one entry (most: a publish never revised) are judged in the
        // first pass, from the entry already decoded; the others in a second pass.
        let several = try store.subjectsWithSeveralEntries()
        // §15: the verdicts computed again from the log, compared with those the store
        // keeps; revoked entries are read as absent by the practice rules below.
        let verdicts = try membership.map { try store.computeVerdicts($0) }
        let revoked = verdicts?.revoked ?? []
        var chain = ChainVerifier(verifier: self.verifier)
        var practices = 0
        var authors = [String: Int]()
        try store.forEachStored(chunk: 4096) { rows in
            // On every core: envelope and signature (with the key in force), and the
            // practice rules of lone entries.
            let verified = chain.verify(rows.map { ($0.body, $0.signature) }).map { $0.map(\.entry) }
            let results = Parallel.map(verified) { r -> (Result<Entry, EntryError>, LogAuditor.PracticeCheck?) in
                guard case .success(let e) = r, let subject = PracticeAction.subject(of: e), !several.contains(subject) else { return (r, nil) }
                let isPublish = e.kind == .publish && e.id == subject
                return (r, LogAuditor.practiceCheck(publish: isPublish ? e : nil, related: isPublish ? [] : [e], revoked: revoked))
            }
            for (row, (result, practice)) in zip(rows, results) {
                auditor.check(row, signature: result)
                if case .success(let e) = result, let a = e.author { authors["\(e.origin)/\(a.officer)", default: 0] += 1 }
                // The stored key in force after it must be the one the keys' fold derives (§12):
                // a store edited to name another key would verify its next entries with it.
                if case .success(let e) = result {
                    let derived = chain.fold.after[e.id] ?? .founding
                    if row.keyAfter != derived.key?.rawRepresentation {
                        auditor.add(AuditFinding(
                            .error, "column_mismatch", entry: "position \(row.position) (\(e.origin)#\(e.seq))",
                            "stored key_after disagrees with the key in force the log derives (docs/PROTOCOL.md §12)"))
                    }
                    if row.rollAfter != (derived.officers.isEmpty ? nil : derived.officers.canonical) {
                        auditor.add(AuditFinding(
                            .error, "column_mismatch", entry: "position \(row.position) (\(e.origin)#\(e.seq))",
                            "stored officers in force disagree with those the log derives (docs/PROTOCOL.md §13)"))
                    }
                }
                if let practice {
                    if practice.isPractice { practices += 1 }
                    auditor.add(practice.findings)
                }
            }
            progress?(auditor.checked, total)
        }
        auditor.compare(storedHeads: try store.heads(), storedForks: try store.forks())
        // Practices with several entries, a batch of subjects at a time, decoded in parallel.
        let multi = several.sorted()
        for start in stride(from: 0, to: multi.count, by: 512) {
            let groups = try store.signedEntries(ofSubjects: Array(multi[start..<min(multi.count, start + 512)]))
            let checks = Parallel.map(groups, minimumPerWorker: 16) { subject, signed -> LogAuditor.PracticeCheck in
                // Entries that do not decode were reported by the first pass.
                let entries = signed.compactMap { try? Entry.decode(body: $0.body, signature: $0.signature) }
                let publish = entries.first { $0.id == subject && $0.kind == .publish }
                return LogAuditor.practiceCheck(publish: publish, related: entries.filter { $0.id != subject }, revoked: revoked)
            }
            for c in checks {
                if c.isPractice { practices += 1 }
                auditor.add(c.findings)
            }
        }
        for e in try store.entriesWithoutSubject() where e.kind.isPractice && e.kind != .publish {
            auditor.add(AuditFinding(.violation, "invalid_payload", entry: "\(e)", "payload names no practice"))
        }
        if let verdicts { try auditVerdicts(verdicts, into: &auditor) }
        return AuditReport(
            checked: auditor.checked, findings: auditor.findings, heads: auditor.heads, forks: auditor.forks,
            digest: auditor.digest, practices: practices, authors: authors)
    }
}

extension City {
    /// §15 in the audit: each revoked entry and each invalid `member` or `recover` entry is
    /// a member's violation (kept as evidence, without effect); verdicts the store keeps
    /// that differ from those the log gives are tampering.
    func auditVerdicts(_ verdicts: MembershipVerdicts, into auditor: inout LogAuditor) throws {
        let entries = Dictionary(uniqueKeysWithValues: try store.entries(ids: Array(verdicts.revoked.union(verdicts.invalid.keys))).compactMap {
            (try? Entry.decode(body: $0.body, signature: $0.signature)).map { ($0.id, $0) }
        })
        func name(_ id: EntryID) -> String { entries[id].map { "\($0.origin)#\($0.seq) \(id.short)" } ?? id.short }
        for id in verdicts.revoked.sorted() {
            auditor.add(AuditFinding(
                .violation, "revoked", entry: name(id),
                "revoked by a recovery of \(entries[id]?.origin.city.rawValue ?? "its city") (docs/PROTOCOL.md §15): kept as evidence, without effect"))
        }
        for (id, why) in verdicts.invalid.sorted(by: { $0.key < $1.key }) {
            let code = entries[id]?.kind == .recover ? "bad_recovery" : "bad_membership"
            auditor.add(AuditFinding(.violation, code, entry: name(id), "not valid (docs/PROTOCOL.md §15): \(why)"))
        }
        if try store.revokedEntries() != verdicts.revoked || Set(store.invalidMembership().keys) != Set(verdicts.invalid.keys) {
            auditor.add(AuditFinding(
                .error, "verdict_mismatch", entry: nil,
                "the revoked and invalid entries the store keeps differ from those the log gives (docs/PROTOCOL.md §15)"))
        }
    }
}

/// `c4csr audit FILE --cards DIR`: the audit of an export, with no city and no store.
public enum ExportAudit {
    /// Audits a JSON Lines export (docs/PROTOCOL.md §5) against the keys of `verifier`:
    /// each line's form, id, signature, chain, clock and causal order, forks, that the
    /// lines are in merged order, and the practice rules; then heads and digest.
    /// Memory grows with the number of entries (their ids and clocks, and the entries
    /// of practices with several versions).
    public static func audit(_ data: [UInt8], verifier: EntryVerifier, progress: ((Int, Int) -> Void)? = nil) -> AuditReport {
        var auditor = LogAuditor()
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        var previous: MergedOrderKey?
        var chain = ChainVerifier(verifier: verifier)
        var bySubject = [EntryID: [Entry]]()
        var withoutSubject = [Entry]()
        var authors = [String: Int]()
        for start in stride(from: 0, to: lines.count, by: 4096) {
            let chunk = Array(lines[start..<min(lines.count, start + 4096)])
            // On every core: the line's form, then the envelope and signature (with the key
            // in force, which follows the lines' rotations).
            let lines = Parallel.map(chunk) { line in Result { () throws(NodeError) in try ExportLine.decode(line) } }
            let signed = lines.compactMap { try? $0.get() }
            var verified = chain.verify(signed).map { $0.map(\.entry) }.makeIterator()
            let results = lines.map { decoded -> (Result<(body: [UInt8], signature: [UInt8]), NodeError>, Result<Entry, EntryError>?) in
                guard case .success = decoded else { return (decoded, nil) }
                return (decoded, verified.next()!)
            }
            for (offset, (decoded, verified)) in results.enumerated() {
                let lineNumber = start + offset + 1
                guard case .success(let signed) = decoded, let verified else {
                    if case .failure(let e) = decoded { auditor.add(AuditFinding(.error, "bad_line", entry: "line \(lineNumber)", e.message)) }
                    continue
                }
                // The row as a store would hold it: its columns derived from its own bytes.
                let envelope = (try? verified.get()) ?? (try? Entry.decode(body: signed.body, signature: signed.signature))
                let row = StoredRow(
                    position: Int64(lineNumber), id: EntryID.of(body: signed.body).bytes, origin: envelope?.origin.rawValue ?? "?",
                    seq: envelope?.seq ?? 0, prev: envelope?.prev?.bytes, rank: envelope?.clock.sum ?? 0,
                    clock: envelope.map { CanonicalJSON.string($0.clock.json) } ?? "", kind: envelope?.kind.rawValue ?? "",
                    subject: envelope.flatMap { PracticeAction.subject(of: $0)?.bytes }, body: signed.body, signature: signed.signature)
                auditor.check(row, signature: verified)
                guard let entry = envelope else { continue }
                if let p = previous, entry.orderKey < p {
                    auditor.add(AuditFinding(.error, "not_merged_order", entry: "line \(lineNumber) (\(entry.origin)#\(entry.seq))",
                                             "an export lists entries in merged order (PROTOCOL.md §5); this one sorts before the line above"))
                }
                previous = entry.orderKey
                if case .success = verified {
                    if let a = entry.author { authors["\(entry.origin)/\(a.officer)", default: 0] += 1 }
                    if let subject = PracticeAction.subject(of: entry) { bySubject[subject, default: []].append(entry) } else { withoutSubject.append(entry) }
                }
            }
            progress?(min(lines.count, start + 4096), lines.count)
        }
        auditor.finish()
        var practices = 0
        let checks = Parallel.map(Array(bySubject), minimumPerWorker: 16) { subject, entries -> LogAuditor.PracticeCheck in
            let publish = entries.first { $0.id == subject && $0.kind == .publish }
            return LogAuditor.practiceCheck(publish: publish, related: entries.filter { $0.id != subject })
        }
        for c in checks {
            if c.isPractice { practices += 1 }
            auditor.add(c.findings)
        }
        for e in withoutSubject where e.kind.isPractice && e.kind != .publish {
            auditor.add(AuditFinding(.violation, "invalid_payload", entry: "\(e)", "payload names no practice"))
        }
        return AuditReport(
            checked: auditor.checked, findings: auditor.findings, heads: auditor.heads, forks: auditor.forks,
            digest: auditor.digest, practices: practices, authors: authors)
    }
}
