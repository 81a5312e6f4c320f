/// What `tensor:...` asks for: a dense tensor of random values, as numeric model servers take.
///
/// Keys: `shape=1x3x224x224` (each dimension a number or a range such as `1..8` for a
/// varying batch), `dtype=float32|float64|int32|int64|uint8`, `encoding=json|binary`.
/// JSON is `{"shape":[...],"dtype":"float32","data":[...]}` with flat row-major data (the
/// shape of TF-Serving/KServe style bodies); binary is the raw little-endian values.
/// Defaults: `shape=1x3x224x224,dtype=float32,encoding=json`.
public struct TensorSpec: Sendable, Equatable {
    /// The element type.
    public enum DType: String, Sendable, Equatable, CaseIterable {
        case float32, float64, int32, int64, uint8

        /// Bytes per element in the binary encoding.
        public var size: Int {
            switch self {
            case .float32, .int32: 4
            case .float64, .int64: 8
            case .uint8: 1
            }
        }
    }

    /// How the tensor is put into the body.
    public enum Encoding: String, Sendable, Equatable {
        case json, binary
    }

    /// The most elements one tensor may have (64M), so a typo cannot exhaust memory.
    public static let maxElements = 64 * 1024 * 1024

    public var shape: [ClosedRange<Int>]
    public var dtype: DType
    public var encoding: Encoding

    public init(shape: [ClosedRange<Int>] = [1...1, 3...3, 224...224, 224...224], dtype: DType = .float32, encoding: Encoding = .json) {
        self.shape = shape
        self.dtype = dtype
        self.encoding = encoding
    }

    static let keys = ["shape", "dtype", "encoding", "weight"]

    static func parse(_ fields: inout SpecFields) throws(PayloadError) -> TensorSpec {
        var spec = TensorSpec()
        if let text = fields.take("shape") {
            let bad = PayloadError.spec(fields.spec, "shape must be dimensions joined by x like 1x3x224x224 (a dimension may be a range like 1..8)")
            var shape: [ClosedRange<Int>] = []
            for dim in text.split(separator: "x", omittingEmptySubsequences: false) {
                let ends = dim.split(separator: ".", omittingEmptySubsequences: false)
                let low: Int?
                let high: Int?
                if ends.count == 1 {
                    low = Int(ends[0]); high = low
                } else if ends.count == 3, ends[1].isEmpty {
                    low = Int(ends[0]); high = Int(ends[2])
                } else {
                    throw bad
                }
                guard let low, let high, low >= 1, low <= high else { throw bad }
                shape.append(low...high)
            }
            guard !shape.isEmpty, shape.count <= 8 else { throw bad }
            spec.shape = shape
        }
        spec.dtype = try fields.choice("dtype", default: spec.dtype, DType.allCases.map { ($0.rawValue, $0) })
        spec.encoding = try fields.choice("encoding", default: spec.encoding, [("json", .json), ("binary", .binary)])
        var largest = 1
        for dim in spec.shape {
            let (product, overflow) = largest.multipliedReportingOverflow(by: dim.upperBound)
            guard !overflow, product <= maxElements else {
                throw .spec(fields.spec, "shape has too many elements; keep a tensor at most \(maxElements) elements (64M)")
            }
            largest = product
        }
        return spec
    }
}
