// swift-tools-version:6.0
import PackageDescription

// The release executables carry the Swift runtime and Foundation inside them (on Linux; the
// same as `swift build --static-swift-stdlib`): a site's machine needs no Swift installed,
// only SQLite, and a CLI command does not spend 3-4 ms of its start loading and binding the
// runtime's shared libraries (DESIGN §9). Debug builds, which the tests run, stay dynamic:
// they link in seconds. The flag goes to the compiler too, so that the executable's own
// module links the static libraries behind Foundation (CoreFoundation, ICU) by itself. The
// toolchain's lld links them: GNU ld warns about glibc's `mktemp`, which the static Foundation
// references, and a release build prints no warning.
let staticSwiftFlag = ["-static-stdlib"]
let staticLinkFlags = staticSwiftFlag + ["-use-ld=lld"]
let staticSwiftWhen = BuildSettingCondition.when(platforms: [.linux], configuration: .release)

let package = Package(
    name: "Interno",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "interno", targets: ["interno"]),
        .executable(name: "interno-server", targets: ["interno-server"]),
        .library(name: "InternoModel", targets: ["InternoModel"]),
        .library(name: "InternoStore", targets: ["InternoStore"]),
        .library(name: "InternoWire", targets: ["InternoWire"]),
        .library(name: "InternoServer", targets: ["InternoServer"]),
        .library(name: "InternoClient", targets: ["InternoClient"]),
        .library(name: "InternoRender", targets: ["InternoRender"]),
        .library(name: "InternoPostgres", targets: ["InternoPostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        // Pure domain: dots, clocks, changes, merge, schema. Foundation only.
        .target(name: "InternoModel"),
        // SQLite's process-wide settings, which only C can make (sqlite3_config is variadic).
        .target(name: "CInternoSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),
        // One SQLite database (site or server) through GRDB.
        .target(
            name: "InternoStore",
            dependencies: [
                "InternoModel",
                "CInternoSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API under GRDB, for `interno verify`'s scans (StoredDigests.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // Messages, framing and conversions. No sockets.
        .target(
            name: "InternoWire",
            dependencies: [
                "InternoModel",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ]
        ),
        // The server's store on PostgreSQL, for several interno-server instances on one database.
        .target(
            name: "InternoPostgres",
            dependencies: [
                "InternoModel",
                "InternoStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "InternoServer",
            dependencies: [
                "InternoModel",
                "InternoStore",
                "InternoPostgres",
                "InternoWire",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "InternoClient",
            dependencies: [
                "InternoModel",
                "InternoStore",
                "InternoWire",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Reports as people read them: text tables, CSV, HTML pages and the dashboard.
        .target(name: "InternoRender", dependencies: ["InternoModel"]),
        .executableTarget(
            name: "interno",
            dependencies: [
                "InternoModel",
                "InternoStore",
                "InternoClient",
                "InternoRender",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.unsafeFlags(staticSwiftFlag, staticSwiftWhen)],
            linkerSettings: [.unsafeFlags(staticLinkFlags, staticSwiftWhen)]
        ),
        .executableTarget(
            name: "interno-server",
            dependencies: [
                "InternoModel",
                "InternoStore",
                "InternoPostgres",
                "InternoServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [.unsafeFlags(staticSwiftFlag, staticSwiftWhen)],
            linkerSettings: [.unsafeFlags(staticLinkFlags, staticSwiftWhen)]
        ),
        // Benchmarks of DESIGN §9, not tests: `swift run -c release interno-benchmark`.
        .executableTarget(
            name: "interno-benchmark",
            dependencies: [
                "InternoServer", "InternoClient", "InternoStore", "InternoModel", "InternoWire", "InternoPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/Benchmarks"
        ),
        // The manual pages of both executables, from their own help: `Tools/install-manual`.
        .executableTarget(name: "interno-manual", path: "Tools/Manual"),
        // Seeded generators for the property tests of the model and the store.
        .target(
            name: "InternoTestSupport",
            dependencies: [.product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/InternoTestSupport"
        ),
        .testTarget(name: "InternoModelTests", dependencies: ["InternoModel", "InternoTestSupport"]),
        .testTarget(name: "InternoRenderTests", dependencies: ["InternoRender", "InternoModel"]),
        .testTarget(name: "InternoStoreTests", dependencies: ["InternoStore", "InternoModel", "InternoTestSupport"]),
        // Needs a PostgreSQL server: `eval "$(Tools/postgres start)"` starts a throwaway one (INTERNO_TEST_POSTGRES).
        .testTarget(
            name: "InternoPostgresTests",
            dependencies: [
                "InternoPostgres", "InternoStore", "InternoModel", "InternoTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "InternoWireTests",
            dependencies: [
                "InternoWire",
                "InternoModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "InternoServerTests",
            dependencies: [
                "InternoServer", "InternoStore", "InternoModel",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Joins sites to a real server directory (its CA and registry), so it uses the server library.
        .testTarget(
            name: "InternoClientTests",
            dependencies: ["InternoClient", "InternoServer", "InternoStore", "InternoModel", "InternoWire"]
        ),
        // Runs the real executables, so it depends on them to have them built.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "InternoServer", "InternoClient", "InternoStore", "InternoModel", "InternoRender", "InternoTestSupport",
                "interno",
                "interno-server", "interno-manual",
            ]
        ),
    ]
)
