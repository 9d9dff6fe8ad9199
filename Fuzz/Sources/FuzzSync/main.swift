import C4CSRCore
import FuzzDriver

/// Every message of the sync API a peer can send: decoded or refused, never a crash;
/// what decodes re-encodes to something that decodes to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func check(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if let (entries, more) = try? EntryStream.decode(bytes) {
        precondition(EntryStream.encode(entries, more: more) == bytes, "entry stream does not round-trip")
        // The entries a peer streams go through the merge planner as a batch.
        let decoded = entries.compactMap { try? Entry.decode(body: $0.body, signature: $0.signature) }
        var log = MemoryLog()
        _ = log.merge(decoded)
    }
    if let h = try? PeerHeads.decode(bytes) {
        precondition((try? PeerHeads.decode(h.encoded)) == h, "heads do not round-trip")
        // A peer's heads are compared with ours and with themselves: never a trap.
        let empty = PeerHeads(city: h.city, heads: [], digest: String(repeating: "0", count: 64), entries: 0, forks: 0)
        let c = HeadsComparison(local: empty, remote: h)
        precondition(c.weLack >= 0 && HeadsComparison(local: h, remote: empty).theyLack >= 0, "negative lack")
        precondition(HeadsComparison(local: h, remote: h).digestsAgree, "heads disagree with themselves")
    }
    if let f = try? ForkList.decode(bytes) { _ = ForkExchange(local: f.entries, remote: f.entries, holds: { _ in false }) }
    if let p = try? PullRequest.decode(bytes) { precondition((try? PullRequest.decode(p.encoded)) == p, "pull does not round-trip") }
    if let r = try? PushResult.decode(bytes) { precondition((try? PushResult.decode(r.encoded)) != nil, "push result does not round-trip") }
    if let i = try? IDsRequest.decode(bytes) { precondition((try? IDsRequest.decode(i.encoded)) == i, "ids do not round-trip") }
    if let f = try? ForkList.decode(bytes) { precondition((try? ForkList.decode(f.encoded)) == f, "forks do not round-trip") }
    _ = APIErrorBody.decode(bytes)
    return 0
}

@_cdecl("FuzzSync_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, check)
}
