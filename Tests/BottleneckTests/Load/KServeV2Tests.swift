import Foundation
import Logging
import Testing
import BottleneckCore
@testable import BottleneckLoad

/// KServe v2 (Open Inference Protocol) requests built from a model's metadata, checked by a
/// strict stand-in server (`Tests/Support/kserve_v2_server.py`) the way Triton checks them.
@Suite("KServe v2 requests", .serialized)
struct KServeV2Tests {
    static let serverScript = SupportScripts.path("kserve_v2_server.py")

    @Test func inferencePathsNameTheModelAndTheMetadataPath() {
        #expect(KServeV2Endpoint(path: "/v2/models/resnet/infer") == KServeV2Endpoint(path: "/v2/models/resnet/infer?x=1"))
        #expect(KServeV2Endpoint(path: "/v2/models/resnet/infer")?.metadataPath == "/v2/models/resnet")
        #expect(KServeV2Endpoint(path: "/v2/models/bert/versions/3/infer")?.metadataPath == "/v2/models/bert/versions/3")
        #expect(KServeV2Endpoint(path: "/predict") == nil)
        #expect(KServeV2Endpoint(path: "/v2/models/resnet") == nil)
        #expect(KServeV2Endpoint(path: "/v1/models/resnet:predict") == nil)
    }

    static let bert = KServeV2Metadata(name: "bert", platform: nil, inputs: [
        .init(name: "input_ids", datatype: "INT64", shape: [-1, -1]),
        .init(name: "mask", datatype: "BOOL", shape: [-1, -1]),
        .init(name: "text", datatype: "BYTES", shape: [-1, 1]),
    ])

