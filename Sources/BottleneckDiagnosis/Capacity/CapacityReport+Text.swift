import Foundation

extension CapacityReport {
    /// The report a person reads: the answer first (capacity per instance and per core), then
    /// the evidence (steps, USL), then the plan, then what the figures rest on.
    public func renderText() -> String {
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }
        func ms(_ value: Double) -> String { String(format2: value) }
        func pct(_ fraction: Double) -> String { String(format2: fraction * 100) + " %" }

        line("Capacity of \(target)")
        line("  objective: p99 ≤ \(ms(sloP99Ms)) ms, errors ≤ \(pct(errorBudget)), at least \(pct(minAchievedRatio)) of the schedule completed")
        if !valid {
            line("  INVALID: the load generator saturated; these numbers understate the service and must not be trusted.")
        }
        line()
        switch outcome {
        case .bracketed:
            line("  capacity per instance: \(Self.rps(capacityRps ?? 0)) req/s  (\(Self.rps(lowestFailingRps ?? 0)) req/s broke the objective)")
        case .atLeast:
            line("  capacity per instance: at least \(Self.rps(capacityRps ?? 0)) req/s  (every rate tried met the objective)")
        case .noneMet:
            line("  capacity per instance: unknown — no open-loop rate met the objective (lowest tried \(Self.rps(lowestFailingRps ?? 0)) req/s)")
        case .noOpenLoopSteps:
            line("  capacity per instance: unknown — the run has no open-loop steps")
        }
        if let searched = searchedCapacityRps, let ceiling = throughputCeilingRps, searched > ceiling {
            line("                         capped at the sweep's throughput ceiling; the search alone said \(Self.rps(searched)) req/s")
        }
        if let cores = coresPerInstance {
            let perCore = capacityPerCoreRps.map { "\(Self.rps($0)) req/s" } ?? "unknown"
            line("  capacity per core:     \(perCore)  (\(String(format2: cores)) cores per instance, \(coresSource ?? "given"))")
        } else {
            line("  capacity per core:     unknown — pass --cores-per-instance, or --server-pid/--server-port to sample it")
        }
        line()
        line("  steps:")
        for step in steps {
            let load = step.mode == "closed" ? "c=\(step.concurrency ?? 0)" : "\(Self.rps(step.offeredRps ?? 0)) req/s offered"
            let ratio = step.achievedRatio.map { ", \(pct($0)) of schedule" } ?? ""
            let mark = (step.meetsSlo ? "meets" : "breaks") + (step.queueGrowing == true ? " (its queue grew through the step)" : "")
            line("    \(step.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(load): \(Self.rps(step.achievedRps)) req/s, p99 \(ms(step.p99Ms)) ms, errors \(pct(step.errorRate))\(ratio) — \(mark)")
        }
        line()
        if let usl {
            line("  Universal Scalability Law on the closed-loop sweep: X(N) = λN / (1 + σ(N−1) + κN(N−1))")
            line("    λ \(Self.rps(usl.lambda)) req/s (one worker, no interference)  σ \(Self.coefficient(usl.sigma)) (contention)  κ \(Self.coefficient(usl.kappa)) (coherency)  r² \(String(format: "%.3f", usl.r2))")
            if let ceiling = usl.peakThroughput {
                let where_ = usl.peakConcurrency.map { " at N* ≈ \(String(format: "%.1f", $0))" } ?? " (asymptote λ/σ; no retrograde region seen)"
                line("    predicted ceiling: \(Self.rps(ceiling)) req/s\(where_) — at any latency; capacity at the SLO is lower")
            } else {
                line("    predicted ceiling: none seen — throughput still grew linearly at the highest concurrency")
            }
            if let best = bestClosedLoopRps, let n = bestClosedLoopConcurrency {
                line("    best measured: \(Self.rps(best)) req/s at c=\(n)")
            }
        } else if let uslNote {
            line("  \(uslNote)")
        }
        line()
        if let plan {
            line("  plan for a peak of \(Self.rps(plan.peakRps)) req/s with \(pct(plan.headroom)) headroom:")
            line("    instances: \(plan.instances), each at \(pct(plan.utilisationAtPeak)) of its capacity at peak")
            if let total = plan.totalCores { line("    cores: \(String(format2: total))") }
            if let hourly = plan.costPerHour, let monthly = plan.costPerMonth {
                line("    cost: $\(String(format: "%.2f", hourly))/hour, $\(String(format: "%.2f", monthly))/month (730 h) at $\(String(format2: plan.coreHourPrice ?? 0))/core-hour")
            }
            line()
        }
        line("  assumptions:")
        for a in assumptions { line("    - \(a)") }
        line("  cannot know:")
        for u in unknowns { line("    - \(u)") }
        if !warnings.isEmpty {
            line("  warnings:")
            for w in warnings { line("    - \(w)") }
        }
        line()
        line("  run directory: \(runDirectory)")
        return out
    }

    /// σ and κ span decades (0.3, 0.0004): three significant digits, not two decimals.
    package static func coefficient(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.3g", value)
    }
}
