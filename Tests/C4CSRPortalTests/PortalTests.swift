import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Mustache
import Testing

@testable import C4CSRPortal

/// Two cities that know each other, in a temporary directory; `body` gets the first.
func withCities(_ body: (City, City) throws -> Void) throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-portal-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    func make(_ id: String, _ name: String, _ local: String, _ language: String) throws -> City {
        let card = PeerCard(city: CityID(id)!, name: name, localName: local, country: "EU", language: language)
        return try City.create(at: DataDirectory(root.appendingPathComponent(id).path), card: card)
    }
    let a = try make("sofia", "Sofia", "София", "bg"), b = try make("riga", "Riga", "Rīga", "lv")
    for (x, y) in [(a, b), (b, a)] {
        try Data(y.card.toml.utf8).write(to: x.directory.peersDirectory.appendingPathComponent("\(y.id).toml"))
    }
    try body(try City.open(a.directory), try City.open(b.directory))
}

func practice(_ title: String, local: String? = nil, language: String = "bg", summary: String = "Companies co-fund a project.",
              themes: [String] = ["environment"], sdgs: [Int] = [13], links: [String] = [], contact: String? = nil) -> Practice {
    var p = Practice(
        language: language, title: .init(local: local ?? title, en: title), summary: .init(local: summary, en: summary),
        challenge: "A local challenge", themes: themes, sdgs: sdgs, status: .running)
    p.links = links
    p.contact = contact
    return p
}

/// Rewrites the card of riga held by `city`.
func withCards(_ city: City, _ change: (inout PeerCard) -> Void) throws {
    let file = city.directory.peersDirectory.appendingPathComponent("riga.toml")
    var card = try #require(city.peers.cards.first { $0.city.rawValue == "riga" })
    change(&card)
    try Data(card.toml.utf8).write(to: file)
}

func get(_ portal: Portal, _ target: String, ifNoneMatch: String? = nil) throws -> PortalResponse {
    let request = try #require(PortalRequest(target: target, ifNoneMatch: ifNoneMatch), "\(target)")
    return portal.respond(request)
}

/// What a hostile member writes into every field a page shows.
let hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>\"\u{301} onmouseover=alert(3) ]]>"

@Suite struct PortalEscapingTests {
    /// swift-mustache's escaping compares whole characters: a quote carrying a combining
    /// mark is one grapheme, is not `"`, and passes, while a browser still ends the
    /// attribute at it. The portal's escaper works on scalars.
    @Test func aQuoteWithACombiningMarkIsEscaped() throws {
        let attack = "x\"\u{301} onmouseover=alert(1)"
        let quoteWithMark = "\"\u{301}", escapedQuoteWithMark = "&quot;\u{301}"
        let library = try MustacheTemplate(string: "<a title=\"{{t}}\">").render(["t": attack])
        #expect(library.contains(quoteWithMark), "swift-mustache's own escaping now catches it: \(library)")
        let portalLibrary = PortalTemplates.library  // registers the content type
        let ours = try MustacheTemplate(string: PortalTemplates.pragma + "<a title=\"{{t}}\">").render(["t": attack], library: portalLibrary)
        #expect(ours == "<a title=\"x" + escapedQuoteWithMark + " onmouseover=alert(1)\">", "\(ours)")
        #expect(ours.contains(escapedQuoteWithMark))
        #expect(PortalHTML.escape("a\u{202E}b\u{1B}c<&'") == "a\\u{202E}b\\u{1B}c&lt;&amp;&#39;")
    }

    /// The practice rules admit only http(s) links; the portal makes no other an href
    /// even if a future rule (or a bug) let one through.
    @Test func onlyWebLinksBecomeLinks() {
        #expect(PortalURL.safeLink("javascript:alert(1)") == nil)
        #expect(PortalURL.safeLink("JavaScript:alert(1)") == nil)
        #expect(PortalURL.safeLink("data:text/html,x") == nil)
        #expect(PortalURL.safeLink("HTTPS://example.org") == "HTTPS://example.org")
        #expect(PortalURL.encode("a b&c=é") == "a%20b%26c%3D%C3%A9")
    }

