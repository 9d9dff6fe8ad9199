import Foundation
import Testing

/// `--version` belongs to the root only (issue: answers that mislead): after a
/// subcommand it is that subcommand's option, or an unknown one.
@Suite struct VersionFlagTests {
    @Test func theRootPrintsItsVersion() throws {
        let r = try run(["--version"])
        #expect(r.status == 0 && r.stdout == "0.1.0\n", "\(r)")
    }

    /// Issue 14: loading libcurl (and the ~30 libraries it pulls: TLS, Kerberos, LDAP,
    /// …) cost about 9 ms of every command's start. It is loaded when a command first
    /// talks to a peer, not before: the dynamic loader's own trace shows what it loads.
    @Test func commandsThatTalkToNoPeerNeverLoadLibcurl() throws {
        for arguments in [["--version"], ["list", "--data-dir", "/nonexistent-c4csr"]] {
            let r = try run(arguments, environment: ["LD_DEBUG": "files"])
            let loaded = r.stderr.split(separator: "\n").filter { $0.contains("file=") }
            #expect(!loaded.isEmpty, "LD_DEBUG traced nothing: \(r.stderr.prefix(300))")
            #expect(!loaded.contains { $0.contains("libcurl") }, "\(arguments) loaded libcurl: \(loaded.filter { $0.contains("libcurl") })")
        }
    }

    @Test func aSubcommandNeverPrintsTheProgramsVersion() throws {
        // `show X --version Y` is the version of the practice to show: it parses, and
        // fails only for want of a city here.
        let show = try run(["show", "abcdef", "--version", "123456", "--data-dir", "/nonexistent-c4csr"])
        #expect(!show.stdout.contains("0.1.0") && show.status == 66 && show.stderr.contains("no city in"), "\(show)")
        // So is `adopt X --version V` (a root flag named --version took it, exit 64).
        let adopt = try run(["adopt", "abcdef", "--version", "123456", "--data-dir", "/nonexistent-c4csr"])
        #expect(adopt.status == 66 && adopt.stderr.contains("no city in"), "\(adopt)")
        // `--version` with anything else is not the program's version either.
        let other = try run(["list", "--version"])
        #expect(!other.stdout.contains("0.1.0") && other.status == 64, "\(other)")
        // `adopt --version V` is the version adopted, listed once.
        let help = try run(["adopt", "--help"])
        #expect(!help.stdout.contains("Show the version."), "\(help.stdout)")
        #expect(help.stdout.contains("--version <version>     The version adopted"), "\(help.stdout)")
    }
}
