import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a city's data directory, keys, TLS certificate and peer card.",
        discussion: """
            Creates the data directory with a new Ed25519 signing key
            (keys/entry-signing.key, mode 0600), a P-256 TLS key (keys/tls.key, 0600) and
            self-signed certificate (tls.crt), an empty log, and the city's peer card
            (city.toml), which it prints: names, public key, endpoint and the TLS pin. Send
            the card to the other cities; they add it with `c4csr peers add`.

            Take the names from the city's card: a file such as the repository's
            Peers/sofia.toml, or just the city's id for the partner cards installed with
            c4csr (share/c4csr/peers beside its bin/, such as /usr/share/c4csr/peers):
              c4csr init --data-dir /var/lib/c4csr --from-card sofia \\
                --endpoint https://c4csr.sofia.bg:7443
            or give them as flags:
              c4csr init --city sofia --name Sofia --local-name София \\
                --country BG --language bg

            An observer (a coordinator, an auditor, a secretariat) gets a node with a
            TLS identity and a card but no signing key: it syncs the whole network log
            read-only (cities serve its pulls and refuse its pushes) and signs nothing.
            Its id must not be a city's:
              c4csr init --observer --data-dir /var/lib/c4csr --city urbact \\
                --name 'URBACT secretariat' --country FR --language en
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("Read the city's id and names from this peer card, a file or a partner city's id such as sofia (its key, if any, is ignored).", valueName: "card"))
    var fromCard: String?
    @Option(help: ArgumentHelp("The city's id: \(CityID.rule).", valueName: "id"))
    var city: String?
    @Option(help: "The city's name in English.")
    var name: String?
    @Option(help: "The city's name in its own language (default: --name).")
    var localName: String?
    @Option(help: ArgumentHelp("ISO 3166-1 alpha-2 country code, such as BG.", valueName: "code"))
    var country: String?
    @Option(help: ArgumentHelp("BCP 47 language of the city's practices, such as bg.", valueName: "tag"))
    var language: String?
    @Option(help: ArgumentHelp("The https://host:port where peers reach this city's daemon (goes into the card).", valueName: "url"))
    var endpoint: String?
    @Flag(help: "Create an observer: no signing key; it reads and syncs the network log and signs nothing.")
    var observer = false

    func validate() throws {
        if fromCard == nil, city == nil || name == nil || country == nil || language == nil {
            throw ValidationError("give --from-card CARD, or all of --city, --name, --country and --language")
        }
    }

    func run() async throws {
        try Console.run {
            var json: [String: JSONValue] = [:]
            var charter: (Charter, String)?
            if let fromCard {
                let path = try Self.cardFile(fromCard)
                charter = try Self.charter(beside: path)
                let text = try CardFile.read(path)
                var card: PeerCard
                do { card = try PeerCard.parse(text) } catch { throw NodeError.invalidInput("\(path): \(error)") }
                card.publicKey = nil
                card.tlsPin = nil
                json = card.json.objectValue ?? [:]
            }
            if let city { json["city"] = .string(city) }
            if let name { json["name"] = .string(name) }
            if let localName { json["local_name"] = .string(localName) } else if name != nil, fromCard == nil { json["local_name"] = .string(name!) }
            if let country { json["country"] = .string(country) }
            if let language { json["language"] = .string(language) }
            if let endpoint { json["endpoint"] = .string(endpoint) }
            json["public_key"] = nil
            json["role"] = observer ? .string(PeerCard.Role.observer.rawValue) : nil
            let card: PeerCard
            do { card = try PeerCard(json: .object(json)) } catch { throw NodeError.invalidInput("\(error)") }
            let city = try City.create(at: try global.dataDirectory, card: card)
            // The network's charter travels with the partner cards (§15): the city holds it
            // from the start.
            let charterCopy = city.directory.peersDirectory.appendingPathComponent(PeerDirectory.charterFile)
            if let (charter, _) = charter { try Data(charter.toml.utf8).write(to: charterCopy, options: .withoutOverwriting) }
            if output.json {
                Console.json(.object(["data_dir": .string(city.directory.root.path), "card": city.card.json]))
            } else {
                if city.isObserver {
                    Console.err("Created observer \(city.id) in \(city.directory.root.path) (no signing key: it signs nothing)")
                    Console.err("Its card (also in \(city.directory.cardFile.path)); send it to the cities it reads from:\n")
                } else {
                    Console.err("Created city \(city.id) in \(city.directory.root.path)")
                    if let (c, source) = charter {
                        Console.err("Network charter \(c.name) (id \(c.networkID.prefix(16))) copied from \(source) to \(charterCopy.path)")
                    }
                    Console.err("Its peer card (also in \(city.directory.cardFile.path)); send it to the other cities:\n")
                }
                Console.data(city.card.toml)
            }
        }
    }

    /// The network's charter beside a partner card (`network.toml` in the card's
    /// directory), if there is one; an invalid one is an error rather than a city created
    /// without its network.
    static func charter(beside card: String) throws -> (Charter, String)? {
        let file = URL(fileURLWithPath: card).deletingLastPathComponent().appendingPathComponent(PeerDirectory.charterFile).path
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        let text = try CardFile.read(file)
        do { return (try Charter(text: text), file) } catch { throw NodeError.invalidInput("\(file): invalid network charter: \(error)") }
    }

    /// The file `--from-card` names: the path itself when it exists, else, for a bare
    /// city id, that city's card among the partner cards installed with c4csr.
    static func cardFile(_ argument: String) throws -> String {
        if FileManager.default.fileExists(atPath: argument) || argument.contains("/") || CityID(argument) == nil {
            return argument
        }
        let directories = partnerCardDirectories()
        for directory in directories {
            let file = directory.appendingPathComponent("\(argument).toml").path
            if FileManager.default.fileExists(atPath: file) { return file }
        }
        let searched = directories.map(\.path).joined(separator: " or ")
        throw NodeError.notFound("no card for \(argument): not a file here, nor in \(searched) (the partner cards installed with c4csr); give the card's path")
    }

    /// share/c4csr/peers beside the running binary's bin/ (/usr/bin/c4csr reads
    /// /usr/share/c4csr/peers, /usr/local/bin/c4csr /usr/local/share/c4csr/peers), then
    /// the package's /usr/share/c4csr/peers.
    static func partnerCardDirectories() -> [URL] {
        var directories: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let prefix = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
            directories.append(prefix.appendingPathComponent("share/c4csr/peers"))
        }
        let packaged = URL(fileURLWithPath: "/usr/share/c4csr/peers")
        if !directories.contains(where: { $0.standardizedFileURL.path == packaged.path }) { directories.append(packaged) }
        return directories
    }
}