    @Test func everyTemplateUsesThePortalsEscapingAndNoRawOutput() {
        for (name, source) in PortalTemplates.sources {
            #expect(source.hasPrefix(PortalTemplates.pragma), "template \(name) does not open with the pragma")
            #expect(!source.contains("{{{") && !source.contains("{{&"), "template \(name) writes raw text")
            #expect(PortalTemplates.library.getTemplate(named: name) != nil, "\(name)")
        }
    }

    /// Hostile text in every field the overview, the list and a practice page show
    /// (titles, summary, links, contact, adoption notes, a city's names): escaped on
    /// every page.
    @Test func peerTextIsEscapedOnEveryPage() throws {
        try withCities { sofia, riga in
            let p = try sofia.publish(practice(hostile, local: hostile, summary: hostile, links: ["https://example.org/?a=1&b=\"2\"><script>"], contact: hostile))
            let fromRiga = try riga.publish(practice("Riga's", local: hostile))
            _ = try sofia.receive([(fromRiga.body, fromRiga.signature)])
            _ = try riga.receive([(p.body, p.signature)])
            let adoption = try riga.adopt(p.id.hex, mode: .adapted, notes: hostile)
            _ = try sofia.receive([(adoption.entry!.body, adoption.entry!.signature)])
            // The peer's card names are peer-controlled too.
            var card = riga.card
            card.localName = hostile
            try Data(card.toml.utf8).write(to: sofia.directory.peersDirectory.appendingPathComponent("riga.toml"))
            let portal = Portal(city: try City.open(sofia.directory))
            for target in ["/", "/practices", "/practices?q=alert", "/practices/\(p.id.hex)", "/cities/riga", "/cities/sofia", "/adoptions"] {
                let r = try get(portal, target)
                #expect(r.status == 200, "\(target): \(r.text)")
                #expect(r.contentType == "text/html; charset=utf-8")
                #expect(r.header("Content-Security-Policy")?.contains("default-src 'none'") == true, "\(target)")
                let quoteWithMark = "\"\u{301}"
                for raw in ["<script", "<img", "'>", quoteWithMark] {
                    #expect(!r.text.contains(raw), "\(target) holds \(raw) unescaped")
                }
                // Every page but the matrix (city ids only) shows some of the hostile text.
                #expect(r.text.contains("&lt;script&gt;") || target == "/adoptions", "\(target)")
            }
            // The feeds hold the same text, escaped for XML: they parse.
            for target in ["/feed.atom", "/cities/riga/feed.atom", "/cities/sofia/feed.atom", "/themes/environment/feed.atom", "/sdgs/13/feed.atom"] {
                let r = try get(portal, target)
                #expect(r.status == 200 && r.contentType == "application/atom+xml; charset=utf-8", "\(target)")
                let atom = try AtomFeed(r.body)
                #expect(!atom.entries.isEmpty, "\(target): \(r.text)")
                #expect(atom.entries.contains { $0.summary.contains("<script>") } || target.contains("riga/"), "\(target): the text is kept, as text")
            }
            let page = try get(portal, "/practices/\(p.id.hex)").text
            #expect(page.contains("href=\"https://example.org/?a=1&amp;b=&quot;2&quot;&gt;&lt;script&gt;\""), "\(page)")
            #expect(page.contains("adapted it on"))
            #expect(page.contains("built from 2 entries whose signatures this node verified"), "\(page)")
        }
    }
}

/// An Atom document read with Foundation's XMLParser: a feed that is not well-formed XML
/// throws.
struct AtomFeed {
    struct Entry { var id = "", title = "", updated = "", link = "", summary = "" }
    var title = ""
    var entries = [Entry]()

    init(_ bytes: [UInt8]) throws {
        final class Reader: NSObject, XMLParserDelegate {
            var feed = AtomFeed.empty
            var path = [String]()
            var text = ""
            func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                path.append(name)
                text = ""
                if name == "entry" { feed.entries.append(Entry()) }
                if name == "link", path.dropLast().last == "entry", attributes["rel"] == "alternate" { feed.entries[feed.entries.count - 1].link = attributes["href"] ?? "" }
            }
            func parser(_ p: XMLParser, foundCharacters string: String) { text += string }
            func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                let inEntry = path.contains("entry")
                path.removeLast()
                if inEntry, !feed.entries.isEmpty {
                    switch name {
                    case "id": feed.entries[feed.entries.count - 1].id = text
                    case "title": feed.entries[feed.entries.count - 1].title = text
                    case "updated": feed.entries[feed.entries.count - 1].updated = text
                    case "summary": feed.entries[feed.entries.count - 1].summary = text
                    default: break
                    }
                } else if name == "title" {
                    feed.title = text
                }
            }
        }
        let parser = XMLParser(data: Data(bytes))
        let reader = Reader()
        parser.delegate = reader
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.fileReadCorruptFile) }
        self = reader.feed
    }

    private init() {}
    static var empty: AtomFeed { AtomFeed() }
}

