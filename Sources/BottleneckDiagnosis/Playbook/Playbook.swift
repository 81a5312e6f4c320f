/// A playbook (`playbooks/NAME.yaml`): an ordered list of probe steps, the rules that
/// judge their evidence, and the text to show for each outcome. Its Markdown twin
/// (`guide`) is the same procedure for a person with a terminal.
///
/// Two kinds: `diagnose` playbooks run their steps and evaluate their rules;
/// the `capacity` playbook hands over to `bottleneck capacity` (search and USL fit).
import BottleneckLoad

public struct Playbook: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case diagnose
        case capacity
    }

    /// What a playbook needs from the command line to gather all its evidence.
    public enum Need: String, Sendable, Codable, CaseIterable {
        /// `--server-port` or `--server-pid`: the service's processes are sampled.
        case server
        /// `--proxy-port` or `--proxy-pid`: the reverse proxy is sampled apart from the service.
        case proxy
        /// `--capture IFACE`: wire timings.
        case capture
        /// `--payload` with a size range: server time against input size.
        case payload

        /// The flags that satisfy the need, for the note printed when they are missing.
        public var flags: String {
            switch self {
            case .server: return "--server-port PORT or --server-pid PID"
            case .proxy: return "--proxy-port PORT or --proxy-pid PID"
            case .capture: return "--capture IFACE"
            case .payload: return "--payload with a size range, e.g. image:w=64..2048"
            }
        }
    }

    /// One probe step. `ramp` and `size-sweep` are adaptive: one of them, last.
    public enum Step: Sendable, Equatable {
        /// One connection, closed loop: the unloaded latency.
        case baseline(id: String, seconds: Double)
        /// Closed-loop steps at these concurrencies.
        case closed(id: String, concurrency: [Int], seconds: Double)
        /// Open-loop steps at these rates.
        case open(id: String, rates: [Double], arrivals: ArrivalProcess, seconds: Double)
        /// Open-loop steps doubling the rate from half the last closed-loop throughput until
        /// the SLO breaks, errors pass 1%, or the budget is spent (as `diagnose` does).
        case ramp(id: String)
        /// One connection, closed loop, the payload pool's inputs in bands of rising size (each
        /// band twice the pixels, or bytes, of the one before), `seconds` each, stopping after the
        /// first band where a request failed: the largest input the service survives.
        case sizeSweep(id: String, seconds: Double)

        public var id: String {
            switch self {
            case .baseline(let id, _), .closed(let id, _, _), .open(let id, _, _, _), .ramp(let id), .sizeSweep(let id, _): return id
            }
        }

        /// Adaptive steps choose what comes next from the results, so they must come last.
        var isAdaptive: Bool {
            switch self {
            case .ramp, .sizeSweep: return true
            default: return false
            }
        }
    }

    public var name: String
    public var title: String
    public var summary: String
    public var kind: Kind
    /// The Markdown twin, relative to the playbooks folder.
    public var guide: String
    /// An annotated example of real output, relative to the playbooks folder.
    public var example: String?
    public var needs: [Need]
    public var steps: [Step]
    /// Rule ids, from the default rules or `--rules DIR`.
    public var rules: [String]
    /// Rule id → what it means in this playbook and what to do; `pass` when none fired.
    public var outcomes: [String: String]

    public static let passOutcome = "pass"
}
