import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation
import Synchronization
import Testing

/// `c4csr report`'s figures, folded from a log whose entry times the test sets.
@Suite struct ReportTests {
    final class Clock: Sendable {
        let ms = Mutex<Int64>(1_000_000)
        func set(_ t: Int64) { ms.withLock { $0 = t } }
        var now: @Sendable () -> Int64 { { self.ms.withLock { $0 } } }
    }

    func city(_ name: String, _ root: URL, _ clock: Clock) throws -> City {
        let card = PeerCard(city: CityID(name)!, name: name.capitalized, localName: name.capitalized, country: "EU", language: "en")
        return try City.create(at: DataDirectory(root.appendingPathComponent(name).path), card: card, now: clock.now)
    }

    /// Copies every entry of `from` into `to` (as an import would).
    func copy(_ from: City, to: City) throws {
        var text = ""
        try from.exportJSONL { text += $0 }
        _ = try to.importJSONL(Array(text.utf8), name: "test")
    }

    @Test func countsPracticesAdoptionsOnceAndChangesSinceADate() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let clock = Clock()
        let a = try city("alpha", root, clock), b = try city("beta", root, clock), c = try city("gamma", root, clock)
        for x in [a, b, c] {
            for y in [a, b, c] where x.id != y.id { try Data(y.card.toml.utf8).write(to: x.directory.peersDirectory.appendingPathComponent("\(y.id).toml")) }
            x.reloadPeers()
        }
        clock.set(1_000)
        var p1 = practice("one")
        p1.themes = ["environment", "youth"]
        p1.sdgs = [4, 11]
        let one = try a.publish(p1)
        clock.set(2_000)
        let two = try a.publish(practice("two"))
        try copy(a, to: b)
        try copy(a, to: c)
        clock.set(3_000)
        _ = try b.adopt(one.id.hex, mode: .adopted, notes: nil)
        _ = try b.adopt(one.id.hex, mode: .adapted, notes: "again")  // an update: still one practice adopted
        _ = try b.adopt(two.id.hex, mode: .adopted, notes: nil)
        clock.set(4_000)
        _ = try c.adopt(one.id.hex, mode: .adopted, notes: nil)
        _ = try b.publish(practice("three"))
        try copy(b, to: a)
        try copy(c, to: a)

        var entries = [Entry]()
        try a.store.forEachMerged { entries.append($0) }
        let report = NetworkReport(practices: try a.store.practices(), entries: entries, outcomes: try a.store.outcomes(), since: 3_500)
        #expect(report.practiceCount == 3 && report.entryCount == 7)
        let rows = Dictionary(uniqueKeysWithValues: report.cities.map { ($0.city, $0) })
        #expect(rows[a.id]?.practices == 2 && rows[a.id]?.adoptedByOthers == 3, "beta took two, gamma one")
        #expect(rows[b.id]?.practices == 1 && rows[b.id]?.adoptedFromOthers == 2)
        #expect(rows[c.id]?.adoptedFromOthers == 1)
        #expect(report.adoptions[b.id]?[a.id] == 2 && report.adoptions[c.id]?[a.id] == 1)
        #expect(report.themes.first.map { $0.0 == "environment" && $0.1 == 3 } == true)
        #expect(report.sdgs.map(\.0) == [4, 11] && report.sdgs.first?.1 == 1)
        // Since 3,500 ms: gamma's adoption and beta's third practice only.
        #expect(report.entriesSince == ["adopt": 1, "publish": 1], "\(report.entriesSince)")
        #expect(Set(report.changes.map(\.title)) == ["one", "three"])
        #expect(report.changes.first { $0.title == "one" }?.what == ["adopt by gamma"])
        #expect(try a.store.themes().first?.theme == "environment")
    }
}
