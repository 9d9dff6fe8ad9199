import C4CSRCore
import Foundation

/// The peer cards a city knows, read from one or more directories of `*.toml` / `*.json`,
/// and the network's charter (`network.toml` among them, docs/PROTOCOL.md §15).
public struct PeerDirectory: Sendable {
    /// The name of the charter's file in a peer directory.
    public static let charterFile = "network.toml"

    public let cards: [PeerCard]
    /// The network's charter: the first valid `network.toml` of the directories; `nil`
    /// when none holds one (membership entries then wait, §15).
    public var charter: Charter?
    /// The file the charter was read from.
    public var charterSource: String?
    /// Cards skipped or ignored, one sentence each ("Peers/sofia.toml: no public_key yet; skipped").
    public let warnings: [String]
    /// Directories or files that exist but could not be read (permissions, or no file
    /// descriptor left): the cards read are then incomplete, and a reload keeps the
    /// cards it had (`City.reloadPeers`).
    public var readErrors: [String] = []

    public init(cards: [PeerCard], warnings: [String], readErrors: [String] = [], charter: Charter? = nil, charterSource: String? = nil) {
        self.cards = cards
        self.warnings = warnings
        self.readErrors = readErrors
        self.charter = charter
        self.charterSource = charterSource
    }

    /// Loads every card in `directories` (missing directories are skipped). When two
    /// files name the same city, the first directory wins and a warning says so.
    ///
    /// The first `network.toml` found is the charter; another one that differs is ignored
    /// with a warning, and an invalid one is skipped with a warning (it is not a card).
    ///
    /// One TLS pin names one city: cards that share a pin (with each other, or with
    /// `ownPin`) are all skipped with a warning, so that no connection is ever taken
    /// for another city's.
    public static func load(_ directories: [URL], ownCity: CityID? = nil, ownPin: String? = nil) -> PeerDirectory {
        var cards = [CityID: PeerCard]()
        var source = [CityID: String]()
        var warnings = [String]()
        var readErrors = [String]()
        var charter: (Charter, String)?
        for dir in directories {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir.path) } catch {
                if FileManager.default.fileExists(atPath: dir.path) {
                    let why = String(cString: strerror(errno))
                    readErrors.append((FileAccess.readProblem(dir.path).map { "\($0);" } ?? "\(dir.path): cannot be listed (\(why));") + " peer cards not read")
                }
                continue
            }
            for name in names.sorted() where name.hasSuffix(".toml") || name.hasSuffix(".json") {
                let file = dir.appendingPathComponent(name)
                let data: [UInt8]
                do { data = try FileAccess.read(file.path, limit: FileAccess.maxCardBytes, what: "a peer card") } catch {
                    // Too large is a bad card (skipped, as one that is not UTF-8); unreadable
                    // or not a file is a directory to repair (the daemon keeps its cards).
                    if error.reason == .tooLarge { warnings.append("\(error.message); skipped") } else { readErrors.append(error.message) }
                    continue
                }
                guard let text = String(validating: data, as: UTF8.self) else {
                    warnings.append("\(file.path): not UTF-8; skipped")
                    continue
                }
                if name == charterFile {
                    readCharter(text, file: file.path, into: &charter, warnings: &warnings)
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
                if card.publicKey == nil, !card.isObserver {
                    warnings.append("\(file.path): \(card.city) has no public_key yet (not onboarded); its entries cannot be verified")
                }
                cards[card.city] = card
                source[card.city] = file.path
            }
        }
        // One pin, one city.
        var byPin = [String: [CityID]]()
        for card in cards.values { if let pin = card.tlsPin { byPin[pin, default: []].append(card.city) } }
        for (pin, cities) in byPin where cities.count > 1 || pin == ownPin {
            let names = cities.sorted().map(\.rawValue).joined(separator: ", ")
            warnings.append("the cards of \(names) carry the TLS pin \(pin == ownPin ? "of this city" : "of each other"); skipped until each has its own")
            for c in cities { cards[c] = nil }
        }
        return PeerDirectory(
            cards: cards.values.sorted { $0.city < $1.city }, warnings: warnings, readErrors: readErrors,
            charter: charter?.0, charterSource: charter?.1)
    }

    private static func readCharter(_ text: String, file: String, into charter: inout (Charter, String)?, warnings: inout [String]) {
        let read: Charter
        do { read = try Charter(text: text) } catch {
            warnings.append("\(file): invalid network charter; ignored: \(error.errors.map(\.description).joined(separator: "; "))")
            return
        }
        guard let (held, source) = charter else {
            charter = (read, file)
            return
        }
        if held != read {
            warnings.append("\(file): another network charter (\(read.networkID.prefix(12))…) than \(source) (\(held.networkID.prefix(12))…); ignored")
        }
    }

    /// Public keys by city, for cards that have one.
    public var keys: [CityID: CityPublicKey] {
        Dictionary(uniqueKeysWithValues: cards.compactMap { c in c.publicKey.map { (c.city, $0) } })
    }
}
