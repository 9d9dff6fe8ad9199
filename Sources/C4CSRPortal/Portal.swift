import C4CSRCore
import C4CSRNode
import C4CSRStore
import Mustache

/// A request to the portal: a path, its decoded query and the client's `If-None-Match`.
public struct PortalRequest: Sendable {
    public var path: String
    public var query: [(name: String, value: String)]
    public var ifNoneMatch: String?

    public init(path: String, query: [(name: String, value: String)] = [], ifNoneMatch: String? = nil) {
        self.path = path
        self.query = query
        self.ifNoneMatch = ifNoneMatch
    }

    /// A request target as it arrives (`/practices?city=riga&q=energy`), or nil if its
    /// query is not valid percent-encoded UTF-8 (`+` is a space, as forms send it).
    public init?(target: String, ifNoneMatch: String? = nil) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let path = Self.decode(String(parts[0]), plusIsSpace: false) else { return nil }
        var query = [(name: String, value: String)]()
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let nv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.decode(String(nv[0]), plusIsSpace: true),
                      let value = Self.decode(nv.count == 2 ? String(nv[1]) : "", plusIsSpace: true)
                else { return nil }
                query.append((name, value))
            }
        }
        self.init(path: path, query: query, ifNoneMatch: ifNoneMatch)
    }

    /// Percent-decoding that refuses a malformed escape or bytes that are not UTF-8.
    static func decode(_ s: String, plusIsSpace: Bool) -> String? {
        var bytes = [UInt8]()
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let hi = Hex.nibble(it.removeFirst()), let lo = Hex.nibble(it.removeFirst()) else { return nil }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

}

/// What the portal answers: every response carries `Portal.securityHeaders`.
public struct PortalResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
}

/// The read-only web portal (issue 15): pages rendered from this node's store only,
/// never from the network. Pure request → response, so that the daemon's listener and
/// `c4csr site` share it and the route tests need no socket.
public struct Portal: Sendable {
    /// Raised when the templates or the page data change shape: old ETags then miss.
    static let version = "p2"
    /// Practices per page of the list.
    public static let pageSize = 50
    /// Bounds of what a query may ask (design: docs/design/portal.md §3).
    public static let maxQuery = 200
    public static let maxPage = 10_000
    /// The most versions of one practice whose changes a practice page shows (the latest),
    /// and the most versions each is compared with (a merge names two; a body may name
    /// hundreds). With `TextDiff.maxCells` per field, this bounds a page's work.
    public static let diffedVersions = 20
    public static let diffedBases = 2

