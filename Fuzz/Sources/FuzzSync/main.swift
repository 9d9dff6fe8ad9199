import C4CSRCore

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

// SwiftPM links an executable's entry point as `<Module>_main`: run libFuzzer's
// driver from there (it would otherwise bring its own `main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzSync_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return check(UnsafeRawPointer(data), size)
    }
}
