import Foundation
import BottleneckCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The HTTP side of `bottleneck agent`: serves an `AgentSampler`'s lines to runs on other
/// hosts and its newest values to Prometheus.
///
/// The API (endpoints, headers, bodies) is in docs/agent.md; a change here is made there too.
public final class AgentServer: Sendable {
    public let sampler: AgentSampler
    public let limits: Limits
    private let token: AgentToken?
    let logger: Logger
    private let epoch: String
    private let channel = Mutex<(any Channel)?>(nil)
    let connections: Mutex<AgentConnectionTable<any Channel>>

    /// - Parameter token: nil only on loopback (the command enforces it): then nothing is authenticated.
    public init(sampler: AgentSampler, token: AgentToken?, logger: Logger, limits: Limits = Limits()) {
        self.sampler = sampler
        self.token = token
        self.logger = logger
        self.limits = limits
        self.connections = Mutex(AgentConnectionTable(capacity: limits.maxConnections))
        self.epoch = String(UInt64.random(in: 1...UInt64.max), radix: 16)
    }

    /// Binds and starts serving; returns the bound port (useful with port 0).
    @discardableResult
    public func start(address: AgentListenAddress) async throws -> Int {
        if !address.isLoopback && token == nil {
            throw AgentError(.badToken, "\(address) is reachable from other hosts: the agent needs a token file (a secret of 16+ characters, mode 0600)")
        }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try self.addHTTPHandlers(to: channel.pipeline.syncOperations) }
            }
        let bound: any Channel
        do {
            bound = try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            throw AgentError(.bindFailed, "\(address): cannot listen: \(error)")
        }
        channel.withLock { $0 = bound }
        logger.info("agent listening", metadata: ["address": "\(address)", "port": "\(bound.localAddress?.port ?? 0)"])
        return bound.localAddress?.port ?? address.port
    }

    /// A connection's pipeline: NIOHTTP1's server side within the header limits, then the
    /// agent's handler, which answers a request NIOHTTP1 cannot decode (400, or 431 past the
    /// limits). `package` so the fuzzer (fuzz/README.md) can drive it over an EmbeddedChannel.
    package func addHTTPHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.configureHTTPServerPipeline(
            withErrorHandling: false, withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits.decoderLimits)
        try pipeline.addHandler(AgentHTTPHandler(router: Router(server: self)))
    }

    /// Stops accepting connections (sampling goes on; `sampler.stop()` ends it).
    public func stop() async {
        guard let bound = channel.withLock({ c -> (any Channel)? in defer { c = nil }; return c }) else { return }
        try? await bound.close()
    }

    /// Waits until the listener is closed (by `stop()`).
    public func wait() async {
        guard let bound = channel.withLock({ $0 }) else { return }
        try? await bound.closeFuture.get()
    }

    // MARK: routing

    /// Decides the response to one request; runs on the event loop except `/v1/session`,
    /// whose restart blocks and so runs on a global queue.
    struct Router: Sendable {
        let server: AgentServer

        /// The 401 for a request without the token (judged on its head alone, so that no body
        /// of an unauthenticated peer is read), or nil when it may go on. `GET /health` is
        /// public: a supervisor's liveness check holds no token (docs/agent.md).
        func refusal(of request: AgentHTTPRequest) -> AgentHTTPResponse? {
            if request.method == "GET" && request.path == "/health" { return nil }
            guard let token = server.token, !token.accepts(authorization: request.header("authorization")) else { return nil }
            var response = AgentHTTPResponse.text(401, "unauthorized: send Authorization: Bearer <token from the agent's --token-file>\n")
            response.headers.append(("WWW-Authenticate", "Bearer"))
            return response
        }

        func respond(to request: AgentHTTPRequest, completion: @escaping @Sendable (AgentHTTPResponse) -> Void) {
            if let refusal = refusal(of: request) { return completion(refusal) }
            switch (request.method, request.path) {
            case ("GET", "/health"): completion(.text(200, "ok\n"))
            case ("GET", "/v1/samples"): completion(samples(request))
            case ("GET", "/v1/status"): completion(status())
            case ("GET", "/metrics"):
                let (lines, header) = server.sampler.ring.recent(count: 20_000)
                let text = AgentMetrics.render(lines: lines, header: header, samplesProduced: server.sampler.ring.latestSequence)
                completion(AgentHTTPResponse(status: 200, headers: [("Content-Type", AgentMetrics.contentType)], body: Array(text.utf8)))
            case ("POST", "/v1/session"):
                DispatchQueue.global().async { completion(session(request)) }
            case ("POST", "/v1/step"): completion(step(request))
            case (_, "/v1/samples"), (_, "/v1/status"), (_, "/metrics"), (_, "/v1/session"), (_, "/v1/step"), (_, "/health"):
                completion(.text(405, "method not allowed\n"))
            default:
                completion(.text(404, "not found: the agent serves /v1/samples, /v1/status, /v1/session, /v1/step, /metrics, /health\n"))
            }
        }

        private func samples(_ request: AgentHTTPRequest) -> AgentHTTPResponse {
            guard let after = UInt64(request.query["after"] ?? "0") else { return .json(400, ["error": "after must be a sequence number"]) }
            let limit = Int(request.query["limit"] ?? "") ?? 5000
            let batch = server.sampler.ring.lines(after: after, limit: min(max(limit, 1), 50_000))
            var body: [UInt8] = []
            body.reserveCapacity(batch.lines.reduce(0) { $0 + $1.count + 1 })
            for line in batch.lines {
                body.append(contentsOf: line)
                body.append(UInt8(ascii: "\n"))
            }
            var headers: [(String, String)] = [
                ("Content-Type", "application/x-ndjson"),
                ("X-Bottleneck-Epoch", server.epoch),
                ("X-Bottleneck-Latest", String(batch.latestSequence)),
                ("X-Bottleneck-First", String(batch.firstSequence)),
                ("X-Bottleneck-Agent-Time", String(MonotonicClock.now())),
            ]
            if let gap = batch.gap { headers.append(("X-Bottleneck-Gap", "\(gap.lowerBound)-\(gap.upperBound)")) }
            return AgentHTTPResponse(status: 200, headers: headers, body: body)
        }

        private func status() -> AgentHTTPResponse {
            let interval = server.sampler.configuration.map { SamplerConfiguration.nanoseconds($0.interval) } ?? 0
            return .json(200, ["epoch": server.epoch, "latest": server.sampler.ring.latestSequence,
                               "agent_t": MonotonicClock.now(), "interval_ns": interval])
        }

        private func session(_ request: AgentHTTPRequest) -> AgentHTTPResponse {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
                return .json(400, ["error": "expected a JSON object like {\"serverPorts\": [8000], \"serverPIDs\": [], \"interval\": \"250ms\"}"])
            }
            var configuration = server.sampler.configuration ?? SamplerConfiguration()
            if let ports = object["serverPorts"] as? [NSNumber] {
                guard ports.allSatisfy({ (1...65535).contains($0.intValue) }) else { return .json(400, ["error": "serverPorts must be ports 1-65535"]) }
                configuration.serverPorts = ports.map { UInt16($0.intValue) }
            }
            if let pids = object["serverPIDs"] as? [NSNumber] {
                guard pids.allSatisfy({ $0.intValue > 0 && $0.intValue <= Int(Int32.max) }) else { return .json(400, ["error": "serverPIDs must be positive process ids"]) }
                configuration.serverPIDs = pids.map { Int32($0.intValue) }
            }
            if let interval = object["interval"] as? String {
                do {
                    configuration.interval = .nanoseconds(Int64(try LoadValueParsing.duration(interval)))
                } catch {
                    return .json(400, ["error": "interval \"\(interval)\": \(error.message)"])
                }
            }
            do {
                let after = try server.sampler.configure(configuration)
                server.logger.info("sampling reconfigured", metadata: ["ports": "\(configuration.serverPorts)", "pids": "\(configuration.serverPIDs)"])
                return .json(200, ["after": after, "epoch": server.epoch])
            } catch let error as any UserFacingError {
                return .json(400, ["error": error.message])
            } catch {
                return .json(500, ["error": "\(error)"])
            }
        }

        private func step(_ request: AgentHTTPRequest) -> AgentHTTPResponse {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
                  let index = (object["index"] as? NSNumber)?.intValue else {
                return .json(400, ["error": "expected {\"index\": N, \"name\": \"...\"}"])
            }
            server.sampler.markStep(index, name: object["name"] as? String ?? "step \(index)")
            return .json(200, [:])
        }
    }
}
