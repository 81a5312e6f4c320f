import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Rules files")
struct RuleFileTests {
    static let good = """
    # Load generator rules
    - id: loadgen-cpu-saturated
      culprit: load-generator
      cause: client-cpu
      when: client.process.cpu_cores / client.cpu.allowed_cores >= 0.9 and load.achieved_ratio < 0.97
      severity: {warn: 0.8, high: 0.9, critical: 0.97}
      explain: "The load generator used {client.process.cpu_cores:.2f} of {client.cpu.allowed_cores} cores."
      next: [playbooks/loadgen-saturated.md]
    - id: queueing
      culprit: server
      cause: worker-queue
      when: >
        server.queue.p99_ms@knee > 50 and
        server.queue.p99_ms@knee > 0.5 * latency.p99_ms@knee
      severity: high
      next: playbooks/server-workers.md
    """

    func diagnostics(_ text: String) -> [String] {
        RuleFile.diagnose(text: text, source: "rules/x.yaml", catalog: RulesTestCatalog.catalog).1.map(\.description)
    }

    @Test func loadsRules() throws {
        let rules = try RuleFile.parse(text: Self.good, source: "rules/x.yaml", catalog: RulesTestCatalog.catalog)
        #expect(rules.map(\.id) == ["loadgen-cpu-saturated", "queueing"])
        #expect(rules[0].culprit == .loadGenerator)
        #expect(rules[0].severity.critical == 0.97)
        #expect(rules[0].next == ["playbooks/loadgen-saturated.md"])
        #expect(rules[0].location == RuleSourceLocation(file: "rules/x.yaml", line: 2, column: 3))
        #expect(rules[1].severity.fixed == .high)
        #expect(rules[1].next == ["playbooks/server-workers.md"])
    }

