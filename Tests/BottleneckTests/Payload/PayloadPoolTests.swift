import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite struct PayloadPoolTests {
    private let mix = [
        "image:w=32..128,format=jpeg|png", "text:tokens=5..50", "audio:seconds=0.1..0.3,rate=8000",
        "tensor:shape=1..2x3x8x8,encoding=binary",
    ]

    private func build(seed: UInt64, wrapping: BodyWrapping = .raw, size: Int = 24) throws -> PayloadPool {
        try PayloadPool(specs: mix.map(PayloadSpec.parse), wrapping: wrapping, seed: seed, size: size)
    }

    @Test(arguments: [BodyWrapping.raw, .multipart(field: "file"), .jsonBase64(field: "data")])
    func sameSeedGivesIdenticalBytes(wrapping: BodyWrapping) throws {
        let first = try build(seed: 42, wrapping: wrapping)
        let second = try build(seed: 42, wrapping: wrapping)
        #expect(first.payloads.map(\.body) == second.payloads.map(\.body))
        #expect(first.payloads.map(\.contentType) == second.payloads.map(\.contentType))
        #expect(first.payloads.map(\.label) == second.payloads.map(\.label))
    }

    @Test func differentSeedGivesDifferentBytes() throws {
        let first = try build(seed: 42)
        let second = try build(seed: 43)
        #expect(first.payloads.map(\.body) != second.payloads.map(\.body))
        // Not just reordered: most individual bodies differ.
        let firstBodies = Set(first.payloads.map(\.body))
        let shared = second.payloads.filter { firstBodies.contains($0.body) }.count
        #expect(shared < 3)
    }

    @Test(arguments: [
        ([3.0, 1.0], 100, [75, 25]),
        ([1.0, 1.0, 1.0], 10, [4, 3, 3]),
        ([1.0, 2.0], 9, [3, 6]),
        ([1000.0, 1.0], 10, [9, 1]),  // every spec keeps at least one slot
        ([1.0, 1.0, 1.0], 2, [1, 1, 0]),  // unless there are fewer slots than specs
    ])
    func weightsApportionTheMix(weights: [Double], size: Int, expected: [Int]) {
        #expect(PayloadPool.apportion(weights: weights, size: size) == expected)
    }

    @Test func weightsGiveTheExpectedClassMix() throws {
        let specs = try ["image:w=16..32,weight=3", "text:tokens=4"].map(PayloadSpec.parse)
        let pool = try PayloadPool(specs: specs, wrapping: .raw, seed: 1, size: 40)
        #expect(pool.counts == [30, 10])
        #expect(pool.payloads.filter { $0.payloadClass == "image" }.count == 30)
        #expect(pool.payloads.filter { $0.payloadClass == "text" }.count == 10)
        // Shuffled: the first ten are not all one class.
        #expect(Set(pool.payloads.prefix(10).map(\.payloadClass)).count == 2)
    }

    @Test func payloadAtWrapsAround() throws {
        let pool = try build(seed: 5, size: 7)
        #expect(pool.payloads.count == 7)
        #expect(pool.payload(at: 0).body == pool.payloads[0].body)
        #expect(pool.payload(at: 7).body == pool.payloads[0].body)
        #expect(pool.payload(at: 15).body == pool.payloads[1].body)
        #expect(pool.payload(at: -1).body == pool.payloads[6].body)
    }

    @Test func rejectsEmptySpecsAndBadSizes() throws {
        #expect(throws: PayloadError.self) { try PayloadPool(specs: [], wrapping: .raw, seed: 1, size: 10) }
        let spec = try PayloadSpec.parse("text")
        #expect(throws: PayloadError.self) { try PayloadPool(specs: [spec], wrapping: .raw, seed: 1, size: 0) }
        var zero = spec
        zero.weight = 0
        #expect(throws: PayloadError.self) { try PayloadPool(specs: [zero], wrapping: .raw, seed: 1, size: 10) }
    }

    /// Generation is off the hot path but must not stall a run's start. Debug builds on a
    /// busy 2-core machine are slow, so this uses small images and a loose bound: it
    /// catches an accidental quadratic, not a few percent. (Release: about 1 s of CPU for
    /// 100 images of w=64..1024.)
    @Test func hundredImagePoolIsQuick() throws {
        let clock = ContinuousClock()
        let spec = try PayloadSpec.parse("image:w=64..256,format=jpeg|png")
        let elapsed = try clock.measure {
            let pool = try PayloadPool(specs: [spec], wrapping: .raw, seed: 3, size: 100)
            #expect(pool.payloads.count == 100)
        }
        #expect(elapsed < .seconds(20), "100 small images took \(elapsed)")
    }
}
