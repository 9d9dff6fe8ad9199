import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

/// `c4csr site OUTDIR`: the portal's pages as files, for a city that publishes through its
/// existing web server. The same templates and data as the daemon's listener; links are
/// relative. The filters and the search need a server: the static list is the whole list,
/// page by page.
public enum StaticSite {
    /// A file in every site this writes: a directory without it is never replaced.
    public static let marker = ".c4csr-site"

    public struct Report: Sendable {
        public var files = 0
        public var practices = 0
        public var bytes = 0
    }

    /// Renders every page into `OUTDIR.tmp`, then puts it in `OUTDIR`'s place, so a web
    /// server never serves a half-written site. `OUTDIR` may be absent, empty, or a site
    /// this wrote before; anything else is refused and left as it is.
    /// - Parameter progress: practices written so far, and in all.
    public static func write(_ portal: Portal, to path: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> Report {
        let fm = FileManager.default
        let out = URL(fileURLWithPath: path).standardizedFileURL
        let tmp = URL(fileURLWithPath: out.path + ".tmp"), old = URL(fileURLWithPath: out.path + ".old")
        try requireReplaceable(out)
        try requireReplaceable(tmp)
        try requireReplaceable(old)
        try? fm.removeItem(at: tmp)
        do {
            try fm.createDirectory(at: tmp.appendingPathComponent("practices"), withIntermediateDirectories: true)
            try fm.createDirectory(at: tmp.appendingPathComponent("cities"), withIntermediateDirectories: true)
            try Data("Written by c4csr site; replaced whole by the next run.\n".utf8).write(to: tmp.appendingPathComponent(marker))
            var report = Report()
            try portal.site(progress: progress) { name, bytes in
                try Data(bytes).write(to: tmp.appendingPathComponent(name))
                report.files += 1
                report.bytes += bytes.count
                if name.hasPrefix("practices/") { report.practices += 1 }
            }
            try? fm.removeItem(at: old)
            if fm.fileExists(atPath: out.path) { try fm.moveItem(at: out, to: old) }
            try fm.moveItem(at: tmp, to: out)
            try? fm.removeItem(at: old)
            return report
        } catch let error as NodeError {
            try? fm.removeItem(at: tmp)
            throw error
        } catch {
            try? fm.removeItem(at: tmp)
            throw NodeError.io("cannot write the site to \(out.path): \(error.localizedDescription)")
        }
    }

    /// Absent, an empty directory, or a directory holding the marker.
    static func requireReplaceable(_ url: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw NodeError.invalidInput("\(url.path) exists and is not a directory; give a new directory for the site")
        }
        if fm.fileExists(atPath: url.appendingPathComponent(marker).path) { return }
        let contents = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        guard contents.isEmpty else {
            throw NodeError.invalidInput("\(url.path) holds files that c4csr site did not write (it has no \(marker)); give a new or empty directory, nothing was changed")
        }
    }
}

extension Portal {
    /// Every page of the static site, handed to `write` as (relative path, bytes).
    func site(progress: (Int, Int) -> Void, write: (String, [UInt8]) throws -> Void) throws {
        let heads = try city.localHeads()
        try write("style.css", Array(PortalTemplates.stylesheet.utf8))
        try write("favicon.svg", Array(PortalTemplates.icon.utf8))
        try write("index.html", render("overview", overview(heads: heads, links: .site(depth: 0))))
        try write("adoptions.html", render("adoptions", adoptionMatrix(heads: heads, links: .site(depth: 0))))
        try write("feed.atom", render("feed", feed(.network, heads: heads, links: .site(depth: 0))))
        try write("practices.csv", csv())
        try write("practices.json", practicesJSON())
        // Every city a page may link to: the cards, and any publisher or adopter in the log.
        var cities = Set(memberCards.map(\.city)).union(try city.store.practiceFiguresByCity().keys)
        for (adopter, row) in try city.store.adoptionMatrix() { cities.insert(adopter); cities.formUnion(row.keys) }
        for id in cities.sorted() {
            try write("cities/\(id).html", render("city", cityPage(id, heads: heads, links: .site(depth: 1))))
            // A feed's relative links resolve against the feed's own address.
            try write("cities/\(id).atom", render("feed", feed(.city(id), heads: heads, links: .site(depth: 1))))
        }
        let total = try city.store.practiceCount()
        var page = 1, done = 0
        repeat {
            try write(page == 1 ? "practices.html" : "practices-\(page).html",
                      render("practices", practiceList(ListQuery(page: page), heads: heads, links: .site(depth: 0))))
            var filter = PracticeFilter()
            filter.limit = Self.pageSize
            filter.offset = (page - 1) * Self.pageSize
            for summary in try city.store.practices(filter) {
                try write("practices/\(summary.id.hex).html", render("practice", practicePage(summary.id.hex, heads: heads, links: .site(depth: 1))))
                done += 1
                progress(done, total)
            }
            page += 1
        } while (page - 1) * Self.pageSize < total
    }
}
