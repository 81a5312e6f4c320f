import Foundation
import Testing

/// `bottleneck diagnose --from` and `rules check` on recorded runs, run as a user would: the exit
/// codes, the bad-input lines, and what the Server-Timing options change.
@Suite("bottleneck diagnose and rules check, run as a user would", .serialized)
struct DiagnoseCommandTests {
    static func fixture(_ name: String) -> String {
        CLI.packageRoot.appendingPathComponent("Tests/BottleneckTests/Fixtures/runs/\(name)").path
    }

    /// A scratch copy: diagnose writes diagnosis.json and evidence.json into the run directory.
    static func scratch(_ name: String) throws -> String {
        let directory = try CLI.temporaryDirectory().appendingPathComponent(name)
        try FileManager.default.copyItem(atPath: fixture(name), toPath: directory.path)
        return directory.path
    }

    static func badRulesDirectory(_ rule: String) throws -> URL {
        let directory = try CLI.temporaryDirectory()
        try rule.write(to: directory.appendingPathComponent("mine.yaml"), atomically: true, encoding: .utf8)
        return directory
    }

    static let rule = """
        - id: my-rule
          culprit: model
          cause: slow
          description: "The model is slow."
          when: WHEN
          severity: warn
          explain: "slow"

        """

    @Test(arguments: [
        ("timing.model_shar@knee >= 0.6", "mine.yaml:5:9: unknown metric \"timing.model_shar\" (did you mean \"timing.model_share\"?)"),
        ("timing.model_share@knee >= ", "mine.yaml:5:"),
        ("(timing.model_share@knee >= 0.6", "mine.yaml:5:"),
    ])
    func aBadRulesFileIsOneLineWithItsPositionAndExitCode2(when: String, mentions: String) throws {
        let directory = try Self.badRulesDirectory(Self.rule.replacingOccurrences(of: "WHEN", with: when))
        let file = directory.appendingPathComponent("mine.yaml").path
        for arguments in [["rules", "check", file], ["diagnose", "--from", try Self.scratch("slow-model"), "--rules", directory.path]] {
            let result = try CLI.run(arguments)
            #expect(result.status == 2, "\(arguments): exit \(result.status)")
            #expect(result.stderr.contains(mentions), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }

    @Test(arguments: [["--phase", "gpu=brain"], ["--phase", "gpu"], ["--slo", "p99=fast"], ["--fail-on", "gremlins"]])
    func badOptionsAreOneLineAndExitCode2(options: [String]) throws {
        let run = try Self.scratch("slow-model")
        let result = try CLI.run(["diagnose", "--from", run] + options)
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains(options[0]), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("bottleneck: "), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run + "/diagnosis.json"), "nothing is written on bad input")
    }

    @Test func exitCodesFollowTheVerdicts() throws {
        // The recorded slow-model run names the model once the SLO is tight; --fail-on model exits 1.
        let slow = try CLI.run(["diagnose", "--from", try Self.scratch("slow-model"), "--slo", "p99=50ms", "--fail-on", "model,server"])
        #expect(slow.status == 1, "\(slow.stdout)\(slow.stderr)")
        let relaxed = try CLI.run(["diagnose", "--from", try Self.scratch("slow-model"), "--fail-on", "proxy"])
        #expect(relaxed.status == 0, "\(relaxed.stdout)\(relaxed.stderr)")
        // The nginx-image run was recorded while the generator sent late (lag p99 37 ms of a p99 of
        // 46 ms at 100 req/s). Against 300 ms that changes nothing: valid, with a warning. Against
        // 40 ms the lateness alone may have broken the SLO: invalid, exit 3, said first.
        let late = try CLI.run(["diagnose", "--from", try Self.scratch("nginx-image"), "--json"])
        #expect(late.status == 0, "\(late.stderr)")
        let lateJSON = try #require(try JSONSerialization.jsonObject(with: Data(late.stdout.utf8)) as? [String: Any])
        #expect(lateJSON["valid"] as? Bool == true)
        #expect((lateJSON["warnings"] as? [String])?.contains { $0.contains("the generator sent late") } == true, "\(lateJSON["warnings"] ?? "")")
        let invalid = try CLI.run(["diagnose", "--from", try Self.scratch("nginx-image"), "--slo", "p99=40ms", "--json"])
        #expect(invalid.status == 3, "\(invalid.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(invalid.stdout.utf8)) as? [String: Any])
        #expect(json["valid"] as? Bool == false)
        #expect((json["verdicts"] as? [[String: Any]])?.first?["culprit"] as? String == "load-generator")
    }

    @Test func phaseMappingAndIgnoringServerTimingChangeTheEvidence() throws {
        // --phase model=preprocess counts the service's `model` phase as preprocessing.
        let remapped = try CLI.run(["diagnose", "--from", try Self.scratch("slow-model"), "--slo", "p99=50ms", "--phase", "model=preprocess", "--json"])
        #expect(remapped.status == 0, "\(remapped.stderr)")
        let verdicts = try #require((try JSONSerialization.jsonObject(with: Data(remapped.stdout.utf8)) as? [String: Any])?["verdicts"] as? [[String: Any]])
        #expect(verdicts.contains { $0["rule"] as? String == "preprocessing-bound" }, "\(verdicts.map { $0["rule"] ?? "" })")
        #expect(!verdicts.contains { $0["culprit"] as? String == "model" })

        // --no-server-timing: no phase metric in the evidence; the size fit is there instead.
        let run = try Self.scratch("slow-model")
        let untimed = try CLI.run(["diagnose", "--from", run, "--no-server-timing"])
        #expect(untimed.status == 0, "\(untimed.stderr)")
        let evidence = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/evidence.json"))) as? [String: Any])
        let steps = try #require(evidence["steps"] as? [[String: Double]])
        #expect(steps.allSatisfy { $0["timing.model_ms"] == nil && $0["timing.coverage"] == 0 })
        #expect((evidence["run"] as? [String: Double])?["fit.size_scaled_share"] != nil)
    }

    @Test func theReportShowsTheDiagnosisTheCommandMadeNotADefaultOne() throws {
        // A rule of the user's own that the default rules do not have: it fires on any run.
        let rules = try Self.badRulesDirectory(Self.rule.replacingOccurrences(of: "WHEN", with: "latency.p99_ms@first > 0")
            .replacingOccurrences(of: "my-rule", with: "house-rule-always"))
        let run = try Self.scratch("slow-model")
        let diagnosed = try CLI.run(["diagnose", "--from", run, "--rules", rules.path, "--report", "text"])
        #expect(diagnosed.status == 0, "\(diagnosed.stderr)")
        #expect(diagnosed.stdout.contains("house-rule-always"))
        // The report written beside it, and a later `report`, both show that diagnosis.
        let written = try String(contentsOfFile: run + "/report.txt", encoding: .utf8)
        #expect(written.contains("house-rule-always"), "\(written)")
        #expect(!written.contains("Diagnosed"))
        let later = try CLI.run(["report", run, "--format", "text"])
        #expect(later.status == 0, "\(later.stderr)")
        #expect(later.stdout.contains("house-rule-always"))
        // Asked to, the report diagnoses again with the default rules, and says so.
        let again = try CLI.run(["report", run, "--format", "text", "--slo", "p99=300ms"])
        #expect(!again.stdout.contains("house-rule-always"))
        #expect(again.stdout.contains("Diagnosed again now with the default rules and p99 ≤ 300 ms"), "\(again.stdout)")
    }
}
