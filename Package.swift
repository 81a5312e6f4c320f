// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "bottleneck",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bottleneck", targets: ["bottleneck"]),
        .library(name: "Bottleneck", targets: [
            "BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture",
            "BottleneckRun", "BottleneckDiagnosis", "BottleneckReport",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        // C libraries, linked from the system (Debian -dev packages installed by `make setup`).
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Header-only shims for sched_getattr/sched_setattr (no glibc wrapper before 2.41).
        .systemLibrary(name: "CSched"),

        // The library, in layers: each target imports only the ones above it in this list
        // (docs/architecture.md; scripts/check-architecture.py fails the tests on an import
        // that breaks the order).
        .target(
            name: "BottleneckCore",
            dependencies: [
                "CZlib", "CSched",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(
            name: "BottleneckLoad",
            dependencies: [
                "BottleneckCore", "CJPEG", "CPNG", "CSched",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: [
                // The load engine's per-request path touches class state on every event; dynamic
                // exclusivity checks cost several percent of the generator's CPU (measured with
                // perf, `make bench`). Debug builds keep the checks.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
                // Optimised in debug builds too: the payload synthesizer paints every pixel of every
                // generated image, and unoptimised it paints about 3 Mpx/s (a pool of large images
                // took minutes before the first request); the test bed's diagnosis table runs the
                // debug binary.
                .unsafeFlags(["-O"], .when(configuration: .debug)),
            ]
        ),
        .target(
            name: "BottleneckSampling",
            dependencies: [
                "BottleneckCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BottleneckCapture",
            dependencies: ["CPcap", "BottleneckCore"]
        ),
        .target(
            name: "BottleneckRun",
            dependencies: [
                "BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BottleneckDiagnosis",
            dependencies: [
                "BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture", "BottleneckRun",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "BottleneckReport",
            dependencies: [
                "BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture", "BottleneckRun",
                "BottleneckDiagnosis",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "bottleneck",
            dependencies: [
                "BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture",
                "BottleneckRun", "BottleneckDiagnosis", "BottleneckReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make bench`: the samplers' own CPU while sampling a 50-process tree at 4 Hz.
        .executableTarget(
            name: "SamplingOverhead",
            dependencies: ["BottleneckSampling"],
            path: "Benchmarks/SamplingOverhead"
        ),
        .testTarget(
            name: "BottleneckTests",
            dependencies: [
                "BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckRun",
                "BottleneckDiagnosis", "BottleneckReport", "CJPEG", "CPNG",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "BottleneckCaptureTests",
            dependencies: ["BottleneckCapture", "BottleneckCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["BottleneckCore"]
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

// `make fuzz` only (fuzz/README.md): libFuzzer targets over every parser the tool exposes to
// outside input, in one executable (`FUZZ_TARGET` picks the parser). Declared only when
// BOTTLENECK_FUZZ is set, so `swift build`, `swift test` and `make test` never see it: it links
// only with `-sanitize=fuzzer`, which `make fuzz` passes in its own scratch path.
if Context.environment["BOTTLENECK_FUZZ"] != nil {
    package.products.append(.executable(name: "bottleneck-fuzz", targets: ["BottleneckFuzz"]))
    package.targets += [
        // libFuzzer's LLVMFuzzerRunDriver, declared for Swift (the runtime comes with -sanitize=fuzzer).
        .systemLibrary(name: "CFuzzer", path: "fuzz/CFuzzer"),
        .executableTarget(
            name: "BottleneckFuzz",
            dependencies: [
                "CFuzzer", "BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture",
                "BottleneckRun", "BottleneckDiagnosis", "BottleneckReport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "fuzz/Sources"
        ),
    ]
}
