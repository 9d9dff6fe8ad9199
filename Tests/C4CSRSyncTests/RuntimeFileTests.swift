import C4CSRCore
import Foundation
import Testing
@testable import C4CSRDaemon

/// serve.json names every listener once all are bound, whatever order their callbacks
/// run in: the listeners start on different threads, and a write of an older snapshot
/// after a newer one once lost the sync port (the demo then waited for a port forever).
@Suite struct RuntimeFileTests {
    @Test func concurrentListenersAllEndUpInTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for round in 0..<300 {
            let url = dir.appendingPathComponent("serve-\(round).json")
            let file = RuntimeFile(url: url, city: CityID("nantes")!, host: "127.0.0.1")
            DispatchQueue.concurrentPerform(iterations: 4) { i in
                switch i {
                case 0: file.update { $0.port = 7443 }
                case 1: file.update { $0.metricsPort = 9090 }
                case 2: file.update { $0.webPort = 8080 }
                default: file.update { $0.officerSocket = "/run/c4csr/officer.sock" }
                }
            }
            let data = try #require(FileManager.default.contents(atPath: url.path))
            let o = try JSONParser.parse(Array(data))
            let complete = o["port"]?.intValue == 7443 && o["metrics_port"]?.intValue == 9090 && o["web_port"]?.intValue == 8080
                && o["officer_socket"]?.stringValue == "/run/c4csr/officer.sock"
            #expect(complete, "round \(round): \(String(decoding: data, as: UTF8.self))")
            if !complete { return }
        }
    }
}