    @Test func everyInputGetsItsShapeWithOneBatchAndOneOpenSizePerRequest() throws {
        let spec = try KServeV2Spec(batch: 1...4, dim: 8...32).resolved(with: Self.bert, source: "kserve-v2")
        #expect(spec.inputsDescription == "input_ids INT64 [1..4,8..32], mask BOOL [1..4,8..32], text BYTES [1..4,1]")
        for stream in 0..<20 {
            var random = SeededRandom(seed: 7, stream: UInt64(stream))
            let raw = KServeV2Body.generate(spec, random: &random)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(raw.bytes)) as? [String: Any])
            let inputs = try #require(object["inputs"] as? [[String: Any]])
            #expect(inputs.map { $0["name"] as? String } == ["input_ids", "mask", "text"])
            let shapes = inputs.map { $0["shape"] as? [Int] ?? [] }
            let (batch, open) = (shapes[0][0], shapes[0][1])
            #expect((1...4).contains(batch) && (8...32).contains(open))
            #expect(shapes == [[batch, open], [batch, open], [batch, 1]], "one batch and one open size for all inputs")
            for (input, shape) in zip(inputs, shapes) {
                let data = try #require(input["data"] as? [Any])
                #expect(data.count == shape.reduce(1, *))
            }
            // Integers and words, no floats, in a model of INT64, BOOL and BYTES inputs.
            #expect(!String(decoding: raw.bytes, as: UTF8.self).contains("."))
            #expect((inputs[2]["data"] as? [Any])?.allSatisfy { $0 is String } == true)
            #expect(inputs[1]["datatype"] as? String == "BOOL")
        }
    }

    @Test func theSpecTakesABatchAndAnOpenSizeAndNothingElse() throws {
        let spec = try PayloadSpec.parse("kserve-v2:batch=1..8,dim=32")
        #expect(spec.kind == .kserveV2(KServeV2Spec(batch: 1...8, dim: 32...32)) && spec.sizeVaries)
        #expect(try PayloadSpec.parse("kserve-v2").kind == .kserveV2(KServeV2Spec()))
        #expect(throws: PayloadError.self) { try PayloadSpec.parse("kserve-v2:shape=1x3") }
        #expect(throws: PayloadError.self) { try PayloadSpec.parse("kserve-v2:batch=0") }
    }

    @Test func aDatatypeOutsideTheProtocolOrAHugeRequestIsRefusedWithTheFix() {
        let odd = KServeV2Metadata(name: "m", platform: nil, inputs: [.init(name: "x", datatype: "COMPLEX64", shape: [1])])
        #expect(throws: PayloadError.self) { try KServeV2Spec().resolved(with: odd, source: "kserve-v2") }
        let huge = KServeV2Metadata(name: "m", platform: nil, inputs: [.init(name: "x", datatype: "FP32", shape: [-1, 4096, 4096])])
        do {
            _ = try KServeV2Spec(batch: 1...8).resolved(with: huge, source: "kserve-v2")
            Issue.record("a 134M-value request was accepted")
        } catch {
            #expect(error.message.contains("134217728 values at batch 8"), "\(error.message)")
        }
        #expect(throws: PayloadError.self) { try KServeV2Spec().resolved(with: .init(name: "m", platform: nil, inputs: []), source: "kserve-v2") }
    }

    @Test func aKServeV2PayloadNeedsAKServeV2Target() async throws {
        var options = LoadOptions()
        options.target = try TargetURL(parsing: "http://127.0.0.1:9/predict")
        options.payloads = [try PayloadSpec.parse("kserve-v2:batch=2")]
        await #expect(throws: LoadError.self) { _ = try await KServeV2Payloads.resolve(options) }
        // Any other target and payload is left alone, without a request.
        options.payloads = [try PayloadSpec.parse("text:tokens=4")]
        let (same, note) = try await KServeV2Payloads.resolve(options)
        #expect(same == options && note == nil)
    }

    // MARK: against the strict stand-in server

    struct StandIn {
        let process: TestChildProcess
        let port: Int

        init() throws {
            process = try TestChildProcess("/usr/bin/env", ["python3", KServeV2Tests.serverScript, "60"], captureOutput: true)
            port = try #require(process.readLine().flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        }

        func options(_ path: String, payloads: [String] = []) throws -> LoadOptions {
            var options = LoadOptions()
            options.target = try TargetURL(parsing: "http://127.0.0.1:\(port)\(path)")
            options.payloads = payloads.isEmpty ? nil : try payloads.map(PayloadSpec.parse)
            return options
        }

        func stats() async throws -> [String: Any] {
            let reply = try await SingleHTTPExchange.send(method: .GET, target: try TargetURL(parsing: "http://127.0.0.1:\(port)/stats"), path: "/stats",
                                                          body: nil, contentType: nil, headers: [], tls: TLSClientSettings(), timeoutNanoseconds: 5_000_000_000)
            return try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])
        }
    }

    @Test(.enabled(if: KServeV2Tests.hasPython || TestRequirements.enforced, "needs python3 for the stand-in KServe v2 server"), .timeLimit(.minutes(1)))
    func aTargetAloneLoadsTheModelWithRequestsItAccepts() async throws {
        let server = try StandIn()
        defer { server.process.stop() }
        // No --payload: the URL says KServe v2, the metadata says what to send.
        let (options, note) = try await KServeV2Payloads.resolve(try server.options("/v2/models/bert/infer"))
        #expect(note == "kserve-v2: model bert (python_stand_in) takes input_ids INT64 [1,16], attention_mask INT64 [1,16], token_type_ids BOOL [1,16]; each request carries random values of those shapes")
        var built = try LoadPlanBuilder.build(options, steps: [LoadStep(name: "c2", shape: .closed(concurrency: 2), duration: 1_000_000_000)],
                                              runTag: "abcdef03")
        built.plan.threads = 1
        #expect(built.plan.method == "POST")
        let engine = try await LoadEngine.prepare(plan: built.plan, sink: CollectingSink(), logger: Logger(label: "test"))
        let step = try #require(try await engine.run(observer: CollectingObserver()).first)
        await engine.shutdown()
        #expect(step.completed > 20 && step.errors.isEmpty, "\(step.completed) completed, errors \(step.errors)")
        #expect(step.statusClasses["2xx"] == step.completed, "every request accepted: \(step.statusClasses)")
        let stats = try await server.stats()
        #expect(stats["invalid"] as? Int == 0, "\(stats["errors"] ?? [])")
        // Varying sizes on a resnet: batch 1..4 reaches the server as such.
        let (resnet, _) = try await KServeV2Payloads.resolve(try server.options("/v2/models/resnet/infer", payloads: ["kserve-v2:batch=1..4"]))
        let pool = try PayloadPool(specs: resnet.payloads ?? [], wrapping: .raw, seed: 3, size: 16)
        #expect(Set(pool.payloads.map(\.label)).count == 4, "\(pool.payloads.map(\.label))")
    }

    @Test(.enabled(if: KServeV2Tests.hasPython || TestRequirements.enforced, "needs python3 for the stand-in KServe v2 server"), .timeLimit(.minutes(1)))
    func anUnknownModelOrARejectedRequestIsOneLineWithTheFix() async throws {
        let server = try StandIn()
        defer { server.process.stop() }
        do {
            _ = try await KServeV2Payloads.resolve(try server.options("/v2/models/resnt/infer"))
            Issue.record("an unknown model was accepted")
        } catch let error as LoadError {
            #expect(error.message == "model \"resnt\" not found: GET /v2/models/resnt answered 404 (\"Request for unknown model: 'resnt' is not found\"); check the model's name in the target URL")
        }
        do {
            _ = try await KServeV2Payloads.resolve(try server.options("/v2/models/seq32/infer"))
            Issue.record("a rejected trial request went unnoticed")
        } catch let error as LoadError {
            #expect(error.code == .badInput)
            #expect(error.message.hasPrefix("model \"seq32\" rejected a generated request (tokens INT32 [1,16]): 400 \"sequence length 16 is not supported; this model takes 32\"; set its open sizes with --payload kserve-v2:batch=N,dim=N"), "\(error.message)")
        }
        // With the size it asks for, it takes them.
        let (fixed, note) = try await KServeV2Payloads.resolve(try server.options("/v2/models/seq32/infer", payloads: ["kserve-v2:dim=32"]))
        #expect(note?.contains("tokens INT32 [1,32]") == true && fixed.payloads?.count == 1)
        // Not KServe v2 at all: the metadata is not there.
        do {
            _ = try await KServeV2Payloads.resolve(try server.options("/v2/models/resnet/versions/2/infer"))
            Issue.record("a 404 metadata was accepted")
        } catch let error as LoadError {
            #expect(error.message.hasPrefix("model \"resnet\" not found: GET /v2/models/resnet/versions/2 answered 404"), "\(error.message)")
        }
    }

    static var hasPython: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") }
}
