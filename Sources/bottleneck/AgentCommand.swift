import ArgumentParser
import BottleneckCore
import BottleneckSampling
import Foundation
import Logging

/// `bottleneck agent`: run the samplers on a server host and serve them over HTTP to runs
/// elsewhere (`bottleneck load --agent URL --agent-token-file F`) and to Prometheus.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Sample this host's server processes and serve the samples over HTTP.",
        discussion: """
            Listens on 127.0.0.1:9555 unless --listen says otherwise. Beyond loopback a token is required: \
            every request but /health must carry `Authorization: Bearer TOKEN`, the token read from --token-file \
            (16+ characters, mode 0600). Plain HTTP: use a private network or an SSH tunnel.

            Endpoints: /v1/samples, /v1/status, /v1/session, /v1/step, /metrics (OpenMetrics), /health \
            (docs/agent.md).

            Examples:
              openssl rand -hex 32 > agent.token && chmod 600 agent.token
              bottleneck agent --listen 0.0.0.0:9555 --token-file agent.token --server-port 8000
            """
    )

    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:9555; [::]:9555 for all IPv6 and IPv4).")
    var listen: String = AgentListenAddress.default.description

    @Option(name: .customLong("token-file"), help: "File holding the bearer token (required unless listening on loopback).")
    var tokenFile: String?

    @Option(name: .customLong("server-pid"), help: "Sample this server process and its descendants (repeatable).")
    var serverPIDs: [Int32] = []

    @Option(name: .customLong("server-port"), help: "Sample the processes listening on this port (repeatable).")
    var serverPorts: [UInt16] = []

    @Option(name: .customLong("sample-interval"), help: "How often to sample /proc and cgroups (default 250ms).", transform: OptionValue.duration)
    var sampleInterval: UInt64?

    @Option(help: "MiB of sample lines kept for runs that reconnect (default 64).")
    var buffer: Int = 64

    @Flag(name: .customLong("verbose"), help: "Log requests and reconfigurations to stderr.")
    var verbose = false

    func validate() throws {
        guard buffer >= 1 else { throw ValidationError("--buffer must be at least 1 (MiB)") }
    }

    func run() async throws {
        let address = try AgentListenAddress.parse(listen)
        let token = try tokenFile.map { try AgentToken.load(path: $0) }
        var logger = Logger(label: "bottleneck.agent")
        logger.logLevel = verbose ? .debug : .notice

        var sampling = SamplerConfiguration()
        if let sampleInterval { sampling.interval = .nanoseconds(Int64(sampleInterval)) }
        sampling.serverPIDs = serverPIDs
        sampling.serverPorts = serverPorts

        let sampler = AgentSampler(ring: SampleRing(capacityBytes: buffer << 20))
        let server = AgentServer(sampler: sampler, token: token, logger: logger)
        // Listen first: an address refused or a missing token is reported before sampling starts.
        let port = try await server.start(address: address)
        try sampler.configure(sampling)
        if token == nil {
            logger.warning("no --token-file: requests are not authenticated (listening on loopback only)")
        }
        logger.notice("bottleneck agent listening", metadata: ["address": "\(AgentListenAddress(host: address.host, port: port))"])
        // Runs until killed: the agent keeps nothing on disk, so Ctrl-C needs no cleanup.
        await server.wait()
        sampler.stop()
    }
}
