/// The entry point every fuzz target shares. SwiftPM links an executable's entry point
/// as `<Module>_main`; each target defines that symbol and calls `runFuzzer`, which runs
/// libFuzzer's driver with the target's check (libFuzzer would otherwise bring its own
/// `main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The running target's check: a C callback cannot capture it, so it waits here.
nonisolated(unsafe) private var currentCheck: ((UnsafeRawPointer, Int) -> CInt)?

public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ check: @escaping (UnsafeRawPointer, Int) -> CInt
) -> CInt {
    currentCheck = check
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data, let check = currentCheck else { return 0 }
        return check(UnsafeRawPointer(data), size)
    }
}