@Suite struct PortalRouteTests {
    /// A city's page, the adoption matrix, the feeds and the downloads, with the figures
    /// a person would check by hand.
    @Test func citiesAdoptionsFeedsAndDownloads() throws {
        try withCities { sofia, riga in
            let a = try sofia.publish(practice("Green roofs", themes: ["environment", "housing"], sdgs: [11, 13]))
            let b = try sofia.publish(practice("School meals", themes: ["food"], sdgs: [2]))
            for e in [a, b] { _ = try riga.receive([(e.body, e.signature)]) }
            var adoptions = [Entry]()
            adoptions.append(try riga.adopt(a.id.hex, mode: .adapted, notes: "Smaller roofs").entry!)
            adoptions.append(try riga.adopt(b.id.hex, mode: .adopted, notes: nil).entry!)
            adoptions.append(try riga.adopt(a.id.hex, mode: .adopted, notes: "A second time").entry!)
            _ = try sofia.receive(adoptions.map { ($0.body, $0.signature) })
            let portal = Portal(city: sofia)

            let sofiaPage = try get(portal, "/cities/sofia")
            #expect(sofiaPage.status == 200)
            #expect(sofiaPage.text.contains("· Its practices</span> (2)"), "\(sofiaPage.text)")
            #expect(sofiaPage.text.contains("Riga</a> adapted <a href=\"/practices/\(a.id.hex)\">Green roofs</a>"), "\(sofiaPage.text)")
            #expect(sofiaPage.text.contains("(Smaller roofs)"))
            let rigaPage = try get(portal, "/cities/riga").text
            #expect(rigaPage.contains("<a href=\"/practices/\(b.id.hex)\">School meals</a> from <a href=\"/cities/sofia\">Sofia</a>: adopted"), "\(rigaPage)")
            #expect(try get(portal, "/cities/nowhere").status == 404)
            #expect(try get(portal, "/cities/NOT_A_CITY").status == 404)

            let matrix = try get(portal, "/adoptions").text
            #expect(matrix.contains("<svg") && matrix.contains("riga adopted 2 of sofia&#39;s practices"), "distinct practices: \(matrix)")
            #expect(matrix.contains("2 in all"))
            #expect(matrix.contains("sofia adopted 0 of riga&#39;s practices"))

            let network = try AtomFeed(try get(portal, "/feed.atom").body)
            #expect(network.entries.count == 5)
            #expect(network.entries.first?.id == "urn:c4csr:entry:\(adoptions[2].id.hex)", "newest first")
            #expect(network.entries.first?.title == "Riga adopted “Green roofs”")
            #expect(network.entries.first?.link == "/practices/\(a.id.hex)")
            #expect(network.entries.allSatisfy { $0.updated.count == 20 && $0.updated.hasSuffix("Z") }, "\(network.entries.map(\.updated))")
            #expect(try AtomFeed(try get(portal, "/cities/riga/feed.atom").body).entries.count == 3)
            #expect(try AtomFeed(try get(portal, "/themes/housing/feed.atom").body).entries.count == 3, "Green roofs and its two adoptions")
            #expect(try AtomFeed(try get(portal, "/sdgs/2/feed.atom").body).entries.count == 2)
            #expect(try AtomFeed(try get(portal, "/sdgs/3/feed.atom").body).entries.isEmpty)
            for target in ["/sdgs/18/feed.atom", "/sdgs/x/feed.atom", "/themes/housing", "/cities/sofia/feed.rss"] {
                #expect(try get(portal, target).status == 404, "\(target)")
            }

            let csv = try get(portal, "/practices.csv")
            var expected = [UInt8]()
            try sofia.exportCSV { expected.append(contentsOf: $0.utf8) }
            #expect(csv.status == 200 && csv.contentType == "text/csv; charset=utf-8" && csv.body == expected)
            let json = try get(portal, "/practices.json")
            let list = try JSONParser.parse(json.body)
            #expect(list.arrayValue?.count == 2 && list.arrayValue?.first?["city"]?.stringValue == "sofia", "\(json.text)")
        }
    }


