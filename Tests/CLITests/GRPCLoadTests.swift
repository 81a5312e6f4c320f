import Foundation
import Testing

/// `bottleneck load` against a gRPC KServe v2 server (a strict grpcio stand-in): the model's
/// inputs read with ModelMetadata, every ModelInfer accepted, gRPC statuses counted like HTTP's,
/// and a wrong model or path a one-line error.
@Suite("bottleneck load over gRPC (KServe v2)", .serialized)
struct GRPCLoadTests {
    static let python = CLI.packageRoot.appendingPathComponent("testbed/.venv/bin/python").path
    static let enabled = FileManager.default.isExecutableFile(atPath: python) || TestRequirements.enforced
    static let script = CLI.packageRoot.appendingPathComponent("Tests/Support/kserve_v2_grpc_server.py").path

    /// The stand-in, running, and its port.
    func server() throws -> (BackgroundProcess, Int) {
        let process = try BackgroundProcess(Self.python, [Self.script, "120"])
        #expect(process.waitForStandardError(containing: "port ", timeout: 20), "\(process.stderr)")
        let line = process.stderr.split(separator: "\n").first { $0.hasPrefix("port ") } ?? ""
        return (process, Int(line.dropFirst(5)) ?? 0)
    }

    func step(_ arguments: [String]) throws -> (step: [String: Any], stderr: String, run: URL) {
        let directory = try CLI.temporaryDirectory()
        let run = directory.appendingPathComponent("run")
        let result = try CLI.run(["load"] + arguments + ["--json", "--out", run.path], in: directory)
        #expect(result.status == 0 || result.status == 3, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((summary["target"] as? String)?.hasSuffix("/inference.GRPCInferenceService/ModelInfer") == true)
        return (try #require((summary["steps"] as? [[String: Any]])?.first), result.stderr, run)
    }

    @Test(.enabled(if: enabled, "needs the test bed's Python with grpcio (make setup installs it)"))
    func modelInferCallsBuiltFromTheMetadataAreAllAccepted() throws {
        let (process, port) = try server()
        defer { process.interrupt() }
        let resnet = try step(["--target", "grpc://127.0.0.1:\(port)/v2/models/resnet", "--concurrency", "4", "--streams", "2", "--duration", "1s"])
        let completed = resnet.step["completed"] as? Int ?? 0
        #expect(completed > 50 && (resnet.step["statusClasses"] as? [String: Int])?["2xx"] == completed, "\(resnet.step)")
        #expect(resnet.step["connectionsOpened"] as? Int == 2)
        #expect(resnet.stderr.contains("kserve-v2 over gRPC: model resnet (python_stand_in) takes input__0 FP32 [1,3,8,8]"), "\(resnet.stderr)")
        // The server's own statistics for the step: it sleeps 1 ms preparing the input and 2 ms in the model.
        let statistics = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: resnet.run.appendingPathComponent("model-statistics.json"))) as? [String: Any])
        let first = try #require((statistics["steps"] as? [[String: Any]])?.first)
        #expect(statistics["source"] as? String == "gRPC ModelStatistics of resnet")
        #expect((first["inferences"] as? Int ?? 0) >= completed - 8, "\(first)")
        #expect((2.0...3.5).contains(first["computeInferMs"] as? Double ?? 0) && (1.0...2.5).contains(first["computeInputMs"] as? Double ?? 0), "\(first)")
        // The evidence takes them as the phases where no Server-Timing came.
        let diagnose = try CLI.run(["diagnose", "--from", resnet.run.path, "--json"])
        #expect(diagnose.status == 0, "\(diagnose.stderr)")
        let evidence = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: resnet.run.appendingPathComponent("evidence.json"))) as? [String: Any])
        let metrics = try #require((evidence["steps"] as? [[String: Any]])?.first)
        #expect((metrics["timing.from_model_statistics"] as? NSNumber)?.doubleValue == 1, "\(metrics)")
        #expect(abs(((metrics["timing.model_ms"] as? NSNumber)?.doubleValue ?? 0) - (first["computeInferMs"] as? Double ?? -1)) < 0.01)
        #expect(((metrics["timing.model_work_share"] as? NSNumber)?.doubleValue ?? 0) > 0.5, "\(metrics)")
        // Open sizes chosen per call, the same for the inputs that must agree.
        let bert = try step(["--target", "grpc://127.0.0.1:\(port)/v2/models/bert/infer", "--payload", "kserve-v2:batch=1..4,dim=8..64",
                             "--concurrency", "2", "--duration", "1s"])
        let answered = bert.step["completed"] as? Int ?? 0
        #expect(answered > 20 && (bert.step["statusClasses"] as? [String: Int])?["2xx"] == answered, "\(bert.step)")
        process.interrupt()
        #expect(process.stderr.contains("invalid 0"), "\(process.stderr)")
    }

    @Test(.enabled(if: enabled, "needs the test bed's Python with grpcio (make setup installs it)"))
    func aFailedCallCountsAsItsHTTPClassAndBadTargetsAreOneLine() throws {
        let (process, port) = try server()
        defer { process.interrupt() }
        // A generic method with an empty message: the server answers NOT_FOUND (no model named ""), a 4xx.
        let generic = try step(["--target", "grpc://127.0.0.1:\(port)/inference.GRPCInferenceService/ModelInfer",
                                "--concurrency", "1", "--duration", "500ms"])
        #expect((generic.step["errors"] as? [String: Int])?["http4xx"] ?? 0 > 10, "\(generic.step)")
        let unknown = try CLI.run(["load", "--target", "grpc://127.0.0.1:\(port)/v2/models/resnt", "--concurrency", "1", "--duration", "1s"])
        #expect(unknown.status == 2 && unknown.stderr.contains("model \"resnt\" not found: ModelMetadata answered NOT_FOUND"), "\(unknown.stderr)")
        let path = try CLI.run(["load", "--target", "grpc://127.0.0.1:\(port)/predict", "--concurrency", "1", "--duration", "1s"])
        #expect(path.status == 2 && path.stderr.contains("the path must be a method, /package.Service/Method, or a KServe v2 model"), "\(path.stderr)")
        let method = try CLI.run(["load", "--target", "grpc://127.0.0.1:\(port)/v2/models/resnet", "-X", "GET", "--concurrency", "1", "--duration", "1s"])
        #expect(method.status == 2 && method.stderr.contains("every gRPC call is a POST"), "\(method.stderr)")
    }
}
