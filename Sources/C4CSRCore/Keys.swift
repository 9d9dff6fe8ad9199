import Crypto
import Foundation

/// A city's Ed25519 public key, as it appears in peer cards: base64 of the raw 32 bytes.
public struct CityPublicKey: Sendable, Hashable, CustomStringConvertible {
    public let rawRepresentation: [UInt8]
    let key: Curve25519.Signing.PublicKey

    public init?(rawRepresentation: [UInt8]) {
        guard rawRepresentation.count == 32,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return nil }
        self.rawRepresentation = rawRepresentation
        self.key = key
    }

    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64) else { return nil }
        self.init(rawRepresentation: Array(data))
    }

    public var base64: String { Data(rawRepresentation).base64EncodedString() }
    public var description: String { base64 }

    /// Ed25519 verification of `signature` over exactly `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        signature.count == 64 && key.isValidSignature(signature, for: message)
    }

    public static func == (a: CityPublicKey, b: CityPublicKey) -> Bool { a.rawRepresentation == b.rawRepresentation }
    public func hash(into h: inout Hasher) { h.combine(rawRepresentation) }
}

/// A city's Ed25519 signing key. Never logged; `description` hides it.
public struct CitySigningKey: Sendable, CustomStringConvertible {
    let key: Curve25519.Signing.PrivateKey

    public init() { key = Curve25519.Signing.PrivateKey() }

    public init?(rawRepresentation: [UInt8]) {
        guard rawRepresentation.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation) else { return nil }
        self.key = key
    }

    /// The 32-byte seed. Handle with care: whoever holds it can sign as the city.
    public var rawRepresentation: [UInt8] { Array(key.rawRepresentation) }
    public var publicKey: CityPublicKey { CityPublicKey(rawRepresentation: Array(key.publicKey.rawRepresentation))! }

    public func signature(for message: [UInt8]) -> [UInt8] {
        // swift-crypto's Ed25519 signing only fails on allocation failure.
        guard let sig = try? key.signature(for: message) else { fatalError("Ed25519 signing failed") }
        return Array(sig)
    }

    public var description: String { "CitySigningKey(public: \(publicKey.base64))" }
}
