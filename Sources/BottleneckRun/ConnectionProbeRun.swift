import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckSampling

/// `connections.json`: what `bottleneck probe connections` found, with the samplers' account
/// of the server (and proxy) per probe level. Versioned.
public struct ConnectionsRecord: Sendable, Codable {
    public static let schemaVersion = "bottleneck.connections-run/v1"
    public var schema = ConnectionsRecord.schemaVersion
    public var tool: String = "bottleneck \(BottleneckVersion.current)"
    /// UTC, ISO 8601.
    public var startedAt: String
    public var command: [String]
    public var host: HostFacts
    public var topology: RunTopology?
    public var probe: ConnectionProbeResult
    /// One step per probe level, in the same order.
    public var sampling: SamplingSummary?
    public var proxySampling: SamplingSummary?
    public var agentSampling: SamplingSummary?
}

/// Runs a connections probe with the run's observers (samplers, agent) beside it, and writes
/// the run directory: the samples and `connections.json`.
public final class ConnectionProbeRun: Sendable {
    private let probe = ConnectionProbe()

    public init() {}

    public func interrupt() { probe.interrupt() }

    public func execute(_ plan: ConnectionProbePlan, name: String, outputDirectory: String?, command: [String],
                        observers: RunObservers, topology: RunTopology?,
                        notes: @Sendable (String) -> Void = { _ in }) async throws -> (ConnectionsRecord, RunDirectory) {
        let directory = try RunDirectory(name: name, explicitPath: outputDirectory)
        var started: [any RunAttachment] = []
        do {
            for attachment in observers.all {
                for note in try attachment.start(directory: directory) { notes(note) }
                started.append(attachment)
            }
        } catch {
            for attachment in started { _ = attachment.stop(directory: directory) }
            directory.finishWriting()
            directory.remove()
            throw error
        }
        let attachments = started
        let result: ConnectionProbeResult
        do {
            result = try await probe.run(plan) { index, levelName in
                let now = MonotonicClock.now()
                for attachment in attachments { attachment.stepStarted(index: index, name: levelName, at: now) }
            }
        } catch {
            for attachment in started { _ = attachment.stop(directory: directory) }
            directory.finishWriting()
            directory.remove()
            throw error
        }
        for attachment in started {
            for note in attachment.stop(directory: directory) { notes(note) }
        }
        directory.finishWriting()
        if result.maxHeld == 0, result.levels.first?.freshWaitMs.isEmpty ?? true {
            // Not one request was answered: there is no limit to report, only a target that is not there.
            directory.remove()
            let how = result.firstFailure.flatMap(ConnectionFailureKind.init(rawValue:))?.meaning ?? "no answer"
            throw LoadError(.unreachable, "\(plan.target) answered no request (\(how)): check the URL and that the server is up")
        }
        let record = ConnectionsRecord(
            startedAt: LoadRun.iso8601(directory.wallStartNs), command: command, host: HostFacts.current(), topology: topology,
            probe: result,
            sampling: observers.samplers.first { $0.role == .service }?.summary,
            proxySampling: observers.samplers.first { $0.role == .proxy }?.summary,
            agentSampling: observers.agent?.summary)
        try directory.write(record, to: RunFile.connections.rawValue)
        return (record, directory)
    }

    /// Reads `connections.json` from a run directory.
    public static func load(directory: String) throws -> ConnectionsRecord {
        let path = RunFile.connections.path(in: directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(.badInput, "\(path) not found: is \(directory) a connections probe's run directory?")
        }
        do {
            return try JSONDecoder().decode(ConnectionsRecord.self, from: data)
        } catch {
            throw LoadError(.badInput, "\(path) is not a connections record (\(error)); run the probe again")
        }
    }
}
