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

/// Keys in force (docs/PROTOCOL.md §12, §13), folded over entries in causal order: the
/// city key an entry must be signed with, and the officers who may author it, are a
/// property of its position in its own chain — the state in force after its
/// predecessor. Only states other than the founding one are kept: an entry with no
/// rotation and no enrolment in its past has its origin's founding key and no officers.
public struct KeysInForce: Sendable {
    /// For each entry after which the state in force is not the founding one: that state.
    public private(set) var after: [EntryID: ChainState] = [:]

    public init(after: [EntryID: ChainState] = [:]) { self.after = after }

    /// The state in force at `entry`, once its predecessor was recorded.
    public func inForce(at entry: Entry) -> ChainState {
        guard let prev = entry.prev else { return .start(of: entry) }
        return after[prev] ?? .founding
    }

    /// Records `entry`, whose state in force is `inForce`. A rotation or an officer change
    /// counts only if the entry verifies (`verifier`): a forged one changes nothing, so
    /// what follows it is judged with what was really in force.
    public mutating func record(_ entry: Entry, inForce: ChainState, verifier: EntryVerifier) {
        var state = inForce
        if entry.kind == .rotate || entry.kind == .officer, (try? verifier.verify(entry, inForce: inForce)) != nil {
            state = inForce.after(entry)
        }
        if !state.isFounding { after[entry.id] = state }
    }

    /// The predecessors a batch names that are not in the batch: the store tells their states.
    public static func predecessorsOutside(_ batch: [Entry]) -> Set<EntryID> {
        let ids = Set(batch.map(\.id))
        return Set(batch.compactMap(\.prev).filter { !ids.contains($0) })
    }

    /// Tells every entry of `batch`, in merged order, its state in force, and records it.
    /// With `isHeld`, an entry whose predecessor is neither earlier in the batch nor held
    /// is left out of the answer: its state is not known yet, so it is not ready (§12).
    /// Without it (an audit, which reads a whole log in causal order), such an entry gets
    /// the founding state and the audit reports the missing predecessor.
    public mutating func assign(_ batch: [Entry], verifier: EntryVerifier, isHeld: ((EntryID) -> Bool)? = nil) -> [EntryID: ChainState] {
        var assigned = Set<EntryID>()
        var atEntry = [EntryID: ChainState]()
        for e in batch.mergedOrder() {
            if let isHeld, let prev = e.prev, !assigned.contains(prev), !isHeld(prev) { continue }
            let state = inForce(at: e)
            atEntry[e.id] = state
            assigned.insert(e.id)
            record(e, inForce: state, verifier: verifier)
        }
        return atEntry
    }

    /// `assign` for a batch received: `held` gives each held predecessor, with the state
    /// in force after it.
    public static func assign(_ batch: [Entry], held: [EntryID: ChainState], verifier: EntryVerifier) -> [EntryID: ChainState] {
        var fold = KeysInForce(after: held.filter { !$0.value.isFounding })
        return fold.assign(batch, verifier: verifier) { held[$0] != nil }
    }
}
