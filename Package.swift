// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "bottleneck",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bottleneck", targets: ["bottleneck"]),
        .library(name: "Bottleneck", targets: ["Bottleneck"]),
        .library(name: "BottleneckCapture", targets: ["BottleneckCapture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.0"),
    ],
    targets: [
        // C libraries, linked from the system (Debian -dev packages installed by `make setup`).
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Header-only shims for sched_getattr/sched_setattr (no glibc wrapper before 2.41).
        .systemLibrary(name: "CSched"),

        .target(
            name: "Bottleneck",
            dependencies: [
                "CJPEG", "CPNG", "CZlib", "CSched",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: [
                // The load engine's per-request path touches class state on every event; dynamic
                // exclusivity checks cost several percent of the generator's CPU (measured with
                // perf, `make bench`). Debug builds keep the checks.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ]
        ),
        .target(
            name: "BottleneckCapture",
            dependencies: ["CPcap", "Bottleneck"]
        ),
        .executableTarget(
            name: "bottleneck",
            dependencies: [
                "Bottleneck", "BottleneckCapture",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make bench`: the samplers' own CPU while sampling a 50-process tree at 4 Hz.
        .executableTarget(
            name: "SamplingOverhead",
            dependencies: ["Bottleneck"],
            path: "Benchmarks/SamplingOverhead"
        ),
        .testTarget(
            name: "BottleneckTests",
            dependencies: [
                "Bottleneck", "CJPEG", "CPNG",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "BottleneckCaptureTests",
            dependencies: ["BottleneckCapture", "Bottleneck"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["Bottleneck"]
        ),
    ]
)

// The same language settings for every target (as swift-log does): Swift 6 mode,
// strict concurrency, explicit Sendable annotations on public types.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.unsafeFlags(["-Xfrontend", "-require-explicit-sendable"]))
    target.swiftSettings = settings
}