    @Test func badQueriesAreA400PageAndUnknownPathsA404() throws {
        try withCities { sofia, _ in
            let portal = Portal(city: sofia)
            for (target, fragment) in [
                ("/practices?sdg=18", "“sdg” must be a number from 1 to 17"), ("/practices?sdg=x", "“sdg”"),
                ("/practices?page=0", "“page”"), ("/practices?page=10001", "“page”"), ("/practices?page=99999999999999999999", "“page”"),
                ("/practices?city=NOT%20A%20CITY", "“city” must be a city id"), ("/practices?status=dreaming", "“status” must be one of"),
                ("/practices?year=1969", "“year”"), ("/practices?q=" + String(repeating: "a", count: 201), "at most 200"),
                ("/practices?sdg=1&sdg=2", "given twice"),
            ] {
                let r = try get(portal, target)
                #expect(r.status == 400, "\(target)")
                #expect(r.text.contains(fragment), "\(target): \(r.text)")
                #expect(r.header("Content-Security-Policy") != nil)
            }
            #expect(PortalRequest(target: "/practices?q=%ZZ") == nil)
            #expect(PortalRequest(target: "/practices?q=%C3%28") == nil, "not UTF-8")
            #expect(PortalRequest(target: "/practices?q=a+b%20c")?.query.first?.value == "a b c")
            for target in ["/nothing", "/practices/abc", "/practices/" + String(repeating: "A", count: 64), "/practices/x/y"] {
                #expect(try get(portal, target).status == 404, "\(target)")
            }
            let missing = try get(portal, "/practices/" + String(repeating: "0", count: 64))
            #expect(missing.status == 404)
            #expect(missing.text.contains("holds no practice"))
        }
    }

    @Test func filtersSearchAndPagesFindWhatAPersonAsksFor() throws {
        try withCities { sofia, riga in
            var many = [Practice]()
            for i in 0..<120 { many.append(practice("Practice \(i)", sdgs: [i % 2 == 0 ? 7 : 13])) }
            _ = try sofia.publishAll(many)
            let bg = try sofia.publish(practice("Energy for schools", local: "Енергийна ефективност в училищата", themes: ["energy"], sdgs: [7]))
            let lv = try riga.publish(practice("Riga's parks", local: "Rīgas parki", language: "lv", themes: ["green"], sdgs: [11]))
            _ = try sofia.receive([(lv.body, lv.signature)])
            let portal = Portal(city: sofia)

            let first = try get(portal, "/practices").text
            #expect(first.contains("Practices 1–50 of 122."), "\(first)")
            #expect(first.contains("rel=\"next\" href=\"/practices?page=2\""))
            #expect(!first.contains("rel=\"prev\""))
            let last = try get(portal, "/practices?page=3").text
            #expect(last.contains("Practices 101–122 of 122."))
            #expect(!last.contains("rel=\"next\""))
            #expect(try get(portal, "/practices?page=4").text.contains("No more practices."))

            let sdg11 = try get(portal, "/practices?sdg=11").text
            #expect(sdg11.contains("Rīgas parki") && !sdg11.contains("Practice 1<"), "\(sdg11)")
            #expect(sdg11.contains("<option value=\"11\" selected>"))
            let riga = try get(portal, "/practices?city=riga").text
            #expect(riga.contains("Practices 1–1 of 1."))
            let sdg7 = try get(portal, "/practices?sdg=7&city=sofia").text
            #expect(sdg7.contains("of 61."), "60 even-numbered practices and the Bulgarian one")

            let found = try get(portal, "/practices?q=" + PortalURL.encode("енергийна")).text
            #expect(found.contains("Енергийна ефективност в училищата") && found.contains("/practices/\(bg.id.hex)"), "\(found)")
            #expect(found.contains("value=\"енергийна\""), "the search box keeps what was asked")
            let none = try get(portal, "/practices?q=nothingmatchesthis").text
            #expect(none.contains("No practice matches."))
            // A search keeps the filters beside it.
            #expect(try get(portal, "/practices?q=parks&city=sofia").text.contains("No practice matches."))
            #expect(try get(portal, "/practices?q=parks&city=riga").text.contains("Rīgas parki"))

            let overview = try get(portal, "/").text
            #expect(overview.contains("София") && overview.contains("Rīga"), "\(overview)")
            #expect(overview.contains("<td>121</td>"), "Sofia's practices: \(overview)")
            #expect(overview.contains("no round yet"))
            #expect(overview.contains("published <a href=\"/practices/\(bg.id.hex)\">Енергийна"), "latest changes: \(overview)")
        }
    }

