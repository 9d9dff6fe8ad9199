import C4CSRCore
import FuzzDriver

/// An entry body from anywhere must decode or be refused with an error, never crash;
/// and when the JSON parses, the one-pass canonical check must agree with the
/// reference definition (parse, re-encode, compare).
private let fuzzKey = CitySigningKey(rawRepresentation: [UInt8](repeating: 7, count: 32))!.publicKey

@_cdecl("LLVMFuzzerTestOneInput")
public func check(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if let entry = try? Entry.decode(body: bytes, signature: [UInt8](repeating: 0, count: 64)) {
        // What a member can sign goes on through the merge planner, the merged order and
        // the practice rules: refused or accepted, never a trap.
        _ = entry.orderKey
        _ = [entry, entry].mergedOrder()
        var log = MemoryLog()
        _ = log.merge([entry])
        _ = log.merge([entry])
        _ = try? PracticeAction(entry: entry)
        // A rotation (§12), an officer change or an author (§13): payloads, proofs and the
        // keys-in-force fold, with no officer and with the change's own officer in force.
        _ = entry.rotation?.isProven(for: entry)
        let verifier = EntryVerifier(keys: [entry.origin: fuzzKey])
        _ = KeysInForce.assign([entry, entry], held: entry.prev.map { [$0: .founding] } ?? [:], verifier: verifier)
        _ = try? verifier.verify(entry, inForce: ChainState(key: entry.rotation?.key))
        var roll = OfficerRoll()
        if let author = entry.author { roll = roll.applying(.enrol(author.officer, fuzzKey)) }
        if let change = entry.officerChange, roll.refusal(of: change) == nil { roll = roll.applying(change) }
        _ = try? verifier.verify(entry, inForce: ChainState(officers: roll))
        _ = ChainState(officers: roll).after(entry)
        _ = OfficerRoll(canonical: roll.canonical)
        // Sealed fields, erasures and acks (§14): read, judged with the entry as its own
        // practice's publish and as an entry about another, never a trap.
        _ = try? ErasureRequest(entry: entry)
        _ = try? Acknowledgement(entry: entry)
        for f in PersonalField.allCases { _ = PersonalContent.seal(of: f, in: entry) }
        _ = PracticeRules.project(publish: entry.kind == .publish ? entry : nil, related: [entry])
    }
    if let value = try? JSONParser.parse(bytes, limits: JSONLimits(maxDepth: 12, maxBytes: 1 << 20)) {
        // A content object from a peer or a file (§14): parsed, and its value judged.
        if let content = try? PersonalContent(json: value) { _ = PersonalContent.problem(field: content.field, value: content.value) }
        let reference = CanonicalJSON.encode(value) == bytes
        precondition(CanonicalJSON.isCanonical(bytes) == reference, "isCanonical disagrees with parse+encode")
        // Re-encoding is stable: the canonical form of the canonical form is itself.
        let once = CanonicalJSON.encode(value)
        precondition(CanonicalJSON.encode(try! JSONParser.parse(once)) == once, "canonical form is not a fixed point")
    }
    return 0
}

@_cdecl("FuzzEntry_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, check)
}
