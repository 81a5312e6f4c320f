import Foundation
import BottleneckCore
import BottleneckRun

/// The evidence of a run frozen to JSON (`evidence.json` in the run directory, schema
/// `bottleneck.evidence/v1`): every catalog metric per step and for the run, the knee,
/// and the SLO they were judged against. Rules can be re-evaluated on it without the
/// run's raw files, which is how the default rules are tested on the evidence the test
/// bed's scenarios really produced.
public struct EvidenceSnapshot: EvidenceSource, Codable, Equatable {
    public static let schemaVersion = "bottleneck.evidence/v1"
    public static let fileName = RunFile.evidence.rawValue

    public var schema = EvidenceSnapshot.schemaVersion
    public var sloP99Ms: Double
    public var kneeStep: Int?
    public var stepNames: [String]
    public var steps: [[String: Double]]
    public var run: [String: Double]

    public var stepCount: Int { steps.count }

    public init(_ evidence: RunEvidence) {
        sloP99Ms = evidence.sloP99Milliseconds
        kneeStep = evidence.kneeStep
        stepNames = evidence.summary.steps.map(\.name)
        steps = evidence.steps
        run = evidence.run
    }

    public func value(_ metric: String, step: StepSelector) -> Double? {
        RunEvidence.lookup(metric, step: step, steps: steps, run: run)
    }

    public static func load(path: String) throws -> EvidenceSnapshot {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnalysisError("\(path): cannot read; give an evidence.json written by `bottleneck diagnose`")
        }
        let snapshot: EvidenceSnapshot
        do {
            snapshot = try RunJSON.decode(EvidenceSnapshot.self, from: data)
        } catch {
            throw AnalysisError("\(path) does not parse as \(schemaVersion) (\(error))")
        }
        guard snapshot.schema == schemaVersion else {
            throw AnalysisError("\(path): schema \(snapshot.schema), this bottleneck reads \(schemaVersion)")
        }
        return snapshot
    }
}
