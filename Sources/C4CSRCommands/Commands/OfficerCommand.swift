import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct OfficerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "officer",
        abstract: "Enrol and remove the officers who write this city's practices.",
        discussion: """
            An officer signs what they write with a personal key that never leaves their
            account; the city enrols that key through its own log (docs/PROTOCOL.md §13),
            and every city then checks each entry's author against the officers in force
            when it was written. `show`, `log` and exports name the author.

            The officer makes a key (`officer key`) and hands the admin its public key;
            the admin (root or the c4csr user) enrols it (`officer enrol`).
            """,
        subcommands: [OfficerListCommand.self, OfficerEnrolCommand.self, OfficerRemoveCommand.self, OfficerKeyCommand.self],
        defaultSubcommand: OfficerListCommand.self)
}

struct OfficerListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the officers in force, and every enrolment and removal the log holds.",
        discussion: """
            By default this city's officers; --city names another city of the network
            (every city's enrolments are in the log every city holds).
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The city whose officers to list (default: this city).", valueName: "CITY"))
    var city: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let node = try global.openCity(warnings: !output.json)
            let target = try city.map { text -> CityID in
                guard let c = CityID(text) else { throw NodeError.invalidInput("--city \"\(text)\" is not a city id (\(CityID.rule))") }
                return c
            } ?? node.id
            let roll = try node.store.stateInForce(nextOf: target).officers
            let history = try node.store.officerChanges().filter { $0.origin == target }
            if output.json {
                Console.json(.object([
                    "city": .string(target.rawValue),
                    "officers": .array(roll.keys.sorted { $0.key < $1.key }.map { .object(["officer": .string($0.key.rawValue), "key": .string($0.value.base64)]) }),
                    "changes": .array(history.map { e in
                        var o: [String: JSONValue] = ["seq": .int(e.seq), "entry": .string(e.id.hex), "time": .int(e.time)]
                        switch e.officerChange {
                        case .enrol(let id, let key)?: o["action"] = .string("enrol"); o["officer"] = .string(id.rawValue); o["key"] = .string(key.base64)
                        case .remove(let id)?: o["action"] = .string("remove"); o["officer"] = .string(id.rawValue)
                        case nil: break
                        }
                        return .object(o)
                    }),
                ]))
                return
            }
            if roll.isEmpty {
                Console.out("\(target) has no officers enrolled: only its city key writes (enrol one with `c4csr officer enrol ID --key KEY`)")
            } else {
                Console.out("officers of \(target) in force:")
                for (id, key) in roll.keys.sorted(by: { $0.key < $1.key }) {
                    Console.out("  \(Format.pad(id.rawValue, 20)) key \(key.base64)")
                }
            }
            if !history.isEmpty {
                Console.out("")
                Console.out("enrolments and removals:")
                for e in history {
                    switch e.officerChange {
                    case .enrol(let id, let key)?: Console.out("  \(Format.time(e.time))  \(target)#\(e.seq)  enrol \(id) (key \(key.base64.prefix(12))…)")
                    case .remove(let id)?: Console.out("  \(Format.time(e.time))  \(target)#\(e.seq)  remove \(id)")
                    case nil: break
                    }
                }
            }
        }
    }
}

/// Parses an officer id from the command line.
private func officerID(_ text: String) throws -> OfficerID {
    guard let id = OfficerID(text) else { throw NodeError.invalidInput("\"\(text)\" is not an officer id (\(OfficerID.rule))") }
    return id
}

private func report(_ entry: Entry, _ what: String, dryRun: Bool, json: Bool) {
    if json {
        Console.json(.object([
            "entry": .string(entry.id.hex), "origin": .string(entry.origin.rawValue), "seq": .int(entry.seq),
            "kind": .string(entry.kind.rawValue), "payload": entry.payload, "written": .bool(!dryRun),
        ]))
    } else if dryRun {
        Console.out("would \(what) at \(entry.origin)#\(entry.seq) (dry run: nothing was written)")
    } else {
        Console.out("\(what): entry \(entry.origin)#\(entry.seq) \(entry.id.short); peers learn it at the next sync")
    }
}

struct OfficerEnrolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol",
        abstract: "Enrol an officer with their public key (or give an enrolled officer a new key).",
        discussion: """
            Signs an `officer` entry with the city key. From the next entry of this city on,
            the officer may author practices; every city checks it. For the admin.

            An officer id is 2–32 characters of a-z, 0-9 and '-'. The log cannot be
            erased: choose an id the city is content to publish (a role, or initials),
            and keep who holds it in the city's own records.

            Example:
              sudo -u c4csr c4csr officer enrol mpetrova \\
                --key 'Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc='
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The officer's id in this city.")
    var officer: String
    @Option(help: ArgumentHelp("The officer's public key (base64), as `c4csr officer key` printed it.", valueName: "KEY"))
    var key: String
    @Flag(help: "Sign the entry as it would be written, and change nothing.")
    var dryRun = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let id = try officerID(officer)
            guard let publicKey = CityPublicKey(base64: key.trimmingCharacters(in: .whitespaces)) else {
                throw NodeError.invalidInput("--key is not the base64 of an acceptable Ed25519 public key (32 bytes; not a weak key)")
            }
            let city = try global.openCity(signing: true)
            let entry = try city.changeOfficer(.enrol(id, publicKey), dryRun: dryRun)
            report(entry, "enrolled officer \(id) in \(city.id)", dryRun: dryRun, json: output.json)
        }
    }
}

struct OfficerRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove an officer: they can author nothing after this entry.",
        discussion: """
            Signs an `officer` entry with the city key. What the officer wrote before stays
            valid and keeps naming them. For the admin.

            Example:
              sudo -u c4csr c4csr officer remove mpetrova
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The officer's id in this city.")
    var officer: String
    @Flag(help: "Sign the entry as it would be written, and change nothing.")
    var dryRun = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let id = try officerID(officer)
            let city = try global.openCity(signing: true)
            let entry = try city.changeOfficer(.remove(id), dryRun: dryRun)
            report(entry, "removed officer \(id) from \(city.id)", dryRun: dryRun, json: output.json)
        }
    }
}

struct OfficerKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Make an officer's personal signing key, and print its public key.",
        discussion: """
            For the officer, in their own account: writes a new Ed25519 key (mode 0600) and
            prints the public key to hand to the admin, who enrols it. The key never leaves
            the officer's account and is never overwritten.

            Example:
              c4csr officer key --output ~/.config/c4csr/officer.key
            """)

    @Option(help: ArgumentHelp("Where to write the key.", valueName: "FILE"))
    var output: String = "~/.config/c4csr/officer.key"
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try Console.run {
            let path = (output as NSString).expandingTildeInPath
            let key = try OfficerKeyFile.create(at: URL(fileURLWithPath: path))
            if json {
                Console.json(.object(["file": .string(path), "key": .string(key.publicKey.base64)]))
            } else {
                Console.out("wrote \(path) (mode 0600); keep it in this account")
                Console.out("public key: \(key.publicKey.base64)")
                Console.out("the admin enrols it with: c4csr officer enrol ID --key '\(key.publicKey.base64)'")
            }
        }
    }
}
