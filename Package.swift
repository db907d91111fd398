// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// Weft: a transactional, Redis-compatible, in-memory key-value database.
///
/// The module graph (an arrow means "imports"; nothing imports upward or sideways):
///
///     weft-server (exe) -> RESPServer -> RESPCodec, CommandDispatch, CommitLog (the writer's handle)
///     weft-server (exe) -> CJemalloc (linked for its malloc, which then serves the whole process)
///     CommandDispatch -> RESPCodec, TransactionEngine
///     TransactionEngine -> CommitLog -> CLZ4
///
/// Benchmarks are added only when `WEFT_BENCHMARKS=1` is set (see `bench/run`), so that a normal build and CI do
/// not compile them.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Release builds skip dynamic exclusivity checks (a runtime call per class-property access on the hot path);
    // debug builds and the sanitizer runs keep them.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// The engine is the hot path: let its callers inline it across the module boundary (full cross-module
/// optimization), so that generics specialize and small accessors vanish.
let engineSettings: [SwiftSetting] =
    strictSettings + [
        .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))
    ]

var package = Package(
    name: "weft",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "weft-server", targets: ["weft-server"]),
        .executable(name: "weft-log", targets: ["weft-log"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .systemLibrary(
            name: "CJemalloc",
            pkgConfig: "jemalloc",
            providers: [.apt(["libjemalloc-dev"])]
        ),
        .target(
            name: "CommitLog",
            dependencies: ["CLZ4"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CWeftSupport"
        ),
        .target(
            name: "TransactionEngine",
            dependencies: ["CommitLog", "CWeftSupport"],
            swiftSettings: engineSettings
        ),
        .target(
            name: "RESPCodec",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CommandDispatch",
            dependencies: [
                "RESPCodec", "TransactionEngine", "CommitLog", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "RESPServer",
            dependencies: [
                "RESPCodec", "CommandDispatch", "TransactionEngine", "CommitLog", "CWeftSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "weft-server",
            dependencies: ["RESPServer", "RESPCodec", "CommandDispatch", "TransactionEngine", "CommitLog", "CJemalloc"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "weft-log",
            dependencies: ["CommitLog", "TransactionEngine"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["TransactionEngine"],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TransactionEngineTests",
            dependencies: ["TransactionEngine", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: ["RESPServer", "CommandDispatch", "TransactionEngine", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RESPCodecTests",
            dependencies: ["RESPCodec", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CommitLogTests",
            dependencies: ["CommitLog"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RecoveryTests",
            dependencies: ["TransactionEngine", "CommitLog", "TestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)

if ProcessInfo.processInfo.environment["WEFT_BENCHMARKS"] == "1" {
    package.targets += [
        .target(
            name: "CMallocCounter",
            path: "bench/Benchmarks/CMallocCounter"
        ),
        .executableTarget(
            name: "weft-engine-bench",
            dependencies: ["TransactionEngine", "CMallocCounter"],
            path: "bench/Benchmarks/EngineBench",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "weft-nio-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/Benchmarks/NIOFloor",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "weft-bench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "bench/Benchmarks/LoadGenerator",
            swiftSettings: strictSettings
        ),
    ]
    package.dependencies += [
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0")
    ]
}
