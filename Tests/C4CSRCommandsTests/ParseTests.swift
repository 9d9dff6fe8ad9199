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

    /// Every subcommand, nested ones included.
    static func allCommands(_ root: ParsableCommand.Type = C4CSR.self) -> [ParsableCommand.Type] {
        root.configuration.subcommands.flatMap { [$0] + allCommands($0) }
    }

    /// At 80 columns (a terminal's usual width, and help's width when piped) no line of
    /// any help screen is wrapped: an example broken mid-command cannot be pasted.
    @Test func helpFitsEightyColumnsWithoutBreakingExamples() throws {
        var long = [String]()
        for command in Self.allCommands() {
            for line in command.configuration.discussion.split(separator: "\n") where line.count > 80 {
                long.append("\(command._commandName): \(line)")
            }
        }
        #expect(long.isEmpty, "lines longer than 80 columns:\n\(long.joined(separator: "\n"))")
    }

    /// A mistyped subcommand gets the nearest names, as git does.
    @Test func aMistypedCommandSuggestsTheNearest() {
        #expect(C4CSR.suggestion(for: "stauts") == "Did you mean 'status'?")
        #expect(C4CSR.suggestion(for: "serv") == "Did you mean one of: 'serve', 'peers'?" || C4CSR.suggestion(for: "serv")?.contains("'serve'") == true)
        #expect(C4CSR.suggestion(for: "status") == nil, "a command is not mistyped")
        #expect(C4CSR.suggestion(for: "frobnicate") == nil, "nothing close: ArgumentParser's own error")
        #expect(C4CSR.editDistance("", "abc") == 3 && C4CSR.editDistance("kitten", "sitting") == 3)
    }
}
