import C4CSRCore
import C4CSRNode
import Foundation
import Testing

@Suite struct TLSIdentityTests {
    /// The pin in a card is what libcurl and `openssl` compute from the certificate:
    /// SHA-256 over the whole SubjectPublicKeyInfo, not the bare key bits.
    @Test func pinMatchesOpenSSL() throws {
        let identity = try TLSIdentity.generate(city: CityID("sofia")!)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-pin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("tls.crt")
        try identity.certificatePEM.write(to: cert, atomically: true, encoding: .utf8)
        let script = "openssl x509 -in '\(cert.path)' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let expected = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(p.terminationStatus == 0 && expected.count == 44, "openssl is needed (scripts/install-deps.sh installs it)")
        #expect(identity.pin == "sha256//" + expected)
        #expect(try TLSIdentity.pinOfCertificate(pem: identity.certificatePEM) == identity.pin)
    }

    @Test func twoIdentitiesHaveDifferentPins() throws {
        let a = try TLSIdentity.generate(city: CityID("sofia")!), b = try TLSIdentity.generate(city: CityID("sofia")!)
        #expect(a.pin != b.pin)
    }
}
