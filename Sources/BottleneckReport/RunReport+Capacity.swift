import Foundation
import BottleneckCore
import BottleneckDiagnosis

/// The capacity plan in the run report, when `bottleneck capacity` (or `playbook run
/// capacity-plan`) left `capacity.json` in the run directory: the answer the run was for —
/// capacity per instance and per core, instances, cores and cost for the peak — next to the
/// verdicts, with the USL fit drawn over the concurrency sweep.
extension RunReport {
    /// The key figures, one row each, as every form of the report shows them.
    static func capacityTable(_ c: CapacityReport) -> RunReportTable {
        var rows: [[String]] = []
        switch c.outcome {
        case .bracketed:
            rows.append(["capacity per instance", "\(CapacityReport.rps(c.capacityRps ?? 0)) req/s",
                         "highest rate meeting p99 ≤ \(formatRate(c.sloP99Ms)) ms; \(CapacityReport.rps(c.lowestFailingRps ?? 0)) req/s broke it"])
        case .atLeast:
            rows.append(["capacity per instance", "≥ \(CapacityReport.rps(c.capacityRps ?? 0)) req/s", "every rate tried met the objective"])
        case .noneMet:
            rows.append(["capacity per instance", "unknown", "no open-loop rate met the objective"])
        case .noOpenLoopSteps:
            rows.append(["capacity per instance", "unknown", "the run has no open-loop steps"])
        }
        if let searched = c.searchedCapacityRps, let ceiling = c.throughputCeilingRps, searched > ceiling {
            rows.append(["open-loop search alone", "\(CapacityReport.rps(searched)) req/s", "capped at the sweep's throughput ceiling"])
        }
        if let perCore = c.capacityPerCoreRps, let cores = c.coresPerInstance {
            rows.append(["capacity per core", "\(CapacityReport.rps(perCore)) req/s", "\(String(format2: cores)) cores per instance (\(c.coresSource ?? "given"))"])
        }
        if let usl = c.usl {
            rows.append(["USL fit", "σ \(CapacityReport.coefficient(usl.sigma)), κ \(CapacityReport.coefficient(usl.kappa))",
                         "λ \(CapacityReport.rps(usl.lambda)) req/s, r² \(String(format: "%.3f", usl.r2))"])
            if let ceiling = usl.peakThroughput {
                rows.append(["predicted throughput ceiling", "\(CapacityReport.rps(ceiling)) req/s",
                             usl.peakConcurrency.map { "at N* ≈ \(String(format: "%.1f", $0)); at any latency" } ?? "asymptote λ/σ; at any latency"])
            }
        }
        if let plan = c.plan {
            rows.append(["peak to absorb", "\(CapacityReport.rps(plan.peakRps)) req/s", "\(String(format2: plan.headroom * 100)) % headroom kept free"])
            rows.append(["instances", "\(plan.instances)", "each at \(String(format2: plan.utilisationAtPeak * 100)) % of its capacity at peak"])
            if let cores = plan.totalCores { rows.append(["cores", String(format2: cores), ""]) }
            if let hourly = plan.costPerHour, let monthly = plan.costPerMonth {
                rows.append(["cost", String(format: "$%.2f/hour, $%.2f/month", hourly, monthly),
                             "730 h a month at $\(String(format2: plan.coreHourPrice ?? 0))/core-hour"])
            }
        }
        return RunReportTable(title: "Capacity plan", headers: ["figure", "value", "basis"], rows: rows, numericColumns: [])
    }

