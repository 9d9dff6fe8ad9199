import C4CSRCore
import C4CSRNode
import C4CSRStore

/// The portal's city pages, adoption matrix, feeds and downloads (design §2).
extension Portal {
    /// Newest changes in a feed.
    static let feedEntries = 50

    enum FeedScope: Sendable, Hashable {
        case network
        case city(CityID)
        case theme(String)
        case sdg(Int)
    }

    /// Every member city's card (this node's first), by id; observers are not cities.
    var memberCards: [PeerCard] {
        ([city.card] + city.peers.cards.filter { !$0.isObserver && $0.city != city.id }).sorted { $0.city < $1.city }
    }

    private var names: [CityID: String] { Dictionary(memberCards.map { ($0.city, $0.name) }, uniquingKeysWith: { a, _ in a }) }

    func cityPage(_ id: CityID, heads: PeerHeads, links: PortalLinks) throws -> [String: Any] {
        let card = memberCards.first { $0.city == id }
        var filter = PracticeFilter()
        filter.cities = [id]
        let count = try cache.value("count [\(id)]", digest: heads.digest) { try city.store.practiceCount(filter) }
        let adopted = try city.store.adoptions(by: id)
        guard card != nil || count > 0 || !adopted.isEmpty else {
            throw PortalError(status: 404, title: "No such city", message: "This node knows no city \(id) and holds none of its practices.")
        }
        // The static site has no filtered list: its city page lists every practice.
        if !links.site { filter.limit = Self.pageSize }
        let names = self.names
        func adoption(_ a: (entry: Entry, practice: PracticeSummary), other: CityID) -> [String: Any] {
            let action = try? PracticeAction(entry: a.entry)
            var mode = "adopted", notes: String?
            if case .adopt(_, _, let m, let n)? = action { (mode, notes) = (m.rawValue, n) }
            return [
                "href": links.practice(a.practice.id), "title": a.practice.titleLocal, "cityHref": links.city(other),
                "cityName": names[other] ?? other.rawValue, "mode": mode, "notes": notes as Any, "date": PortalDate.date(a.entry.time),
            ]
        }
        let page: [String: Any] = [
            "localName": card?.localName ?? id.rawValue, "english": card.flatMap { $0.name == $0.localName ? nil : $0.name } as Any,
            "language": card?.language ?? "en", "country": card?.country ?? "", "feedHref": links.cityFeed(id),
            "practiceCount": count,
            "practices": try city.store.practices(filter).map { s -> [String: Any] in
                ["href": links.practice(s.id), "title": s.titleLocal, "language": s.language, "status": s.status,
                 "published": PortalDate.date(s.publishedAt), "adoptions": s.adoptions > 0 ? s.adoptions : nil as Int? as Any]
            },
            "allHref": (count > Self.pageSize ? links.cityList(id) : nil) as Any,
            "adopted": adopted.map { adoption($0, other: $0.practice.publisher) },
            "adoptedFrom": try city.store.adoptions(of: id).map { adoption($0, other: $0.entry.origin) },
        ]
        var data = common(title: card?.name ?? id.rawValue, heads: heads, links: links)
        data["city"] = page
        data["feed"] = ["title": "Entries of \(card?.name ?? id.rawValue)", "href": links.cityFeed(id)]
        return data
    }