    /// Each case: the faulty line(s) replacing a line of a valid rule, and the whole expected message.
    @Test(arguments: [
        ("  when: client.proces.cpu_cores > 1",
         #"rules/x.yaml:4:9: unknown metric "client.proces.cpu_cores" (did you mean "client.process.cpu_cores"?)"#),
        ("  when: a > 1 and b >",
         #"rules/x.yaml:4:22: when: expression ends too early; expected a number, a metric or "(""#),
        ("  when: 'a > 1 or mx(b) > 2'",
         #"rules/x.yaml:4:19: when: unknown function "mx" (did you mean "max"?)"#),
        ("  culprit: modle",
         #"rules/x.yaml:2:12: unknown culprit "modle" (did you mean "model"?); use one of model | preprocessing | server | proxy | network | load-generator"#),
        ("  explian: hi",
         #"rules/x.yaml:5:3: unknown key "explian" (did you mean "explain"?); a rule has id, culprit, cause, when, severity, explain, next, description"#),
        ("  explain: \"{a} and {server.queue.p99ms:.1f}\"",
         #"rules/x.yaml:5:22: unknown metric "server.queue.p99ms" (did you mean "server.queue.p99_ms"?)"#),
        ("  explain: \"{a:.1x}\"",
         #"rules/x.yaml:5:16: explain: unknown format ".1x"; use .Nf, .N%, % or d"#),
        ("  severity: {warn: 3, high: 1, critical: 2}",
         #"rules/x.yaml:5:13: severity levels must all rise (warn ≤ high ≤ critical: higher is worse) or all fall (lower is worse)"#),
        ("  severity: {warn: 1, hihg: 2}",
         #"rules/x.yaml:5:23: unknown severity key "hihg" (did you mean "high"?); use warn, high, critical, on"#),
        ("  when: [a > 1]",
         #"rules/x.yaml:4:9: when must be an expression (text), not a list or mapping"#),
        ("  when: a > 1\n  when: b > 1",
         #"rules/x.yaml:4:3: key "when" appears more than once in this mapping; keep one"#),
        ("  when: \"a > 1",
         #"rules/x.yaml:4:15: YAML syntax: found unexpected end of stream while scanning a quoted scalar"#),
    ])
    func oneLineErrorWithPosition(replacement: String, expected: String) {
        var lines = ["- id: r1", "  culprit: model", "  cause: slow", "  when: a > 1"]
        if replacement.hasPrefix("  culprit") {
            lines[1] = replacement
        } else if replacement.hasPrefix("  when") {
            lines[3] = replacement
        } else {
            lines.append(replacement)
        }
        let found = diagnostics(lines.joined(separator: "\n"))
        #expect(found.first == expected, "\(found)")
        #expect(found.allSatisfy { !$0.contains("\n") })
    }

    @Test func foldedBlockPositionsPointIntoTheBlock() {
        let text = """
        - id: r1
          culprit: model
          cause: slow
          when: >
            a > 1 and
              b > 2 and
            model.p99_mss > 3
        """
        #expect(diagnostics(text) == [#"rules/x.yaml:7:5: unknown metric "model.p99_mss" (did you mean "model.p99_ms"?)"#])
    }

    @Test func literalAndPlainMultiLinePositions() {
        let literal = "- id: r1\n  culprit: model\n  cause: slow\n  when: |\n    a > 1 and\n    b >> 2\n"
        #expect(diagnostics(literal).first == #"rules/x.yaml:6:8: when: expected a number, a metric or "(", found ">""#)
        let plain = "- id: r1\n  culprit: model\n  cause: slow\n  when: a > 1 and\n      bogus > 2\n"
        #expect(diagnostics(plain).first?.hasPrefix("rules/x.yaml:5:7: unknown metric \"bogus\"") == true)
    }

    @Test func quotedWithEscapesFallsBackToTheValueStart() {
        let text = "- id: r1\n  culprit: model\n  cause: slow\n  when: \"a > 1 and \\\"x\\\" > 2\"\n"
        #expect(diagnostics(text).first?.hasPrefix("rules/x.yaml:4:9:") == true)
    }

    @Test func missingKeysAndDuplicateIds() {
        let text = """
        - id: r1
          culprit: model
          when: a > 1
        - id: r2
          culprit: model
          cause: x
          when: a > 1
        - id: r2
          culprit: model
          cause: x
          when: a > 1
        """
        #expect(diagnostics(text) == [
            #"rules/x.yaml:1:3: rule is missing "cause:""#,
            #"rules/x.yaml:8:3: duplicate rule id "r2" (first defined at rules/x.yaml:4:3)"#,
        ])
    }

    @Test func notAListIsAnError() {
        #expect(diagnostics("id: r1\n") == [#"rules/x.yaml:1:1: a rules file is a YAML list of rules, each starting with "- id: …""#])
        #expect(diagnostics("").isEmpty)
    }

    @Test func thrownErrorIsOneLineWithPositionAndExitCode2() {
        let text = "- id: r1\n  culprit: model\n  cause: slow\n  when: a > 1 and client.proces.cpu_cores > 2\n  explain: \"{nope}\"\n"
        #expect {
            _ = try RuleFile.parse(text: text, source: "rules/x.yaml", catalog: RulesTestCatalog.catalog)
        } throws: { error in
            guard let error = error as? RuleError else { return false }
            #expect(error.code == .unknownMetric)
            #expect(error.exitCode == 2)
            #expect(error.diagnostics.count == 2)
            #expect(error.location == RuleSourceLocation(file: "rules/x.yaml", line: 4, column: 19))
            #expect(error.message == #"rules/x.yaml:4:19: unknown metric "client.proces.cpu_cores" (did you mean "client.process.cpu_cores"?) (and 1 more; run `bottleneck rules check`)"#)
            #expect(!error.message.contains("\n"))
            return true
        }
    }

    @Test func checkFilesAndDirectories() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = "\(directory)/a.yaml"
        let second = "\(directory)/b.yml"
        try Self.good.write(toFile: first, atomically: true, encoding: .utf8)
        try "- id: queueing\n  culprit: proxy\n  cause: x\n  when: a > 1\n".write(toFile: second, atomically: true, encoding: .utf8)
        try "not rules".write(toFile: "\(directory)/notes.txt", atomically: true, encoding: .utf8)

        #expect(RulesCheck.check(paths: [first], catalog: RulesTestCatalog.catalog).isEmpty)
        #expect(RulesCheck.check(paths: [directory], catalog: RulesTestCatalog.catalog).map(\.description) == [
            #"\#(second):1:3: duplicate rule id "queueing" (first defined at \#(first):9:3)"#,
        ])
        #expect(throws: RuleError.self) { try RuleFile.loadDirectory(directory, catalog: RulesTestCatalog.catalog) }
        #expect(try RuleFile.load(path: first, catalog: RulesTestCatalog.catalog).count == 2)
        let missing = RulesCheck.check(paths: ["\(directory)/none.yaml"], catalog: RulesTestCatalog.catalog)
        #expect(missing.map(\.description) == ["\(directory)/none.yaml:1:1: cannot read the rules file; check the path given to --rules or `rules check`"])
    }
}
