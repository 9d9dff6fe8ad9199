import Foundation
import Testing

/// `--version` belongs to the root only (issue: answers that mislead): after a
/// subcommand it is that subcommand's option, or an unknown one.
@Suite struct VersionFlagTests {
    @Test func theRootPrintsItsVersion() throws {
        let r = try run(["--version"])
        #expect(r.status == 0 && r.stdout == "0.1.0\n", "\(r)")
    }

    @Test func aSubcommandNeverPrintsTheProgramsVersion() throws {
        // `show` has no --version: an error, not the program's version.
        let show = try run(["show", "abcdef", "--version", "123456", "--data-dir", "/nonexistent-c4csr"])
        #expect(!show.stdout.contains("0.1.0") && show.status == 64, "\(show)")
        // `adopt --version V` is the version adopted, listed once.
        let help = try run(["adopt", "--help"])
        #expect(!help.stdout.contains("Show the version."), "\(help.stdout)")
        #expect(help.stdout.contains("--version <version>     The version adopted"), "\(help.stdout)")
    }
}