    public static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]

    let city: City
    let cache = PortalCache()
    /// The interface's labels: the serving city's language, then English.
    let labels: PortalLabels
    /// Told why a page failed (the browser sees only a 500 page).
    let logError: @Sendable (_ path: String, _ error: any Error) -> Void

    public init(city: City, logError: @escaping @Sendable (_ path: String, _ error: any Error) -> Void = { _, _ in }) {
        self.city = city
        self.logError = logError
        labels = PortalLabels(language: city.card.language)
    }

    /// A request target as it arrives; one that does not decode is a 400 page.
    public func respond(target: String, ifNoneMatch: String? = nil) -> PortalResponse {
        guard let request = PortalRequest(target: target, ifNoneMatch: ifNoneMatch) else {
            return error(400, "Bad request", "The address is not valid percent-encoded UTF-8.")
        }
        return respond(request)
    }

    public func respond(_ request: PortalRequest) -> PortalResponse {
        do {
            let heads = try city.localHeads()
            let page = try route(request, heads: heads)
            return page
        } catch let e as PortalError {
            return error(e.status, e.title, e.message)
        } catch {
            // Never echo internals to a browser; the daemon logs what went wrong.
            logError(request.path, error)
            return self.error(500, "Something went wrong", "This node could not build the page. Its operator will find the reason in the daemon's log.")
        }
    }

    struct PortalError: Error {
        let status: Int
        let title: String
        let message: String
        static func badQuery(_ message: String) -> PortalError { PortalError(status: 400, title: "Bad request", message: message) }
        static var notFound: PortalError { PortalError(status: 404, title: "Not found", message: "There is no such page on this portal.") }
    }

    private func route(_ request: PortalRequest, heads: PeerHeads) throws -> PortalResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if segments == [""] {
            // The overview shows each peer's sync state, which moves without the digest:
            // its ETag is the page's own hash.
            let body = try render("overview", overview(heads: heads, links: .server))
            return ok(body, etag: Self.etag(of: body), request)
        }
        if segments == ["style.css"] {
            return ok(Array(PortalTemplates.stylesheet.utf8), contentType: "text/css; charset=utf-8", etag: "\"\(Self.version)-css\"", request)
        }
        if segments == ["favicon.svg"] || segments == ["favicon.ico"] {
            return ok(Array(PortalTemplates.icon.utf8), contentType: "image/svg+xml", etag: "\"\(Self.version)-icon\"", request)
        }
        let etag = digestETag(heads)
        func cached(_ contentType: String, _ build: () throws -> [UInt8]) throws -> PortalResponse {
            if request.ifNoneMatch == etag { return notModified(etag) }
            return ok(try build(), contentType: contentType, etag: etag, request)
        }
        switch segments {
        case ["practices.csv"], ["practices.json"]:
            if request.ifNoneMatch == etag { return notModified(etag) }
            let csv = segments == ["practices.csv"]
            guard let body = try cache.download({ try csv ? self.csv() : practicesJSON() }) else {
                return error(503, "Busy", "Another download of every practice is being built; try again in a minute.", retryAfter: 60)
            }
            return ok(body, contentType: csv ? "text/csv; charset=utf-8" : "application/json", etag: etag, request)
        case ["feed.atom"]:
            return try cached(Self.atom) { try render("feed", feed(.network, heads: heads, links: .server)) }
        case ["adoptions"]:
            return try cached(Self.html) { try render("adoptions", adoptionMatrix(heads: heads, links: .server)) }
        default: break
        }
        if segments.count >= 2, segments.count <= 3, ["cities", "themes", "sdgs"].contains(segments[0]) {
            let feedPage = segments.count == 3
            if feedPage, segments[2] != "feed.atom" { throw PortalError.notFound }
            let scope: FeedScope
            switch segments[0] {
            case "cities":
                guard let id = CityID(segments[1]) else { throw PortalError.notFound }
                if !feedPage { return try cached(Self.html) { try render("city", cityPage(id, heads: heads, links: .server)) } }
                scope = .city(id)
            case "themes":
                guard feedPage, !segments[1].isEmpty, segments[1].unicodeScalars.count <= Practice.maxItem else { throw PortalError.notFound }
                scope = .theme(segments[1])
            default:
                guard feedPage, let n = Int(segments[1]), (1...17).contains(n) else { throw PortalError.notFound }
                scope = .sdg(n)
            }
            return try cached(Self.atom) { try render("feed", feed(scope, heads: heads, links: .server)) }
        }
        if segments.first == "practices", segments.count <= 2 {
            if segments.count == 2 {
                let id = segments[1]
                guard id.count == 64, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { throw PortalError.notFound }
            }
            if request.ifNoneMatch == etag { return notModified(etag) }
            let page = segments.count == 2 ? try render("practice", practicePage(segments[1], heads: heads, links: .server))
                : try render("practices", practiceList(try ListQuery(request.query), heads: heads, links: .server))
            return ok(page, etag: etag, request)
        }
        throw PortalError.notFound
    }

    // MARK: Pages

    func common(title: String, heads: PeerHeads, links: PortalLinks) -> [String: Any] {
        [
            "title": title, "links": links.template, "l": labels.values,
            "node": ["id": city.id.rawValue, "name": city.card.name],
            "entries": heads.entries, "digest": heads.digest, "digestShort": String(heads.digest.prefix(16)),
        ]
    }

    func overview(heads: PeerHeads, links: PortalLinks) throws -> [String: Any] {
        let figures = try cache.value("figures", digest: stateKey(heads)) { try city.store.practiceFiguresByCity() }
        let statuses = Dictionary(try city.store.peerStatuses().map { ($0.city, $0) }, uniquingKeysWith: { a, _ in a })
        var cards = [city.card] + city.peers.cards.filter { !$0.isObserver && $0.city != city.id }
        cards.sort { $0.city < $1.city }
        let cities: [[String: Any]] = cards.map { card in
            let f = figures[card.city]
            return [
                "id": card.city.rawValue, "localName": card.localName, "english": card.name == card.localName ? nil : card.name as String?,
                "language": card.language, "country": card.country,
                "practices": f?.practices ?? 0, "adoptedByOthers": f?.adopted ?? 0, "cityHref": links.city(card.city) as Any,
                "sync": Self.syncState(card.city == city.id ? nil : statuses[card.city], isSelf: card.city == city.id),
            ]
        }
        let latest = try city.store.latestEntries(limit: 20)
        let subjects = try city.store.practices(ids: latest.compactMap(PracticeAction.subject(of:)))
        let changes: [[String: Any]] = latest.map { e in
            let subject = PracticeAction.subject(of: e)
            return [
                "date": PortalDate.dateTime(e.time), "iso": PortalDate.iso(e.time), "city": e.origin.rawValue,
                "what": Self.describe(e.kind), "href": subject.flatMap { subjects[$0] == nil ? nil : links.practice($0) } as Any,
                "title": subject.flatMap { subjects[$0]?.titleLocal } ?? (subject == nil ? "" : "(a practice not held here)"),
            ]
        }
        var data = common(title: "The network", heads: heads, links: links)
        data["cities"] = cities
        data["latest"] = changes
        data["practiceCount"] = figures.values.reduce(0) { $0 + $1.practices }
        return data
    }

    static func syncState(_ status: PeerStatus?, isSelf: Bool) -> String {
        if isSelf { return "this node" }
        guard let status else { return "no round yet" }
        guard let success = status.lastSuccess else {
            return "not reached yet (\(status.failures) \(status.failures == 1 ? "attempt" : "attempts"))"
        }
        let when = PortalDate.dateTime(success)
        if status.inSync { return "in sync at \(when)" }
        let lack = [status.weLack.map { ("we lack", $0) }, status.theyLack.map { ("it lacks", $0) }]
            .compactMap { $0 }.filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        return lack.isEmpty ? "last round at \(when), not yet in sync" : "behind (\(lack)) at \(when)"
    }

    static func describe(_ kind: EntryKind) -> String {
        switch kind {
        case .publish: "published"
        case .revise: "revised"
        case .retract: "retracted"
        case .adopt: "adopted"
        case .rotate: "rotated its signing key"
        case .officer: "changed its officers"
        case .erase: "erased personal data"
        case .ack: "confirmed an erasure"
        case .vouch: "vouched for a motion of the network"
        case .member: "joined or left the network"
        case .recover: "recovered its identity with a new key"
        }
    }

    /// The query of the list page, checked: a value out of its range is a 400 page.
    struct ListQuery: Equatable {
        var q: String?
        var city: CityID?
        var theme: String?
        var sdg: Int?
        var status: PracticeStatus?
        var year: Int?
        var page = 1

        /// The unfiltered list at `page`.
        init(page: Int) { self.page = page }

        init(_ items: [(name: String, value: String)]) throws {
            var seen = Set<String>()
            for (name, value) in items {
                guard seen.insert(name).inserted else { throw PortalError.badQuery("“\(name)” is given twice.") }
                if value.isEmpty { continue }
                switch name {
                case "q":
                    guard value.unicodeScalars.count <= Portal.maxQuery else { throw PortalError.badQuery("A search is at most \(Portal.maxQuery) characters.") }
                    q = value
                case "city":
                    guard let c = CityID(value) else { throw PortalError.badQuery("“city” must be a city id (\(CityID.rule)).") }
                    city = c
                case "theme":
                    guard value.unicodeScalars.count <= Practice.maxItem else { throw PortalError.badQuery("“theme” is at most \(Practice.maxItem) characters.") }
                    theme = value
                case "sdg":
                    guard let n = Int(value), (1...17).contains(n) else { throw PortalError.badQuery("“sdg” must be a number from 1 to 17.") }
                    sdg = n
                case "status":
                    guard let s = PracticeStatus(rawValue: value) else {
                        throw PortalError.badQuery("“status” must be one of \(PracticeStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
                    }
                    status = s
                case "year":
                    guard let n = Int(value), (1970...9999).contains(n) else { throw PortalError.badQuery("“year” must be a year from 1970 to 9999.") }
                    year = n
                case "page":
                    guard let n = Int(value), (1...Portal.maxPage).contains(n) else { throw PortalError.badQuery("“page” must be a number from 1 to \(Portal.maxPage).") }
                    page = n
                default:
                    continue  // unknown parameters (a tracker's, say) change nothing
                }
            }
        }

        /// This query at another page, as a link.
        func link(page: Int) -> String {
            var items = [(String, String)]()
            if let q { items.append(("q", q)) }
            if let city { items.append(("city", city.rawValue)) }
            if let theme { items.append(("theme", theme)) }
            if let sdg { items.append(("sdg", String(sdg))) }
            if let status { items.append(("status", status.rawValue)) }
            if let year { items.append(("year", String(year))) }
            if page > 1 { items.append(("page", String(page))) }
            return "/practices" + (items.isEmpty ? "" : "?" + items.map { "\($0.0)=\(PortalURL.encode($0.1))" }.joined(separator: "&"))
        }
    }

    func practiceList(_ query: ListQuery, heads: PeerHeads, links: PortalLinks) throws -> [String: Any] {
        let offset = (query.page - 1) * Self.pageSize
        var filter = PracticeFilter()
        filter.cities = query.city.map { [$0] } ?? []
        filter.theme = query.theme
        filter.sdg = query.sdg
        filter.status = query.status?.rawValue
        filter.year = query.year
        let results: [PracticeSummary]
        let total: Int?
        if let q = query.q {
            // One more than a page tells whether there is a next one.
            let found = try city.store.search(q, limit: Self.pageSize + 1, offset: offset)
            results = found.filter { s in
                (query.city.map { s.publisher == $0 } ?? true) && (query.theme.map { s.themes.contains($0.lowercased()) } ?? true)
                    && (query.sdg.map { s.sdgs.contains($0) } ?? true) && (query.status.map { s.status == $0.rawValue } ?? true)
                    && (filter.year.map { PortalDate.year(s.publishedAt) == $0 } ?? true)
            }
            total = nil
        } else {
            filter.limit = Self.pageSize + 1
            filter.offset = offset
            results = try city.store.practices(filter)
            let key = "count \(filter.cities) \(filter.theme ?? "") \(filter.sdg ?? 0) \(filter.status ?? "") \(filter.year ?? 0)"
            total = try cache.value(key, digest: stateKey(heads)) { try city.store.practiceCount(filter) }
        }
        let shown = Array(results.prefix(Self.pageSize))
        var data = common(title: query.q.map { "Practices matching “\($0)”" } ?? "Practices", heads: heads, links: links)
        data["searchable"] = !links.site
        data["query"] = ["q": query.q ?? "", "year": query.year.map(String.init) ?? ""]
        data["summary"] = Self.countLine(shown: shown.count, offset: offset, total: total, searching: query.q != nil)
        data["hasResults"] = !shown.isEmpty
        data["results"] = shown.map { s -> [String: Any] in
            [
                "href": links.practice(s.id), "language": s.language, "titleLocal": s.titleLocal,
                "titleEnglish": (s.titleEnglish.isEmpty || s.titleEnglish == s.titleLocal ? nil : s.titleEnglish) as Any,
                "conflict": s.conflict, "publisher": s.publisher.rawValue, "status": s.status,
                "themes": s.themes.joined(separator: ", "), "sdgs": s.sdgs.map(String.init).joined(separator: ", "),
                "published": PortalDate.date(s.publishedAt),
            ]
        }
        func page(_ n: Int) -> String { links.site ? links.sitePage(n) : query.link(page: n) }
        data["previous"] = (query.page > 1 ? page(query.page - 1) : nil) as Any
        data["next"] = (results.count > Self.pageSize && (links.site || query.page < Self.maxPage) ? page(query.page + 1) : nil) as Any
        let cards = ([city.card] + city.peers.cards.filter { !$0.isObserver && $0.city != city.id }).sorted { $0.city < $1.city }
        data["cityOptions"] = cards.map { ["value": $0.city.rawValue, "label": "\($0.name) (\($0.city))", "selected": $0.city == query.city] }
        data["themeOptions"] = try cache.value("themes", digest: stateKey(heads)) { try city.store.themes() }.map { ["value": $0.theme, "label": "\($0.theme) (\($0.practices))", "selected": $0.theme == query.theme?.lowercased()] }
        data["sdgOptions"] = (1...17).map { ["value": String($0), "label": "SDG \($0)", "selected": $0 == query.sdg] }
        data["statusOptions"] = PracticeStatus.allCases.map { ["value": $0.rawValue, "label": $0.rawValue, "selected": $0 == query.status] }
        return data
    }

    static func countLine(shown: Int, offset: Int, total: Int?, searching: Bool) -> String {
        if shown == 0 { return offset == 0 ? "No practice matches." : "No more practices." }
        let range = "\(offset + 1)–\(offset + shown)"
        if let total { return "Practices \(range) of \(total)." }
        return "Best matches \(range)\(searching ? ", best first" : "")."
    }

    func practicePage(_ id: String, heads: PeerHeads, links: PortalLinks) throws -> [String: Any] {
        let record: PracticeRecord, related: [Entry]
        do {
            (record, _, related) = try city.store.practice(id)
        } catch let e as StoreError where e.isNotFound {
            throw PortalError(status: 404, title: "No such practice", message: "This node holds no practice with the id \(id).")
        }
        let names = Dictionary(([city.card] + city.peers.cards).map { ($0.city, $0.name) }, uniquingKeysWith: { a, _ in a })
        // Sealed personal fields (§14) with the content held here; in place of one not
        // held, whether it was erased (when, by whom) or has not reached this node.
        let sealedIn = Set(record.versions.filter { !$0.fields.sealed.isEmpty }.map { $0.fieldsEntry ?? $0.entry })
        let contents = Dictionary(grouping: sealedIn.isEmpty ? [] : try city.store.contents(of: Array(sealedIn)), by: \.entry)
        func reveal(_ f: Practice, _ entry: EntryID) -> Practice { f.sealed.isEmpty ? f : f.revealing(contents[entry] ?? []) }
        func note(_ f: Practice, _ entry: EntryID, _ field: PersonalField) -> String? {
            switch record.missing(field, of: f, entry: entry) {
            case .erased(let e)?: "Erased on \(PortalDate.date(e.time)) by \(names[e.city] ?? e.city.rawValue)."
            case .withheld?: "Personal data not held by this node."
            case nil: nil
            }
        }
        let p = reveal(record.current, record.fieldsEntry)
        let byID = Dictionary(record.versions.map { ($0.entry, $0) }, uniquingKeysWith: { a, _ in a })
        let standing: [[String: Any]] = record.heads.compactMap { byID[$0] }.enumerated().map { i, v in
            let entry = v.fieldsEntry ?? v.entry
            let f = reveal(v.fields, entry)
            return [
                "label": record.heads.count > 1 ? "Version \(i + 1) of \(record.heads.count), by \(v.origin) on \(PortalDate.date(v.time))" : "The practice",
                "language": f.language, "summaryLocal": note(f, entry, .summary) ?? f.summary.local,
                "summaryEnglish": (f.summary.en.isEmpty || f.summary.en == f.summary.local ? nil : f.summary.en) as Any,
                "challenge": (note(f, entry, .challenge) ?? (f.challenge.isEmpty ? nil : f.challenge)) as Any,
                "outcomes": (f.outcomes ?? note(f, entry, .outcomes)) as Any,
                "hasLinks": !f.links.isEmpty,
                "links": f.links.map { ["text": $0, "href": PortalURL.safeLink($0) ?? "", "followable": PortalURL.safeLink($0) != nil] },
            ]
        }
        var practice: [String: Any] = [
            "language": p.language, "titleLocal": p.title.local,
            "titleEnglish": (p.title.en.isEmpty || p.title.en == p.title.local ? nil : p.title.en) as Any,
            "retracted": record.retracted, "retractReason": record.retractReason as Any,
            "conflict": record.conflict, "headCount": record.heads.count,
            "publisherHref": links.city(record.publisher) as Any, "publisherName": names[record.publisher] ?? record.publisher.rawValue,
            "published": PortalDate.date(record.versions.first?.time ?? 0), "status": p.status.rawValue,
            "themes": p.themes.joined(separator: ", "), "sdgs": p.sdgs.map(String.init).joined(separator: ", "),
            "area": (p.area ?? note(p, record.fieldsEntry, .area)) as Any, "period": p.period.map { $0.start + ($0.end.map { " – " + $0 } ?? "") } as Any,
            "companies": (p.companies.isEmpty ? nil : p.companies.joined(separator: ", ")) as Any,
            "partners": (p.partners.isEmpty ? nil : p.partners.joined(separator: ", ")) as Any,
            "contact": (p.contact ?? note(p, record.fieldsEntry, .contact)) as Any,
            "heads": standing,
            "adoptions": record.adoptions.map { a -> [String: Any] in
                ["cityHref": links.city(a.city) as Any, "cityName": names[a.city] ?? a.city.rawValue, "mode": a.mode.rawValue, "date": PortalDate.date(a.time), "notes": a.notes as Any]
            },
            "versions": record.versions.enumerated().map { i, v -> [String: Any] in
                var version: [String: Any] = [
                    "entry": v.entry.short, "kind": v.kind.rawValue, "origin": v.origin.rawValue, "seq": v.seq, "date": PortalDate.dateTime(v.time),
                    "officer": v.author?.rawValue as Any,
                ]
                // What a revision changed against each version it revised, for the latest
                // `diffedVersions` (a practice may have many; each difference is bounded).
                if v.kind == .revise, i >= record.versions.count - Self.diffedVersions {
                    let revised = reveal(v.fields, v.fieldsEntry ?? v.entry)
                    let bases = v.base.compactMap { byID[$0] }
                    if bases.count > Self.diffedBases { version["diffMore"] = bases.count - Self.diffedBases }
                    version["changes"] = bases.prefix(Self.diffedBases).map { b -> [String: Any] in
                        let changes = PracticeChange.between(reveal(b.fields, b.fieldsEntry ?? b.entry), revised)
                        return [
                            "diffAgainst": (v.base.count > 1 ? b.entry.short : nil) as Any,
                            "diffFields": changes.map { PortalDiff.field($0, labels: labels.values) },
                            "diffNone": changes.isEmpty,
                        ]
                    }
                }
                return version
            },
            "hasProblems": !record.problems.isEmpty,
            "problems": record.problems.map(\.description),
            "entryCount": 1 + related.count,
        ]
        if record.heads.count <= 1 { practice["conflict"] = false }
        var data = common(title: p.title.local, heads: heads, links: links)
        data["practice"] = practice
        return data
    }

    // MARK: Responses

    func render(_ template: String, _ data: [String: Any]) throws -> [UInt8] {
        guard let html = PortalTemplates.library.render(Self.pruned(data) ?? [:], withTemplate: template) else {
            throw PortalError(status: 500, title: "Something went wrong", message: "The page's template is missing.")
        }
        return Array(html.utf8)
    }

    /// `data` without its absent values: swift-mustache takes an `Optional.none` held in
    /// an `Any` for a value, and would render the section it guards.
    static func pruned(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return pruned(wrapped)
        }
        if let dictionary = value as? [String: Any] { return dictionary.compactMapValues(pruned) }
        if let array = value as? [[String: Any]] { return array.compactMap { pruned($0) } }
        return value
    }

    /// What the pages are built from: the network digest, and how many contents of sealed
    /// fields (§14) the store holds — content arrives after its entry without moving the
    /// digest (and leaves only by an erasure, which does), so a page that said "withheld"
    /// is not served from a cache once the value is here.
    private func stateKey(_ heads: PeerHeads) -> String {
        "\(heads.digest)-\((try? city.store.contentCount()) ?? -1)"
    }

    /// The state key, and the cards' names (pages show them; a card may change without
    /// the log changing).
    private func digestETag(_ heads: PeerHeads) -> String {
        let names = memberCards.map { "\($0.city)\u{0}\($0.name)\u{0}\($0.localName)\u{0}\($0.country)\u{0}\($0.language)" }.joined(separator: "\u{1}")
        return "\"\(heads.digest.prefix(32))-\(Self.fnv(Array((stateKey(heads) + names).utf8)))-\(Self.version)\""
    }

    static func etag(of body: [UInt8]) -> String { "W/\"\(fnv(body))-\(version)\"" }

    /// FNV-1a, 64 bits, in hex: a cache key, not a security boundary.
    static func fnv(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    static let html = "text/html; charset=utf-8"
    static let atom = "application/atom+xml; charset=utf-8"

    private func ok(_ body: [UInt8], contentType: String = Portal.html, etag: String, _ request: PortalRequest) -> PortalResponse {
        if request.ifNoneMatch == etag { return notModified(etag) }
        return PortalResponse(status: 200, contentType: contentType, headers: Self.securityHeaders + [("ETag", etag), ("Cache-Control", "no-cache")], body: body)
    }

    private func notModified(_ etag: String) -> PortalResponse {
        PortalResponse(status: 304, contentType: "text/html; charset=utf-8", headers: Self.securityHeaders + [("ETag", etag), ("Cache-Control", "no-cache")], body: [])
    }

    private func error(_ status: Int, _ title: String, _ message: String, retryAfter: Int? = nil) -> PortalResponse {
        var data: [String: Any] = ["title": title, "message": message, "links": PortalLinks.server.template, "l": labels.values, "node": ["id": city.id.rawValue, "name": city.card.name]]
        if let heads = try? city.localHeads() {
            data["entries"] = heads.entries
            data["digestShort"] = String(heads.digest.prefix(16))
        }
        let body = PortalTemplates.library.render(Self.pruned(data) ?? [:], withTemplate: "error") ?? title
        let retry = retryAfter.map { [(name: "Retry-After", value: String($0))] } ?? []
        return PortalResponse(status: status, contentType: "text/html; charset=utf-8", headers: Self.securityHeaders + retry, body: Array(body.utf8))
    }
}

