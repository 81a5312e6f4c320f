import Foundation
import BottleneckLoad
import Histogram
import Synchronization

/// The live view of a run on stderr: one line per step, redrawn in place on a terminal,
/// or plain lines every few seconds when output goes to a file or CI log.
public final class LoadProgressDisplay: LoadObserver {
    private let interactive: Bool
    private let plainEvery: Double
    private let state = Mutex<(lastPlain: Double, lineOpen: Bool)>((0, false))
    private let output: @Sendable (String) -> Void

    /// - Parameters:
    ///   - interactive: redraw one line in place (a TTY); otherwise print plain lines.
    ///   - output: where text goes (stderr by default), without adding newlines.
    public init(interactive: Bool, plainEvery: Double = 5, output: @escaping @Sendable (String) -> Void = LoadProgressDisplay.standardError) {
        self.interactive = interactive
        self.plainEvery = plainEvery
        self.output = output
    }

    public static let standardError: @Sendable (String) -> Void = { text in
        FileHandle.standardError.write(text.data(using: .utf8)!)
    }

    /// Prints a one-line note for the user on stderr.
    public static let note: @Sendable (String) -> Void = { text in standardError("note: \(text)\n") }

    /// True when stderr is a terminal.
    public static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    public func stepStarted(index: Int, step: LoadStep) {
        if !interactive {
            output("step \(index + 1) \(step.name): \(step.shape.label) for \(String(format2: Double(step.duration) / 1e9))s\n")
        }
        state.withLock { $0.lastPlain = 0 }
    }

    public func progress(_ p: LoadProgress) {
        let line = "step \(p.stepIndex + 1) \(p.step.name) [\(String(format: "%4.0f", p.elapsed))s/\(String(format2: Double(p.step.duration) / 1e9))s] "
            + "target \(p.step.shape.label)  achieved \(String(format: "%.1f", p.achievedRate)) rps  "
            + "p50 \(Self.ms(p.p50))  p99 \(Self.ms(p.p99))  errors \(p.errors)  in flight \(p.inFlight)  "
            + "gen CPU \(String(format: "%.2f", p.generatorCores))/\(String(format2: p.allowedCores)) cores"
        if interactive {
            output("\r\u{1B}[2K" + line)
            state.withLock { $0.lineOpen = true }
        } else {
            let due = state.withLock { s -> Bool in
                if p.elapsed - s.lastPlain >= plainEvery { s.lastPlain = p.elapsed; return true }
                return false
            }
            if due { output(line + "\n") }
        }
    }

    public func interval(stepIndex: Int, start: UInt64, end: UInt64, latency: Histogram<UInt64>) {}

    public func stepFinished(_ r: StepResult) {
        let open = state.withLock { s -> Bool in let was = s.lineOpen; s.lineOpen = false; return was }
        let prefix = interactive && open ? "\r\u{1B}[2K" : ""
        var line = "step \(r.index + 1) \(r.name) done: \(r.completed) ok in \(String(format2: r.duration))s, "
            + "\(String(format: "%.1f", r.achievedRate)) rps, p50 \(Self.ms(r.latency.p50)) p99 \(Self.ms(r.latency.p99)), "
            + "errors \(r.errors.values.reduce(0, +))"
        if r.interrupted { line += " (interrupted)" }
        output(prefix + line + "\n")
        for warning in r.warnings { output("  warning: \(warning)\n") }
    }

    static func ms(_ value: Double) -> String {
        if value >= 1000 { return String(format: "%.2fs", value / 1000) }
        if value >= 100 { return String(format: "%.0fms", value) }
        if value >= 10 { return String(format: "%.1fms", value) }
        return String(format: "%.2fms", value)
    }
}
