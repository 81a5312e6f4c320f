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

    @Test func everyDefaultRuleParsesAgainstTheCatalog() throws {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        #expect(rules.count >= 12)
        #expect(Set(rules.map(\.culprit)).isSuperset(of: [.model, .preprocessing, .server, .network, .loadGenerator]))
        #expect(RulesCheck.check(paths: [Self.rulesDirectory.path], catalog: EvidenceCatalog.catalog).isEmpty)
    }
}