/// Where the portal's links point: the daemon's routes, or the files of `c4csr site`
/// (relative, so that the site works from any directory of any web server).
struct PortalLinks {
    /// Files rather than routes; `root` leads from the page to the site's top.
    let site: Bool
    let root: String

    static let server = PortalLinks(site: false, root: "/")
    static func site(depth: Int) -> PortalLinks { PortalLinks(site: true, root: String(repeating: "../", count: depth)) }

    var overview: String { site ? root + "index.html" : "/" }
    var style: String { root + "style.css" }
    var icon: String { root + "favicon.svg" }
    var list: String { site ? root + "practices.html" : "/practices" }
    var adoptions: String { site ? root + "adoptions.html" : "/adoptions" }
    var feed: String { site ? root + "feed.atom" : "/feed.atom" }
    var csv: String { site ? root + "practices.csv" : "/practices.csv" }
    var json: String { site ? root + "practices.json" : "/practices.json" }
    func practice(_ id: EntryID) -> String { site ? root + "practices/\(id.hex).html" : "/practices/\(id.hex)" }
    func city(_ id: CityID) -> String { site ? root + "cities/\(id.rawValue).html" : "/cities/\(id.rawValue)" }
    func cityFeed(_ id: CityID) -> String { site ? root + "cities/\(id.rawValue).atom" : "/cities/\(id.rawValue)/feed.atom" }
    /// A city's practices in the filtered list (the server only).
    func cityList(_ id: CityID) -> String? { site ? nil : "/practices?city=\(id.rawValue)" }
    /// Page `n` of the unfiltered list, as `c4csr site` writes it.
    func sitePage(_ n: Int) -> String { root + (n == 1 ? "practices.html" : "practices-\(n).html") }

