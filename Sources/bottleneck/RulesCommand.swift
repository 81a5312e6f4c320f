import ArgumentParser
import BottleneckDiagnosis
import Foundation

/// `bottleneck rules`: check rule files, explain rules and metrics.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check rule files and explain rules and evidence metrics.",
        subcommands: [Check.self, Explain.self, Metrics.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report syntax errors and unknown metrics in rule files, with line and column.")
        @Argument(help: "Rule files or folders.") var paths: [String]

        func run() throws {
            let diagnostics = RulesCheck.check(paths: paths, catalog: EvidenceCatalog.catalog)
            for diagnostic in diagnostics {
                FileHandle.standardError.write("\(diagnostic)\n".data(using: .utf8)!)
            }
            if !diagnostics.isEmpty { throw ExitCode(2) }
            print("ok: \(paths.joined(separator: ", "))")
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a default rule, or what an evidence metric means and where it comes from.")
        @Argument(help: "A rule id (e.g. model-bound) or a metric name (e.g. timing.model_share).") var name: String

        func run() throws {
            if let text = RulesExplanation.explain(name) {
                print(text, terminator: "")
            } else {
                throw ValidationError("\"\(name)\" is neither a default rule nor a metric; see `bottleneck rules metrics`")
            }
        }
    }

    struct Metrics: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every evidence metric the rules can use.")
        @Flag(help: "As the Markdown table of docs/metrics.md.") var markdown = false

        func run() throws {
            print(markdown ? RulesExplanation.metricMarkdown() : RulesExplanation.metricTable(), terminator: "")
        }
    }
}
