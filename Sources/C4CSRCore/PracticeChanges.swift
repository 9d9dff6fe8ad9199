/// What one version of a practice changed against an earlier one, field by field, in the
/// order a reader meets the fields: texts word by word (`TextDiff`), everything else as the
/// old and the new value. A sealed personal field (§14) whose content is not in place on
/// either side is compared by its seal alone, and its text is never shown.
public struct PracticeChange: Sendable, Hashable {
    public enum Field: String, Sendable, Hashable, CaseIterable {
        case title, titleEnglish, summary, summaryEnglish, challenge, status, themes, sdgs,
             area, period, companies, partners, outcomes, links, contact, language
    }

    public enum Difference: Sendable, Hashable {
        /// Text, word by word.
        case text([TextDiff.Segment])
        /// A value replaced (either side empty when the field was absent).
        case value(old: String, new: String)
        /// A personal field whose content is not held for both versions: its seal changed.
        case sealed
    }

    public let field: Field
    public let difference: Difference

    /// The changes from `old` to `new`; none when they are the same practice.
    public static func between(_ old: Practice, _ new: Practice) -> [PracticeChange] {
        var out: [PracticeChange] = []
        func text(_ f: Field, _ a: String, _ b: String) {
            if a != b { out.append(PracticeChange(field: f, difference: .text(TextDiff.words(a, b)))) }
        }
        func value(_ f: Field, _ a: String, _ b: String) {
            if a != b { out.append(PracticeChange(field: f, difference: .value(old: a, new: b))) }
        }
        /// A personal field: compared as text when both contents are in place (or the field
        /// is not sealed), otherwise by whether it is sealed and by its seal.
        func hidden(_ p: PersonalField) -> Bool {
            (old.sealed[p] != nil && !old.revealed.contains(p)) || (new.sealed[p] != nil && !new.revealed.contains(p))
        }
        func personal(_ f: Field, _ p: PersonalField, _ a: String?, _ b: String?) {
            if hidden(p) {
                if old.sealed[p] != new.sealed[p] { out.append(PracticeChange(field: f, difference: .sealed)) }
                return
            }
            text(f, a ?? "", b ?? "")
        }
        text(.title, old.title.local, new.title.local)
        text(.titleEnglish, old.title.en, new.title.en)
        personal(.summary, .summary, old.summary.local, new.summary.local)
        if !hidden(.summary) { text(.summaryEnglish, old.summary.en, new.summary.en) }  // sealed with the summary
        personal(.challenge, .challenge, old.challenge, new.challenge)
        value(.status, old.status.rawValue, new.status.rawValue)
        value(.themes, old.themes.joined(separator: ", "), new.themes.joined(separator: ", "))
        value(.sdgs, old.sdgs.map(String.init).joined(separator: ", "), new.sdgs.map(String.init).joined(separator: ", "))
        personal(.area, .area, old.area, new.area)
        value(.period, old.period.map(Self.period) ?? "", new.period.map(Self.period) ?? "")
        value(.companies, old.companies.joined(separator: ", "), new.companies.joined(separator: ", "))
        value(.partners, old.partners.joined(separator: ", "), new.partners.joined(separator: ", "))
        personal(.outcomes, .outcomes, old.outcomes, new.outcomes)
        value(.links, old.links.joined(separator: " "), new.links.joined(separator: " "))
        personal(.contact, .contact, old.contact, new.contact)
        value(.language, old.language, new.language)
        return out
    }

    static func period(_ p: Practice.Period) -> String { p.start + (p.end.map { " – " + $0 } ?? "") }
}
