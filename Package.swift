// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top. Each module imports only the ones below it.
//
//   C4CSRCore      pure: canonical JSON, entries, Ed25519, vector clocks, merged
//                  order, the merge planner, the practice rules, the auditor.
//                  No IO, no SQLite, no networking.
//   C4CSRStore     the append-only log in SQLite (GRDB, WAL).
//   C4CSRNode      a city's data directory: identity, keys, TLS identity, peer cards,
//                  and the operations the CLI and the daemon share (add, import,
//                  audit, the sync round over an abstract transport…).
//   CCurl          libcurl, seen from Swift, opened on first use (fixed-arity setopt/getinfo wrappers).
//   C4CSRPortal    the read-only web portal: pages rendered from the store (swift-mustache).
//   C4CSRCurl      the HTTPS client: a small Swift type over libcurl, and the sync
//                  transport that speaks the HTTP API through it.
//   C4CSRDaemon    `c4csr serve`: the Hummingbird TLS server, the anti-entropy
//                  service, and their ServiceGroup.
//   C4CSRCommands  the command-line interface (swift-argument-parser).
//   c4csr          the executable: calls C4CSRCommands.
let package = Package(
    name: "c4csr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "c4csr", targets: ["c4csr"]),
        .library(name: "C4CSRCore", targets: ["C4CSRCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "C4CSRCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "C4CSRStore",
            dependencies: ["C4CSRCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "C4CSRNode",
            dependencies: [
                "C4CSRCore", "C4CSRStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The read-only web portal (issue 15): pages from the store, for the daemon's
        // web listener and `c4csr site`.
        .target(
            name: "C4CSRPortal",
            dependencies: ["C4CSRCore", "C4CSRStore", "C4CSRNode", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // libcurl's headers at build time (libcurl4-openssl-dev); the library itself is
        // opened on first use (Sources/CCurl/loader.c), never linked.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        .target(
            name: "C4CSRCurl",
            dependencies: ["CCurl", "C4CSRCore", "C4CSRNode", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "C4CSRDaemon",
            dependencies: [
                "C4CSRCore", "C4CSRStore", "C4CSRNode", "C4CSRCurl", "C4CSRPortal",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "C4CSRCommands",
            dependencies: [
                "C4CSRCore", "C4CSRStore", "C4CSRNode", "C4CSRCurl", "C4CSRDaemon", "C4CSRPortal", "CProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The daemon's malloc arena limit, set by a load-time constructor (docs/PERFORMANCE.md).
        .target(name: "CMemoryPolicy"),
        // The demo's daemons die with the demo (a thread that watches the parent).
        .target(name: "CProcess"),
        .executableTarget(
            name: "c4csr", dependencies: ["C4CSRCommands", "CMemoryPolicy"],
            // SwiftPM exports every symbol of an executable (45,912 of them): the Swift
            // runtime's start-up dladdr then scans them all, and every library symbol
            // lookup passes through their hash table first (issue 14).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"])]
        ),
        // The in-process measurements of scripts/bench.sh (ceilings, no-op rounds).
        .executableTarget(
            name: "c4csr-bench",
            dependencies: [
                "C4CSRCore", "C4CSRStore", "C4CSRNode", "C4CSRCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "C4CSRCoreTests",
            dependencies: ["C4CSRCore", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "C4CSRStoreTests",
            dependencies: ["C4CSRCore", "C4CSRStore", "C4CSRNode", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "C4CSRPortalTests",
            dependencies: ["C4CSRPortal", "C4CSRNode", "C4CSRStore", "C4CSRCore"]
        ),
        .testTarget(
            name: "C4CSRCommandsTests",
            dependencies: ["C4CSRCommands", "C4CSRNode", "C4CSRStore", "C4CSRCore", "c4csr", .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "C4CSRSyncTests",
            dependencies: [
                "C4CSRCore", "C4CSRStore", "C4CSRNode", "C4CSRCurl", "C4CSRDaemon", "c4csr", "CMemoryPolicy",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// One loop applies the language settings to every target (as SwiftNIO does).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
