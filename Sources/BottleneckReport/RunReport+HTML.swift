import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckDiagnosis

extension RunReport {
    /// `--format html`: one self-contained file — inline CSS and SVG, no script, no fetch —
    /// so it opens offline, attaches to a ticket and survives being mailed around.
    ///
    /// Order is the reader's: the invalid-run banner, then the verdicts (what to do), then
    /// the charts that back them, then the tables, configuration and host.
    public static func html(_ data: RunReportData) -> String {
        let d = data.diagnosis
        var body = "<header><h1>bottleneck report: \(h(data.summary.name))</h1>\n"
        var meta = ["target <code>\(h(data.summary.target))</code>", "SLO p99 ≤ \(formatRate(d.sloP99Ms)) ms",
                    "run directory <code>\(h(data.directory))</code>"]
        if let run = data.run { meta.append("started \(h(run.startedAt))") }
        body += "<p class=\"bn-meta\">\(meta.joined(separator: " · "))</p>\n"
        if let found = d.found, !found.isEmpty {
            body += "<p class=\"bn-meta\">Found: \(h(found.joined(separator: "; ")))</p>\n"
        }
        body += "</header>\n"
        if !d.valid {
            body += """
                <div class="bn-invalid" role="alert"><strong>This run is invalid:</strong> the load generator could not keep up, \
                so none of its numbers can be trusted. Fix the generator first (see the load-generator verdicts below), then run again.</div>

                """
        }
        body += verdictsHTML(data)
        if let capacity = data.capacity { body += capacityHTML(capacity, reportSLO: data.sloP99Milliseconds) }
        body += "<section id=\"charts\"><h2>Charts</h2><div class=\"bn-grid\">\n"
        for (id, svg, note) in charts(data) {
            body += "<figure id=\"\(id)\">\(svg)"
            if let note { body += "<figcaption>\(h(note))</figcaption>" }
            body += "</figure>\n"
        }
        body += "</div>\n"
        var missing: [String] = []
        if data.cpu.isEmpty { missing.append("CPU and memory over time (no samples.jsonl: the samplers were off)") }
        if data.payload == nil { missing.append("service time against payload size (every request had the same size)") }
        if data.distributions.isEmpty { missing.append("latency distribution (no latency.hlog)") }
        if !missing.isEmpty { body += "<p class=\"bn-meta\">Not drawn: \(h(missing.joined(separator: "; "))).</p>\n" }
        body += "</section>\n"
        for table in tables(data) {
            body += "<section><h2>\(h(table.title))</h2>\n\(htmlTable(table))</section>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>bottleneck report: \(h(data.summary.name))</title>
            <style>
            \(ChartStyle.css)
            \(pageCSS)
            </style></head>
            <body>
            \(body)</body></html>

            """
    }

    static let pageCSS = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1360px; padding: 0 16px; line-height: 1.4; }
        h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; } h3 { font-size: 15px; margin: 0 0 4px; }
        .bn-meta { opacity: 0.8; margin: 0 0 12px; }
        .bn-invalid { background: #B00020; color: #fff; padding: 12px 16px; border-radius: 6px; margin: 12px 0; font-size: 15px;
                      border: 3px solid #B00020; }
        .bn-verdict { border-left: 4px solid #D55E00; padding: 8px 12px; margin: 10px 0; background: color-mix(in srgb, currentColor 4%, transparent); }
        .bn-verdict.bn-sev-info { border-left-color: #0072B2; }
        .bn-verdict.bn-sev-critical { border-left-color: #B00020; }
        .bn-healthy { border-left: 4px solid #009E73; padding: 8px 12px; }
        .bn-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 24px; }
        figure { margin: 0; } figcaption { font-size: 12px; opacity: 0.8; }
        table { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
        th, td { padding: 3px 10px; border-bottom: 1px solid color-mix(in srgb, currentColor 18%, transparent); text-align: left; vertical-align: top; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code { font-size: 12px; }
        @media print { .bn-grid { display: block; } figure { break-inside: avoid; }
                       .bn-invalid { background: none; color: #B00020; } }
        """

    static func verdictsHTML(_ data: RunReportData) -> String {
        let d = data.diagnosis
        var out = "<section id=\"verdicts\" class=\"bn-verdicts\"><h2>Verdicts</h2>\n"
        if let note = data.diagnosisNote { out += "<p class=\"bn-meta\">\(h(note))</p>\n" }
        for line in headline(d) {
            out += d.healthy && line.hasPrefix("Healthy") ? "<p class=\"bn-healthy\">\(h(line))</p>\n" : "<p>\(h(line))</p>\n"
        }
        for (rank, v) in d.verdicts.enumerated() {
            out += "<article class=\"bn-verdict bn-sev-\(h(v.severity.rawValue))\" data-culprit=\"\(h(v.culprit.rawValue))\">"
            out += "<h3>\(rank + 1). <span class=\"bn-culprit\">\(h(v.culprit.rawValue.uppercased()))</span> — \(h(v.cause))</h3>\n"
            var facts = ["\(v.severity.rawValue)", "confidence \(String(format: "%.2f", v.confidence))", "rule <code>\(h(v.rule))</code>"]
            if let step = v.step, step < data.summary.steps.count { facts.append("step \(step + 1) (\(h(data.summary.steps[step].name)))") }
            out += "<p class=\"bn-meta\">\(facts.joined(separator: " · "))</p>\n<p>\(h(v.explain))</p>\n"
            if !v.evidence.isEmpty {
                out += htmlTable(RunReportTable(title: "evidence", headers: ["evidence", "value", "threshold"],
                                                rows: v.evidence.map { [$0.metric, evidenceValue($0.value), "\($0.comparison) \(evidenceValue($0.threshold))"] },
                                                numericColumns: [1]))
            }
            if !v.next.isEmpty { out += "<p>Next: " + v.next.map { "<code>\(h($0))</code>" }.joined(separator: ", ") + "</p>\n" }
            out += "</article>\n"
        }
        if let failed = failedRequestsTable(d) { out += "<h3>\(h(failed.title))</h3>\n" + htmlTable(failed) }
        let hints = MissingEvidenceHint.lines(d.missingEvidence)
        if !hints.isEmpty {
            out += "<p class=\"bn-meta\">Evidence that could have changed this verdict but was not measured: " + hints.map { h($0) }.joined(separator: "; ") + "</p>\n"
        }
        return out + "</section>\n"
    }

    /// Every chart as (element id, inline SVG, optional caption), in the order shown.
    static func charts(_ data: RunReportData) -> [(String, String, String?)] {
        let steps = data.summary.steps.filter { $0.latency.count > 0 }
        let slo = ChartReferenceLine.horizontal(at: data.sloP99Milliseconds, label: "SLO p99 \(formatRate(data.sloP99Milliseconds)) ms")
        var result: [(String, String, String?)] = []

        // In load order, not run order: a closed-loop baseline (placed at its achieved rate) would
        // otherwise make the lines of a diagnose ramp zigzag back.
        let byLoad = data.summary.steps.sorted { data.load(of: $0) < data.load(of: $1) }
        var latencyReferences = [slo]
        if let knee = data.diagnosis.knee, knee.step < data.summary.steps.count {
            latencyReferences.append(.vertical(at: data.load(of: data.summary.steps[knee.step]),
                                               label: knee.broken ? "knee: \(knee.name)" : "last step: \(knee.name)"))
        }
        // The one-connection baseline before an open-loop ramp is drawn apart, as markers: joined
        // into the ramp's lines at its achieved rate, a line would double back.
        let mixed = !data.closedLoop && byLoad.contains { $0.mode == "closed" } && byLoad.contains { $0.mode == "open" }
        let ramp = mixed ? byLoad.filter { $0.mode == "open" } : byLoad
        func percentile(_ name: String, _ value: KeyPath<LatencyPercentiles, Double>) -> ChartSeries {
            ChartSeries(name: name, points: ramp.filter { $0.latency.count > 0 }
                .map { ChartPoint(x: data.load(of: $0), y: $0.latency[keyPath: value]) })
        }
        var latencySeries = [percentile("p50", \.p50), percentile("p90", \.p90), percentile("p99", \.p99), percentile("max", \.max)]
        if mixed {
            let baseline = byLoad.filter { $0.mode == "closed" && $0.latency.count > 0 }
            latencySeries.append(ChartSeries(name: "baseline p50 (1 connection)", points: baseline.map { ChartPoint(x: data.load(of: $0), y: $0.latency.p50) },
                                             style: ChartSeriesStyle(colorSlot: 6, dash: .dotted, marker: .diamond)))
            latencySeries.append(ChartSeries(name: "baseline p99 (1 connection)", points: baseline.map { ChartPoint(x: data.load(of: $0), y: $0.latency.p99) },
                                             style: ChartSeriesStyle(colorSlot: 7, dash: .dotted, marker: .square)))
        }
        // The SLO line must show; when it sits far above every measured value a linear axis
        // would flatten the curves against zero, so switch to log (each decade the same height).
        let highest = steps.map(\.latency.max).max() ?? 0
        let lowest = steps.map(\.latency.p50).filter { $0 > 0 }.min() ?? 0
        let latencyScale: ChartScale = lowest > 0 && data.sloP99Milliseconds > 4 * highest ? .log : .linear
        let latency = LineChart(
            title: "Latency percentiles against \(data.closedLoop ? "concurrency" : "offered load")",
            xAxis: data.loadAxis, yAxis: ChartAxis(label: "Latency", unit: "ms", scale: latencyScale),
            series: latencySeries,
            referenceLines: latencyReferences)
        result.append(("chart-latency", latency.svg(), "Latency from the intended send time (coordinated-omission free)."))

        let achieved = LineChart(
            title: data.closedLoop ? "Achieved rate against concurrency" : "Achieved against offered rate",
            xAxis: data.loadAxis, yAxis: ChartAxis(label: "Achieved", unit: "req/s"),
            series: [ChartSeries(name: "achieved", points: ramp.map { ChartPoint(x: data.load(of: $0), y: $0.achievedRate) })],
            referenceLines: data.closedLoop ? [] : [.identity(label: "achieved = offered")])
        result.append(("chart-achieved", achieved.svg(), nil))

        let names = data.breakdown.first?.segments.map(\.name) ?? []
        let segments = names.enumerated().compactMap { index, name -> StackedBarChart.Segment? in
            let values = data.breakdown.map { $0.segments[index].value }
            guard values.contains(where: { $0 > 0 }) else { return nil }
            return StackedBarChart.Segment(name: name, values: values, style: name == "unknown" ? ChartSeriesStyle(colorSlot: 8) : .automatic)
        }
        let bars = StackedBarChart(
            title: "Where the time goes (mean per request)", categoryLabel: "Step",
            categories: data.summary.steps.map { data.loadLabel(of: $0) }, segments: segments,
            yAxis: ChartAxis(label: "Time", unit: "ms"))
        let timed = data.breakdown.contains { $0.requestsWithServerTiming > 0 }
        result.append(("chart-breakdown", bars.svg(), timed
            ? "Generator = schedule lag + connection wait; phases from Server-Timing; outside the service = service time minus the phases (network, proxy, framework)."
            : "No response carried Server-Timing, so the service time is one unknown block; add Server-Timing phases to split it."))

        if !data.cpu.isEmpty {
            let cpu = TimeSeriesChart(
                title: "CPU over time", yAxis: ChartAxis(label: "CPU", unit: "cores"),
                series: data.cpu.series.map { ChartSeries(name: $0.name, points: $0.points) },
                markers: data.cpu.stepStarts.map { .init(time: $0.time, label: $0.name) },
                referenceLines: data.cpu.allowedCores.map { [.horizontal(at: $0, label: "\(cores($0)) cores allowed")] } ?? [])
            result.append(("chart-cpu", cpu.svg(), "From samples.jsonl; vertical lines mark where each step began."))
        }
        let stepMarkers = data.cpu.stepStarts.map { TimeSeriesChart.Marker(time: $0.time, label: $0.name) }
        if data.sampled.memory.contains(where: { !$0.points.isEmpty }) {
            let memory = TimeSeriesChart(
                title: "Memory over time", yAxis: ChartAxis(label: "Resident memory", unit: "MiB"),
                series: data.sampled.memory.map { ChartSeries(name: $0.name, points: $0.points) }, markers: stepMarkers)
            result.append(("chart-memory", memory.svg(), "Resident memory (RSS) of each process tree, from samples.jsonl: a line that climbs step after step is memory kept per request."))
        }
        if data.sampled.hostCPU.contains(where: { !$0.points.isEmpty }) {
            let host = TimeSeriesChart(
                title: "Host CPU per core", yAxis: ChartAxis(label: "Busy", unit: "%"),
                series: data.sampled.hostCPU.map { ChartSeries(name: $0.name, points: $0.points) }, markers: stepMarkers,
                referenceLines: [.horizontal(at: 100, label: "100%")])
            result.append(("chart-host-cpu", host.svg(), "Each CPU of the sampling host (/proc/stat): one core at 100% while the others idle is a single-threaded bottleneck; steal is time the hypervisor gave to other guests."))
        }

        if let payload = data.payload {
            let fitNote = payload.fit.map {
                String(format: "Service-time fit: %.3f ms per KiB + %.2f ms fixed (r² %.2f), over %d requests", $0.slope, $0.intercept, $0.r2, payload.requests)
            }
            var series = [ChartSeries(name: "latency", points: payload.latency), ChartSeries(name: "service time", points: payload.points)]
            if !payload.serverTime.isEmpty { series.append(ChartSeries(name: "server time (Server-Timing)", points: payload.serverTime)) }
            let scatter = ScatterChart(
                title: "Latency, service and server time against payload size", xAxis: ChartAxis(label: "Payload", unit: "KiB"),
                yAxis: ChartAxis(label: "Time", unit: "ms"), series: series, fit: payload.fit)
            let drawn = "\(payload.points.count) of \(payload.total) requests drawn; latency from the intended send, service time from the actual send."
            result.append(("chart-payload", scatter.svg(), fitNote.map { "\($0). \(drawn)" } ?? drawn))
        }

        if !data.distributions.isEmpty {
            let distribution = PercentileChart(
                title: "Latency distribution per step", yAxis: ChartAxis(label: "Latency", unit: "ms", scale: .log),
                series: data.distributions.map { ChartSeries(name: $0.name, points: $0.points) }, referenceLines: [slo])
            result.append(("chart-distribution", distribution.svg(), "Merged HdrHistogram intervals of latency.hlog, per step."))
        }
        return result
    }

    static func htmlTable(_ table: RunReportTable) -> String {
        func cell(_ tag: String, _ column: Int, _ text: String) -> String {
            table.numericColumns.contains(column) ? "<\(tag) class=\"num\">\(h(text))</\(tag)>" : "<\(tag)>\(h(text))</\(tag)>"
        }
        var out = "<table><thead><tr>" + table.headers.enumerated().map { cell("th", $0, $1) }.joined() + "</tr></thead><tbody>\n"
        for row in table.rows { out += "<tr>" + row.enumerated().map { cell("td", $0, $1) }.joined() + "</tr>\n" }
        return out + "</tbody></table>\n"
    }

    /// HTML-escapes text for element content and attribute values.
    static func h(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
