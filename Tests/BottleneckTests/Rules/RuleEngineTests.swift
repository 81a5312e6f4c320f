import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Rule engine")
struct RuleEngineTests {
    static let rules = """
    - id: loadgen-cpu-saturated
      culprit: load-generator
      cause: client-cpu
      when: client.process.cpu_cores / client.cpu.allowed_cores >= 0.9 and load.achieved_ratio < 0.97
      severity: {warn: 0.8, high: 0.9, critical: 0.97}
      explain: "{client.process.cpu_cores:.2f} of {client.cpu.allowed_cores} cores; {load.achieved_ratio:.0%} achieved at step {step}"
      next: [playbooks/loadgen-saturated.md]
    - id: server-queueing
      culprit: server
      cause: worker-queue
      when: server.queue.p99_ms@knee > 50
      severity: {warn: 50, high: 100, critical: 400}
      explain: "queue p99 {server.queue.p99_ms@knee} ms at the knee"
    - id: network-trouble
      culprit: network
      cause: retransmits
      when: net.retransmits > 0 or latency.p99_ms > 1000
    - id: model-slow
      culprit: model
      cause: inference
      when: model.p99_ms@knee > 100
    """

    static let evidence = RulesFakeEvidence(
        values: [
            "client.process.cpu_cores": [0.5, 0.95, 0.99],
            "client.cpu.allowed_cores": [1, 1, 1],
            "load.achieved_ratio": [1.0, 0.96, 0.8],
            "server.queue.p99_ms": [10, 120, 300],
            "latency.p99_ms": [100, 2000, 3000],
        ],
        stepCount: 3, kneeStep: 1)

    func outcome() throws -> DiagnosisOutcome {
        let rules = try RuleFile.parse(text: Self.rules, source: "rules/test.yaml", catalog: RulesTestCatalog.catalog)
        return RuleEngine(rules: rules, catalog: RulesTestCatalog.catalog).evaluate(Self.evidence)
    }

