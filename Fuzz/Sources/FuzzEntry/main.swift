import C4CSRCore

/// An entry body from anywhere must decode or be refused with an error, never crash;
/// and when the JSON parses, the one-pass canonical check must agree with the
/// reference definition (parse, re-encode, compare).
@_cdecl("LLVMFuzzerTestOneInput")
public func check(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    _ = try? Entry.decode(body: bytes, signature: [UInt8](repeating: 0, count: 64))
    if let value = try? JSONParser.parse(bytes, limits: JSONLimits(maxDepth: 12, maxBytes: 1 << 20)) {
        let reference = CanonicalJSON.encode(value) == bytes
        precondition(CanonicalJSON.isCanonical(bytes) == reference, "isCanonical disagrees with parse+encode")
        // Re-encoding is stable: the canonical form of the canonical form is itself.
        let once = CanonicalJSON.encode(value)
        precondition(CanonicalJSON.encode(try! JSONParser.parse(once)) == once, "canonical form is not a fixed point")
    }
    return 0
}

// SwiftPM links an executable's entry point as `<Module>_main`: run libFuzzer's
// driver from there (it would otherwise bring its own `main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzEntry_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return check(UnsafeRawPointer(data), size)
    }
}