    var template: [String: Any] {
        ["overview": overview, "style": style, "icon": icon, "list": list, "adoptions": adoptions, "feed": feed, "csv": csv, "json": json]
    }
}

/// A practice's change as the template reads it: a field's name and its word-by-word
/// difference, its old and new values, or that a personal field's seal changed.
enum PortalDiff {
    static func field(_ change: PracticeChange, labels: [String: [String: String]]) -> [String: Any] {
        var out: [String: Any] = ["diffLabel": labels[labelKey(change.field)] as Any]
        switch change.difference {
        case .text(let segments):
            out["diffSegments"] = segments.map { s -> [String: Any] in
                switch s {
                case .same(let t): ["diffSame": t]
                case .removed(let t): ["diffRemoved": t]
                case .added(let t): ["diffAdded": t]
                }
            }
        case .value(let old, let new):
            out["diffOld"] = old.isEmpty ? "(none)" : old
            out["diffNew"] = new.isEmpty ? "(none)" : new
        case .sealed:
            out["diffSealed"] = true
        }
        return out
    }

    /// The label of a field: `PortalLabels` has one per field name (a test checks).
    static func labelKey(_ field: PracticeChange.Field) -> String { field.rawValue }
}

/// Dates as the portal prints them: UTC, ISO 8601 order, no locale.
enum PortalDate {
    static func civil(_ ms: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        let seconds = ms.dividingFloorBy(1000)
        let days = seconds.dividingFloorBy(86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        // Howard Hinnant's days-to-civil.
        let z = days + 719_468
        let era = z.dividingFloorBy(146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d), secondOfDay / 3600, secondOfDay % 3600 / 60)
    }

