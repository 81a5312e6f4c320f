import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Rule expression parser")
struct RuleExpressionParserTests {
    @Test(arguments: [
        ("1 + 2 * 3 > 6 and not 0 > 1 or 1 > 2", "((((1 + (2 * 3)) > 6) and (not (0 > 1))) or (1 > 2))"),
        ("a > 0 or b > 1 and c > 2", "((a > 0) or ((b > 1) and (c > 2)))"),
        ("-a * 2 > 1", "(((-a) * 2) > 1)"),
        ("a - b - c > 0", "(((a - b) - c) > 0)"),
        ("a / b / c > 0", "(((a / b) / c) > 0)"),
        ("(a + b) * c >= 1", "(((a + b) * c) >= 1)"),
        ("not not a > 1", "(not (not (a > 1)))"),
        ("a > 1 and b > 1 and c > 1", "(((a > 1) and (b > 1)) and (c > 1))"),
        ("- - a < 0", "((-(-a)) < 0)"),
        ("max(a, b@knee, 3) <= min(a@step(2), c@first)", "(max(a, b@knee, 3) <= min(a@step(2), c@first))"),
        ("any_step(a@last > b@run) or all_steps(abs(a) != 1)", "(any_step((a@last > b@run)) or all_steps((abs(a) != 1)))"),
        ("max_over_steps(a * 2) == 1e3", "(max_over_steps((a * 2)) == 1000)"),
    ])
    func precedence(source: String, shape: String) throws {
        #expect(rulesShape(try RuleExpressionParser.parse(source, expecting: .condition)) == shape)
    }

    @Test func precedenceEvaluates() throws {
        // 7 > 6 is true, not (0 > 1) is true → true regardless of the "or 1 > 2".
        #expect(try rulesEvaluate("1 + 2 * 3 > 6 and not 0 > 1 or 1 > 2").0 == true)
        // Would be false if + bound tighter than *: (1 + 2) * 3 = 9 > 8.
        #expect(try rulesEvaluate("1 + 2 * 3 > 8").0 == false)
    }

    @Test func spansCoverSourceText() throws {
        let e = try RuleExpressionParser.parse("client.process.cpu_cores >= 0.9 * client.cpu.allowed_cores", expecting: .condition)
        guard case let .comparison(op, left, right) = e.kind else { Issue.record("not a comparison"); return }
        #expect(op == .greaterOrEqual)
        #expect(left.text == "client.process.cpu_cores")
        #expect(right.text == "0.9 * client.cpu.allowed_cores")
        #expect(right.start == 28)
        #expect(e.metricReferences.map(\.start) == [0, 34])
    }

    @Test func foldedWhitespaceIsCollapsedInText() throws {
        let e = try RuleExpressionParser.parse("a >\n   0.5 *\n  b", expecting: .condition)
        guard case let .comparison(_, _, right) = e.kind else { Issue.record("not a comparison"); return }
        #expect(right.text == "0.5 * b")
    }

    /// (expression, offset of the error (0-based, in scalars), a fragment of the message)
    @Test(arguments: [
        ("a > ", 4, "ends too early"),
        ("a >> 1", 3, "expected a number"),
        ("a > 1 b > 2", 6, "missing \"and\" or \"or\""),
        ("(a > 1", 6, "expected \")\""),
        ("a > 1)", 5, "after a complete expression"),
        ("a = 1", 2, "use \"==\""),
        ("a > 1 && b > 2", 6, "use \"and\""),
        ("a > 1 || b > 2", 6, "use \"or\""),
        ("!a", 0, "use \"not\""),
        ("a > $", 4, "unexpected character \"$\""),
        ("a > 200ms", 7, "no unit suffix"),
        ("a < b < c", 6, "do not chain"),
        ("a + 1", 0, "must be a condition"),
        ("a and b > 1", 0, "each side of \"and\""),
        ("not a", 4, "operand of \"not\""),
        ("(a > 1) + 2 > 0", 0, "left side of \"+\""),
        ("mx(a, b) > 1", 0, "unknown function \"mx\" (did you mean \"max\"?)"),
        ("abs(a, b) > 1", 0, "takes 1 argument"),
        ("max() > 1", 0, "at least one argument"),
        ("max_over_steps(a > 1) > 0", 15, "argument of max_over_steps()"),
        ("any_step(a) ", 9, "argument of any_step()"),
        ("a@kne > 1", 2, "unknown step selector \"@kne\" (did you mean \"@knee\"?)"),
        ("a@step(1.5) > 1", 7, "integer"),
        ("a@ > 1", 3, "expected a step selector"),
        ("a. > 1", 1, "cannot end with"),
        ("", 0, "empty expression"),
        ("a > and", 4, "expected a value before \"and\""),
        ("max(a b) > 1", 6, "expected \",\" or \")\""),
    ])
    func errorsCarryOffsets(source: String, offset: Int, fragment: String) {
        let expected: RuleExpression.ValueType = .condition
        #expect {
            _ = try RuleExpressionParser.parse(source, expecting: expected)
        } throws: { error in
            guard let failure = error as? RuleExpressionLexer.Failure else { return false }
            #expect(failure.offset == offset, "\(source): \(failure.message)")
            #expect(failure.message.contains(fragment), "\(failure.message)")
            return true
        }
    }

    @Test func numbersAndNames() throws {
        #expect(try rulesNumber("1.5e2 + .5") == 150.5)
        #expect(try rulesNumber("2 * -3") == -6)
        let e = try RuleExpressionParser.parse("http.status.5xx_rate > 0", expecting: .condition)
        #expect(e.metricReferences.map(\.name) == ["http.status.5xx_rate"])
    }
}