    /// Measured closed-loop throughput against concurrency, with the USL curve over it.
    static func uslChart(_ c: CapacityReport) -> LineChart? {
        // The steps the fit used: closed loop, within the error budget (CapacityRun.uslPoints).
        let measured = c.steps.filter { $0.mode == "closed" && $0.concurrency != nil && $0.achievedRps > 0 && $0.errorRate <= c.errorBudget }
            .map { ChartPoint(x: Double($0.concurrency!), y: $0.achievedRps) }
        guard measured.count >= 2 else { return nil }
        var series = [ChartSeries(name: "measured", points: measured, style: ChartSeriesStyle(marker: .circle))]
        var references: [ChartReferenceLine] = []
        if let usl = c.usl {
            let highest = max(measured.map(\.x).max() ?? 1, min(4 * (measured.map(\.x).max() ?? 1), (usl.peakConcurrency ?? 0) * 1.5))
            let curve = (0...60).map { i -> ChartPoint in
                let n = 1 + (highest - 1) * Double(i) / 60
                return ChartPoint(x: n, y: usl.throughput(at: n))
            }
            series.append(ChartSeries(name: "USL fit", points: curve, style: ChartSeriesStyle(dash: .dashed, marker: ChartMarker.none)))
        }
        if let capacity = c.capacityRps {
            references.append(.horizontal(at: capacity, label: "capacity at the SLO \(CapacityReport.rps(capacity)) req/s"))
        }
        return LineChart(title: "Throughput against concurrency (closed-loop sweep)", xAxis: ChartAxis(label: "Concurrency", unit: "connections"),
                         yAxis: ChartAxis(label: "Throughput", unit: "req/s"), series: series, referenceLines: references)
    }

    /// Said when the plan was made against another SLO than the one this report judges by.
    static func sloNote(_ c: CapacityReport, reportSLO: Double) -> String? {
        guard abs(c.sloP99Ms - reportSLO) > 1e-9 else { return nil }
        return "This plan was made against p99 ≤ \(formatRate(c.sloP99Ms)) ms (capacity.json); the verdicts above judge by p99 ≤ \(formatRate(reportSLO)) ms."
    }

    static func capacityHTML(_ c: CapacityReport, reportSLO: Double) -> String {
        var out = "<section id=\"capacity\"><h2>Capacity plan</h2>\n"
        if let note = sloNote(c, reportSLO: reportSLO) { out += "<p class=\"bn-meta\">\(h(note))</p>\n" }
        if !c.valid {
            out += "<p class=\"bn-invalid\" role=\"alert\"><strong>Not a capacity:</strong> the load generator could not keep up, so these figures understate the service.</p>\n"
        }
        out += htmlTable(capacityTable(c))
        if let chart = uslChart(c) {
            out += "<figure id=\"chart-usl\">\(chart.svg())<figcaption>\(h("Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) fitted to the sweep; the horizontal line is the capacity at the SLO, which queueing keeps below the ceiling."))</figcaption></figure>\n"
        }
        out += "<h3>Assumptions</h3><ul>" + c.assumptions.map { "<li>\(h($0))</li>" }.joined() + "</ul>\n"
        out += "<h3>What the run cannot tell</h3><ul>" + c.unknowns.map { "<li>\(h($0))</li>" }.joined() + "</ul>\n"
        if !c.warnings.isEmpty { out += "<h3>Warnings</h3><ul>" + c.warnings.map { "<li>\(h($0))</li>" }.joined() + "</ul>\n" }
        return out + "</section>\n"
    }

    static func capacityMarkdown(_ c: CapacityReport, reportSLO: Double) -> String {
        var out = "## Capacity plan\n\n"
        if let note = sloNote(c, reportSLO: reportSLO) { out += "\(escape(note))\n\n" }
        if !c.valid { out += "> **Not a capacity**: the load generator could not keep up, so these figures understate the service.\n\n" }
        out += markdownTable(capacityTable(c)) + "\n"
        out += "Assumptions:\n\n" + c.assumptions.map { "- \(escape($0))\n" }.joined() + "\n"
        out += "What the run cannot tell:\n\n" + c.unknowns.map { "- \(escape($0))\n" }.joined() + "\n"
        if !c.warnings.isEmpty { out += "Warnings:\n\n" + c.warnings.map { "- \(escape($0))\n" }.joined() + "\n" }
        return out
    }
}
