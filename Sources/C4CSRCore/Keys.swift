import Crypto
import Foundation

/// A city's Ed25519 public key, as it appears in peer cards: base64 of the raw 32 bytes.
public struct CityPublicKey: Sendable, Hashable, CustomStringConvertible {
    public let rawRepresentation: [UInt8]
    let key: Curve25519.Signing.PublicKey

    /// `nil` unless the bytes are an acceptable Ed25519 public key: 32 bytes, a canonical
    /// encoding (y < p), and not a point of small order — for those, one fixed signature
    /// verifies for any message (docs/PROTOCOL.md §3).
    public init?(rawRepresentation: [UInt8]) {
        guard rawRepresentation.count == 32, !Self.isWeak(rawRepresentation),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return nil }
        self.rawRepresentation = rawRepresentation
        self.key = key
    }

    /// The encodings of the eight points of small order (libsodium's list; the sign bit
    /// of the last byte is ignored), and every non-canonical encoding (y ≥ 2²⁵⁵ − 19).
    public static func isWeak(_ b: [UInt8]) -> Bool {
        guard b.count == 32 else { return true }
        // y ≥ p = 2²⁵⁵ − 19: bytes 1…30 all 0xff, byte 31 (sign bit masked) 0x7f, byte 0 ≥ 0xed.
        if b[31] & 0x7f == 0x7f, b[1..<31].allSatisfy({ $0 == 0xff }), b[0] >= 0xed { return true }
        return smallOrder.contains { point in
            point.prefix(31).elementsEqual(b.prefix(31)) && point[31] == b[31] & 0x7f
        }
    }

    private static let smallOrder: [[UInt8]] = [
        // 0 (order 4)
        [UInt8](repeating: 0, count: 32),
        // 1 (order 1: the identity)
        [1] + [UInt8](repeating: 0, count: 31),
        // two points of order 8
        [0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
         0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05],
        [0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
         0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a],
        // p − 1 (order 2), p (= 0), p + 1 (= 1): non-canonical, also caught above
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
        [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
        [0xee] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
    ]

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