    static func date(_ ms: Int64) -> String {
        let c = civil(ms)
        return "\(c.year)-\(two(c.month))-\(two(c.day))"
    }

    static func dateTime(_ ms: Int64) -> String {
        let c = civil(ms)
        return "\(date(ms)) \(two(c.hour)):\(two(c.minute)) UTC"
    }

    static func iso(_ ms: Int64) -> String {
        let c = civil(ms)
        return "\(date(ms))T\(two(c.hour)):\(two(c.minute))Z"
    }

    static func year(_ ms: Int64) -> Int { civil(ms).year }

    /// "2026-12-01T09:30:00Z", as Atom wants it.
    static func rfc3339(_ ms: Int64) -> String {
        let s = ms.dividingFloorBy(1000) - ms.dividingFloorBy(60_000) * 60
        return "\(iso(ms).dropLast()):\(s < 10 ? "0" : "")\(s)Z"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

extension Int64 {
    fileprivate func dividingFloorBy(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

/// URLs the portal writes into pages.
enum PortalURL {
    /// Percent-encodes a query value (everything but unreserved characters).
    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// A practice's link as an `href` only if it is http(s): a `javascript:` or `data:`
    /// link from a peer is shown as text, never followed.
    static func safeLink(_ link: String) -> String? {
        let lower = link.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else { return nil }
        return link
    }
}
