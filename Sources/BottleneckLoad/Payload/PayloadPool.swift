import Dispatch
import BottleneckCore

/// The request bodies of a run, generated up front from `--seed`.
///
/// Encoding a JPEG or writing a WAV per request would make the load generator's own CPU
/// the bottleneck and its timing noisy, and random bodies would make runs impossible to
/// repeat. So the pool is built once before the run: `size` payloads, the mix of specs in
/// proportion to their weights, in a seeded shuffled order. The hot path is an array index.
///
/// Item `i` is generated from its own stream `SeededRandom(seed:stream: i)`, so the same
/// seed, specs and size give byte-identical bodies however generation is scheduled.
public struct PayloadPool: Sendable {
    public let payloads: [Payload]
    /// How many payloads each spec got, in the order the specs were given.
    public let counts: [Int]

    /// The largest pool accepted; beyond this memory, not realism, is what grows.
    public static let maxSize = 1_000_000

    /// Generates `size` payloads from `specs` (throws `PayloadError` on unusable input).
    public init(specs: [PayloadSpec], wrapping: BodyWrapping, seed: UInt64, size: Int) throws {
        guard !specs.isEmpty else {
            throw PayloadError("payload: give at least one --payload, like image:w=64..1024 or text:tokens=16..512")
        }
        guard size >= 1 && size <= Self.maxSize else {
            throw PayloadError("payload pool size must be between 1 and \(Self.maxSize) (got \(size))")
        }
        for spec in specs where !(spec.weight.isFinite && spec.weight > 0) {
            throw PayloadError.spec(spec.source, "weight must be a positive number like 1 or 2.5")
        }
        counts = Self.apportion(weights: specs.map(\.weight), size: size)

        // Which spec each slot uses: grouped, then shuffled with the seed so classes interleave.
        var slots: [Int] = []
        slots.reserveCapacity(size)
        for (index, count) in counts.enumerated() {
            slots += repeatElement(index, count: count)
        }
        var shuffler = SeededRandom(seed: seed)
        for i in stride(from: slots.count - 1, to: 0, by: -1) {
            slots.swapAt(i, shuffler.uniform(0...i))
        }

        // Folders are listed before anything is generated, so a bad path fails fast.
        var folders: [Int: DatasetFolder] = [:]
        for (index, spec) in specs.enumerated() {
            if case .directory(let path) = spec.kind {
                folders[index] = try DatasetFolder(path: path, spec: spec.source)
            }
        }

        // Dataset files are read serially (each once), before the parallel part.
        var fileCache: [String: RawPayload] = [:]
        for (position, specIndex) in slots.enumerated() {
            guard let folder = folders[specIndex] else { continue }
            var random = SeededRandom(seed: seed, stream: UInt64(position))
            let file = folder.pick(&random)
            if fileCache[file] == nil {
                fileCache[file] = try DatasetFolder.load(file, spec: specs[specIndex].source)
            }
        }

        // Images dominate the cost and each item has its own random stream, so items are
        // generated on all cores; the result is identical to a serial build.
        let results = ResultSlots(count: size)
        defer { results.release() }
        let (order, lists, files) = (slots, folders, fileCache)  // immutable copies to share
        DispatchQueue.concurrentPerform(iterations: size) { position in
            let specIndex = order[position]
            var random = SeededRandom(seed: seed, stream: UInt64(position))
            results[position] = Result { () throws(PayloadError) -> Payload in
                let raw: RawPayload
                if let folder = lists[specIndex] {
                    raw = files[folder.pick(&random)]!
                } else {
                    raw = try Self.generate(specs[specIndex], random: &random)
                }
                let (body, contentType) = wrapping.wrap(raw, random: &random)
                return Payload(
                    payloadClass: raw.payloadClass, body: body, contentType: contentType,
                    rawBytes: raw.bytes.count, width: raw.width, height: raw.height, label: raw.label)
            }
        }
        var generated: [Payload] = []
        generated.reserveCapacity(size)
        for position in 0..<size {
            generated.append(try results[position]!.get())
        }
        payloads = generated
    }

    /// The payload for request number `index` (any integer); O(1), no allocation.
    @inline(__always)
    public func payload(at index: Int) -> Payload {
        let count = payloads.count
        let slot = index % count
        return payloads[slot < 0 ? slot + count : slot]
    }

