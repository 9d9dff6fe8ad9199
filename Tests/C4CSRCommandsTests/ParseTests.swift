import ArgumentParser
import Foundation
import Testing
@testable import C4CSRCommands

/// In-process parsing: validation errors reach the user before anything runs.
@Suite struct ParseTests {
    @Test(arguments: [
        ["add"],
        ["init"],
        ["init", "--city", "x"],
        ["list", "--sdg", "18"],
        ["list", "--city", "Not A City"],
        ["list", "--status", "finished"],
        ["search"],
        ["adopt", "abc", "--mode", "stolen"],
        ["audit", "--log-level", "loud"],
        ["export", "--format", "xml"],
    ])
    func rejectsInvalidArguments(_ args: [String]) {
        #expect(throws: (any Error).self) { try C4CSR.parseAsRoot(args) }
    }

    @Test func parsesRepeatableFields() throws {
        let command = try C4CSR.parseAsRoot(["add", "--title", "t", "--theme", "a", "--theme", "b", "--sdg", "3", "--sdg", "11", "--link", "https://x.eu"])
        let add = try #require(command as? AddCommand)
        #expect(add.fields.themes == ["a", "b"] && add.fields.sdgs == [3, 11] && add.fields.links == ["https://x.eu"])
    }

    /// Help screens are part of the interface: pinned. Regenerate with C4CSR_UPDATE_FIXTURES=1.
    @Test(arguments: ["root", "add", "audit", "import"])
    func helpScreensArePinned(_ name: String) throws {
        let help: String = switch name {
        case "root": C4CSR.helpMessage(columns: 100)
        case "add": C4CSR.helpMessage(for: AddCommand.self, columns: 100)
        case "audit": C4CSR.helpMessage(for: AuditCommand.self, columns: 100)
        default: C4CSR.helpMessage(for: ImportCommand.self, columns: 100)
        }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/help-\(name).txt")
        if ProcessInfo.processInfo.environment["C4CSR_UPDATE_FIXTURES"] == "1" {
            try help.write(to: fixture, atomically: true, encoding: .utf8)
        }
        let pinned = try String(contentsOf: fixture, encoding: .utf8)
        #expect(help == pinned, "help for \(name) changed; if intended, run C4CSR_UPDATE_FIXTURES=1 swift test --filter helpScreens")
    }
}
