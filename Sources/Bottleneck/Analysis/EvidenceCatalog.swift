/// Every metric the rules can use: name, unit, where it comes from, what it means.
/// `bottleneck rules explain` and `docs/metrics.md` print from this one table.
public enum EvidenceCatalog: Sendable {
    static let entries: [(String, String, String, String)] = [
        // Load, from summary.json (the load engine).
        ("load.offered_rps", "req/s", "summary.json", "Target rate of an open-loop step (0 for closed loop)."),
        ("load.concurrency", "connections", "summary.json", "Connections of a closed-loop step (0 for open loop)."),
        ("load.achieved_rps", "req/s", "summary.json", "Completed requests per second."),
        ("load.achieved_ratio", "ratio", "summary.json", "Achieved over offered rate (open loop; 1 for closed loop)."),
        ("load.error_rate", "ratio", "summary.json", "Failed requests (transport errors, 4xx, 5xx) over attempted."),
        ("load.timeout_rate", "ratio", "summary.json", "Timeouts over attempted requests."),
        ("load.refused_rate", "ratio", "summary.json", "Refused or reset connections over attempted requests."),
        ("load.schedule_lag_p99_ms", "ms", "summary.json", "p99 of dispatch − intended send time: the generator's own lateness."),
        ("load.connection_wait_p99_ms", "ms", "summary.json", "p99 of send − dispatch: waiting for a free or new connection."),
        ("latency.p50_ms", "ms", "summary.json", "Median latency from the intended send time."),
        ("latency.p99_ms", "ms", "summary.json", "p99 latency from the intended send time (coordinated-omission free)."),
        ("service.mean_ms", "ms", "requests.csv", "Mean time from the first byte sent to the last byte received."),
        ("service.p99_ms", "ms", "summary.json", "p99 service time (from the actual send)."),
        ("latency.p99_over_baseline", "ratio", "summary.json", "This step's p99 latency over the first step's."),
        // The generator, from its own accounting and the samplers.
        ("client.cpu_cores", "cores", "summary.json (getrusage)", "CPU the generator process used (user + system) over wall time."),
        ("client.allowed_cores", "cores", "run.json (affinity, cgroup quota)", "Cores the generator may use."),
        ("client.cpu_utilisation", "ratio", "summary.json", "client.cpu_cores over client.allowed_cores."),
        ("client.run_delay_fraction", "ratio", "samples (/proc/PID/schedstat)", "Share of wall time the generator's threads waited for a CPU."),
        ("client.throttled_ratio", "ratio", "samples (cgroup cpu.stat)", "Share of CFS periods in which the generator's cgroup was throttled."),
        ("client.time_wait", "sockets", "samples (/proc/PID/net/tcp)", "Most TIME_WAIT sockets to the target port seen on the client."),
        ("client.retransmit_ratio", "ratio", "samples (/proc/PID/net/snmp)", "RetransSegs over OutSegs in the generator's network namespace (all its traffic)."),
        ("slo.p99_ms", "ms", "--slo", "The latency objective the run is judged against (p99)."),
        // The server, from the samplers (--server-port / --server-pid).
        ("server.sampled", "flag", "samples", "1 when server processes were sampled in this step, else 0."),
        ("server.processes", "processes", "samples (/proc)", "Server processes sampled (the tree under --server-pid/--server-port)."),
        ("server.cpu_cores", "cores", "samples (/proc/PID/stat)", "Mean CPU of the whole server process tree."),
        ("server.allowed_cores", "cores", "samples (affinity, cgroup quota)", "Cores the server may use."),
        ("server.cpu_utilisation", "ratio", "samples", "server.cpu_cores over server.allowed_cores."),
        ("server.busiest_process_cores", "cores", "samples (/proc/PID/stat)", "CPU of the busiest single server process (1.0 = one full core)."),
        ("server.throttled_ratio", "ratio", "samples (cgroup cpu.stat)", "Share of CFS periods in which the server's cgroup was throttled."),
        ("server.run_delay_fraction", "ratio", "samples (/proc/PID/schedstat)", "Share of wall time server threads waited for a CPU."),
        ("server.rss_peak_mb", "MB", "samples (/proc/PID/status)", "Peak resident memory of the server tree."),
        ("server.rss_growth_mb", "MB", "samples (/proc/PID/status)", "Resident memory growth of the server tree during the step."),
        ("server.listen_overflows", "events", "samples (/proc/PID/net/netstat)", "TcpExt ListenOverflows: connections dropped because the accept queue was full."),
        ("server.accept_queue_max", "connections", "samples (/proc/PID/net/tcp)", "Longest accept queue seen on the listening socket."),
        ("server.retransmit_ratio", "ratio", "samples (/proc/PID/net/snmp)", "RetransSegs over OutSegs in the server's network namespace."),
        ("server.time_wait", "sockets", "samples (/proc/PID/net/tcp)", "Most TIME_WAIT sockets on the server's listening port: connections closed per request."),
        // A reverse proxy sampled apart from the service (--proxy-pid / --proxy-port).
        ("proxy.processes", "processes", "samples-proxy (/proc)", "Proxy processes sampled."),
        ("proxy.cpu_cores", "cores", "samples-proxy (/proc/PID/stat)", "Mean CPU of the proxy's processes."),
        ("proxy.busiest_process_cores", "cores", "samples-proxy", "CPU of the busiest proxy process (nginx workers are single-threaded)."),
        ("proxy.throttled_ratio", "ratio", "samples-proxy (cgroup cpu.stat)", "Share of CFS periods in which the proxy's cgroup was throttled."),
        ("proxy.retransmit_ratio", "ratio", "samples-proxy (/proc/PID/net/snmp)", "RetransSegs over OutSegs in the proxy's network namespace."),
        ("proxy.run_delay_fraction", "ratio", "samples-proxy (/proc/PID/schedstat)", "Share of wall time proxy threads waited for a CPU."),
        ("host.busy_fraction", "ratio", "samples (/proc/stat)", "Mean share of all CPUs busy on the generator's host."),
        ("host.idle_cores", "cores", "samples (/proc/stat)", "Mean idle cores on the generator's host."),
        // The service's own phases, from Server-Timing.
        ("timing.coverage", "ratio", "requests.csv (Server-Timing)", "Share of responses that carried Server-Timing phases."),
        ("timing.server_ms", "ms", "requests.csv (Server-Timing)", "Mean sum of the service's named phases."),
        ("timing.queue_ms", "ms", "requests.csv (Server-Timing)", "Mean queue/wait phase."),
        ("timing.preprocess_ms", "ms", "requests.csv (Server-Timing)", "Mean preprocessing phases (pre*, decode, resize, tokeni*)."),
        ("timing.model_ms", "ms", "requests.csv (Server-Timing)", "Mean model phases (model, infer*, predict*)."),
        ("timing.postprocess_ms", "ms", "requests.csv (Server-Timing)", "Mean postprocessing phases (post*)."),
        ("timing.model_share", "ratio", "requests.csv", "Model phases over the service time the client saw."),
        ("timing.preprocess_share", "ratio", "requests.csv", "Preprocessing phases over the service time the client saw."),
        ("timing.queue_share", "ratio", "requests.csv", "Queue phase over the service time the client saw."),
        ("timing.outside_ms", "ms", "requests.csv", "Service time not covered by the service's phases: network, proxy, framework, generator."),
        ("timing.outside_share", "ratio", "requests.csv", "timing.outside_ms over the service time."),
        ("payload.bytes_mean", "bytes", "requests.csv", "Mean payload size of successful requests."),
        ("payload.megapixels_mean", "Mpx", "requests.csv", "Mean image size of successful requests."),
        // Fits across all requests of the run (run level).
        ("fit.service_ms_per_mb", "ms/MB", "requests.csv", "Slope of service time against payload megabytes."),
        ("fit.service_vs_bytes_r2", "r²", "requests.csv", "How well payload size explains service time (0..1)."),
        ("fit.preprocess_ms_per_megapixel", "ms/Mpx", "requests.csv", "Slope of preprocessing time against input megapixels."),
        ("fit.preprocess_vs_pixels_r2", "r²", "requests.csv", "How well input pixels explain preprocessing time (0..1)."),
        // Wire, from the capture (--capture).
        ("wire.server_ms", "ms", "capture-exchanges.jsonl", "Mean first response byte − last request byte at the capture point."),
        ("wire.handshake_rtt_ms", "ms", "capture-summary.json", "Median TCP handshake round trip seen by the capture."),
        ("wire.retransmit_ratio", "ratio", "capture-summary.json", "Retransmitted over data segments in the capture."),
    ]

    /// The catalog the rule engine checks rule files against.
    public static let catalog = MetricCatalog(entries.map { MetricDefinition(name: $0.0, unit: $0.1, source: $0.2, description: $0.3) })
}
