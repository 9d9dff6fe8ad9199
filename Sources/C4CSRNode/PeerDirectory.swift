import C4CSRCore
import Foundation

/// The peer cards a city knows, read from one or more directories of `*.toml` / `*.json`.
public struct PeerDirectory: Sendable {
    public let cards: [PeerCard]
    /// Cards skipped or ignored, one sentence each ("Peers/sofia.toml: no public_key yet; skipped").
    public let warnings: [String]

    /// Loads every card in `directories` (missing directories are skipped). When two
    /// files name the same city, the first directory wins and a warning says so.
    public static func load(_ directories: [URL], ownCity: CityID? = nil) -> PeerDirectory {
        var cards = [CityID: PeerCard]()
        var source = [CityID: String]()
        var warnings = [String]()
        for dir in directories {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for name in names.sorted() where name.hasSuffix(".toml") || name.hasSuffix(".json") {
                let file = dir.appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .utf8) else {
                    warnings.append("\(file.path): unreadable or not UTF-8; skipped")
                    continue
                }
                let card: PeerCard
                do { card = try PeerCard.parse(text) } catch {
                    warnings.append("\(file.path): invalid card; skipped: \(error.errors.map(\.description).joined(separator: "; "))")
                    continue
                }
                if card.city == ownCity { continue }
                if let other = source[card.city] {
                    if cards[card.city] != card { warnings.append("\(file.path): city \(card.city) is already defined by \(other); ignored") }
                    continue
                }
                if card.publicKey == nil {
                    warnings.append("\(file.path): \(card.city) has no public_key yet (not onboarded); its entries cannot be verified")
                }
                cards[card.city] = card
                source[card.city] = file.path
            }
        }
        return PeerDirectory(cards: cards.values.sorted { $0.city < $1.city }, warnings: warnings)
    }

    /// Public keys by city, for cards that have one.
    public var keys: [CityID: CityPublicKey] {
        Dictionary(uniqueKeysWithValues: cards.compactMap { c in c.publicKey.map { (c.city, $0) } })
    }
}