    @Test func rankedVerdictsWithEvidence() throws {
        let outcome = try outcome()
        #expect(outcome.verdicts.map(\.rule) == ["loadgen-cpu-saturated", "server-queueing", "network-trouble"])
        #expect(outcome.verdicts.map(\.severity) == [.critical, .high, .warn])
        #expect(outcome.verdicts.map(\.confidence) == [0.682, 1, 0.75])
        #expect(outcome.verdicts.map(\.step) == [2, 1, 1])
        #expect(outcome.invalid)
        #expect(outcome.missingEvidence == ["model.p99_ms@knee", "net.retransmits"])

        let loadgen = outcome.verdicts[0]
        #expect(loadgen.culprit == .loadGenerator)
        #expect(loadgen.cause == "client-cpu")
        #expect(loadgen.next == ["playbooks/loadgen-saturated.md"])
        #expect(loadgen.explain == "0.99 of 1 cores; 80% achieved at step 2")
        #expect(loadgen.evidence == [
            EvidenceItem(metric: "client.process.cpu_cores / client.cpu.allowed_cores", value: 0.99, threshold: 0.9,
                         comparison: ">=", thresholdExpression: "0.9", holds: true),
            EvidenceItem(metric: "load.achieved_ratio", value: 0.8, threshold: 0.97,
                         comparison: "<", thresholdExpression: "0.97", holds: true),
        ])
        #expect(outcome.verdicts[1].explain == "queue p99 120 ms at the knee")
        #expect(outcome.verdicts[2].missing == ["net.retransmits"])
        // The verdict rests on the branch that held; the missing one is listed as missing, not as evidence.
        #expect(outcome.verdicts[2].evidence.map(\.holds) == [true])
    }

    @Test func withoutLoadGeneratorVerdictTheRunIsValid() throws {
        var evidence = Self.evidence
        evidence.values["client.process.cpu_cores"] = [0.1, 0.1, 0.1]
        let rules = try RuleFile.parse(text: Self.rules, source: "r.yaml", catalog: RulesTestCatalog.catalog)
        let outcome = RuleEngine(rules: rules, catalog: RulesTestCatalog.catalog).evaluate(evidence)
        #expect(!outcome.invalid)
        #expect(outcome.verdicts.map(\.rule) == ["server-queueing", "network-trouble"])
    }

    @Test func noStepsMeansRunLevelValues() throws {
        let rules = try RuleFile.parse(text: "- id: r\n  culprit: proxy\n  cause: x\n  when: a > 1\n  explain: a={a} step={step}\n",
                                       source: "r.yaml", catalog: RulesTestCatalog.catalog)
        let outcome = RuleEngine(rules: rules, catalog: RulesTestCatalog.catalog).evaluate(RulesFakeEvidence(runValues: ["a": 3]))
        #expect(outcome.verdicts.map(\.explain) == ["a=3 step=n/a"])
        #expect(outcome.verdicts.first?.step == nil)
    }

    @Test func severityOnExpression() throws {
        let text = """
        - id: r
          culprit: server
          cause: x
          when: a > 0
          severity: {on: b / c, warn: 0.5, high: 0.7, critical: 0.9}
        """
        let rules = try RuleFile.parse(text: text, source: "r.yaml", catalog: RulesTestCatalog.catalog)
        let evidence = RulesFakeEvidence(runValues: ["a": 1, "b": 8, "c": 10])
        #expect(RuleEngine(rules: rules, catalog: RulesTestCatalog.catalog).evaluate(evidence).verdicts.first?.severity == .high)
    }

    @Test(arguments: [
        // (spec, value, first operator, expected)
        (SeveritySpec(warn: 0.8, high: 0.9, critical: 0.97), 0.85, RuleExpression.ComparisonOperator.greaterOrEqual, Severity.warn),
        (SeveritySpec(warn: 0.8, high: 0.9, critical: 0.97), 0.9, .greaterOrEqual, .high),
        (SeveritySpec(warn: 0.8, high: 0.9, critical: 0.97), 0.99, .greaterOrEqual, .critical),
        (SeveritySpec(warn: 0.8, high: 0.9, critical: 0.97), 0.5, .greaterOrEqual, .info),
        // Falling levels: lower is worse (e.g. achieved ratio).
        (SeveritySpec(warn: 0.97, high: 0.9, critical: 0.5), 0.8, .less, .high),
        (SeveritySpec(warn: 0.97, high: 0.9, critical: 0.5), 0.4, .less, .critical),
        // One level: the operator gives the direction.
        (SeveritySpec(high: 10), 5, .less, .high),
        (SeveritySpec(high: 10), 5, .greater, .info),
        (SeveritySpec(fixed: .critical), 0, .greater, .critical),
        (SeveritySpec(), 1, .greater, .warn),
    ])
    func severityLevels(spec: SeveritySpec, value: Double, op: RuleExpression.ComparisonOperator, expected: Severity) {
        #expect(spec.severity(for: value, firstOperator: op) == expected)
    }

    @Test func missingSeverityValueGivesLowestConfiguredLevel() {
        #expect(SeveritySpec(high: 0.9, critical: 0.97).severity(for: nil, firstOperator: .greater) == .high)
    }

    static func record(_ lhs: Double?, _ op: RuleExpression.ComparisonOperator, _ rhs: Double?) -> RuleComparisonRecord {
        let holds = lhs.flatMap { l in rhs.map { op.holds(l, $0) } }
        return RuleComparisonRecord(left: "x", op: op, right: "y", lhs: lhs, rhs: rhs, holds: holds, supportsFiring: holds ?? false, step: nil)
    }

    @Test(arguments: [
        ([record(0.9, .greaterOrEqual, 0.9)], 1.0, 0.5),               // right at the threshold
        ([record(100, .greater, 75)], 1.0, 1.0),                        // 25 % past it
        ([record(110, .greater, 100)], 1.0, 0.682),                     // 10/110 → 0.5 + 0.5·0.364
        ([record(100, .greater, 75), record(0.9, .greaterOrEqual, 0.9)], 1.0, 0.5),  // weakest leg
        ([record(100, .greater, 75)], 0.5, 0.75),                       // half the reads missing
        ([record(3, .equal, 3)], 1.0, 1.0),
        ([record(1, .greater, 5)], 1.0, 1.0),                           // non-supporting comparisons are ignored
    ])
    func confidenceFormula(records: [RuleComparisonRecord], completeness: Double, expected: Double) {
        #expect(RuleScoring.confidence(comparisons: records, completeness: completeness) == expected)
    }

    @Test func rankingIsSeverityThenConfidenceThenId() {
        func verdict(_ id: String, _ severity: Severity, _ confidence: Double) -> Verdict {
            Verdict(rule: id, culprit: .model, cause: "c", confidence: confidence, severity: severity, evidence: [], explain: "", next: [], step: nil, missing: [])
        }
        let sorted = [verdict("b", .warn, 0.9), verdict("a", .high, 0.5), verdict("c", .warn, 0.9), verdict("d", .warn, 0.95), verdict("e", .info, 1)]
            .sorted(by: RuleEngine.ranksBefore)
        #expect(sorted.map(\.rule) == ["a", "d", "b", "c", "e"])
    }

    @Test(arguments: [
        (1.0, ExplainTemplate.Format.automatic, "1"), (0.98, .automatic, "0.98"), (12.345, .automatic, "12.35"),
        (1234.56, .automatic, "1234.6"), (0.12345, .automatic, "0.123"), (0.00012, .automatic, "0.00012"),
        (0.98765, .fixed(1), "1.0"), (0.5, .percent(0), "50%"), (0.1234, .percent(1), "12.3%"), (2.6, .integer, "3"),
    ])
    func explainFormatting(value: Double, format: ExplainTemplate.Format, expected: String) {
        #expect(ExplainTemplate.format(value, format) == expected)
    }

    @Test func explainTemplateSyntax() throws {
        let template = try ExplainTemplate.parse("{{literal}} {a@knee:.1f} / {max(a, b)} at {step}")
        let source = RulesFakeEvidence(values: ["a": [1, 2.25], "b": [4, 4]], stepCount: 2, kneeStep: 1)
        var trace = RuleTrace()
        #expect(template.render(with: RuleEvaluator(source: source, currentStep: 0), step: 0, into: &trace) == "{literal} 2.2 / 4 at 0")
        var missingTrace = RuleTrace()
        #expect(try ExplainTemplate.parse("{c}").render(with: RuleEvaluator(source: source, currentStep: 0), step: nil, into: &missingTrace) == "n/a")
        #expect(throws: RuleExpressionLexer.Failure(offset: 3, message: "unclosed \"{\" in explain; write \"{{\" for a literal brace")) {
            _ = try ExplainTemplate.parse("ab {a")
        }
    }

    @Test func verdictJSONUsesReadableNames() throws {
        let verdict = Verdict(rule: "r", culprit: .loadGenerator, cause: "c", confidence: 0.5, severity: .high, evidence: [], explain: "", next: [], step: 1, missing: [])
        let json = String(decoding: try JSONEncoder().encode(verdict), as: UTF8.self)
        #expect(json.contains(#""culprit":"load-generator""#))
        #expect(json.contains(#""severity":"high""#))
        #expect(try JSONDecoder().decode(Verdict.self, from: Data(json.utf8)) == verdict)
    }
}
