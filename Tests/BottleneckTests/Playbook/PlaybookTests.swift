import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Playbooks")
struct PlaybookTests {
    static let playbooksDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("playbooks")

    static func ruleIDs() throws -> Set<String> {
        Set(try DefaultRules.load(catalog: EvidenceCatalog.catalog).map(\.id))
    }

    @Test func embeddedPlaybooksMatchTheFilesInTheRepository() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.playbooksDirectory.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".md") }.sorted()
        #expect(DefaultPlaybooks.fileNames == files, "run scripts/embed-rules.sh")
        for file in files {
            let text = try String(contentsOf: Self.playbooksDirectory.appendingPathComponent(file), encoding: .utf8)
            #expect(DefaultPlaybooks.text(of: file) == text, "\(file) changed: run scripts/embed-rules.sh")
        }
    }

    @Test func theSevenPlaybooksParseWithGuidesAndExamples() throws {
        let library = try PlaybookLibrary.embedded(ruleIDs: try Self.ruleIDs())
        #expect(library.playbooks.map(\.name) == ["capacity-plan", "input-size-and-memory", "load-generator-check", "network-check",
                                                   "proxy-overhead", "python-workers-and-gil", "slow-endpoint"])
        for playbook in library.playbooks {
            #expect(library.documents[playbook.guide] != nil, "\(playbook.name): guide \(playbook.guide)")
            let example = try #require(playbook.example, "\(playbook.name) has no example")
            #expect(FileManager.default.fileExists(atPath: Self.playbooksDirectory.appendingPathComponent(example).path),
                    "\(playbook.name): its example \(example) is missing")
            if playbook.kind == .diagnose {
                #expect(!playbook.steps.isEmpty && !playbook.rules.isEmpty)
                #expect(playbook.outcomes[Playbook.passOutcome] != nil)
                for rule in playbook.rules { #expect(playbook.outcomes[rule] != nil, "\(playbook.name): no outcome for \(rule)") }
            }
        }
        // The folder form reads the same playbooks.
        let fromFolder = try PlaybookLibrary.load(directory: Self.playbooksDirectory.path, ruleIDs: try Self.ruleIDs())
        #expect(fromFolder.playbooks == library.playbooks)
    }

    static let minimal = """
        name: t
        title: T
        summary: S
        guide: t.md
        steps:
          - {id: baseline, kind: baseline, duration: 2s}
          - {id: sweep, kind: closed, concurrency: [2, 4], duration: 1s}
          - {id: rates, kind: open, rates: [10, 20], arrivals: uniform, duration: 3s}
          - {id: ramp, kind: ramp}
        rules: [model-bound]
        outcomes:
          model-bound: "the model"
          pass: "fine"
        """

    @Test func stepsBecomeLoadStepsAndTheRampIsAdaptive() throws {
        let playbook = try PlaybookFile.parse(Self.minimal, source: "t.yaml", ruleIDs: try Self.ruleIDs())
        let plan = PlaybookRun.plan(playbook, budgetSeconds: 60, sloP99Milliseconds: 300)
        #expect(plan.steps.map(\.name) == ["baseline", "sweep-c2", "sweep-c4", "rates-10", "rates-20"])
        #expect(plan.steps[0].shape == .closed(concurrency: 1) && plan.steps[0].duration == 2_000_000_000)
        #expect(plan.steps[2].shape == .closed(concurrency: 4))
        #expect(plan.steps[4].shape == .open(rate: 20, arrivals: .uniform) && plan.steps[4].duration == 3_000_000_000)
        #expect(plan.nextStep != nil)
    }

    @Test(arguments: [
        ("name: t\ntitle: T\nsummary: S\nguide: t.md\nstep: []\n", "t.yaml:5:1: unknown key \"step\"; did you mean \"steps\"?"),
        (minimal.replacingOccurrences(of: "rules: [model-bound]", with: "rules: [model-bund]"), "t.yaml:10:9: unknown rule \"model-bund\"; did you mean \"model-bound\"?"),
        (minimal.replacingOccurrences(of: "kind: closed", with: "kind: closd"), "t.yaml:7:23: step sweep: kind must be one of baseline, closed, open, ramp, size-sweep"),
        (minimal.replacingOccurrences(of: "duration: 2s", with: "duration: 2 parsecs"), "t.yaml:6:46: step baseline: duration \"2 parsecs\""),
        (minimal.replacingOccurrences(of: "  - {id: ramp, kind: ramp}\n", with: "").replacingOccurrences(of: "  - {id: baseline", with: "  - {id: ramp, kind: ramp}\n  - {id: baseline"),
         "t.yaml:7:5: step baseline comes after ramp; ramp and size-sweep are adaptive"),
        (minimal.replacingOccurrences(of: "  pass: \"fine\"\n", with: "").replacingOccurrences(of: "  pass: \"fine\"", with: ""), "outcomes needs a pass text"),
        (minimal.replacingOccurrences(of: "model-bound: \"the model\"", with: "model-dominates-latency: \"x\""), "t.yaml:12:3: outcome \"model-dominates-latency\" names no rule of this playbook"),
        ("- a list\n", "t.yaml:1:1: a playbook is a mapping"),
        ("name: [unclosed\n", "t.yaml: not valid YAML"),
    ])
    func badPlaybooksGiveOneLineWithThePosition(text: String, expected: String) {
        do {
            _ = try PlaybookFile.parse(text, source: "t.yaml", ruleIDs: try Self.ruleIDs())
            Issue.record("parsed: \(text)")
        } catch let error as PlaybookError {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("\n"))
            #expect(error.exitCode == 2)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func outcomesFollowTheVerdictsOfARecordedRun() throws {
        let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("runs/slow-model").path
        let library = try PlaybookLibrary.embedded(ruleIDs: try Self.ruleIDs())
        let all = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        let evidence = try RunEvidence.load(directory: directory, sloP99Milliseconds: 100)

        // slow-endpoint names the model and shows its own text for it.
        let slow = try library.playbook(named: "slow-endpoint")
        let outcome = PlaybookOutcome(playbook: slow, diagnosis: DiagnosisResult.evaluate(evidence: evidence, rules: PlaybookRun.rules(of: slow, from: all)))
        let first = try #require(outcome.outcomes.first)
        #expect(first.rule.hasPrefix("model"))
        #expect(first.text == slow.outcomes[first.rule])
        #expect(outcome.renderText().contains("→ [\(first.rule)]"))

        // proxy-overhead does not apply the model rules: nothing of its own fires, it passes — and says the SLO broke.
        let proxy = try library.playbook(named: "proxy-overhead")
        let rules = PlaybookRun.rules(of: proxy, from: all)
        #expect(!rules.contains { $0.culprit == .model })
        #expect(rules.contains { $0.id == "loadgen-cpu-saturated" })
        let passed = PlaybookOutcome(playbook: proxy, diagnosis: DiagnosisResult.evaluate(evidence: evidence, rules: rules))
        #expect(passed.outcomes.map(\.rule) == [Playbook.passOutcome])
        #expect(passed.outcomes[0].text.contains("the SLO broke"))
    }
}
