import BottleneckCore
import Foundation

/// A model's metadata as `GET /v2/models/NAME` answers it (the Open Inference Protocol's
/// `$metadata_model_response`): the inputs a request must carry.
public struct KServeV2Metadata: Sendable, Equatable, Decodable {
    public struct Tensor: Sendable, Equatable, Decodable {
        public var name: String
        public var datatype: String
        /// `-1` where the size is chosen per request (the batch, a sequence length).
        public var shape: [Int]
    }

    public var name: String
    public var platform: String?
    public var inputs: [Tensor]

    /// Decodes the metadata or says, in one line, why this is not it.
    static func decode(_ body: [UInt8], from path: String) throws(LoadError) -> KServeV2Metadata {
        do {
            return try JSONDecoder().decode(KServeV2Metadata.self, from: Data(body))
        } catch {
            let start = String(decoding: body.prefix(80), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            throw LoadError(.badInput, "GET \(path) did not answer KServe v2 model metadata (name, inputs with name, datatype, shape): \"\(start)\"; is this a KServe v2 / Triton endpoint?")
        }
    }
}

/// The element types of the Open Inference Protocol, and how a random element of each is
/// written in a JSON body.
public enum KServeV2Datatype: String, Sendable, Equatable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", bf16 = "BF16", fp32 = "FP32", fp64 = "FP64"
    case bytes = "BYTES"

    /// The exclusive upper end of random integers: pixel-like for 8 bits, token-id-like for wider.
    var integerLimit: UInt64? {
        switch self {
        case .int8: 128
        case .uint8: 256
        case .uint16, .uint32, .uint64, .int16, .int32, .int64: 30_000
        default: nil
        }
    }
}