    @Test func aConflictStandsSideBySide() throws {
        try withCities { sofia, _ in
            let p = try sofia.publish(practice("Shared bikes"))
            _ = try sofia.revise(p.id.hex, with: practice("Shared bikes", summary: "First officer's summary."), base: [p.id.hex])
            _ = try sofia.revise(p.id.hex, with: practice("Shared bikes", summary: "Second officer's summary."), base: [p.id.hex])
            let page = try get(Portal(city: sofia), "/practices/\(p.id.hex)").text
            #expect(page.contains("Conflict: 2 versions stand side by side"), "\(page)")
            #expect(page.contains("Version 1 of 2") && page.contains("Version 2 of 2"))
            #expect(page.contains("First officer&#39;s summary.") && page.contains("Second officer&#39;s summary."))
            #expect(try get(Portal(city: sofia), "/practices").text.contains("conflict</strong>"))
        }
    }

    /// Each revision shows what it changed against the version it revised, word by word,
    /// with the words a peer wrote escaped like any other text.
    @Test func aRevisionShowsItsChangesWordByWord() throws {
        try withCities { sofia, _ in
            let p = try sofia.publish(practice("Shared bikes", summary: "Companies co-fund the bikes for schools."))
            var next = practice("Shared bikes", summary: "Companies co-fund the cargo bikes for schools \(hostile).")
            next.status = .completed
            let r = try sofia.revise(p.id.hex, with: next, base: [p.id.hex])
            let page = try get(Portal(city: sofia), "/practices/\(p.id.hex)").text
            #expect(page.contains("<span class=\"en\" lang=\"en\">· Summary</span></dt><dd>Companies co-fund the <ins><span class=\"vh\">[added: </span>cargo <span class=\"vh\">]</span></ins>bikes for <del>"), "\(page)")
            #expect(page.contains("<span class=\"en\" lang=\"en\">· Status</span></dt><dd><del><span class=\"vh\">[was: </span>running<span class=\"vh\">]</span></del> → <ins><span class=\"vh\">[now: </span>completed"))
            #expect(!page.contains("<script>alert(1)") && page.contains("&lt;script&gt;alert(1)"))
            // A revision of the revision changes against it, not against the first version.
            _ = try sofia.revise(p.id.hex, with: next, base: [try #require(r.entry).id.hex])
            let again = try get(Portal(city: sofia), "/practices/\(p.id.hex)").text
            #expect(again.contains("<span class=\"en\" lang=\"en\">· Changes</span></dt><dd>none to the fields</dd>"), "\(again)")
            // A merge naming more versions than a page compares says how many it left out.
            let heads = try (1...3).map { k in
                try #require(sofia.revise(p.id.hex, with: practice("Shared bikes", summary: "Variant \(k)."), base: [p.id.hex]).entry).id.hex
            }
            _ = try sofia.revise(p.id.hex, with: practice("Shared bikes", summary: "Merged."), base: heads)
            let merged = try get(Portal(city: sofia), "/practices/\(p.id.hex)").text
            #expect(merged.contains("It also revised 1 more versions, whose differences are not shown."), "\(merged)")
            #expect(merged.components(separatedBy: "Changes against <code>").count - 1 == Portal.diffedBases)
        }
    }

    /// The interface speaks the serving city's language, then English; a city whose
    /// language the portal has no labels for gets English alone.
    @Test func labelsAreInTheServingCitysLanguageAndEnglish() throws {
        try withCities { sofia, riga in
            let p = try sofia.publish(practice("Shared bikes"))
            let overview = try get(Portal(city: sofia), "/").text
            #expect(overview.contains("<html lang=\"bg\">"), "\(overview)")
            #expect(overview.contains("<h1><span lang=\"bg\">Мрежата</span> <span class=\"en\" lang=\"en\">· The network</span></h1>"))
            let list = try get(Portal(city: sofia), "/practices").text
            #expect(list.contains("<option value=\"\">всички · any</option>") && list.contains("<button type=\"submit\">Покажи · Show</button>"), "\(list)")
            let page = try get(Portal(city: sofia), "/practices/\(p.id.hex)").text
            #expect(page.contains("<dt><span lang=\"bg\">Публикувана от</span> <span class=\"en\" lang=\"en\">· Published by</span></dt>"))
            // Riga's card says "lv": Latvian labels.
            #expect(try get(Portal(city: riga), "/").text.contains("<span lang=\"lv\">Tīkls</span> <span class=\"en\" lang=\"en\">· The network</span>"))
            // A language without labels: English once, no second span.
            var card = sofia.card
            card.language = "ga"
            let english = PortalLabels(language: card.language)
            #expect(english.language == nil && english.pageLanguage == "en")
            let value = try #require(english.values["network"] as? [String: Any])
            #expect(value["lblText"] as? String == "The network" && value["lblEnglish"] == nil)
            #expect(PortalLabels(language: "pt-PT").language == "pt")
        }
    }

    /// Every partner language has every label, and every field a revision can change
    /// has a label.
    @Test func everyLanguageHasEveryLabel() {
        for (language, labels) in PortalLabels.catalogue {
            #expect(Set(labels.keys) == Set(PortalLabels.english.keys), "\(language): \(Set(PortalLabels.english.keys).symmetricDifference(labels.keys).sorted())")
            #expect(!labels.values.contains { $0.isEmpty })
        }
        #expect(Set(PortalLabels.catalogue.keys) == ["bg", "sk", "hu", "pt", "lv", "it", "es", "fr", "hr"])
        for field in PracticeChange.Field.allCases {
            #expect(PortalLabels.english[PortalDiff.labelKey(field)] != nil, "\(field)")
        }
    }

    /// A version an officer wrote names them (docs/PROTOCOL.md §13).
    @Test func aVersionNamesTheOfficerWhoWroteIt() throws {
        try withCities { sofia, _ in
            let key = CitySigningKey()
            _ = try sofia.changeOfficer(.enrol(OfficerID("ipetrova")!, key.publicKey))
            let p = try sofia.publish(practice("Shared bikes"))
            let revision = PracticeAction.revise(practice: p.id, base: [p.id], fields: practice("Shared bikes", summary: "Revised by an officer."))
            _ = try sofia.submit(OfficerContent.signed(
                by: key, officer: OfficerID("ipetrova")!, city: sofia.id, kind: .revise, payload: revision.payload,
                time: Int64(Date().timeIntervalSince1970 * 1000)))
            let page = try get(Portal(city: sofia), "/practices/\(p.id.hex)").text
            #expect(page.contains("(officer ipetrova)"), "\(page)")
            #expect(page.components(separatedBy: "(officer ").count == 2, "only the officer's version names one")
        }
    }

    /// An unchanged network costs a 304: the list and practice pages' ETag is the digest.
    @Test func anUnchangedNetworkAnswers304() throws {
        try withCities { sofia, _ in
            let p = try sofia.publish(practice("Cached"))
            let portal = Portal(city: sofia)
            for target in ["/practices", "/practices/\(p.id.hex)", "/", "/style.css"] {
                let first = try get(portal, target)
                let etag = try #require(first.header("ETag"), "\(target)")
                let again = try get(portal, target, ifNoneMatch: etag)
                #expect(again.status == 304 && again.body.isEmpty, "\(target)")
                #expect(again.header("Content-Security-Policy") != nil)
            }
            let etag = try #require(try get(portal, "/practices").header("ETag"))
            // A peer's card renamed: the pages show names, so the ETag moves too.
            try withCards(sofia) { riga in riga.name = "Riga (renamed)" }
            let renamed = Portal(city: try City.open(sofia.directory))
            #expect(try get(renamed, "/practices", ifNoneMatch: etag).status == 200)
            let icon = try get(portal, "/favicon.ico")
            #expect(icon.status == 200 && icon.contentType == "image/svg+xml" && icon.text.hasPrefix("<svg"))
            _ = try sofia.publish(practice("Something new"))
            let changed = try get(portal, "/practices", ifNoneMatch: etag)
            #expect(changed.status == 200 && changed.text.contains("Something new"))
        }
    }

    /// Content arrives after its entry without moving the digest (§14): a page built
    /// while it was withheld is not answered 304 once it is held.
    @Test func contentArrivingLaterChangesTheETag() throws {
        try withCities { sofia, riga in
            var p = practice("Sealed later")
            p.contact = "Lina Later, +371 000"
            let e = try riga.publish(p)
            var text = ""
            _ = try riga.exportJSONL(content: false) { text += $0 }
            _ = try sofia.importJSONL(Array(text.utf8), name: "bare.jsonl")
            let portal = Portal(city: sofia)
            let first = try get(portal, "/practices/\(e.id.hex)")
            #expect(first.text.contains("Personal data not held by this node.") && !first.text.contains("Lina Later"))
            let etag = try #require(first.header("ETag"))
            _ = try sofia.store.storeContent(try riga.store.contents(of: [e.id]))
            let later = try get(portal, "/practices/\(e.id.hex)", ifNoneMatch: etag)
            #expect(later.status == 200 && later.text.contains("Lina Later"), "\(later.status)")
        }
    }

    @Test func aPeersSyncStateReadsAsAPersonWouldSayIt() {
        #expect(Portal.syncState(nil, isSelf: true) == "this node")
        #expect(Portal.syncState(nil, isSelf: false) == "no round yet")
        var s = PeerStatus(city: CityID("riga")!, endpoint: "https://127.0.0.1:1")
        s.failures = 1
        #expect(Portal.syncState(s, isSelf: false) == "not reached yet (1 attempt)")
        s.failures = 3
        #expect(Portal.syncState(s, isSelf: false) == "not reached yet (3 attempts)")
        s.lastSuccess = 60_000
        s.inSync = true
        #expect(Portal.syncState(s, isSelf: false) == "in sync at 1970-01-01 00:01 UTC")
        s.inSync = false
        s.weLack = 0
        s.theyLack = 0
        #expect(Portal.syncState(s, isSelf: false) == "last round at 1970-01-01 00:01 UTC, not yet in sync")
        s.theyLack = 3
        #expect(Portal.syncState(s, isSelf: false) == "behind (it lacks 3) at 1970-01-01 00:01 UTC")
    }

    /// Figures over every practice are computed once per state of the log, and one
    /// download of every practice is built at a time (a second is told to come back).
    @Test func theCacheKeepsAValuePerDigestAndDownloadsQueueNobody() {
        let cache = PortalCache()
        var computed = 0
        for _ in 0..<3 { #expect(cache.value("n", digest: "a") { computed += 1; return 7 } == 7) }
        #expect(computed == 1)
        #expect(cache.value("n", digest: "b") { computed += 1; return 8 } == 8)
        #expect(computed == 2, "a new digest drops what was kept")
        let inner = cache.download { cache.download { "second" } }
        #expect(inner == .some(nil), "a download while one is built is refused")
        #expect(cache.download { "again" } == "again", "the gate opens when the first is done")
    }

    /// Totals keyed by a query's filters: a crawler's thousands of distinct filters between
    /// two entries keep at most `maxValues` of them.
    @Test func theCacheStaysBoundedWhateverTheQueries() {
        let cache = PortalCache()
        for i in 0..<(PortalCache.maxValues + 500) { _ = cache.value("count \(i)", digest: "a") { i } }
        var recomputed = false
        _ = cache.value("count \(PortalCache.maxValues + 10)", digest: "a") { recomputed = true; return 0 }
        #expect(recomputed, "a value past the bound was kept")
        var kept = true
        _ = cache.value("count 3", digest: "a") { kept = false; return 0 }
        #expect(kept, "values under the bound stay")
    }

    @Test func datesArePrintedInUTC() {
        #expect(PortalDate.dateTime(0) == "1970-01-01 00:00 UTC")
        #expect(PortalDate.date(1_709_164_800_000) == "2024-02-29")
        #expect(PortalDate.iso(1_764_547_200_000 + 3_723_000) == "2025-12-01T01:02Z")
        #expect(PortalDate.date(-1) == "1969-12-31")
        #expect(PortalDate.year(1_735_689_599_999) == 2024)
    }
}

@Suite struct StaticSiteTests {
    /// Every relative link of every page written leads to a file of the site, the list
    /// is paged, and a second run replaces the first whole.
    @Test func everyLinkOfTheSiteLeadsToAFileItWrote() throws {
        try withCities { sofia, riga in
            _ = try sofia.publishAll((0..<60).map { practice("Practice \($0)") })
            let lv = try riga.publish(practice("Parks", local: "Parki <&>", language: "lv"))
            _ = try sofia.receive([(lv.body, lv.signature)])
            let adoption = try sofia.adopt(lv.id.hex, mode: .adopted, notes: nil)
            #expect(adoption.entry != nil)
            let out = sofia.directory.root.deletingLastPathComponent().appendingPathComponent("site")
            var seen = [(Int, Int)]()
            let report = try StaticSite.write(Portal(city: sofia), to: out.path) { seen.append(($0, $1)) }
            // style, icon, index, two list pages, adoptions, feed, CSV, JSON, and a page and a feed per city.
            #expect(report.practices == 61 && report.files == 61 + 9 + 2 * 2, "\(report)")
            #expect(seen.last.map { $0 == (61, 61) } == true)
            let fm = FileManager.default
            #expect(fm.fileExists(atPath: out.appendingPathComponent("practices-2.html").path))
            #expect(!fm.fileExists(atPath: out.appendingPathComponent("practices-3.html").path))
            #expect(!fm.fileExists(atPath: out.path + ".tmp"))

            var pages = ["index.html", "practices.html", "practices-2.html", "adoptions.html", "cities/sofia.html", "cities/riga.html"]
            pages += try fm.contentsOfDirectory(atPath: out.appendingPathComponent("practices").path).map { "practices/" + $0 }
            for feed in ["feed.atom", "cities/riga.atom", "cities/sofia.atom"] {
                let atom = try AtomFeed(Array(try Data(contentsOf: out.appendingPathComponent(feed))))
                for entry in atom.entries where !entry.link.isEmpty {
                    let target = out.appendingPathComponent(feed).deletingLastPathComponent().appendingPathComponent(entry.link).standardizedFileURL
                    #expect(fm.fileExists(atPath: target.path), "\(feed): \(entry.link) leads nowhere")
                }
            }
            var links = 0
            for page in pages {
                let html = try String(contentsOf: out.appendingPathComponent(page), encoding: .utf8)
                #expect(!html.contains("<form"), "\(page): a static page has no search form")
                let base = out.appendingPathComponent(page).deletingLastPathComponent()
                for match in html.matches(of: /href="([^"]*)"/) {
                    let href = String(match.1)
                    if href.hasPrefix("http") { continue }
                    #expect(!href.hasPrefix("/") && !href.contains("?"), "\(page): \(href) needs a server")
                    let target = base.appendingPathComponent(href).standardizedFileURL
                    #expect(fm.fileExists(atPath: target.path), "\(page): \(href) leads nowhere")
                    links += 1
                }
            }
            #expect(links > 61 * 3, "\(links) links checked")
            let page = try String(contentsOf: out.appendingPathComponent("practices/\(lv.id.hex).html"), encoding: .utf8)
            #expect(page.contains("Parki &lt;&amp;&gt;") && page.contains("Sofia</a> adopted it on"), "\(page)")

            // A second run replaces the site; a file only the first had is gone.
            try Data("stale".utf8).write(to: out.appendingPathComponent("practices/stale.html"))
            _ = try StaticSite.write(Portal(city: sofia), to: out.path)
            #expect(!fm.fileExists(atPath: out.appendingPathComponent("practices/stale.html").path))
            #expect(!fm.fileExists(atPath: out.path + ".old"))
        }
    }

    /// A directory c4csr did not write is never replaced, and nothing in it changes.
    @Test func aDirectoryThatIsNotASiteIsLeftAlone() throws {
        try withCities { sofia, _ in
            let mine = sofia.directory.root.deletingLastPathComponent().appendingPathComponent("www")
            try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
            try Data("<h1>My city</h1>".utf8).write(to: mine.appendingPathComponent("index.html"))
            #expect(throws: NodeError.self) { try StaticSite.write(Portal(city: sofia), to: mine.path) }
            #expect(try String(contentsOf: mine.appendingPathComponent("index.html"), encoding: .utf8) == "<h1>My city</h1>")
            #expect(try FileManager.default.contentsOfDirectory(atPath: mine.path) == ["index.html"])
            #expect(!FileManager.default.fileExists(atPath: mine.path + ".tmp"))
            let file = mine.appendingPathComponent("index.html")
            #expect(throws: NodeError.self) { try StaticSite.write(Portal(city: sofia), to: file.path) }
        }
    }
}
