// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for c4csr's parsers of untrusted input, built apart from the main
// package because they have no `main` (libFuzzer provides it):
//
//   scripts/fuzz.sh [SECONDS]      builds with -sanitize=fuzzer,address and runs each
//
// FuzzEntry  Entry.decode (the signed bytes from any peer) and the canonical-form check
// FuzzCard   PeerCard.parse and the TOML parser (cards and configuration files)
// FuzzSync   the sync API's messages: entry streams, heads, pull, push results, ids
let package = Package(
    name: "c4csr-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "c4csr", path: "..")],
    targets: [
        // libFuzzer's driver behind each target's entry point.
        .target(name: "FuzzDriver"),
    ] + ["FuzzEntry", "FuzzCard", "FuzzSync"].map {
        .executableTarget(name: $0, dependencies: ["FuzzDriver", .product(name: "C4CSRCore", package: "c4csr")])
    }
)
