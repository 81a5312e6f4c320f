import ArgumentParser
import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckDiagnosis
import BottleneckReport
import Foundation

/// `bottleneck probe`: probes that are not a load (how many connections the server holds).
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe a limit of the server other than its request rate.",
        subcommands: [Connections.self]
    )

    struct Connections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find how many simultaneous connections the server holds, and what stops it.",
            discussion: """
                Opens idle keep-alive connections in growing batches (8, 16, 32 … 512 more a level) up to --max, keeps \
                each alive with a small GET every second or so (any HTTP answer counts, a 405 too), and times a fresh \
                request on a new connection at each level. It stops where the server stops serving new connections \
                (refused, SYN dropped, reset, closed, never answered, or a 5xx), starts again from the last level \
                without failures and adds one connection at a time to count the limit exactly, then counts how many \
                more connections wait unanswered in the accept queue before SYNs are dropped. A server that answers Connection: close \
                (a sync worker) cannot hold idle connections: the probe then holds silent ones, which pin one worker each, \
                growing 4% a level. The server's and the proxy's processes are found and sampled as in diagnose \
                (fds against ulimit -n, accept queues, listen overflows), and the rules name the limit: the fd limit, \
                the listen backlog, sync workers, or the proxy's worker_connections.

                Writes RUN_DIR/connections.json and connections-diagnosis.json. Only probe servers you run.

                Exit codes: 0 probed; 1 a culprit named in --fail-on was found; 2 bad input.
                """
        )

        @Option(help: "The endpoint, e.g. http://127.0.0.1:8080/predict.", transform: OptionValue.target)
        var target: TargetURL?
        @Option(name: [.customShort("H"), .customLong("header")], help: "A header sent with every ping, 'Name: value' (repeatable).",
                transform: OptionValue.header)
        var headers: [RequestHeader] = []
        @Option(name: .customLong("ping-path"), help: "Path of the pings (default the target's; a cheap route such as /health keeps a slow model out of it).")
        var pingPath: String?
        @Option(help: "The most connections to hold (default 10000; bounded by this tool's own fd limit, raised to its hard limit).",
                transform: OptionValue.count(in: 1...1_000_000, of: "connections"))
        var max: Int?
        @Option(name: .customLong("answer-timeout"), help: "A ping or connect not answered by then counts as not served (default 3s).",
                transform: OptionValue.duration)
        var answerTimeout: UInt64?
        @Option(name: .customLong("time-limit"), help: "End the probe by then, whatever it found (default 2m).", transform: OptionValue.duration)
        var timeLimit: UInt64?
        @OptionGroup var evidence: EvidenceOptions
        @Option(help: "Write the run directory here.") var out: String?
        @Option(help: "Judge this recorded probe again (RUN_DIR) instead of probing.") var from: String?
        @Option(help: "A folder of rule files replacing the default rules.") var rules: String?
        @Option(name: .customLong("fail-on"), help: "Exit 1 when one of these culprits is named, e.g. server,proxy.", transform: OptionValue.culprits)
        var failOn: [Culprit]?
        @Flag(help: "Print the diagnosis as JSON (schema bottleneck.connections-diagnosis/v1).") var json = false

        func run() async throws {
            if let from {
                let (diagnosis, record) = try ConnectionsProbeRunner.rediagnose(directory: from, rules: try RuleSelection.load(directory: rules))
                try Self.finish(diagnosis, record: record, json: json, failOn: failOn)
                return
            }
            guard let target else { throw ValidationError("give --target URL to probe, or --from RUN_DIR to judge a recorded probe") }
            var settings = ConnectionsSettings()
            settings.maxConnections = max
            settings.pingPath = pingPath
            settings.answerTimeout = answerTimeout
            settings.timeLimit = timeLimit
            try await Self.probe(target: target, headers: headers, settings: settings, evidence: evidence, out: out,
                                 rules: rules, json: json, failOn: failOn)
        }

        /// Runs the probe on this terminal (Ctrl-C ends it early) and prints its verdicts; also
        /// what `bottleneck load --probe` does with a spec that has `connections:`.
        static func probe(target: TargetURL, headers: [RequestHeader], settings: ConnectionsSettings, evidence: EvidenceOptions,
                          out: String?, rules: String?, json: Bool, failOn: [Culprit]?) async throws {
            if target.isGRPC {
                throw LoadError(.badInput, "probe connections speaks plain HTTP/1.1, not gRPC: give the server's HTTP port (http://…), or measure the gRPC port with load --streams")
            }
            if target.isTLS {
                throw LoadError(.badInput, "probe connections speaks plain HTTP/1.1: point it at the listener behind the TLS front (http://…), whose connections are the ones that run out")
            }
            var plan = ConnectionProbePlan(target: target)
            plan.headers = headers
            settings.apply(to: &plan)
            let runner = ConnectionsProbeRunner(plan: plan, evidence: try evidence.selection(), outputDirectory: out,
                                                command: CommandLine.arguments, note: { LoadProgressDisplay.note($0) })
            let run = ConnectionProbeRun()
            let interrupts = InterruptHandler { run.interrupt() }
            defer { interrupts.cancel() }
            let (diagnosis, record) = try await runner.execute(rules: try RuleSelection.load(directory: rules), run: run)
            try finish(diagnosis, record: record, json: json, failOn: failOn)
        }

        private static func finish(_ diagnosis: ConnectionsDiagnosis, record: ConnectionsRecord, json: Bool, failOn: [Culprit]?) throws {
            if json {
                print(String(decoding: try RunJSON.encode(diagnosis), as: UTF8.self))
            } else {
                print(ConnectionsReportText.render(diagnosis, record: record), terminator: "")
            }
            if let failOn, diagnosis.verdicts.contains(where: { failOn.contains($0.culprit) }) { throw ExitCode(1) }
        }
    }
}
