// swift-tools-version:6.2
import PackageDescription

/// The engine's hot path works on scratch buffers owned by one turn at a time; dynamic exclusivity checks on
/// their class properties cost more than the matching itself, so release builds skip them (debug builds and
/// tests keep them on).
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Clerk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clerk", targets: ["clerk"]),
        .library(name: "ClerkEngine", targets: ["ClerkEngine"]),
        .library(name: "ClerkContent", targets: ["ClerkContent"]),
        .library(name: "ClerkStore", targets: ["ClerkStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // System libraries. ICU is reached only through CTextShim (see docs/architecture.md):
        // Foundation carries its own ICU, and a Swift target that sees both fails to build.
        .systemLibrary(
            name: "CICU",
            pkgConfig: "icu-i18n",
            providers: [.apt(["libicu-dev"])]
        ),
        .systemLibrary(name: "CStemmer", providers: [.apt(["libstemmer-dev"])]),
        .systemLibrary(name: "CEditLine", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CEpoll"),
        .target(name: "CTextShim", dependencies: ["CICU"]),

        .target(name: "ClerkText", dependencies: ["CTextShim", "CStemmer"], swiftSettings: hotPath),
        .target(name: "ClerkEngine", dependencies: ["ClerkText"], swiftSettings: hotPath),
        .target(
            name: "ClerkContent",
            dependencies: ["ClerkEngine", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "ClerkServer",
            dependencies: [
                "ClerkEngine", "ClerkContent", "ClerkStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ClerkStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "clerk",
            dependencies: [
                "ClerkEngine", "ClerkContent", "ClerkServer", "ClerkStore", "CEditLine", "CEpoll",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        .testTarget(name: "ClerkTextTests", dependencies: ["ClerkText"]),
        .testTarget(name: "ClerkEngineTests", dependencies: ["ClerkEngine", "ClerkContent"]),
        .testTarget(name: "ClerkContentTests", dependencies: ["ClerkContent"]),
        .testTarget(
            name: "ClerkStoreTests",
            dependencies: [
                "ClerkStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ClerkServerTests",
            dependencies: [
                "ClerkServer", "ClerkStore", "ClerkContent", "ClerkEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Runs the real `clerk` binary; ClerkStore only seeds and inspects the stores it works on, Yams reads
        // docs/openapi.yaml.
        .testTarget(
            name: "ClerkCLITests", dependencies: ["ClerkStore", .product(name: "Yams", package: "Yams")]),
    ]
)
