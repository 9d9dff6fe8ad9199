import C4CSRCore
import C4CSRNode
import Foundation

/// A fresh temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// Creates a city in `root/<name>` that knows the keys of `peers` (cities created earlier).
func makeCity(_ name: String, in root: URL, peers: [City] = [], country: String = "BG", language: String = "bg") throws -> City {
    let dir = DataDirectory(root.appendingPathComponent(name).path)
    let card = PeerCard(city: CityID(name)!, name: name.capitalized, localName: name.capitalized, country: country, language: language)
    var city = try City.create(at: dir, card: card)
    if !peers.isEmpty {
        for p in peers {
            try Data(p.card.toml.utf8).write(to: dir.peersDirectory.appendingPathComponent("\(p.id).toml"))
        }
        city = try City.open(dir)
    }
    return city
}

/// Re-opens a city so that it sees peer cards added since.
func reopen(_ city: City) throws -> City { try City.open(city.directory) }

/// Adds each city's card to every other city's peers directory.
func introduce(_ cities: [City]) throws -> [City] {
    for a in cities {
        for b in cities where a.id != b.id {
            try Data(b.card.toml.utf8).write(to: a.directory.peersDirectory.appendingPathComponent("\(b.id).toml"))
        }
    }
    return try cities.map(reopen)
}

func practice(_ title: String, local: String? = nil, language: String = "bg", themes: [String] = ["environment"], sdgs: [Int] = [13],
              summary: String = "Companies co-fund a neighbourhood project.", status: PracticeStatus = .running) -> Practice {
    Practice(
        language: language, title: .init(local: local ?? title, en: title), summary: .init(local: summary, en: summary),
        challenge: "A local challenge", themes: themes, sdgs: sdgs, status: status)
}

func exportLines(_ city: City) throws -> [(body: [UInt8], signature: [UInt8])] {
    var text = ""
    try city.exportJSONL { text += $0 }
    return try text.split(separator: "\n").map { try ExportLine.decode(Array($0.utf8)) }
}

/// SplitMix64: a small seeded generator, so a random store test replays from its seed.
struct SeededRNG: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
