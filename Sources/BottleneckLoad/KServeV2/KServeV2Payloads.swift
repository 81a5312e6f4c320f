import Foundation
import BottleneckCore
import NIOHTTP1

/// Turns `kserve-v2` payloads into requests the model accepts, before any load: reads the
/// model's metadata (`GET /v2/models/NAME`), fills in its inputs, and sends one request to check
/// the server takes it. A target of the form `/v2/models/NAME/infer` with no `--payload` gets
/// `kserve-v2` by default, so pointing the tool at Triton, KServe or MLServer needs no body.
public enum KServeV2Payloads: Sendable {
    /// How long the metadata and the trial request may take (a model's first inference may warm it).
    static let timeoutNanoseconds: Int64 = 30_000_000_000

    /// `options` with their kserve-v2 payloads resolved, and a line for the user saying what
    /// will be sent; unchanged (and no line) when neither the target nor the payloads are KServe v2.
    public static func resolve(_ options: LoadOptions) async throws -> (options: LoadOptions, note: String?) {
        guard let target = options.target else { return (options, nil) }
        if target.isGRPC { return try await resolveGRPC(options, target: target) }
        var specs = options.payloads ?? []
        let asked = specs.contains { if case .kserveV2 = $0.kind { true } else { false } }
        guard let endpoint = KServeV2Endpoint(path: target.pathAndQuery) else {
            if asked {
                throw LoadError(.badInput, "payload kserve-v2 needs a KServe v2 inference URL, like http://HOST:8000/v2/models/NAME/infer (got \(target))")
            }
            return (options, nil)
        }
        if specs.isEmpty {
            specs = [PayloadSpec(kind: .kserveV2(KServeV2Spec()), source: "kserve-v2")]
        } else if !asked {
            return (options, nil)  // the user's own bodies, sent as they are
        }
        if let body = options.body, body != .raw {
            throw LoadError(.badInput, "--body \(body) wraps a file, but a kserve-v2 request is already the JSON the server reads: drop --body")
        }
        let headers = options.headers ?? []
        let tls = options.tls ?? TLSClientSettings()
        let metadataPath = endpoint.metadataPath
        let answer = try await SingleHTTPExchange.send(method: .GET, target: target, path: metadataPath, body: nil, contentType: nil,
                                                       headers: headers, tls: tls, timeoutNanoseconds: timeoutNanoseconds)
        guard answer.status == 200 else {
            if answer.status == 404 {
                throw LoadError(.badInput, "model \"\(endpoint.model)\" not found: GET \(metadataPath) answered 404 (\(serverSays(answer.body))); check the model's name in the target URL")
            }
            throw LoadError(.badInput, "GET \(metadataPath) answered \(answer.status) (\(serverSays(answer.body))): the model's metadata names the inputs to send; check the target URL and --header credentials")
        }
        let metadata = try KServeV2Metadata.decode(answer.body, from: metadataPath)
        var first: PayloadSpec?
        for index in specs.indices {
            guard case .kserveV2(let request) = specs[index].kind else { continue }
            specs[index].kind = .kserveV2(try request.resolved(with: metadata, source: specs[index].source))
            if first == nil { first = specs[index] }
        }
        var resolved = options
        resolved.payloads = specs
        guard let first, case .kserveV2(let request) = first.kind else { return (resolved, nil) }

        // One request before the load: a model that rejects what its own metadata describes
        // (a shape it cannot take at these sizes) is a clear error, not a run of 400s.
        let trial = try PayloadPool(specs: [first], wrapping: .raw, seed: options.seed ?? 1, size: 1).payloads[0]
        let reply = try await SingleHTTPExchange.send(method: .POST, target: target, path: target.pathAndQuery, body: trial.body,
                                                      contentType: trial.contentType, headers: headers, tls: tls,
                                                      timeoutNanoseconds: timeoutNanoseconds)
        if (400..<500).contains(reply.status) {
            throw LoadError(.badInput, "model \"\(metadata.name)\" rejected a generated request (\(request.inputsDescription)): \(reply.status) \(serverSays(reply.body)); set its open sizes with --payload kserve-v2:batch=N,dim=N, or send recorded bodies with --payload dir:PATH")
        }
        let platform = metadata.platform.map { " (\($0))" } ?? ""
        return (resolved, "kserve-v2: model \(metadata.name)\(platform) takes \(request.inputsDescription); each request carries random values of those shapes")
    }

