import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Rule expression evaluation")
struct RuleEvaluatorTests {
    static let ramp = RulesFakeEvidence(
        values: ["a": [1, 5, 3], "b": [2, 2, nil], "c": [10, 10, 10]],
        runValues: ["a": 4, "c": 7],
        stepCount: 3, kneeStep: 1)

    @Test(arguments: [
        ("1 + 2", 3.0), ("5 - 7", -2), ("2 * 4", 8), ("9 / 3", 3), ("-(2 + 1)", -3),
        ("min(4, 2, 9)", 2), ("max(4, 2, 9)", 9), ("abs(-2.5)", 2.5), ("abs(3 - 5) * 2", 4),
    ])
    func arithmeticAndFunctions(source: String, expected: Double) throws {
        #expect(try rulesNumber(source) == expected)
    }

    @Test(arguments: [
        ("1 < 2", true), ("2 < 2", false), ("2 <= 2", true), ("3 <= 2", false),
        ("3 > 2", true), ("2 > 2", false), ("2 >= 2", true), ("1 >= 2", false),
        ("2 == 2", true), ("2 == 3", false), ("2 != 3", true), ("2 != 2", false),
        ("1 < 2 and 2 < 1", false), ("1 < 2 or 2 < 1", true), ("not 1 < 2", false),
    ])
    func comparisonsAndLogic(source: String, expected: Bool) throws {
        #expect(try rulesEvaluate(source).0 == expected)
    }

    @Test(arguments: [
        ("a", 1, 5.0),          // bare name: the step being evaluated
        ("a@knee", 0, 5),
        ("a@first", 2, 1),
        ("a@last", 0, 3),
        ("a@step(2)", 0, 3),
        ("a@run", 0, 4),
        ("max_over_steps(a)", 0, 5),
        ("min_over_steps(a)", 2, 1),
        ("max_over_steps(a - c)", 0, -5),
    ])
    func selectors(source: String, step: Int, expected: Double) throws {
        #expect(try rulesNumber(source, Self.ramp, step: step) == expected)
    }

    @Test func bareNamesReadRunLevelWithoutAStep() throws {
        #expect(try rulesNumber("a", Self.ramp, step: nil) == 4)
    }

    @Test func stepAggregations() throws {
        #expect(try rulesEvaluate("any_step(a > 4)", Self.ramp).0 == true)
        #expect(try rulesEvaluate("any_step(a > 9)", Self.ramp).0 == false)
        #expect(try rulesEvaluate("all_steps(c == 10)", Self.ramp).0 == true)
        #expect(try rulesEvaluate("all_steps(a > 2)", Self.ramp).0 == false)
        // b is missing at step 2 and ≥ 2 elsewhere: neither proven nor refuted.
        #expect(try rulesEvaluate("all_steps(b >= 2)", Self.ramp).0 == nil)
        // any_step keeps the comparison of the step that made it true.
        let (_, trace) = try rulesEvaluate("any_step(a > 4)", Self.ramp)
        #expect(trace.comparisons.map(\.lhs) == [5])
        #expect(trace.comparisons.map(\.step) == [1])
    }

    @Test func missingValuesNeverFireAndAreNamed() throws {
        let empty = RulesFakeEvidence(values: [:], stepCount: 3, kneeStep: nil)
        let (result, trace) = try rulesEvaluate("a@knee > 1", empty)
        #expect(result == nil)
        #expect(trace.missing == ["a@knee"])
        // not cannot turn missing evidence into a finding.
        #expect(try rulesEvaluate("not a > 1", empty, step: 0).0 == nil)
        // Kleene logic: false wins an and, true wins an or.
        #expect(try rulesEvaluate("a > 1 and 1 > 2", empty, step: 0).0 == false)
        #expect(try rulesEvaluate("a > 1 or 2 > 1", empty, step: 0).0 == true)
        // Missing propagates through arithmetic and min/max; division by zero is missing too.
        #expect(try rulesNumber("a + 1", empty, step: 0) == nil)
        #expect(try rulesNumber("max(a, 1)", empty, step: 0) == nil)
        #expect(try rulesNumber("1 / 0") == nil)
        #expect(try rulesNumber("a@step(7)", Self.ramp) == nil)
    }

    @Test func everyComparisonIsRecorded() throws {
        let source = RulesFakeEvidence(values: ["client.process.cpu_cores": [0.98], "client.cpu.allowed_cores": [1], "load.achieved_ratio": [0.9]], stepCount: 1)
        let (result, trace) = try rulesEvaluate("client.process.cpu_cores >= 0.9 * client.cpu.allowed_cores and load.achieved_ratio < 0.97", source, step: 0)
        #expect(result == true)
        #expect(trace.comparisons.count == 2)
        let first = try #require(trace.comparisons.first)
        #expect(first.left == "client.process.cpu_cores")
        #expect(first.lhs == 0.98)
        #expect(first.op == .greaterOrEqual)
        #expect(first.rhs == 0.9)
        #expect(first.right == "0.9 * client.cpu.allowed_cores")
        #expect(trace.completeness == 1)
    }
}
