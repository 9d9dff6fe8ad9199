import C4CSRCore

/// Decodes and verifies signed entries with each one's key in force (docs/PROTOCOL.md
/// §12): envelopes on every core, then one pass in merged order that tells each entry
/// its key (`KeysInForce.assign`, following rotations through `prev`), then signatures
/// on every core.
///
/// The keys in force carry over from one call to the next, so an audit can feed a whole
/// log chunk by chunk in a causal order.
struct ChainVerifier {
    let verifier: EntryVerifier
    private(set) var fold = KeysInForce()

    init(verifier: EntryVerifier) { self.verifier = verifier }

    /// For an audit, which reads a whole log in a causal order: per item, in input order,
    /// the entry and the key that verified it, or why not. An entry whose predecessor
    /// came in no earlier call is judged with the founding key (the audit reports the
    /// missing predecessor).
    mutating func verify(_ items: [(body: [UInt8], signature: [UInt8])]) -> [Result<(entry: Entry, key: CityPublicKey), EntryError>] {
        let decoded = Self.decode(items)
        let keyAt = fold.assign(decoded.compactMap { try? $0.get() }, verifier: verifier)
        return Self.verify(decoded, keyAt: keyAt, verifier: verifier).map { r in r.map { ($0.entry, $0.key!) } }
    }

    /// For a batch received: per item, in input order, the entry, the key that verified
    /// it and its state in force as `KeysInForce` tells it — key `nil` when its
    /// predecessor is neither in the batch nor in `held` (its state is not known: not
    /// verified, and not ready) — or why it is invalid.
    static func verifyBatch(
        _ items: [(body: [UInt8], signature: [UInt8])], verifier: EntryVerifier, held: (Set<EntryID>) -> [EntryID: ChainState]
    ) -> [Result<(entry: Entry, key: CityPublicKey?, inForce: ChainState), EntryError>] {
        let decoded = decode(items)
        let entries = decoded.compactMap { try? $0.get() }
        let keyAt = KeysInForce.assign(entries, held: held(KeysInForce.predecessorsOutside(entries)), verifier: verifier)
        return verify(decoded, keyAt: keyAt, verifier: verifier)
    }

    private static func decode(_ items: [(body: [UInt8], signature: [UInt8])]) -> [Result<Entry, EntryError>] {
        Parallel.map(items) { item in Result { () throws(EntryError) in try Entry.decode(body: item.body, signature: item.signature) } }
    }

    /// Signatures on every core, each with the key `keyAt` tells; an entry it does not
    /// name is returned unverified (key `nil`).
    private static func verify(
        _ decoded: [Result<Entry, EntryError>], keyAt: [EntryID: ChainState], verifier: EntryVerifier
    ) -> [Result<(entry: Entry, key: CityPublicKey?, inForce: ChainState), EntryError>] {
        Parallel.map(decoded) { r in
            r.flatMap { e in
                Result { () throws(EntryError) in
                    guard let known = keyAt[e.id] else { return (e, nil, .founding) }
                    return (e, try verifier.verify(e, inForce: known), known)
                }
            }
        }
    }
}
