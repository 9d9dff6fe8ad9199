import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

/// Text and JSON renderings shared by the read commands.
enum Render {
    static func summaryJSON(_ s: PracticeSummary) -> JSONValue { s.json }

    static func summaryLines(_ list: [PracticeSummary]) -> [String] {
        list.map { s in
            var flags = ""
            if s.conflict { flags += " [conflict]" }
            if s.adoptions > 0 { flags += " [adopted ×\(s.adoptions)]" }
            let title = s.titleLocal == s.titleEnglish ? s.titleEnglish : "\(s.titleLocal) / \(s.titleEnglish)"
            return "\(s.id.short)  \(Format.pad(s.publisher.rawValue, 16)) \(Format.pad(s.status, 12)) \(Format.truncate(title, 90))\(flags)"
        }
    }

    /// A practice as JSON; with `shown`, `fields` are that version's and `shown_version` names it.
    /// Sealed fields (§14) hold the content given, else their seal, and `personal` says
    /// of each whether it is shown, erased (when, by whom) or withheld.
    static func recordJSON(_ r: PracticeRecord, shown: PracticeRecord.Version? = nil, contents: [PersonalContent] = []) -> JSONValue {
        guard case .object(var o) = recordJSON(r) else { return .null }
        let fields = (shown?.fields ?? r.current).revealing(contents)
        o["fields"] = fields.json
        if let shown { o["shown_version"] = .string(shown.entry.hex) }
        let entry = shown.map { $0.fieldsEntry ?? $0.entry } ?? r.fieldsEntry
        if !fields.sealed.isEmpty {
            o["personal"] = .object(Dictionary(uniqueKeysWithValues: fields.sealed.keys.map { f -> (String, JSONValue) in
                var state: [String: JSONValue] = ["state": .string("shown")]
                switch r.missing(f, of: fields, entry: entry) {
                case .erased(let e)?:
                    state = ["state": .string("erased"), "erased_by": .string(e.city.rawValue), "erased_at_ms": .int(e.time), "erasure": .string(e.entry.hex)]
                case .withheld?: state["state"] = .string("withheld")
                case nil: break
                }
                return (f.rawValue, JSONValue.object(state))
            }))
        }
        if !r.erasures.isEmpty {
            o["erasures"] = .array(r.erasures.map { e in
                .object([
                    "entry": .string(e.entry.hex), "city": .string(e.city.rawValue), "time_ms": .int(e.time),
                    "fields": .array(e.request.fields.map { .string($0.rawValue) }), "reason": .string(e.request.reason),
                    "confirmed_by": .array(e.confirmedBy.map { .string($0.rawValue) }),
                ])
            })
        }
        return .object(o)
    }

    /// What `show` says in place of a sealed field's value it cannot show.
    static func personalNote(_ r: PracticeRecord, _ fields: Practice, entry: EntryID, _ f: PersonalField) -> String? {
        switch r.missing(f, of: fields, entry: entry) {
        case .erased(let e)?: "(erased on \(Format.day(e.time)) by \(e.city))"
        case .withheld?: "(personal; its content has not reached this node)"
        case nil: nil
        }
    }

    static func recordJSON(_ r: PracticeRecord) -> JSONValue {
        .object([
            "id": .string(r.id.hex),
            "city": .string(r.publisher.rawValue),
            "status": .string(r.retracted ? "retracted" : r.current.status.rawValue),
            "version": .string(r.currentVersion.hex),
            "fields": r.current.json,
            "retract_reason": r.retractReason.map { .string($0) } ?? .null,
            "conflict": .bool(r.conflict),
            "heads": .array(r.heads.map { .string($0.hex) }),
            "history": .array(r.versions.map { v in
                .object([
                    "entry": .string(v.entry.hex), "kind": .string(v.kind.rawValue), "origin": .string(v.origin.rawValue),
                    "seq": .int(v.seq), "time_ms": .int(v.time), "base": .array(v.base.map { .string($0.hex) }),
                    "author": v.author.map { .string($0.rawValue) } ?? .null,
                ])
            }),
            "adoptions": .array(r.adoptions.map { a in
                .object([
                    "entry": .string(a.entry.hex), "city": .string(a.city.rawValue), "version": .string(a.version.hex),
                    "mode": .string(a.mode.rawValue), "notes": a.notes.map { .string($0) } ?? .null, "time_ms": .int(a.time),
                    "current": .bool(a.version == r.currentVersion), "author": a.author.map { .string($0.rawValue) } ?? .null,
                ])
            }),
            "problems": .array(r.problems.map { p in
                .object(["entry": .string(p.entry.hex), "code": .string(p.kind.rawValue), "message": .string(p.message)])
            }),
        ])
    }

