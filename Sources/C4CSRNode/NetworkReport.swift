import C4CSRCore
import C4CSRStore

/// The figures a coordinator puts in a network report (`c4csr report`): practices per
/// city, theme, SDG and status; who adopted whose practices; what changed since a date;
/// outcomes. Built by a pure fold over the practices and the log's entries.
public struct NetworkReport: Sendable {
    public struct CityRow: Sendable, Hashable {
        public let city: CityID
        /// Practices published (current, retracted included).
        public var practices = 0
        /// Distinct practices of this city that other cities adopted, and distinct
        /// practices of other cities that this city adopted.
        public var adoptedByOthers = 0
        public var adoptedFromOthers = 0
    }
    public struct Change: Sendable, Hashable {
        public let practice: EntryID
        public let publisher: CityID
        public let title: String
        /// Entry kinds since the date, in log order ("publish", "revise", "adopt by riga").
        public var what: [String]
    }

    /// Per city, by id.
    public var cities: [CityRow] { rows.values.sorted { $0.city < $1.city } }
    public var themes: [(String, Int)] = []
    public var sdgs: [(Int, Int)] = []
    public var statuses: [(String, Int)] = []
    /// adopter → source city → distinct practices adopted.
    public var adoptions: [CityID: [CityID: Int]] = [:]
    /// Since `since` (ms), if given: entries by kind, and the practices they touched.
    public var since: Int64?
    public var entriesSince: [String: Int] = [:]
    public var changes: [Change] = []
    public var outcomes: [(id: EntryID, publisher: CityID, title: String, outcomes: String)] = []
    public var practiceCount = 0
    public var entryCount = 0

    private let byID: [EntryID: PracticeSummary]
    private var rows = [CityID: CityRow]()
    private var adopted = Set<[String]>()  // (adopter, practice), counted once
    private var changeIndex = [EntryID: Int]()

    /// A report of these practices; feed it every entry in merged order with `add`
    /// (only origin, kind, subject and time are read, so nothing is kept per entry).
    public init(practices: [PracticeSummary], outcomes: [(id: EntryID, publisher: CityID, title: String, outcomes: String)], since: Int64?) {
        self.since = since
        self.outcomes = outcomes
        practiceCount = practices.count
        byID = Dictionary(uniqueKeysWithValues: practices.map { ($0.id, $0) })
        var themes = [String: Int](), sdgs = [Int: Int](), statuses = [String: Int]()
        for p in practices {
            rows[p.publisher, default: CityRow(city: p.publisher)].practices += 1
            for t in p.themes { themes[t, default: 0] += 1 }
            for s in p.sdgs { sdgs[s, default: 0] += 1 }
            statuses[p.status, default: 0] += 1
        }
        self.themes = themes.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
        self.sdgs = sdgs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        self.statuses = statuses.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
    }

    /// The same, with the entries given at once.
    public init(
        practices: [PracticeSummary], entries: some Sequence<Entry>, outcomes: [(id: EntryID, publisher: CityID, title: String, outcomes: String)],
        since: Int64?
    ) {
        self.init(practices: practices, outcomes: outcomes, since: since)
        for e in entries { add(e) }
    }

    /// Folds one entry (in merged order) into the adoptions and the changes.
    public mutating func add(_ e: Entry) {
        entryCount += 1
        guard let subject = PracticeAction.subject(of: e), let practice = byID[subject] else { return }
        if e.kind == .adopt, e.origin != practice.publisher, adopted.insert([e.origin.rawValue, subject.hex]).inserted {
            adoptions[e.origin, default: [:]][practice.publisher, default: 0] += 1
            rows[practice.publisher, default: CityRow(city: practice.publisher)].adoptedByOthers += 1
            rows[e.origin, default: CityRow(city: e.origin)].adoptedFromOthers += 1
            }
        if let since, e.time >= since {
            entriesSince[e.kind.rawValue, default: 0] += 1
            let what = e.kind == .adopt ? "adopt by \(e.origin)" : e.kind.rawValue
            if let i = changeIndex[subject] {
                if changes[i].what.last != what { changes[i].what.append(what) }
            } else {
                changeIndex[subject] = changes.count
                changes.append(Change(practice: subject, publisher: practice.publisher, title: practice.titleEnglish, what: [what]))
            }
        }
    }
}