    /// Splits `size` slots in proportion to `weights` (largest remainder, ties to the earlier
    /// spec), giving every spec at least one slot when there are enough: a payload the user
    /// asked for should never silently vanish from the mix.
    static func apportion(weights: [Double], size: Int) -> [Int] {
        let total = weights.reduce(0, +)
        let exact = weights.map { $0 / total * Double(size) }
        var counts = exact.map { Int($0.rounded(.down)) }
        let remainders = exact.map { $0 - $0.rounded(.down) }
        let order = exact.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        var remaining = size - counts.reduce(0, +)
        for index in order where remaining > 0 {
            counts[index] += 1
            remaining -= 1
        }
        if size >= weights.count {
            for index in counts.indices where counts[index] == 0 {
                // Take the slot from the spec with the most.
                let donor = counts.indices.max { counts[$0] < counts[$1] }!
                counts[donor] -= 1
                counts[index] += 1
            }
        }
        return counts
    }

    /// One unwrapped payload for a generated (non-folder) spec.
    static func generate(_ spec: PayloadSpec, random: inout SeededRandom) throws(PayloadError) -> RawPayload {
        switch spec.kind {
        case .image(let image):
            let width = image.distribution.sample(image.width, &random)
            let aspect = image.aspect.lowerBound == image.aspect.upperBound
                ? image.aspect.lowerBound : random.logUniform(image.aspect)
            let height = ImageSpec.height(width: width, aspect: aspect)
            let format = image.formats[random.uniform(0...(image.formats.count - 1))]
            let pixels = ImageSynthesizer.paint(width: width, height: height, random: &random)
            let bytes: [UInt8]
            switch format {
            case .jpeg:
                bytes = JPEGEncoder.encode(rgb: pixels, width: width, height: height, quality: image.quality)
            case .png:
                do {
                    bytes = try PNGEncoder.encode(rgb: pixels, width: width, height: height)
                } catch {
                    throw .spec(spec.source, "libpng could not encode a \(width)x\(height) image: \(error.message)")
                }
            }
            return RawPayload(
                payloadClass: "image", bytes: bytes, contentType: "image/\(format.rawValue)",
                filename: format == .jpeg ? "image.jpg" : "image.png", width: width, height: height,
                label: "\(format.rawValue) \(width)x\(height)")
        case .text(let text):
            let tokens = text.distribution.sample(text.tokens, &random)
            let prose = TextGenerator.prose(tokens: tokens, random: &random)
            return RawPayload(
                payloadClass: "text", bytes: Array(prose.utf8), contentType: "text/plain; charset=utf-8",
                filename: "text.txt", label: "text \(tokens) tokens")
        case .audio(let audio):
            let seconds = audio.distribution.sample(audio.seconds, &random)
            let rate = random.uniform(audio.rate)
            let samples = Int((seconds * Double(rate)).rounded())
            let clip = WAVGenerator.clip(sampleCount: samples, rate: rate, random: &random)
            let shown = (seconds * 100).rounded() / 100
            return RawPayload(
                payloadClass: "audio", bytes: clip, contentType: "audio/wav", filename: "audio.wav",
                label: "wav \(shown.compact)s \(rate)Hz")
        case .tensor(let tensor):
            let shape = tensor.shape.map { random.uniform($0) }
            let bytes = TensorGenerator.encode(shape: shape, dtype: tensor.dtype, encoding: tensor.encoding, random: &random)
            let json = tensor.encoding == .json
            return RawPayload(
                payloadClass: "tensor", bytes: bytes,
                contentType: json ? "application/json" : "application/octet-stream",
                filename: json ? "tensor.json" : "tensor.bin",
                label: "tensor \(shape.map(String.init).joined(separator: "x")) \(tensor.dtype.rawValue) \(tensor.encoding.rawValue)")
        case .kserveV2(let request):
            guard !request.inputs.isEmpty else {
                throw .spec(spec.source, "kserve-v2 needs a KServe v2 target, like http://HOST:8000/v2/models/NAME/infer, whose metadata names the inputs")
            }
            return KServeV2Body.generate(request, random: &random)
        case .directory:
            preconditionFailure("folder specs are sampled by the pool, not generated")
        }
    }
}

/// One result slot per pool item, written from `concurrentPerform` iterations.
///
/// `@unchecked Sendable` because the buffer is shared across threads: it is safe since
/// iteration `i` is the only writer of slot `i`, and the slots are read only after
/// `concurrentPerform` has returned (which waits for every iteration).
private struct ResultSlots: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Result<Payload, PayloadError>?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    subscript(position: Int) -> Result<Payload, PayloadError>? {
        get { buffer[position] }
        nonmutating set { buffer[position] = newValue }
    }

    func release() {
        _ = buffer.deinitialize()
        buffer.deallocate()
    }
}
