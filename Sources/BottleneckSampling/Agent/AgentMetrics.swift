import Foundation

/// Renders the agent's newest samples as OpenMetrics text (`GET /metrics`), so an
/// existing Prometheus can scrape the agent like a node_exporter.
///
/// Values are the newest of each entity in the sample stream, never extrapolated:
/// counters are the kernel's cumulative counts (CPU seconds, throttled seconds, TCP
/// segments), gauges the last sample (cores busy, RSS). A process that exited drops out,
/// so a tree's `cpu_seconds_total` may go down; Prometheus treats that as a counter reset.
public enum AgentMetrics: Sendable {
    /// `Content-Type` of the body.
    public static let contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

    /// How far back (agent time) the newest record of an entity may be and still be shown:
    /// several samples even at a slow `--sample-interval` (every record kind comes every
    /// interval; only the connection-state counts of `net` come every second).
    static let horizonNanoseconds: UInt64 = 6_000_000_000

    /// TCP counters exported, by their `/proc/net/snmp` name.
    static let tcpCounters: [(kernel: String, metric: String, help: String)] = [
        ("RetransSegs", "bottleneck_tcp_retransmitted_segments", "TCP segments retransmitted."),
        ("OutSegs", "bottleneck_tcp_sent_segments", "TCP segments sent."),
        ("ActiveOpens", "bottleneck_tcp_active_opens", "TCP connections opened actively."),
        ("AttemptFails", "bottleneck_tcp_attempt_fails", "TCP connection attempts that failed."),
        ("EstabResets", "bottleneck_tcp_established_resets", "TCP established connections reset."),
        ("OutRsts", "bottleneck_tcp_sent_resets", "TCP segments sent with RST."),
        ("ListenOverflows", "bottleneck_tcp_listen_overflows", "Connections dropped because an accept queue was full."),
        ("ListenDrops", "bottleneck_tcp_listen_drops", "Connections dropped at listen sockets."),
        ("TCPBacklogDrop", "bottleneck_tcp_backlog_drops", "Segments dropped because a socket backlog was full."),
        ("TCPTimeouts", "bottleneck_tcp_timeouts", "TCP retransmission timeouts."),
    ]

