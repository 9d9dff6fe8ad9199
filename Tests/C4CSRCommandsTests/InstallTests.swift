import Foundation
import Testing

/// `make install DESTDIR=… PREFIX=…` (scripts/install.sh, which make calls after the
/// release build) lays out the tree packagers expect, with paths rewritten.
@Suite struct InstallTests {
    var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    func install(_ action: String, destdir: URL, prefix: String, extra: [String] = []) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repository.appendingPathComponent("scripts/install.sh").path, action] + extra
        var env = ProcessInfo.processInfo.environment
        env["DESTDIR"] = destdir.path
        env["PREFIX"] = prefix
        env["SYSCONFDIR"] = nil
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func installsTheExpectedTreeAndUninstallKeepsData() throws {
        try withTemporaryDirectory { root in
            let dest = root.appendingPathComponent("stage")
            let (status, output) = try install("install", destdir: dest, prefix: "/usr", extra: [c4csrBinary])
            #expect(status == 0, "\(output)")
            let expected = [
                "usr/bin/c4csr", "usr/lib/systemd/system/c4csr.service", "usr/lib/sysusers.d/c4csr.conf",
                "usr/lib/tmpfiles.d/c4csr.conf", "etc/c4csr/c4csr.toml", "etc/c4csr/peers", "usr/share/doc/c4csr/README.md",
                "usr/share/doc/c4csr/PROTOCOL.md", "usr/share/doc/c4csr/c4csr.toml.example", "usr/share/c4csr/peers/sofia.toml", "usr/lib/systemd/system/c4csr@.service",
                "usr/share/man/man1/c4csr.1", "usr/share/bash-completion/completions/c4csr", "usr/share/zsh/site-functions/_c4csr",
                "usr/share/fish/vendor_completions.d/c4csr.fish",
            ]
            for path in expected {
                #expect(FileManager.default.fileExists(atPath: dest.appendingPathComponent(path).path), "missing \(path)")
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: dest.appendingPathComponent("usr/bin/c4csr").path)
            #expect((attributes[.posixPermissions] as? Int) == 0o755)
            let unit = try String(contentsOf: dest.appendingPathComponent("usr/lib/systemd/system/c4csr.service"), encoding: .utf8)
            #expect(unit.contains("ExecStart=/usr/bin/c4csr serve --config /etc/c4csr/c4csr.toml"))
            #expect(!unit.contains("/usr/local/"), "every path follows PREFIX")
            // The template: one node per instance, its own configuration and state directory.
            let template = try String(contentsOf: dest.appendingPathComponent("usr/lib/systemd/system/c4csr@.service"), encoding: .utf8)
            #expect(template.contains("ExecStart=/usr/bin/c4csr serve --config /etc/c4csr/%i.toml"), "\(template.prefix(600))")
            #expect(template.contains("\nStateDirectory=c4csr-%i\n") && template.contains("\nEnvironment=C4CSR_CONFIG=/etc/c4csr/%i.toml\n"))
            #expect(template.contains("\nWatchdogSec=60\n") && template.contains("\nSystemCallFilter=@system-service\n"), "the same hardening")
            // The installed binary finds a partner city's card by its id.
            let installed = dest.appendingPathComponent("usr/bin/c4csr").path
            let data = root.appendingPathComponent("sofia")
            let made = try run(["init", "--data-dir", data.path, "--from-card", "sofia", "--endpoint", "https://127.0.0.1:7443"], binary: installed)
            #expect(made.status == 0, "\(made.stderr)")
            #expect(made.stdout.contains("city = \"sofia\"") && made.stdout.contains("София"), "\(made.stdout)")
            // The network's charter is installed with the cards, and the new city holds it (§15).
            let charter = try String(contentsOf: data.appendingPathComponent("peers/network.toml"), encoding: .utf8)
            #expect(try charter == String(contentsOf: repository.appendingPathComponent("Peers/network.toml"), encoding: .utf8))
            #expect(made.stderr.contains("Network charter CITIES4CSR"), "\(made.stderr)")
            let shown = try run(["status", "--data-dir", data.path, "--json"], binary: installed)
            let network = (try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["network"] as? [String: Any]
            #expect(network?["name"] as? String == "CITIES4CSR", "\(shown.stdout)")
            #expect((network?["founders"] as? [String])?.count == 10, "\(shown.stdout)")
            let unknown = try run(["init", "--data-dir", root.appendingPathComponent("x").path, "--from-card", "atlantis"], binary: installed)
            #expect(unknown.status != 0 && unknown.stderr.contains("no card for atlantis") && unknown.stderr.contains("/usr/share/c4csr/peers"), "\(unknown.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path), "nothing created")
            // The completion scripts know the subcommands; the man page documents them.
            let bash = try String(contentsOf: dest.appendingPathComponent("usr/share/bash-completion/completions/c4csr"), encoding: .utf8)
            #expect(bash.contains("complete") && bash.contains("status") && bash.contains("--without-daemon"), "\(bash.prefix(400))")
            let man = try String(contentsOf: dest.appendingPathComponent("usr/share/man/man1/c4csr.1"), encoding: .utf8)
            #expect(man.hasPrefix(".\\\"") || man.contains(".TH"), "a roff man page")

            // A second install keeps the administrator's configuration.
            let config = dest.appendingPathComponent("etc/c4csr/c4csr.toml")
            try "log_level = \"debug\"\n".write(to: config, atomically: true, encoding: .utf8)
            #expect(try install("install", destdir: dest, prefix: "/usr", extra: [c4csrBinary]).0 == 0)
            #expect(try String(contentsOf: config, encoding: .utf8) == "log_level = \"debug\"\n")
            #expect(FileManager.default.fileExists(atPath: config.path + ".new"))

            let (u, uout) = try install("uninstall", destdir: dest, prefix: "/usr")
            #expect(u == 0, "\(uout)")
            #expect(!FileManager.default.fileExists(atPath: dest.appendingPathComponent("usr/bin/c4csr").path))
            #expect(!FileManager.default.fileExists(atPath: dest.appendingPathComponent("usr/lib/systemd/system/c4csr.service").path))
            #expect(!FileManager.default.fileExists(atPath: dest.appendingPathComponent("usr/share/man/man1/c4csr.1").path))
            #expect(!FileManager.default.fileExists(atPath: dest.appendingPathComponent("usr/share/bash-completion/completions/c4csr").path))
            #expect(FileManager.default.fileExists(atPath: config.path), "the configuration outlives the program")
        }
    }
}
