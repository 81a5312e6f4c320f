import BottleneckCore
import Foundation

/// Where a KServe v2 / Triton server reports its own time per inference, cumulatively: the
/// `ModelStatistics` call over gRPC, `GET /v2/models/NAME[/versions/V]/stats` over REST. The
/// durations are the server's phases (queue, compute_input, compute_infer, compute_output), so
/// a service without Server-Timing still shows where its time goes.
public struct ModelStatisticsSource: Sendable, Equatable {
    public var target: TargetURL
    public var model: String
    public var version: String?
    public var headers: [RequestHeader]
    public var tls: TLSClientSettings

    /// The source for a run's resolved options: their kserve-v2 payload names the model; nil
    /// for any other target.
    public init?(options: LoadOptions) {
        guard let target = options.target else { return nil }
        for spec in options.payloads ?? [] {
            if case .kserveV2(let request) = spec.kind, !request.model.isEmpty {
                self.target = target
                model = request.model
                version = request.version
                headers = options.headers ?? []
                tls = options.tls ?? TLSClientSettings()
                return
            }
        }
        return nil
    }

    /// "gRPC ModelStatistics" or the REST path, for notes and the run directory.
    public var description: String {
        target.isGRPC ? "gRPC ModelStatistics of \(model)" : "GET \(restPath)"
    }

    var restPath: String { "/v2/models/\(model)" + (version.map { "/versions/\($0)" } ?? "") + "/stats" }

    /// The server's totals now.
    public func fetch() async throws -> ModelStatisticsSnapshot {
        if target.isGRPC {
            let reply = try await GRPCUnaryCall.call(target: target, method: KServeV2GRPCMessages.modelStatistics,
                                                     message: KServeV2GRPCMessages.modelRequest(model: model, version: version),
                                                     headers: headers, tls: tls, timeoutNanoseconds: 5_000_000_000)
            guard reply.grpcStatus == 0 else {
                throw LoadError(.badInput, "ModelStatistics answered \(GRPCFraming.statusName(reply.grpcStatus ?? 2)) (\"\(reply.grpcMessage.prefix(120))\")")
            }
            return try ModelStatisticsSnapshot(protobuf: reply.message)
        }
        let answer = try await SingleHTTPExchange.send(method: .GET, target: target, path: restPath, body: nil, contentType: nil,
                                                       headers: headers, tls: tls, timeoutNanoseconds: 5_000_000_000)
        guard answer.status == 200 else {
            throw LoadError(.badInput, "GET \(restPath) answered \(answer.status): the server offers no model statistics")
        }
        return try ModelStatisticsSnapshot(json: answer.body)
    }
}

/// A model's cumulative statistics at one moment: successful inferences and the nanoseconds
/// they spent in each phase (summed over the model's versions).
public struct ModelStatisticsSnapshot: Sendable, Equatable {
    public var inferences: UInt64 = 0
    public var queueNs: UInt64 = 0
    public var computeInputNs: UInt64 = 0
    public var computeInferNs: UInt64 = 0
    public var computeOutputNs: UInt64 = 0

    public init(inferences: UInt64 = 0, queueNs: UInt64 = 0, computeInputNs: UInt64 = 0, computeInferNs: UInt64 = 0, computeOutputNs: UInt64 = 0) {
        self.inferences = inferences
        self.queueNs = queueNs
        self.computeInputNs = computeInputNs
        self.computeInferNs = computeInferNs
        self.computeOutputNs = computeOutputNs
    }

    struct Malformed: Error {}

    /// `ModelStatisticsResponse { repeated ModelStatistics model_stats = 1 { inference_stats = 6 {
    /// success = 1, queue = 3, compute_input = 4, compute_infer = 5, compute_output = 6:
    /// StatisticDuration { count = 1; ns = 2; } } } }`.
    package init(protobuf bytes: [UInt8]) throws {
        var response = ProtobufReader(bytes)
        while let (field, value) = try response.next() {
            guard field == 1, case .bytes(let model) = value else { continue }
            var statistics = ProtobufReader(model)
            while let (modelField, modelValue) = try statistics.next() {
                guard modelField == 6, case .bytes(let infer) = modelValue else { continue }
                var phases = ProtobufReader(infer)
                while let (phase, duration) = try phases.next() {
                    guard case .bytes(let pair) = duration else { continue }
                    var reader = ProtobufReader(pair)
                    var count: UInt64 = 0, ns: UInt64 = 0
                    while let (durationField, number) = try reader.next() {
                        if durationField == 1 { count = try ProtobufReader.uint64(number) }
                        if durationField == 2 { ns = try ProtobufReader.uint64(number) }
                    }
                    add(phase: phase, count: count, ns: ns)
                }
            }
        }
    }

    /// Triton's REST form: `{"model_stats":[{"inference_stats":{"success":{"count":N,"ns":N},
    /// "queue":{…},"compute_input":{…},"compute_infer":{…},"compute_output":{…}}}]}`.
    package init(json bytes: [UInt8]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let models = object["model_stats"] as? [[String: Any]] else { throw Malformed() }
        let phases = ["success": 1, "queue": 3, "compute_input": 4, "compute_infer": 5, "compute_output": 6]
        for model in models {
            guard let stats = model["inference_stats"] as? [String: Any] else { continue }
            for (name, phase) in phases {
                guard let duration = stats[name] as? [String: Any] else { continue }
                add(phase: phase, count: (duration["count"] as? NSNumber)?.uint64Value ?? 0, ns: (duration["ns"] as? NSNumber)?.uint64Value ?? 0)
            }
        }
    }

    private mutating func add(phase: Int, count: UInt64, ns: UInt64) {
        switch phase {
        case 1: inferences &+= count
        case 3: queueNs &+= ns
        case 4: computeInputNs &+= ns
        case 5: computeInferNs &+= ns
        case 6: computeOutputNs &+= ns
        default: break
        }
    }

    /// What happened between `earlier` and this snapshot (zero where a counter went back: a restart).
    public func since(_ earlier: ModelStatisticsSnapshot) -> ModelStatisticsSnapshot {
        func delta(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a - b : 0 }
        return ModelStatisticsSnapshot(inferences: delta(inferences, earlier.inferences), queueNs: delta(queueNs, earlier.queueNs),
                                       computeInputNs: delta(computeInputNs, earlier.computeInputNs),
                                       computeInferNs: delta(computeInferNs, earlier.computeInferNs),
                                       computeOutputNs: delta(computeOutputNs, earlier.computeOutputNs))
    }
}