    /// The city × city matrix as an SVG drawn here (no script) and as a table.
    func adoptionMatrix(heads: PeerHeads, links: PortalLinks) throws -> [String: Any] {
        let matrix = try city.store.adoptionMatrix()
        var ids = Set(memberCards.map(\.city))
        for (adopter, row) in matrix {
            ids.insert(adopter)
            ids.formUnion(row.keys)
        }
        let cities = ids.sorted()
        let most = max(1, matrix.values.flatMap(\.values).max() ?? 1)
        // Room for the longest id beside the rows and above the columns (~7 px a letter).
        let cell = 36, margin = 16 + 7 * (cities.map(\.rawValue.count).max() ?? 4)
        let size = margin + cell * cities.count + 10
        let columns: [[String: Any]] = cities.enumerated().map { i, c in
            ["id": c.rawValue, "x": margin + cell * i + cell / 2, "y": margin - 8]
        }
        let rows: [[String: Any]] = cities.enumerated().map { r, adopter in
            let y = margin + cell * r
            return [
                "id": adopter.rawValue, "x": margin - 8, "y": y + cell / 2 + 4, "cityHref": links.city(adopter),
                "cells": cities.enumerated().map { c, publisher -> [String: Any] in
                    let n = adopter == publisher ? 0 : matrix[adopter]?[publisher] ?? 0
                    // From white to the accent colour, by share of the largest count.
                    let t = Double(n) / Double(most)
                    let shade = { (from: Int, to: Int) -> String in
                        let v = Int(Double(from) + (Double(to) - Double(from)) * t)
                        return (v < 16 ? "0" : "") + String(v, radix: 16)
                    }
                    return [
                        "x": margin + cell * c, "y": y, "w": cell - 2, "tx": margin + cell * c + cell / 2 - 1, "ty": y + cell / 2 + 3,
                        "fill": adopter == publisher ? "#eeeeee" : "#" + shade(255, 11) + shade(255, 83) + shade(255, 148),
                        "count": n > 0 ? n : nil as Int? as Any, "dark": t > 0.5, "value": adopter == publisher ? "—" : String(n),
                        "tip": "\(adopter) adopted \(n) of \(publisher)'s practices",
                    ]
                },
            ]
        }
        var data = common(title: "Adoptions", heads: heads, links: links)
        data["columns"] = columns
        data["rows"] = rows
        data["size"] = size
        data["total"] = matrix.values.flatMap(\.values).reduce(0, +)
        return data
    }

    func feed(_ scope: FeedScope, heads: PeerHeads, links: PortalLinks) throws -> [String: Any] {
        let entries: [Entry]
        let title: String, id: String, selfHref: String?
        let names = self.names
        switch scope {
        case .network:
            entries = try city.store.latestEntries(limit: Self.feedEntries)
            (title, id, selfHref) = ("CITIES4CSR: changes in the network", "urn:c4csr:feed:network", links.feed)
        case .city(let c):
            entries = try city.store.latestEntries(origin: c, limit: Self.feedEntries)
            (title, id, selfHref) = ("CITIES4CSR: entries of \(names[c] ?? c.rawValue)", "urn:c4csr:feed:city:\(c)", links.cityFeed(c))
        case .theme(let t):
            entries = try city.store.latestEntries(theme: t, limit: Self.feedEntries)
            (title, id, selfHref) = ("CITIES4CSR: practices on \(t)", "urn:c4csr:feed:theme:\(PortalURL.encode(t.lowercased()))", nil)
        case .sdg(let n):
            entries = try city.store.latestEntries(sdg: n, limit: Self.feedEntries)
            (title, id, selfHref) = ("CITIES4CSR: practices for SDG \(n)", "urn:c4csr:feed:sdg:\(n)", nil)
        }
        let subjects = try city.store.practices(ids: entries.compactMap(PracticeAction.subject(of:)))
        let items: [[String: Any]] = entries.map { e in
            let subject = PracticeAction.subject(of: e)
            let practice = subject.flatMap { subjects[$0] }
            let who = names[e.origin] ?? e.origin.rawValue
            let what = practice.map { "“\($0.titleLocal)”" } ?? ""
            var summary: String?
            switch try? PracticeAction(entry: e) {
            case .publish(let p)?, .revise(_, _, let p)?: summary = p.summary.local
            case .retract(_, _, let reason)?: summary = reason
            case .adopt(_, _, let mode, let notes)?: summary = notes ?? "\(who) \(mode.rawValue) it."
            case nil: summary = nil
            }
            return [
                "id": "urn:c4csr:entry:\(e.id.hex)", "title": what.isEmpty ? "\(who) \(Self.describe(e.kind))" : "\(who) \(Self.describe(e.kind)) \(what)",
                "updated": PortalDate.rfc3339(e.time), "author": who, "href": practice.map { links.practice($0.id) } as Any,
                "summary": summary as Any,
            ]
        }
        return [
            "id": id, "title": title, "author": "The CITIES4CSR network (via \(city.card.name))",
            "updated": PortalDate.rfc3339(entries.map(\.time).max() ?? 0), "selfHref": selfHref as Any, "entries": items,
        ]
    }

    /// `export --format csv`'s file.
    func csv() throws -> [UInt8] {
        var out = [UInt8]()
        try city.exportCSV { out.append(contentsOf: $0.utf8) }
        return out
    }

    /// `list --json`'s array: every current practice, newest first.
    func practicesJSON() throws -> [UInt8] {
        Array((CanonicalJSON.string(.array(try city.store.practices().map(\.json))) + "\n").utf8)
    }
}
