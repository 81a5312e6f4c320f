import ArgumentParser
import BottleneckCore
import BottleneckRun
import BottleneckDiagnosis
import BottleneckReport
import Foundation

/// `bottleneck playbook list | show NAME | run NAME`.
struct PlaybookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playbook",
        abstract: "List, read and run the playbooks: probe steps, the rules that judge them, and what to do next.",
        subcommands: [PlaybookListCommand.self, PlaybookShowCommand.self, PlaybookRunCommand.self]
    )
}

/// Where the playbooks come from: the embedded ones, or `--playbooks DIR`.
struct PlaybookSource: ParsableArguments {
    @Option(help: "A folder of playbooks (YAML plus Markdown twins) replacing the embedded ones.") var playbooks: String?
    @Option(help: "A folder of rule files replacing the default rules.") var rules: String?

    func library() throws -> (PlaybookLibrary, [Rule]) {
        let ruleSet = try RuleSelection.load(directory: rules)
        let ids = Set(ruleSet.map(\.id))
        let library = try playbooks.map { try PlaybookLibrary.load(directory: $0, ruleIDs: ids) } ?? PlaybookLibrary.embedded(ruleIDs: ids)
        return (library, ruleSet)
    }
}

struct PlaybookListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the playbooks.")
    @OptionGroup var source: PlaybookSource

    func run() throws {
        let (library, _) = try source.library()
        let width = library.playbooks.map(\.name.count).max() ?? 0
        for playbook in library.playbooks {
            print("\(playbook.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(playbook.title)")
        }
    }
}

struct PlaybookShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a playbook's steps, rules and outcomes, then its Markdown guide.")
    @Argument(help: "The playbook's name (see `bottleneck playbook list`).") var name: String
    @OptionGroup var source: PlaybookSource

    func run() throws {
        let (library, _) = try source.library()
        let playbook = try library.playbook(named: name)
        print(PlaybookDescription.render(playbook, guide: library.documents[playbook.guide]), terminator: "")
    }
}

struct PlaybookRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a playbook against a target: its probe steps, then its rules, then its outcome.",
        discussion: """
            Prints the playbook's conclusion for each rule that fired (or its pass text), then the diagnosis behind it. \
            The capacity-plan playbook runs `bottleneck capacity` with the planning flags.

            Exit codes: 0 done; 1 a culprit named in --fail-on was found; 2 bad input; 3 the run is invalid.
            """
    )
    @Argument(help: "The playbook's name (see `bottleneck playbook list`).") var name: String
    @OptionGroup var source: PlaybookSource
    @OptionGroup var load: DiagnosisLoadOptions
    @Option(help: "Apply the playbook to this recorded run directory without new load.") var from: String?
    @OptionGroup var plan: CapacityPlanOptions
    @OptionGroup var evidence: EvidenceOptions
    @OptionGroup var phases: PhaseOptions
    @Option(name: .customLong("fail-on"), help: "Exit 1 when one of these culprits is named, e.g. model,proxy.", transform: OptionValue.culprits)
    var failOn: [Culprit]?
    @OptionGroup var reports: ReportOptions
    @Flag(help: "Print the outcome as JSON (schema bottleneck.playbook-run/v1).") var json = false

    func run() async throws {
        let (library, allRules) = try source.library()
        let playbook = try library.playbook(named: name)
        if playbook.kind == .capacity {
            try await CapacityExecution(load: load, plan: plan, evidence: evidence, reports: reports).run(from: from, json: json)
            return
        }
        let sloMs = load.slo
        let directory: String
        var unmet: [Playbook.Need] = []
        if let from {
            directory = from
        } else {
            // The processes found by their sockets meet the playbook's needs as the flags would.
            var probes = try RunExecution.probeRunner(load, evidence: evidence)
            probes.locateServices()
            unmet = PlaybookRun.unmetNeeds(playbook, met: probes.metNeeds())
            for need in unmet { LoadProgressDisplay.note("playbook \(playbook.name) wants \(need.rawValue) evidence: give \(need.flags)") }
            directory = try await probes.playbook(playbook, budgetSeconds: load.budgetSeconds(), sloP99Milliseconds: sloMs)
        }
        let segments = try phases.segments()
        let (diagnosis, found, recordFailure) = try DiagnosisResult.conclude(directory: directory, sloP99Milliseconds: sloMs, segments: segments,
                                                                              rules: PlaybookRun.rules(of: playbook, from: allRules))
        if let recordFailure { LoadProgressDisplay.note(recordFailure) }
        try reports.write(directory: directory, diagnosis: .made(diagnosis, found), segments: segments)
        let outcome = PlaybookOutcome(playbook: playbook, diagnosis: diagnosis, unmetNeeds: unmet)
        if json {
            print(String(decoding: try RunJSON.encode(outcome), as: UTF8.self))
        } else {
            print(outcome.renderText(), terminator: "")
        }
        let code = diagnosis.exitCode(failingOn: failOn ?? [])
        if code != 0 { throw ExitCode(code) }
    }
}
