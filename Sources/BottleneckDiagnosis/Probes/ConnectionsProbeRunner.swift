import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckSampling

/// `bottleneck probe connections` end to end: find and sample the server (and proxy), run the
/// probe beside them, judge it with the connections rules and keep the verdict in the run directory.
public struct ConnectionsProbeRunner: Sendable {
    public var plan: ConnectionProbePlan
    public var evidence: EvidenceSelection
    public var outputDirectory: String?
    public var command: [String]
    public var note: @Sendable (String) -> Void

    public init(plan: ConnectionProbePlan, evidence: EvidenceSelection, outputDirectory: String?, command: [String],
                note: @escaping @Sendable (String) -> Void) {
        self.plan = plan
        self.evidence = evidence
        self.outputDirectory = outputDirectory
        self.command = command
        self.note = note
    }

    /// Runs the probe; `run` is the probe run, so the caller can interrupt it.
    public func execute(rules: [Rule], run: ConnectionProbeRun = ConnectionProbeRun()) async throws -> (ConnectionsDiagnosis, ConnectionsRecord) {
        var evidence = self.evidence
        // The proxy's sockets are its connections as nginx counts them against worker_connections.
        evidence.countSockets = true
        let topology = evidence.locateServices(target: plan.target, backend: nil)
        for line in topology?.notes ?? [] { note("found: \(line)") }
        let observers = try evidence.observers(targetPort: UInt16(plan.target.port))
        let (record, directory) = try await run.execute(plan, name: "connections", outputDirectory: outputDirectory,
                                                        command: command, observers: observers, topology: topology, notes: note)
        let diagnosis = ConnectionsDiagnosis.evaluate(record, directory: directory.path, rules: rules)
        try directory.write(diagnosis, to: ConnectionsDiagnosis.fileName)
        return (diagnosis, record)
    }

    /// Judges a recorded probe again (other rules, or after an upgrade).
    public static func rediagnose(directory: String, rules: [Rule]) throws -> (ConnectionsDiagnosis, ConnectionsRecord) {
        let record = try ConnectionProbeRun.load(directory: directory)
        return (ConnectionsDiagnosis.evaluate(record, directory: directory, rules: rules), record)
    }
}