    /// A practice as text; with `shown`, the fields are that version's, said first.
    /// Sealed fields (§14) show the content given, else say erased or withheld.
    static func recordText(_ r: PracticeRecord, shown: PracticeRecord.Version? = nil, contents: [PersonalContent] = []) -> String {
        let p = (shown?.fields ?? r.current).revealing(contents)
        let entry = shown.map { $0.fieldsEntry ?? $0.entry } ?? r.fieldsEntry
        func note(_ f: PersonalField) -> String? { personalNote(r, p, entry: entry, f) }
        var out = [String]()
        if let shown {
            out.append("Version \(shown.entry.short) (\(shown.origin)#\(shown.seq), \(Format.time(shown.time))); the current version is \(r.currentVersion.short)")
            out.append("")
        }
        let status = r.retracted ? "retracted" : p.status.rawValue
        out.append(p.title.local == p.title.en ? "\(p.title.en)  [\(status)]" : "\(p.title.local)\n\(p.title.en)  [\(status)]")
        out.append("practice \(r.id.hex)")
        out.append("published by \(r.publisher) on \(Format.day(r.versions[0].time)) · language \(p.language) · version \(r.currentVersion.short)")
        var facts = [String]()
        if !p.themes.isEmpty { facts.append("themes: \(p.themes.joined(separator: ", "))") }
        if !p.sdgs.isEmpty { facts.append("SDGs: \(p.sdgs.map(String.init).joined(separator: ", "))") }
        if let a = p.area ?? note(.area) { facts.append("area: \(a)") }
        if let period = p.period { facts.append(period.end.map { "period: \(period.start) – \($0)" } ?? "since \(period.start)") }
        if !facts.isEmpty { out.append(facts.joined(separator: " · ")) }
        if !p.companies.isEmpty { out.append("companies: \(p.companies.joined(separator: ", "))") }
        if !p.partners.isEmpty { out.append("partners: \(p.partners.joined(separator: ", "))") }
        out.append("")
        if let n = note(.summary) {
            out.append("Summary: \(n)")
        } else {
            if p.summary.local != p.summary.en { out.append("Summary (\(p.language)): \(p.summary.local)") }
            out.append("Summary (en): \(p.summary.en)")
        }
        out.append("Challenge: \(note(.challenge) ?? p.challenge)")
        if let o = p.outcomes ?? note(.outcomes) { out.append("Outcomes: \(o)") }
        for l in p.links { out.append("Link: \(l)") }
        if let c = p.contact ?? note(.contact) { out.append("Contact: \(c)") }
        if r.retracted, let reason = r.retractReason { out.append("Retracted: \(reason)") }
        if r.conflict {
            out.append("")
            out.append("CONFLICT: \(r.heads.count) concurrent current versions (\(r.heads.map(\.short).joined(separator: ", "))).")
            out.append("  Shown: \(r.currentVersion.short), the latest in the merged order. \(r.publisher) resolves it with `c4csr revise \(r.id.short)`.")
        }
        out.append("")
        out.append("History:")
        for v in r.versions {
            let base = v.base.isEmpty ? "" : "  (from \(v.base.map(\.short).joined(separator: ", ")))"
            let head = r.heads.contains(v.entry) ? (r.conflict ? "  ← current (conflict)" : "  ← current") : ""
            let by = v.author.map { "  by \($0)" } ?? ""
            out.append("  \(Format.time(v.time))  \(Format.pad("\(v.origin)#\(v.seq)", 16)) \(Format.pad(v.kind.rawValue, 8)) \(v.entry.short)\(by)\(base)\(head)")
        }
        if !r.adoptions.isEmpty {
            out.append("")
            out.append("Adopted by:")
            for a in r.adoptions {
                let note = a.version == r.currentVersion ? "current version" : "version \(a.version.short), revised since"
                let by = a.author.map { ", by \($0)" } ?? ""
                out.append("  \(Format.time(a.time))  \(Format.pad(a.city.rawValue, 16)) \(a.mode.rawValue) (\(note)\(by))" + (a.notes.map { ": \($0)" } ?? ""))
            }
        }
        if !r.erasures.isEmpty {
            out.append("")
            out.append("Erasures of personal data:")
            for e in r.erasures {
                out.append("  \(Format.time(e.time))  \(e.city) erased \(e.request.fields.map(\.rawValue).joined(separator: ", ")) (\(e.request.reason)); confirmed by \(e.confirmedBy.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if !r.problems.isEmpty {
            out.append("")
            out.append("Ignored entries (reported by audit):")
            for pr in r.problems { out.append("  \(pr)") }
        }
        return out.joined(separator: "\n")
    }

    /// The network this node belongs to (§15): its charter, or what its absence means.
    static func charterLine(_ charter: Charter?) -> String {
        guard let charter else {
            return "network: no charter (network.toml beside the peer cards); membership and recovery entries wait"
        }
        return "network: \(charter.name) (id \(charter.networkID.prefix(16))), founded by \(Format.plural(charter.founders.count, "city", "cities"))"
    }

    static func charterJSON(_ charter: Charter) -> JSONValue {
        .object([
            "name": .string(charter.name), "id": .string(charter.networkID),
            "founders": .array(charter.founders.map { .string($0.rawValue) }),
        ])
    }

    /// One line of `log`: everything in it comes from the entry, so every node prints the same.
    static func logLine(_ n: Int, _ e: Entry) -> String {
        var what = ""
        switch e.kind {
        case .publish, .revise:
            if let t = e.payload["fields"]?["title"]?["en"]?.stringValue { what = t }
        case .retract, .adopt:
            break
        case .rotate:
            if let key = e.rotation?.key { what = "new key \(key.base64.prefix(12))…" }
        case .officer:
            switch e.officerChange {
            case .enrol(let o, let key)?: what = "enrol \(o) (key \(key.base64.prefix(12))…)"
            case .remove(let o)?: what = "remove \(o)"
            case nil: break
            }
        case .erase:
            if let r = try? ErasureRequest(entry: e) { what = "erase \(r.fields.map(\.rawValue).joined(separator: ", ")) of \(r.practice.short)" }
        case .ack:
            if let a = try? Acknowledgement(entry: e) { what = "confirms erasure \(a.erase.short)" }
        case .vouch, .member, .recover:
            if let statement = e.membership?.statement { what = statement.summary }
        }
        if let target = e.payload["practice"]?.stringValue { what = "→ \(target.prefix(12))" + (what.isEmpty ? "" : " \(what)") }
        if e.kind == .adopt, let mode = e.payload["mode"]?.stringValue { what += " (\(mode))" }
        if let author = e.author { what = "by \(author.officer): " + what }
        return "\(Format.pad(String(n), 6)) \(Format.time(e.time))  \(Format.pad("\(e.origin)#\(e.seq)", 18)) \(Format.pad(e.kind.rawValue, 8)) \(e.id.short)  \(Format.truncate(what, 80))"
    }

    static func entryJSON(_ e: Entry) -> JSONValue {
        .object([
            "id": .string(e.id.hex), "origin": .string(e.origin.rawValue), "seq": .int(e.seq),
            "prev": e.prev.map { .string($0.hex) } ?? .null, "clock": e.clock.json, "time": .int(e.time),
            "kind": .string(e.kind.rawValue), "payload": e.payload,
            "author": e.author.map { .string($0.officer.rawValue) } ?? .null,
        ])
    }

    /// The erasures held (§14), each with the member cities that have not confirmed it.
    typealias ErasureState = (practice: EntryID, erasure: PracticeRecord.Erasure, pending: [CityID])

    static func erasures(of city: City) throws -> [ErasureState] {
        let members = city.confirmingMembers
        return try city.store.erasures().map { ($0.practice, $0.erasure, members.subtracting($0.erasure.confirmedBy).sorted()) }
    }

    static func erasureJSON(_ item: ErasureState) -> JSONValue {
        let (p, e, pending) = item
        return .object([
            "entry": .string(e.entry.hex), "practice": .string(p.hex), "city": .string(e.city.rawValue), "time_ms": .int(e.time),
            "fields": .array(e.request.fields.map { .string($0.rawValue) }),
            "confirmed_by": .array(e.confirmedBy.map { .string($0.rawValue) }), "pending": .array(pending.map { .string($0.rawValue) }),
        ])
    }

    static func erasureLine(_ item: ErasureState) -> String {
        let (p, e, pending) = item
        let waiting = pending.isEmpty ? "confirmed by every member" : "waiting for \(pending.map(\.rawValue).joined(separator: ", "))"
        return "erasure \(e.entry.short) by \(e.city) of \(e.request.fields.map(\.rawValue).joined(separator: ", ")) in practice \(p.short) on \(Format.day(e.time)): confirmed by \(e.confirmedBy.count) (\(e.confirmedBy.map(\.rawValue).joined(separator: ", "))); \(waiting)"
    }

    static func headsJSON(_ heads: [Head]) -> JSONValue {
        .array(heads.map { .object(["origin": .string($0.origin.rawValue), "seq": .int($0.seq), "id": .string($0.id.hex)]) })
    }

    static func headsText(_ heads: [Head], forks: [Head], digest: NetworkDigest, entries: Int?) -> [String] {
        var out = heads.map { "  \(Format.pad($0.origin.rawValue, 18)) seq \(Format.pad(String($0.seq), 8)) \($0.id.short)" }
        if !forks.isEmpty { out.append("  forks at: " + Set(forks.map { "\($0.origin)#\($0.seq)" }).sorted().joined(separator: ", ")) }
        out.append("network digest: \(digest.short)" + (entries.map { "  (\(Format.plural($0, "entry", "entries")), \(Format.plural(heads.count, "city", "cities")))" } ?? ""))
        return out
    }
}
