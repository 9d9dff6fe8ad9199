import C4CSRCore
import FuzzDriver

/// A peer card (or any TOML c4csr reads) must parse or be refused with an error naming
/// a line, never crash; a card that parses writes back to TOML that parses to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func check(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    _ = try? TOMLParser.parse(bytes)
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    if let card = try? PeerCard.parse(text) {
        let again = try? PeerCard.parse(card.toml)
        precondition(again == card, "a card does not survive its own TOML")
    }
    return 0
}

@_cdecl("FuzzCard_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, check)
}
