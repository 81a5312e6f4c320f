/// A KServe v2 (Open Inference Protocol) inference URL: `/v2/models/NAME[/versions/V]/infer`, as
/// Triton, KServe, MLServer, TorchServe and OpenVINO Model Server serve it over REST.
public struct KServeV2Endpoint: Sendable, Equatable {
    public var model: String
    public var version: String?

    /// The endpoint of an inference path, or nil when the path is something else.
    public init?(path pathAndQuery: String) {
        let path = pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch parts.count {
        case 4 where parts[0] == "v2" && parts[1] == "models" && parts[3] == "infer":
            model = parts[2]
            version = nil
        case 6 where parts[0] == "v2" && parts[1] == "models" && parts[3] == "versions" && parts[5] == "infer":
            model = parts[2]
            version = parts[4]
        default:
            return nil
        }
    }

    /// The model a gRPC target names: `/v2/models/NAME[/versions/V]`, `/infer` at the end allowed
    /// (the tool calls `inference.GRPCInferenceService/ModelInfer` for it).
    public init?(grpcPath pathAndQuery: String) {
        let path = pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.last == "infer" { parts.removeLast() }
        switch parts.count {
        case 3 where parts[0] == "v2" && parts[1] == "models":
            model = parts[2]
            version = nil
        case 5 where parts[0] == "v2" && parts[1] == "models" && parts[3] == "versions":
            model = parts[2]
            version = parts[4]
        default:
            return nil
        }
    }

    /// `GET` here answers the model's metadata: its inputs' names, datatypes and shapes.
    public var metadataPath: String {
        "/v2/models/\(model)" + (version.map { "/versions/\($0)" } ?? "")
    }
}