    /// A gRPC target: `/v2/models/NAME` becomes calls of `inference.GRPCInferenceService/ModelInfer`
    /// with the model's inputs from `ModelMetadata` (and one trial call); any other path is a method
    /// called with the payloads' bytes as its messages (an empty message without a payload).
    static func resolveGRPC(_ options: LoadOptions, target: TargetURL) async throws -> (options: LoadOptions, note: String?) {
        var specs = options.payloads ?? []
        let asked = specs.contains { if case .kserveV2 = $0.kind { true } else { false } }
        if let body = options.body, body != .raw {
            throw LoadError(.badInput, "--body \(body) with a gRPC target: a gRPC call's payload is the message itself; drop --body")
        }
        guard let endpoint = KServeV2Endpoint(grpcPath: target.pathAndQuery) else {
            let parts = target.pathAndQuery.split(separator: "/")
            guard parts.count == 2, parts[0].contains(".") else {
                throw LoadError(.badInput, "gRPC target \(target): the path must be a method, /package.Service/Method, or a KServe v2 model, /v2/models/NAME")
            }
            if asked {
                throw LoadError(.badInput, "payload kserve-v2 over gRPC needs the model in the target, like grpc://HOST:8001/v2/models/NAME (got \(target))")
            }
            return (options, nil)
        }
        if specs.isEmpty {
            specs = [PayloadSpec(kind: .kserveV2(KServeV2Spec()), source: "kserve-v2")]
        } else if !asked {
            throw LoadError(.badInput, "gRPC target \(target) names a model, so the tool writes its ModelInfer messages: drop --payload, or give kserve-v2:batch=N,dim=N")
        }
        let headers = options.headers ?? []
        let tls = options.tls ?? TLSClientSettings()
        let answer = try await GRPCUnaryCall.call(target: target, method: KServeV2GRPCMessages.modelMetadata,
                                                  message: KServeV2GRPCMessages.modelRequest(model: endpoint.model, version: endpoint.version),
                                                  headers: headers, tls: tls, timeoutNanoseconds: timeoutNanoseconds)
        switch answer.grpcStatus {
        case 0?:
            break
        case 5?:
            throw LoadError(.badInput, "model \"\(endpoint.model)\" not found: ModelMetadata answered NOT_FOUND (\"\(answer.grpcMessage.prefix(160))\"); check the model's name in the target URL")
        case 12?:
            throw LoadError(.badInput, "\(target.hostHeader) does not serve inference.GRPCInferenceService (UNIMPLEMENTED): is this Triton's or KServe's gRPC port?")
        case let status?:
            throw LoadError(.badInput, "ModelMetadata for \"\(endpoint.model)\" failed: \(GRPCFraming.statusName(status)) (\"\(answer.grpcMessage.prefix(160))\"); check the target URL and --header credentials")
        case nil:
            throw LoadError(.badInput, "\(target.hostHeader) answered HTTP \(answer.httpStatus) without a gRPC status: not a gRPC server on this port?")
        }
        let metadata: KServeV2Metadata
        do {
            metadata = try KServeV2GRPCMessages.decodeMetadata(answer.message)
        } catch {
            throw LoadError(.badInput, "ModelMetadata's reply is not a KServe v2 ModelMetadataResponse; is this a Triton or KServe gRPC port?")
        }
        for index in specs.indices {
            guard case .kserveV2(var request) = specs[index].kind else { continue }
            request = try request.resolved(with: metadata, source: specs[index].source)
            request.version = endpoint.version
            request.protocolBuffers = true
            specs[index].kind = .kserveV2(request)
        }
        var resolved = options
        resolved.payloads = specs
        resolved.target = target.with(pathAndQuery: KServeV2GRPCMessages.modelInfer)
        guard case .kserveV2(let request) = specs[0].kind else { return (resolved, nil) }
        let trial = try PayloadPool(specs: [specs[0]], wrapping: .raw, seed: options.seed ?? 1, size: 1).payloads[0]
        let reply = try await GRPCUnaryCall.call(target: target, method: KServeV2GRPCMessages.modelInfer, message: trial.body,
                                                 headers: headers, tls: tls, timeoutNanoseconds: timeoutNanoseconds)
        if let status = reply.grpcStatus, status != 0 {
            throw LoadError(.badInput, "model \"\(metadata.name)\" rejected a generated ModelInfer (\(request.inputsDescription)): \(GRPCFraming.statusName(status)) \"\(reply.grpcMessage.prefix(160))\"; set its open sizes with --payload kserve-v2:batch=N,dim=N")
        }
        let platform = metadata.platform.map { " (\($0))" } ?? ""
        return (resolved, "kserve-v2 over gRPC: model \(metadata.name)\(platform) takes \(request.inputsDescription); each ModelInfer carries random values of those shapes")
    }

    /// The server's own words: the `error` field of a JSON body (the protocol's error form), or the
    /// body's start.
    static func serverSays(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let error = object["error"] as? String {
            return "\"\(error.prefix(160))\""
        }
        let text = String(decoding: body.prefix(120), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? "no body" : "\"\(text)\""
    }
}
