import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct PeersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "Manage the peer cards of the cities this city knows.",
        subcommands: [PeersListCommand.self, PeersShowCommand.self, PeersAddCommand.self, PeersRemoveCommand.self],
        defaultSubcommand: PeersListCommand.self)
}

struct PeersListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List known cities, with their keys: the card's, and any rotation the log holds.",
        discussion: """
            A card names a city's founding key; a city replaces it with `c4csr key rotate`,
            through the log (docs/PROTOCOL.md §12). Each rotation held is listed under its
            city: from that seq on, the city signs with the key shown.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity(warnings: !output.json)
            let all = [city.card] + city.peers.cards
            let rotations = Dictionary(grouping: try city.store.rotations(), by: \.origin)
            if output.json {
                Console.json(.array(all.map { c in
                    var o = c.json.objectValue!
                    o["self"] = .bool(c.city == city.id)
                    let history = rotations[c.city] ?? []
                    o["rotations"] = .array(history.map { r in
                        .object(["seq": .int(r.seq), "entry": .string(r.entry.hex), "time": .int(r.time), "key": .string(r.key.base64)])
                    })
                    return .object(o)
                }))
            } else {
                for c in all {
                    let key = c.isObserver ? "observer (reads, signs nothing)" : c.publicKey.map { "key \(String($0.base64.prefix(12)))…" } ?? "no key yet"
                    Console.out("\(Format.pad(c.city.rawValue, 18)) \(Format.pad(c.country, 3)) \(Format.pad(c.localName, 20)) \(key)\(c.city == city.id ? "  (this city)" : "")")
                    for r in rotations[c.city] ?? [] {
                        Console.out("\(String(repeating: " ", count: 44))from seq \(r.seq) (\(Format.time(r.time))): key \(String(r.key.base64.prefix(12)))…")
                    }
                }
            }
        }
    }
}

struct PeersShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one city's card and its key history from the log.",
        discussion: """
            The card's fields, its founding key (the card's public_key), every rotation the
            log holds for the city (docs/PROTOCOL.md §12), the key in force for its next
            entry, and its highest seq here.

            Example:
              c4csr peers show sofia
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The city id (this city's own, or a peer's).", valueName: "city"))
    var cityID: String
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard CityID(cityID) != nil else { throw ValidationError("\"\(cityID)\" is not a city id (\(CityID.rule))") }
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity(warnings: !output.json)
            let id = CityID(cityID)!
            guard let card = ([city.card] + city.peers.cards).first(where: { $0.city == id }) else {
                throw NodeError.notFound("no card for \(id) (c4csr peers list shows the cities this node knows)")
            }
            let rotations = try city.store.rotations().filter { $0.origin == id }
            let inForce = try city.store.keyInForce(nextOf: id) ?? card.publicKey
            let top = try city.store.heads().filter { $0.origin == id }.map(\.seq).max() ?? 0
            if output.json {
                var o = card.json.objectValue!
                o["self"] = .bool(id == city.id)
                o["rotations"] = .array(rotations.map { r in
                    .object(["seq": .int(r.seq), "entry": .string(r.entry.hex), "time": .int(r.time), "key": .string(r.key.base64)])
                })
                o["key_in_force"] = inForce.map { .string($0.base64) } ?? .null
                o["top_seq"] = .int(top)
                Console.json(.object(o))
                return
            }
            Console.out("\(card.city)  \(card.localName) (\(card.name)), \(card.country)\(id == city.id ? "  (this city)" : "")")
            if card.isObserver {
                Console.out("observer: reads the network log and signs nothing")
                return
            }
            Console.out("founding key     \(card.publicKey?.base64 ?? "none (no public_key on its card)")  (its card; signs seq 1)")
            for r in rotations {
                Console.out("rotated at seq \(Format.pad(String(r.seq), 3))\(r.key.base64)  (\(Format.time(r.time)), entry \(r.entry.short))")
            }
            Console.out("key in force     \(inForce?.base64 ?? "none")  (for seq \(top + 1))")
            Console.out("entries held     up to seq \(top)")
        }
    }
}

struct PeersAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add (or update) another city's peer card.",
        discussion: """
            Validates the card and copies it to <data-dir>/peers/<city>.toml. From then on
            that city's entries verify with its key. Replacing a card with a different key
            needs --replace: a changed key is how an impostor would appear.

            Example:
              c4csr peers add sofia.toml
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The card file (TOML or JSON).", valueName: "card"))
    var card: String
    @Flag(help: "Allow replacing a known card whose key differs.")
    var replace = false

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let text = try CardFile.read(card)
            let parsed: PeerCard
            do { parsed = try PeerCard.parse(text) } catch { throw NodeError.invalidInput("\(card): \(error)") }
            guard parsed.city != city.id else { throw NodeError.invalidInput("\(card) is this city's own card") }
            guard parsed.publicKey != nil || parsed.isObserver else {
                throw NodeError.invalidInput("\(card): \(parsed.city) has no public_key; ask the city for the card `c4csr init` printed")
            }
            if let key = parsed.publicKey, let rotation = try city.store.rotations().first(where: { $0.origin == parsed.city && $0.key == key }) {
                throw NodeError.invalidInput(
                    "\(card) names the key \(parsed.city) rotated to at seq \(rotation.seq); a card keeps the city's founding key, and this node already follows the rotation from the log (docs/PROTOCOL.md §12). Nothing was changed")
            }
            if let known = city.peers.cards.first(where: { $0.city == parsed.city }), let k = known.publicKey,
               k != parsed.publicKey, !replace {
                throw NodeError.forbidden("\(parsed.city) is already known with another key; check with the city, then use --replace")
            }
            if let known = city.peers.cards.first(where: { $0.city == parsed.city }), known.role != parsed.role, !replace {
                throw NodeError.forbidden("\(parsed.city) is already known as \(known.isObserver ? "an observer" : "a member"); check with its admin, then use --replace")
            }
            let target = city.directory.peersDirectory.appendingPathComponent("\(parsed.city).toml")
            try? FileManager.default.createDirectory(at: city.directory.peersDirectory, withIntermediateDirectories: true)
            do { try Data(parsed.toml.utf8).write(to: target, options: .atomic) } catch {
                throw NodeError.io("cannot write \(target.path): \(error.localizedDescription)")
            }
            let what = parsed.isObserver ? "observer \(parsed.city) (\(parsed.name); it may read this city's log, never push)" : "\(parsed.city) (\(parsed.localName), \(parsed.country))"
            Console.out("added \(what) → \(target.path)")
        }
    }
}

struct PeersRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Forget a city's peer card.",
        discussion: """
            Removes <data-dir>/peers/<city>.toml. Its entries already in the log stay (the
            log is append-only), but new ones are no longer accepted and `audit` reports
            its entries as unverifiable until the card is added again.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The city id.", valueName: "city"))
    var cityID: String

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let target = city.directory.peersDirectory.appendingPathComponent("\(cityID).toml")
            guard CityID(cityID) != nil, FileManager.default.fileExists(atPath: target.path) else {
                throw NodeError.notFound("no card for \(cityID) in \(city.directory.peersDirectory.path)")
            }
            do { try FileManager.default.removeItem(at: target) } catch { throw NodeError.io("cannot remove \(target.path): \(error.localizedDescription)") }
            Console.out("removed \(cityID)")
        }
    }
}
