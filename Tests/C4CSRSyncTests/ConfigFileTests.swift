import C4CSRCore
import C4CSRDaemon
import Foundation
import Testing

@Suite struct ConfigFileTests {
    func parse(_ text: String) throws(ConfigError) -> ConfigFile { try ConfigFile.parse(Array(text.utf8), file: "c4csr.toml") }

    @Test func theShippedTemplateIsValid() throws {
        let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("systemd/c4csr.toml")
        let c = try ConfigFile.load(path: template.path)
        #expect(c.intervalMS == 60_000 && c.metricsListen == "127.0.0.1:9464")
        #expect(c.dataDir == "/var/lib/c4csr")
        let d = c.apply(to: DaemonConfiguration())
        #expect(d.officerSocket == "/run/c4csr/officer.sock" && d.officerGroup == "c4csr-officers", "the package turns the officers' socket on")
    }

    @Test func readsEveryKey() throws {
        let c = try parse("""
            data_dir = "/srv/c4csr"
            peers_dirs = ["/etc/c4csr/peers", "/opt/peers"]
            log_level = "debug"
            [server]
            listen = "[::]:8443"
            max_connections = 100
            max_connections_per_address = 4
            handshake_timeout = "3s"
            request_timeout = "20s"
            [sync]
            interval = "90s"
            connect_timeout = "500ms"
            request_timeout = "1m"
            backoff_max = "1h"
            peers = ["milano", "sofia"]
            [metrics]
            listen = ""
            [officer]
            socket = "/run/c4csr/sofia.sock"
            group = "csr-officers"
            [daemon]
            shutdown_grace = "15s"
            """)
        let d = c.apply(to: DaemonConfiguration())
        #expect(d.host == "::" && d.port == 8443)
        #expect(d.intervalMS == 90_000 && d.connectTimeoutMS == 500 && d.requestTimeoutMS == 60_000 && d.backoffCapMS == 3_600_000)
        #expect(d.only == [CityID("milano")!, CityID("sofia")!])
        #expect(d.metrics == nil && d.shutdownGraceSeconds == 15)
        #expect(d.listener.maxConnections == 100 && d.listener.maxConnectionsPerAddress == 4)
        #expect(d.listener.handshakeTimeout == .seconds(3) && d.listener.requestTimeout == .seconds(20))
        #expect(c.peersDirs == ["/etc/c4csr/peers", "/opt/peers"] && c.logLevel == "debug" && c.dataDir == "/srv/c4csr")
        #expect(d.officerSocket == "/run/c4csr/sofia.sock" && d.officerGroup == "csr-officers")
        var on = DaemonConfiguration()
        on.officerSocket = "/run/c4csr/officer.sock"
        #expect(try parse("[officer]\nsocket = \"\"\n").apply(to: on).officerSocket == nil, "\"\" turns the socket off")
    }

    /// `interval = 60` in the file means what `--interval 60` means: seconds.
    @Test func aPlainNumberIsSeconds() throws {
        let c = try parse("[sync]\ninterval = 90\nrequest_timeout = 20\n")
        #expect(c.intervalMS == 90_000 && c.requestTimeoutMS == 20_000)
    }

    @Test(arguments: [
        ("[sync]\ninterval = -60\n", "line 2: sync.interval: must be a duration"),
        ("[sync]\ninterval = \"2d\"\n", "line 2: sync.interval"),
        ("[sync]\ninterval = \"48h\"\n", "out of range"),
        ("log_level = \"loud\"\n", "line 1: log_level: must be one of"),
        ("[server]\nlisten = \"localhost\"\n", "line 2: server.listen"),
        ("[sync]\npeers = [\"Sofia\"]\n", "line 2: sync.peers"),
        ("[sync]\nintervall = \"60s\"\n", "line 2: sync.intervall: unknown key"),
        ("[server]\nmax_connections = 0\n", "line 2: server.max_connections: must be an integer from 1"),
        ("[server]\nrequest_timeout = \"2h\"\n", "line 2: server.request_timeout"),
        ("[sync]\nconnect_timeout = \"40s\"\nrequest_timeout = \"30s\"\n", "must not exceed"),
        ("data_dir = \n", "line 1"),
        ("[officer]\nsocket = \"officer.sock\"\n", "line 2: officer.socket: must be an absolute path"),
        ("[officer]\ngroup = \"\"\n", "line 2: officer.group"),
        ("[officer]\nsockets = \"/run/x\"\n", "line 2: officer.sockets: unknown key"),
    ])
    func errorsNameTheLineAndKey(_ text: String, _ expected: String) {
        do throws(ConfigError) {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains("c4csr.toml") && error.description.contains(expected), "\(error)")
        }
    }

    @Test func reportsEveryProblemAtOnce() {
        do throws(ConfigError) {
            _ = try parse("log_level = \"x\"\n[sync]\ninterval = \"1\"\n")
            Issue.record("accepted")
        } catch {
            #expect(error.problems.count == 2)
        }
    }
}
