import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Default rules")
struct DefaultRulesTests {
    static let rulesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("playbooks/rules")

    @Test func embeddedRulesMatchTheFilesInTheRepository() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.rulesDirectory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(DefaultRules.fileNames == files, "run scripts/embed-rules.sh")
        for file in files {
            let text = try String(contentsOf: Self.rulesDirectory.appendingPathComponent(file), encoding: .utf8)
            #expect(DefaultRules.text(of: file) == text, "\(file) changed: run scripts/embed-rules.sh")
        }
    }

    @Test func docsMetricsIsTheCatalog() throws {
        let path = Self.rulesDirectory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/metrics.md")
        let generated = RulesExplanation.metricMarkdown()
        if ProcessInfo.processInfo.environment["BOTTLENECK_UPDATE_GOLDEN"] != nil {
            try generated.write(to: path, atomically: true, encoding: .utf8)
        }
        let written = try String(contentsOf: path, encoding: .utf8)
        #expect(written == generated, "docs/metrics.md differs from the catalog: run the tests with BOTTLENECK_UPDATE_GOLDEN=1 (or bottleneck rules metrics --markdown > docs/metrics.md)")
        // Each metric is named once, as a constant the evidence and the catalog share.
        #expect(Set(EvidenceCatalog.catalog.definitions.map(\.name)).count == EvidenceCatalog.catalog.definitions.count)
    }

    @Test func everyDefaultRuleParsesAgainstTheCatalog() throws {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        #expect(rules.count >= 12)
        #expect(Set(rules.map(\.culprit)).isSuperset(of: [.model, .preprocessing, .server, .network, .loadGenerator]))
        #expect(RulesCheck.check(paths: [Self.rulesDirectory.path], catalog: EvidenceCatalog.catalog).isEmpty)
    }
}
