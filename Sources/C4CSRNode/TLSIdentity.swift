import C4CSRCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// A city's TLS identity: a P-256 key and a self-signed certificate, used both as the
/// daemon's server certificate and as the client certificate it presents to peers.
///
/// Trust is by **pin**, not by a CA: the pin is `sha256//` + base64 of the SHA-256 of
/// the certificate's SubjectPublicKeyInfo DER — the form libcurl's
/// `CURLOPT_PINNEDPUBLICKEY` checks — and it goes into the city's peer card. The
/// certificate's dates and names therefore carry no trust; it is valid for 20 years
/// so that it never expires under a running network.
///
/// TLS and entry signing are separate keys (P-256 here works with every TLS stack;
/// entries are signed with the city's Ed25519 key).
public struct TLSIdentity: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String
    /// `sha256//<base64>`: what peer cards carry and libcurl checks.
    public let pin: String

    /// Creates a new key and self-signed certificate for `city`.
    public static func generate(city: CityID, now: Date = Date()) throws -> TLSIdentity {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("c4csr \(city.rawValue)")
            OrganizationName("CITIES4CSR")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(20 * 365 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames([.dnsName("\(city.rawValue).c4csr.invalid"), .dnsName("localhost")])
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return TLSIdentity(
            certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
            privateKeyPEM: key.pemRepresentation + "\n",
            pin: pin(spki: key.publicKey.derRepresentation))
    }

    /// Reads an identity from its two PEM files and recomputes the pin from the certificate.
    /// - Throws: `NodeError` naming the file that is missing or unreadable.
    public static func load(certificate: URL, privateKey: URL) throws -> TLSIdentity {
        guard let certText = try? String(contentsOf: certificate, encoding: .utf8) else {
            throw NodeError.notFound("TLS certificate \(certificate.path) is missing or unreadable (it is created by `c4csr init`)")
        }
        try checkPrivateKey(privateKey)
        guard let keyText = try? String(contentsOf: privateKey, encoding: .utf8) else {
            throw NodeError.notFound("TLS key \(privateKey.path) is missing or unreadable")
        }
        let pin: String
        do { pin = try pinOfCertificate(pem: certText) } catch {
            throw NodeError.invalidInput("TLS certificate \(certificate.path) cannot be read: \(error)")
        }
        return TLSIdentity(certificatePEM: certText, privateKeyPEM: keyText, pin: pin)
    }

    /// Refuses a TLS key that other users may read, as the signing key is refused: the
    /// server and the client (libcurl, which reads the file itself) both check it.
    public static func checkPrivateKey(_ privateKey: URL) throws {
        if let mode = (try? FileManager.default.attributesOfItem(atPath: privateKey.path))?[.posixPermissions] as? Int, mode & 0o007 != 0 {
            throw NodeError.forbidden("TLS key \(privateKey.path) is readable by other users; run: chmod 600 \(privateKey.path)")
        }
    }

    /// The pin of a PEM certificate: SHA-256 over its SubjectPublicKeyInfo DER.
    public static func pinOfCertificate(pem: String) throws -> String {
        let certificate = try Certificate(pemEncoded: pem)
        return pin(spki: try certificate.publicKey.serializeAsPEM().derBytes)
    }

    /// `sha256//` + base64(SHA-256(spki)).
    public static func pin<D: DataProtocol>(spki: D) -> String {
        "sha256//" + Data(SHA256.hash(data: spki)).base64EncodedString()
    }
}
