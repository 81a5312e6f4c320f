/// `bottleneck playbook show`: the playbook's steps, rules and outcomes, then its guide.
import BottleneckCore
public enum PlaybookDescription: Sendable {
    public static func render(_ playbook: Playbook, guide: String?) -> String {
        var out = "\(playbook.name): \(playbook.title)\n\(playbook.summary)\n\n"
        if playbook.kind == .capacity {
            out += "Runs `bottleneck capacity` (sweep, USL fit, SLO search, plan).\n"
        } else {
            out += "Steps:\n"
            for (index, step) in playbook.steps.enumerated() {
                out += "  \(index + 1). \(step.id): \(describe(step))\n"
            }
            out += "Rules: \(playbook.rules.joined(separator: ", ")) (and every load-generator rule)\n"
        }
        if !playbook.needs.isEmpty {
            out += "Needs: " + playbook.needs.map { "\($0.rawValue) (\($0.flags))" }.joined(separator: "; ") + "\n"
        }
        if !playbook.outcomes.isEmpty {
            out += "Outcomes:\n"
            for rule in playbook.rules + [Playbook.passOutcome] {
                if let text = playbook.outcomes[rule] { out += "  \(rule): \(text)\n" }
            }
        }
        if let example = playbook.example { out += "Example of real output: playbooks/\(example)\n" }
        if let guide {
            out += "\n--- playbooks/\(playbook.guide) ---\n\n" + guide
            if !guide.hasSuffix("\n") { out += "\n" }
        }
        return out
    }

    static func describe(_ step: Playbook.Step) -> String {
        switch step {
        case .baseline(_, let seconds):
            return "one connection, closed loop, \(formatRate(seconds)) s"
        case .closed(_, let levels, let seconds):
            return "closed loop at \(levels.map(String.init).joined(separator: ", ")) connections, \(formatRate(seconds)) s each"
        case .open(_, let rates, let arrivals, let seconds):
            return "open loop (\(arrivals.rawValue)) at \(rates.map(formatRate).joined(separator: ", ")) req/s, \(formatRate(seconds)) s each"
        case .ramp:
            return "open loop, doubling the rate from half the last closed-loop throughput until the SLO breaks, errors pass 1% or the budget is spent"
        case .sizeSweep(_, let seconds):
            return "one connection, the inputs in bands of rising size (each twice the pixels or bytes of the last), \(formatRate(seconds)) s each, until a request fails: the largest input that is safe"
        }
    }
}
