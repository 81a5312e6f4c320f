import Foundation
import BottleneckCore
import BottleneckLoad

/// Turns a playbook into load steps, and its rules' verdicts into the playbook's outcome.
public enum PlaybookRun: Sendable {
    /// The fixed steps, and the adaptive ramp when the playbook ends with one.
    public static func plan(_ playbook: Playbook, budgetSeconds: Double, sloP99Milliseconds: Double)
        -> (steps: [LoadStep], nextStep: (@Sendable ([StepResult]) -> LoadStep?)?) {
        var steps: [LoadStep] = []
        var nextStep: (@Sendable ([StepResult]) -> LoadStep?)?
        func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }
        for step in playbook.steps {
            switch step {
            case .baseline(let id, let seconds):
                steps.append(LoadStep(name: id, shape: .closed(concurrency: 1), duration: nanoseconds(seconds)))
            case .closed(let id, let levels, let seconds):
                for level in levels {
                    steps.append(LoadStep(name: levels.count > 1 ? "\(id)-c\(level)" : id, shape: .closed(concurrency: level),
                                          duration: nanoseconds(seconds)))
                }
            case .open(let id, let rates, let arrivals, let seconds):
                for rate in rates {
                    steps.append(LoadStep(name: rates.count > 1 ? "\(id)-\(formatRate(rate))" : id,
                                          shape: .open(rate: rate, arrivals: arrivals), duration: nanoseconds(seconds)))
                }
            case .ramp:
                nextStep = DiagnosisProbe.ramp(budgetSeconds: budgetSeconds, sloP99Milliseconds: sloP99Milliseconds)
            case .sizeSweep:
                break   // needs the payload pool's sizes: `sizeSweep(id:seconds:sizes:)`, once it is built
            }
        }
        return (steps, nextStep)
    }

    /// The size sweep's steps, chosen one at a time: band k holds the pool entries whose size
    /// (pixels for images, else bytes) lies in [smallest × 2^k, smallest × 2^(k+1)); empty bands
    /// are skipped. The sweep stops after a band where a request failed (a 5xx or a transport
    /// error; a 4xx is the service refusing the input, which is safe), or after the largest band.
    public static func sizeSweep(id: String, seconds: Double, sizes: [Int]) -> @Sendable ([StepResult]) -> LoadStep? {
        let bands = sizeBands(sizes)
        let first = bands.first.map { _ in 0 }
        return { results in
            let done = results.filter { $0.name.hasPrefix(id + "-") }
            if let last = done.last {
                let failed = last.errors.filter { $0.key != "http4xx" }.values.reduce(0, +)
                if failed > 0 { return nil }
            }
            guard first != nil, done.count < bands.count else { return nil }
            let band = bands[done.count]
            return LoadStep(name: "\(id)-\(band.label)", shape: .closed(concurrency: 1), duration: UInt64(seconds * 1e9),
                            payloadIndices: band.indices)
        }
    }

    /// The pool's entries grouped in bands of doubling size, smallest first, with a label (the band's largest size).
    static func sizeBands(_ sizes: [Int]) -> [(indices: [Int], label: String)] {
        let positive = sizes.enumerated().filter { $0.element > 0 }.sorted { $0.element < $1.element }
        guard let smallest = positive.first?.element else { return [] }
        var bands: [(indices: [Int], label: String)] = []
        var upper = smallest * 2
        var current: [Int] = []
        var largest = 0
        func label(_ size: Int) -> String {
            size >= 1_000_000 ? "\(formatRate(Double(size) / 1e6))M" : size >= 1000 ? "\(formatRate(Double(size) / 1e3))k" : "\(size)"
        }
        for (index, size) in positive {
            while size >= upper {
                if !current.isEmpty { bands.append((current, label(largest))) }
                current = []
                upper *= 2
            }
            current.append(index)
            largest = size
        }
        if !current.isEmpty { bands.append((current, label(largest))) }
        return bands
    }

    /// The rules a playbook applies: its own list, plus every load-generator rule, because a
    /// run whose generator could not keep up is invalid whatever the playbook looks for.
    public static func rules(of playbook: Playbook, from all: [Rule]) -> [Rule] {
        all.filter { playbook.rules.contains($0.id) || $0.culprit == .loadGenerator }
    }

    /// The needs the command line did not meet, each with the flags that meet it.
    public static func unmetNeeds(_ playbook: Playbook, met: Set<Playbook.Need>) -> [Playbook.Need] {
        playbook.needs.filter { !met.contains($0) }
    }
}

/// The result of `bottleneck playbook run`: the diagnosis under the playbook's rules and,
/// per verdict, the playbook's text for it (or its pass text). Schema `bottleneck.playbook-run/v1`.
public struct PlaybookOutcome: Sendable, Codable {
    public struct Line: Sendable, Codable, Equatable {
        public var rule: String
        public var text: String
    }

    public var schema = "bottleneck.playbook-run/v1"
    public var playbook: String
    public var title: String
    public var guide: String
    public var outcomes: [Line]
    public var unmetNeeds: [String]
    public var diagnosis: DiagnosisResult

    public init(playbook: Playbook, diagnosis: DiagnosisResult, unmetNeeds: [Playbook.Need] = []) {
        self.playbook = playbook.name
        self.title = playbook.title
        self.guide = "playbooks/" + playbook.guide
        self.diagnosis = diagnosis
        self.unmetNeeds = unmetNeeds.map(\.rawValue)
        var lines: [Line] = []
        for verdict in diagnosis.verdicts where !lines.contains(where: { $0.rule == verdict.rule }) {
            lines.append(Line(rule: verdict.rule, text: playbook.outcomes[verdict.rule] ?? verdict.explain))
        }
        if lines.isEmpty, diagnosis.valid, let pass = playbook.outcomes[Playbook.passOutcome] {
            lines.append(Line(rule: Playbook.passOutcome, text: diagnosis.sloMet ? pass
                : pass + " (but the SLO broke: the cause is outside this playbook — run `bottleneck diagnose`)"))
        }
        outcomes = lines
    }

    /// The terminal rendering: the playbook's conclusions first, then the diagnosis behind them.
    public func renderText() -> String {
        var out = "Playbook \(playbook): \(title)\n"
        if !unmetNeeds.isEmpty {
            let flags = unmetNeeds.compactMap { Playbook.Need(rawValue: $0)?.flags }
            out += "Evidence this playbook wanted but did not get (give \(flags.joined(separator: "; "))): \(unmetNeeds.joined(separator: ", ")).\n"
        }
        out += "\n"
        if !diagnosis.valid {
            out += "THIS RUN IS INVALID: the load generator could not keep up; fix it first, the other conclusions cannot be trusted.\n"
        }
        for line in outcomes {
            out += line.rule == Playbook.passOutcome ? "→ \(line.text)\n" : "→ [\(line.rule)] \(line.text)\n"
        }
        out += "\nThe evidence:\n"
        out += DiagnosisReportText.render(diagnosis)
        out += "Step by step by hand: \(guide)\n"
        return out
    }
}