    /// The text for `lines` (oldest first, as the ring holds them); `header` gives `clk_tck`.
    public static func render(lines: [[UInt8]], header: [UInt8]?, samplesProduced: UInt64) -> String {
        var clockTicks = 100.0
        if let header, let object = parse(header), let ticks = number(object["clk_tck"]), ticks > 0 { clockTicks = ticks }

        var host: [String: Any]?
        var trees: [Int: [String: Any]] = [:]
        var processes: [Int: [String: Any]] = [:]
        var exited: Set<Int> = []
        var cgroups: [String: [String: Any]] = [:]
        var nets: [String: [String: Any]] = [:]
        var newest: UInt64?
        for line in lines.reversed() {
            guard let object = parse(line), let type = object["type"] as? String else { continue }
            if type == "header" { break }   // an older session: its entities may no longer be sampled
            let t = (object["t"] as? NSNumber)?.uint64Value ?? 0
            if newest == nil { newest = t }
            if let newest, newest > t, newest - t > horizonNanoseconds { break }
            switch type {
            case "host": if host == nil { host = object }
            case "tree":
                if let root = integer(object["root"]), trees[root] == nil { trees[root] = object }
            case "exit":
                if let pid = integer(object["pid"]), processes[pid] == nil { exited.insert(pid) }
            case "process":
                if let pid = integer(object["pid"]), processes[pid] == nil, !exited.contains(pid) { processes[pid] = object }
            case "cgroup":
                if let path = object["path"] as? String, cgroups[path] == nil { cgroups[path] = object }
            case "net":
                let key = "\(object["netns"] ?? "")"
                if nets[key] == nil, object["RetransSegs"] != nil { nets[key] = object }
            default: break
            }
        }

        var out = OpenMetricsWriter()
        out.family("bottleneck_agent_samples", type: "counter", help: "Sample lines the agent has produced.")
        out.sample("bottleneck_agent_samples_total", [], Double(samplesProduced))

        if let host {
            if let ticks = host["cpu_ticks"] as? [String: Any] {
                out.family("bottleneck_host_cpu_seconds", type: "counter", help: "Host CPU time by mode, all CPUs together (/proc/stat).")
                for mode in ticks.keys.sorted() {
                    if let value = number(ticks[mode]) { out.sample("bottleneck_host_cpu_seconds_total", [("mode", mode)], value / clockTicks) }
                }
            }
            out.gauge("bottleneck_host_busy_cores", help: "CPUs busy over the last sample interval.", host["busy_cores"])
            out.gauge("bottleneck_host_memory_available_bytes", help: "MemAvailable from /proc/meminfo.", host["mem_available"])
            out.gauge("bottleneck_host_procs_running", help: "Runnable tasks (/proc/stat procs_running).", host["procs_running"])
        }

        let pids = processes.keys.sorted()
        if !pids.isEmpty {
            func labels(_ p: [String: Any]) -> [(String, String)] {
                [("pid", "\(p["pid"] ?? "")"), ("root", "\(p["root"] ?? "")"), ("comm", p["comm"] as? String ?? "")]
            }
            out.family("bottleneck_process_cpu_seconds", type: "counter", help: "User plus system CPU time of a sampled server process.")
            for pid in pids {
                let p = processes[pid]!
                let ticks = (number(p["utime_ticks"]) ?? 0) + (number(p["stime_ticks"]) ?? 0)
                out.sample("bottleneck_process_cpu_seconds_total", labels(p), ticks / clockTicks)
            }
            out.family("bottleneck_process_resident_memory_bytes", type: "gauge", help: "Resident set size of a sampled server process.")
            for pid in pids {
                if let rss = number(processes[pid]!["rss_bytes"]) { out.sample("bottleneck_process_resident_memory_bytes", labels(processes[pid]!), rss) }
            }
        }

        let roots = trees.keys.sorted()
        if !roots.isEmpty {
            out.family("bottleneck_tree_cpu_seconds", type: "counter", help: "CPU time of a server process tree (master and workers), from its live processes.")
            for root in roots {
                var ticks = 0.0
                for p in processes.values where integer(p["root"]) == root {
                    ticks += (number(p["utime_ticks"]) ?? 0) + (number(p["stime_ticks"]) ?? 0)
                }
                out.sample("bottleneck_tree_cpu_seconds_total", [("root", String(root))], ticks / clockTicks)
            }
            out.family("bottleneck_tree_cpu_cores", type: "gauge", help: "CPUs a server process tree kept busy over the last sample interval.")
            for root in roots { out.sample("bottleneck_tree_cpu_cores", [("root", String(root))], number(trees[root]!["cores"])) }
            out.family("bottleneck_tree_resident_memory_bytes", type: "gauge", help: "Resident set size of a server process tree.")
            for root in roots { out.sample("bottleneck_tree_resident_memory_bytes", [("root", String(root))], number(trees[root]!["rss_bytes"])) }
        }

        let paths = cgroups.keys.sorted()
        if !paths.isEmpty {
            out.family("bottleneck_cgroup_throttled_seconds", type: "counter", help: "Time a server cgroup was throttled by its CPU quota.")
            for path in paths {
                out.sample("bottleneck_cgroup_throttled_seconds_total", [("cgroup", path)], number(cgroups[path]!["throttled_ns"]).map { $0 / 1e9 })
            }
            out.family("bottleneck_cgroup_throttled_periods", type: "counter", help: "CFS periods in which a server cgroup was throttled.")
            for path in paths { out.sample("bottleneck_cgroup_throttled_periods_total", [("cgroup", path)], number(cgroups[path]!["nr_throttled"])) }
            out.family("bottleneck_cgroup_periods", type: "counter", help: "CFS periods of a server cgroup.")
            for path in paths { out.sample("bottleneck_cgroup_periods_total", [("cgroup", path)], number(cgroups[path]!["nr_periods"])) }
            out.family("bottleneck_cgroup_cpu_quota_cores", type: "gauge", help: "CPU quota of a server cgroup in cores (absent when unlimited).")
            for path in paths { out.sample("bottleneck_cgroup_cpu_quota_cores", [("cgroup", path)], number(cgroups[path]!["quota_cores"])) }
        }

        let namespaces = nets.keys.sorted()
        if !namespaces.isEmpty {
            for counter in tcpCounters {
                out.family(counter.metric, type: "counter", help: counter.help + " (/proc/net/snmp, netstat)")
                for ns in namespaces { out.sample(counter.metric + "_total", [("netns", ns)], number(nets[ns]![counter.kernel])) }
            }
        }
        out.end()
        return out.text
    }

    /// A numeric field. (No `is Bool` test: Foundation bridges an NSNumber of 0 or 1 to Bool,
    /// so that test dropped every idle tree's `"cores":0`; the fields read here are never booleans.)
    static func number(_ value: Any?) -> Double? {
        (value as? NSNumber)?.doubleValue
    }

    static func integer(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

    private static func parse(_ line: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
    }
}

/// Builds OpenMetrics text: `# TYPE`/`# HELP` before each family's samples, `# EOF` last.
struct OpenMetricsWriter {
    private(set) var text = ""

    mutating func family(_ name: String, type: String, help: String) {
        text += "# TYPE \(name) \(type)\n# HELP \(name) \(Self.escapeHelp(help))\n"
    }

    mutating func gauge(_ name: String, help: String, _ value: Any?) {
        guard let value = AgentMetrics.number(value) else { return }
        family(name, type: "gauge", help: help)
        sample(name, [], value)
    }

    /// One sample line; nothing when `value` is nil (a field the sampler did not read).
    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double?) {
        guard let value, value.isFinite else { return }
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " "
        if value == value.rounded(), abs(value) < 1e15 { text += String(Int64(value)) } else { text += String(value) }
        text += "\n"
    }

    mutating func end() { text += "# EOF\n" }

    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
