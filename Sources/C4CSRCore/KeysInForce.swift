import Foundation

/// The payload of a `rotate` entry (docs/PROTOCOL.md §12): the new key, and its
/// signature over the rotation's position (possession of the new key).
public struct Rotation: Sendable, Hashable {
    public let key: CityPublicKey
    public let proof: [UInt8]

    /// Reads a rotate payload: exactly `key` (an acceptable public key) and `proof` (64 bytes).
    public init(_ payload: [String: JSONValue]) throws(EntryError) {
        guard Set(payload.keys) == ["key", "proof"] else { throw .malformed("a rotate payload has exactly the members key and proof") }
        guard let text = payload["key"]?.stringValue, let key = CityPublicKey(base64: text) else {
            throw .malformed("rotate key must be the base64 of an acceptable Ed25519 public key (docs/PROTOCOL.md §3)")
        }
        guard let proofText = payload["proof"]?.stringValue, let proof = Data(base64Encoded: proofText), proof.count == 64 else {
            throw .malformed("rotate proof must be the base64 of a 64-byte signature")
        }
        self.key = key
        self.proof = Array(proof)
    }

    public init(key: CityPublicKey, proof: [UInt8]) {
        self.key = key
        self.proof = proof
    }

    /// What the new key signs: `c4csr-rotate\n<origin>\n<seq>\n<prev>` (UTF-8).
    public static func proofMessage(origin: CityID, seq: Int64, prev: EntryID) -> [UInt8] {
        Array("c4csr-rotate\n\(origin.rawValue)\n\(seq)\n\(prev.hex)".utf8)
    }

    /// A rotation payload for the entry at (origin, seq) after `prev`, proven by `newKey`.
    public static func payload(origin: CityID, seq: Int64, prev: EntryID, newKey: CitySigningKey) -> [String: JSONValue] {
        let proof = newKey.signature(for: proofMessage(origin: origin, seq: seq, prev: prev))
        return ["key": .string(newKey.publicKey.base64), "proof": .string(Data(proof).base64EncodedString())]
    }

    /// `true` when `proof` is the new key's signature over `entry`'s position.
    public func isProven(for entry: Entry) -> Bool {
        guard let prev = entry.prev else { return false }
        return key.isValidSignature(proof, for: Self.proofMessage(origin: entry.origin, seq: entry.seq, prev: prev))
    }
}

extension Entry {
    /// The rotation a `rotate` entry makes (its payload was checked when it was decoded).
    public var rotation: Rotation? {
        guard kind == .rotate, case .object(let p) = payload else { return nil }
        return try? Rotation(p)
    }
}

/// Keys in force (docs/PROTOCOL.md §12), folded over entries in causal order: the key an
/// entry must be signed with is a property of its position in its own chain — the key
/// in force after its predecessor. Only rotated keys are kept: an entry with no rotation
/// in its past has its origin's founding key (`nil` here), whatever card says it.
public struct KeysInForce: Sendable {
    /// For each entry after which the key in force is not the founding key: that key.
    public private(set) var after: [EntryID: CityPublicKey] = [:]

    public init(after: [EntryID: CityPublicKey] = [:]) { self.after = after }

    /// The key in force at `entry` (`nil`: the founding key), once its predecessor was recorded.
    public func inForce(at entry: Entry) -> CityPublicKey? {
        entry.prev.flatMap { after[$0] }
    }

    /// The key in force after `entry`, given the key in force at it.
    public static func after(_ entry: Entry, inForce: CityPublicKey?) -> CityPublicKey? {
        entry.rotation?.key ?? inForce
    }

    /// Records `entry`, whose key in force is `inForce`. A rotation counts only if it
    /// verifies (`verifier`): a forged one changes nothing, so what follows it is judged
    /// with the key that was really in force.
    public mutating func record(_ entry: Entry, inForce: CityPublicKey?, verifier: EntryVerifier) {
        var key = inForce
        if entry.kind == .rotate, (try? verifier.verify(entry, rotated: inForce)) != nil { key = entry.rotation?.key }
        if let key { after[entry.id] = key }
    }

    /// The predecessors a batch names that are not in the batch: the store tells their keys.
    public static func predecessorsOutside(_ batch: [Entry]) -> Set<EntryID> {
        let ids = Set(batch.map(\.id))
        return Set(batch.compactMap(\.prev).filter { !ids.contains($0) })
    }

    /// Tells every entry of `batch`, in merged order, its key in force (`nil` in the
    /// answer: the founding key), and records it. With `isHeld`, an entry whose
    /// predecessor is neither earlier in the batch nor held is left out of the answer:
    /// its key is not known yet, so it is not ready (§12). Without it (an audit, which
    /// reads a whole log in causal order), such an entry gets the founding key and the
    /// audit reports the missing predecessor.
    public mutating func assign(_ batch: [Entry], verifier: EntryVerifier, isHeld: ((EntryID) -> Bool)? = nil) -> [EntryID: CityPublicKey?] {
        var assigned = Set<EntryID>()
        var atEntry = [EntryID: CityPublicKey?]()
        for e in batch.mergedOrder() {
            if let isHeld, let prev = e.prev, !assigned.contains(prev), !isHeld(prev) { continue }
            let key = inForce(at: e)
            atEntry[e.id] = key
            assigned.insert(e.id)
            record(e, inForce: key, verifier: verifier)
        }
        return atEntry
    }

    /// `assign` for a batch received: `held` gives each held predecessor, with the key in
    /// force after it (`nil` for the founding key).
    public static func assign(_ batch: [Entry], held: [EntryID: CityPublicKey?], verifier: EntryVerifier) -> [EntryID: CityPublicKey?] {
        var fold = KeysInForce(after: held.compactMapValues { $0 })
        return fold.assign(batch, verifier: verifier) { held[$0] != nil }
    }
}
