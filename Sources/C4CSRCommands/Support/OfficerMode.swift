import ArgumentParser
import C4CSRCore
import C4CSRNode
import Foundation

/// `--officer`: an officer writes through the city daemon's officers' socket, signing the
/// content with their own key (docs/PROTOCOL.md §13, docs/OPERATIONS.md "Officers"). The
/// officer needs no access to the city's key, TLS key or store.
struct OfficerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write as this officer, through the city daemon, signing with your own key. Default: $C4CSR_OFFICER.", valueName: "id"))
    var officer: String?
    @Option(help: ArgumentHelp("Your officer key. Default: $C4CSR_OFFICER_KEY, else ~/.config/c4csr/officer.key.", valueName: "file"))
    var officerKey: String?
    @Option(help: ArgumentHelp("The daemon's officers' socket. Default: $C4CSR_OFFICER_SOCKET, else /run/c4csr/officer.sock.", valueName: "path"))
    var officerSocket: String?

    static let defaultSocket = "/run/c4csr/officer.sock"
    static let defaultKey = "~/.config/c4csr/officer.key"

    /// The officer's client, or `nil` when this command writes with the city key.
    func client() throws -> OfficerClient? {
        let environment = ProcessInfo.processInfo.environment
        guard let name = officer ?? environment["C4CSR_OFFICER"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            if officerKey != nil || officerSocket != nil { throw ValidationError("--officer-key and --officer-socket need --officer ID (or C4CSR_OFFICER)") }
            return nil
        }
        guard let id = OfficerID(name) else { throw NodeError.invalidInput("\"\(name)\" is not an officer id (\(OfficerID.rule))") }
        let keyPath = ((officerKey ?? environment["C4CSR_OFFICER_KEY"] ?? Self.defaultKey) as NSString).expandingTildeInPath
        let key = try OfficerKeyFile.load(URL(fileURLWithPath: keyPath))
        return OfficerClient(socket: officerSocket ?? environment["C4CSR_OFFICER_SOCKET"] ?? Self.defaultSocket, officer: id, key: key)
    }
}

/// What an officer's write reports, as `reportWrite` does for the city key's.
func reportOfficerWrite(_ verb: String, _ w: OfficerClient.Written, officer: OfficerID, json: Bool) {
    let practice = w.practice ?? w.entry
    if json {
        Console.json(.object([
            "practice": .string(practice.hex), "entry": .string(w.entry.hex), "origin": .string(w.origin.rawValue),
            "seq": .int(w.seq), "officer": .string(officer.rawValue), "written": .bool(true),
        ]))
    } else {
        Console.out("\(verb) practice \(practice.short) (entry \(w.origin)#\(w.seq) \(w.entry.short), by officer \(officer))")
    }
}

/// Builds an officer's entry from the practice as the daemon holds it now and submits
/// it; if another write superseded that state before it landed (409), builds it again
/// from the new state: an edit is re-applied, never lost, never silently overwriting.
func submitAsOfficer(
    _ client: OfficerClient, practice prefix: String, personal: Set<PersonalField> = [], attempts: Int = 3,
    _ build: (OfficerClient.CityInfo, OfficerClient.PracticeState) throws -> PracticeAction
) throws -> OfficerClient.Written {
    let city = try client.city()
    var attempt = 0
    while true {
        attempt += 1
        let state = try client.practice(prefix)
        let action = try build(city, state)
        do {
            return try client.submit(action, city: city.id, personal: personal, sealed: state.sealed)
        } catch let e as NodeError where e.kind == .conflict && attempt < attempts {
            Console.warn("practice \(state.id.short) changed while this was sent; building it again from its new state")
        }
    }
}
