import Foundation
import BottleneckDiagnosis
import BottleneckLoad
import BottleneckRun
import BottleneckSampling

/// The terminal rendering of a connections probe: the level table, the limit, the verdicts.
public enum ConnectionsReportText: Sendable {
    public static func render(_ diagnosis: ConnectionsDiagnosis, record: ConnectionsRecord) -> String {
        let probe = record.probe
        var out = "Connections probe of \(probe.target): "
        out += probe.keepAlive
            ? "idle keep-alive connections, each pinged every \(String(format: "%.1f", probe.pingIntervalSeconds)) s.\n"
            : "the server answers Connection: close, so it cannot hold idle connections; silent connections (connected, no request) were held instead, as a sync worker blocks reading one.\n"
        for line in record.topology?.notes ?? [] { out += "Found: \(line)\n" }
        let server = (record.agentSampling ?? record.sampling)?.steps
        let proxy = record.proxySampling?.steps
        out += "\n level   target    held  waiting  failures                      fresh p50   server fds/limit  queue"
        if proxy != nil { out += "  proxy fds/sockets" }
        out += "\n"
        for level in probe.levels {
            let failures = level.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let fresh = level.freshWaitMedianMs.map { String(format: "%.1f ms", $0) } ?? (level.freshUnanswered > 0 ? "none" : "-")
            let side = server?.first { $0.index == level.index }?.server
            let fds = side.flatMap { s in s.fdsAtUsageMax.map { "\($0)/\(s.fdLimitAtUsageMax.map(String.init) ?? "?")" } } ?? "-"
            let queue = side.map { String($0.acceptQueueMax) } ?? "-"
            out += String(level.index).leftPadded(6) + String(level.target).leftPadded(9) + String(level.held).leftPadded(8)
                + String(level.unanswered).leftPadded(9) + "  " + (failures.isEmpty ? "-" : failures).rightPadded(28)
                + fresh.leftPadded(11) + fds.leftPadded(19) + queue.leftPadded(7)
            if let proxy {
                let side = proxy.first { $0.index == level.index }?.server
                let p = side?.fdsMax.map { "\($0)/\(side?.socketsMax.map(String.init) ?? "-")" }
                out += (p ?? "-").leftPadded(19)
            }
            out += "\n"
        }
        out += "\n"
        if let limit = probe.limit {
            out += "Limit: \(limit) connections held and served; then \(ConnectionFailureKind(rawValue: probe.firstFailure ?? "")?.meaning ?? probe.firstFailure ?? "failures")."
            if let queued = probe.queued { out += " \(queued) more connected but waited unanswered (the accept queue) before SYNs were dropped." }
            out += "\n"
        } else {
            out += "No limit found: \(probe.maxHeld) connections held and served; the probe stopped: \(probe.stoppedBecause).\n"
        }
        if let sockets = diagnosis.proxyConnections {
            out += "The proxy's connection cap is about \(sockets) (its clients, listeners and upstream connections in use when it began shedding clients, scaled for nginx's 1/16 reserve): compare with worker_connections.\n"
        }
        if let rest = probe.freshWaitAtRestMs, let most = probe.freshWaitAtMaxMs {
            out += "A fresh request waited \(String(format: "%.1f", rest)) ms at rest and \(String(format: "%.1f", most)) ms at the highest level still served.\n"
        }
        if let idle = probe.idleCloseSeconds {
            out += "The server closed held connections that had been idle for as little as \(String(format: "%.2f", idle)) s (pinged every \(String(format: "%.1f", probe.pingIntervalSeconds)) s): it shed them, or its keep-alive timeout is that short.\n"
        }
        out += "\n"
        out += diagnosis.verdicts.isEmpty ? "No rule named a cause.\n" : DiagnosisReportText.renderVerdicts(diagnosis.verdicts)
        out += DiagnosisReportText.renderMissing(diagnosis.missingEvidence)
        out += "\nRun directory: \(diagnosis.runDirectory)\n"
        return out
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    func rightPadded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
