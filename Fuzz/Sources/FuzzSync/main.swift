import C4CSRCore
import FuzzDriver

/// Every message of the sync API a peer can send: decoded or refused, never a crash;
/// what decodes re-encodes to something that decodes to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func check(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if let (entries, more) = try? EntryStream.decode(bytes) {
        precondition(EntryStream.encode(entries, more: more) == bytes, "entry stream does not round-trip")
    }
    if let h = try? PeerHeads.decode(bytes) { precondition((try? PeerHeads.decode(h.encoded)) == h, "heads do not round-trip") }
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
