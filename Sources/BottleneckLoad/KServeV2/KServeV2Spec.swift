/// What `kserve-v2:...` asks for: a KServe v2 inference request (`{"inputs":[{"name", "shape",
/// "datatype", "data"}]}`) with random values for every input the model's metadata lists.
///
/// Keys: `batch=1..8` (the first dimension when the model leaves it open, -1; default 1) and
/// `dim=16..128` (every other open dimension, a sequence length say; default 16). One request
/// uses one batch and one `dim` for all its inputs, so inputs that must agree (input_ids and
/// attention_mask) do. The inputs themselves come from `GET /v2/models/NAME` before the run
/// (``KServeV2Payloads``); a target of that form without `--payload` gets this spec's defaults.
public struct KServeV2Spec: Sendable, Equatable {
    /// One dimension of an input: fixed by the model, or chosen per request.
    public enum Dimension: Sendable, Equatable {
        case fixed(Int)
        case batch
        case open
    }

    public struct Input: Sendable, Equatable {
        public var name: String
        public var datatype: KServeV2Datatype
        public var shape: [Dimension]
    }

    /// The most elements one request may carry over all its inputs, as for `tensor:`.
    public static let maxElements = TensorSpec.maxElements

    public var batch: ClosedRange<Int>
    public var dim: ClosedRange<Int>
    /// Empty until the model's metadata is read.
    public var inputs: [Input]
    public var model: String
    /// The model's version when the target names one.
    public var version: String?
    /// True for a gRPC target: a `ModelInferRequest` protocol-buffers message (tensors in
    /// `raw_input_contents`), not JSON.
    public var protocolBuffers = false

    public init(batch: ClosedRange<Int> = 1...1, dim: ClosedRange<Int> = 16...16, inputs: [Input] = [], model: String = "") {
        self.batch = batch
        self.dim = dim
        self.inputs = inputs
        self.model = model
    }

    static let keys = ["batch", "dim", "weight"]

    static func parse(_ fields: inout SpecFields) throws(PayloadError) -> KServeV2Spec {
        var spec = KServeV2Spec()
        spec.batch = try fields.intRange("batch", default: spec.batch, limits: 1...65_536, form: "a batch size or range like 1..8")
        spec.dim = try fields.intRange("dim", default: spec.dim, limits: 1...1_048_576, form: "a size or range like 16..128 for the model's open (-1) dimensions")
        return spec
    }

    /// This spec with the inputs of `metadata`: its first open dimension of each input is the
    /// batch, later ones take `dim`. Throws for a datatype the protocol does not define, or a
    /// request larger than `maxElements`.
    func resolved(with metadata: KServeV2Metadata, source: String) throws(PayloadError) -> KServeV2Spec {
        guard !metadata.inputs.isEmpty else {
            throw .spec(source, "model \(metadata.name) lists no inputs in its metadata; nothing to send")
        }
        var spec = self
        spec.model = metadata.name
        spec.inputs = []
        for input in metadata.inputs {
            guard let datatype = KServeV2Datatype(rawValue: input.datatype.uppercased()) else {
                throw .spec(source, "input \(input.name) has datatype \(input.datatype), which KServe v2 does not define; use a tensor: payload and --body for this model")
            }
            let shape: [Dimension] = input.shape.enumerated().map { index, size in
                size >= 0 ? .fixed(size) : (index == 0 ? .batch : .open)
            }
            spec.inputs.append(Input(name: input.name, datatype: datatype, shape: shape))
        }
        // In Double: the sizes come from the server's metadata, and a hostile one must not wrap.
        let largest = spec.inputs.reduce(0.0) { total, input in
            total + input.shape.reduce(1.0) { product, dimension in
                switch dimension {
                case .fixed(let size): product * Double(max(size, 1))
                case .batch: product * Double(spec.batch.upperBound)
                case .open: product * Double(spec.dim.upperBound)
                }
            }
        }
        guard largest > 0, largest <= Double(Self.maxElements) else {
            throw .spec(source, "a request of model \(metadata.name) would carry \(largest < 9e18 ? String(Int64(largest)) : "over 9e18") values at batch \(spec.batch.upperBound) and dim \(spec.dim.upperBound); keep it at most \(Self.maxElements) (64M)")
        }
        return spec
    }

    /// The shape of `input` at this request's batch and open size.
    func shape(of input: Input, batch: Int, dim: Int) -> [Int] {
        input.shape.map { dimension in
            switch dimension {
            case .fixed(let size): size
            case .batch: batch
            case .open: dim
            }
        }
    }

    /// How the inputs read in a note: `input__0 FP32 [-1→1..8,3,224,224]`.
    public var inputsDescription: String {
        inputs.map { input in
            let dims = input.shape.map { dimension -> String in
                switch dimension {
                case .fixed(let size): String(size)
                case .batch: batch.lowerBound == batch.upperBound ? "\(batch.lowerBound)" : "\(batch.lowerBound)..\(batch.upperBound)"
                case .open: dim.lowerBound == dim.upperBound ? "\(dim.lowerBound)" : "\(dim.lowerBound)..\(dim.upperBound)"
                }
            }
            return "\(input.name) \(input.datatype.rawValue) [\(dims.joined(separator: ","))]"
        }.joined(separator: ", ")
    }
}
