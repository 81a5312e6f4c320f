import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckSampling
import Histogram
import Logging
import Synchronization

/// Runs a load plan end to end: checks the target, creates the run directory, writes
/// `run.json`, drives the engine while records, interval logs and the summary are written
/// as they come, and returns the summary. Ctrl-C (through `interrupt()`) ends the current
/// step early and still leaves a complete, readable directory.
public final class LoadRun: Sendable {
    /// What the caller decided: the plan plus how to describe it.
    public struct Request: Sendable {
        public var plan: LoadPlan
        public var name: String
        public var outputDirectory: String?
        public var command: [String]
        public var probe: String?
        public var payloadSpecs: [String]
        public var body: String?
        public var payloadDescriptors: [RequestRecordWriter.PayloadDescriptor]
        /// Observers beside the engine (samplers, agent, capture), started before the first step.
        public var observers = RunObservers()
        /// What `diagnose` found serving the target on this host (kept in run.json).
        public var topology: RunTopology?

        public init(plan: LoadPlan, name: String, outputDirectory: String?, command: [String], probe: String?,
                    payloadSpecs: [String], body: String?, payloadDescriptors: [RequestRecordWriter.PayloadDescriptor]) {
            self.plan = plan
            self.name = name
            self.outputDirectory = outputDirectory
            self.command = command
            self.probe = probe
            self.payloadSpecs = payloadSpecs
            self.body = body
            self.payloadDescriptors = payloadDescriptors
        }

        /// The request to run a built plan, with the payload descriptions the builder made.
        public init(_ built: LoadPlanBuilder.Result, name: String, outputDirectory: String?, command: [String], probe: String?) {
            self.init(plan: built.plan, name: name, outputDirectory: outputDirectory, command: command, probe: probe,
                      payloadSpecs: built.payloadSpecs, body: built.body, payloadDescriptors: built.payloadDescriptors)
        }
    }

    private let engine = Mutex<LoadEngine?>(nil)
    private let interruptRequested = Atomic<Bool>(false)

    public init() {}

    /// Ends the current step early and skips the rest; safe to call from a signal handler's queue.
    public func interrupt() {
        interruptRequested.store(true, ordering: .relaxed)
        engine.withLock { $0?.interrupt() }
    }

    /// Runs the request. `notes` receives one-line messages for the user (a capture that
    /// could not start, the evidence that will be missing) as they happen.
    public func execute(_ request: Request, display: (any LoadObserver)?, logger: Logger,
                        notes: @Sendable (String) -> Void = { _ in }) async throws -> (RunSummary, RunDirectory) {
        let sinkBox = DeferredSink()
        let engine = try await LoadEngine.prepare(plan: request.plan, sink: sinkBox, logger: logger)
        self.engine.withLock { $0 = engine }
        if interruptRequested.load(ordering: .relaxed) { engine.interrupt() }

        let directory: RunDirectory
        let records: RequestRecordWriter
        do {
            directory = try RunDirectory(name: request.name, explicitPath: request.outputDirectory)
            records = try RequestRecordWriter(path: directory.file(RunFile.requests.rawValue), runTag: request.plan.runTag,
                                              payloads: request.payloadDescriptors, worker: directory.worker)
        } catch {
            await engine.shutdown()
            throw error
        }
        sinkBox.target.withLock { $0 = records }

        let description = RunDescription(
            name: request.name, runTag: request.plan.runTag, startedAt: Self.iso8601(directory.wallStartNs),
            monotonicStartNs: directory.monotonicStartNs, wallStartNs: directory.wallStartNs, command: request.command,
            config: RunConfiguration(plan: request.plan, probe: request.probe, payloads: request.payloadSpecs, body: request.body),
            host: HostFacts.current(), threads: request.plan.threads ?? engine.allowance.threads, topology: request.topology)
        try directory.write(description, to: RunFile.description.rawValue)

        var started: [any RunAttachment] = []
        do {
            for attachment in request.observers.all {
                for note in try attachment.start(directory: directory) { notes(note) }
                started.append(attachment)
            }
        } catch {
            for attachment in started { _ = attachment.stop(directory: directory) }
            await engine.shutdown()
            directory.finishWriting()
            records.close()
            // Nothing was measured yet: leave no half-made run directory behind.
            directory.remove()
            throw error
        }

        let observer = RunDirectoryObserver(directory: directory, request: request, records: records, display: display,
                                            attachments: started)
        var results: [StepResult] = []
        var failure: (any Error)?
        do {
            results = try await engine.run(observer: observer)
        } catch {
            failure = error
            results = observer.finishedSteps
        }
        await engine.shutdown()
        for attachment in started { await attachment.finish() }
        for attachment in started {
            for note in attachment.stop(directory: directory) { notes(note) }
        }
        directory.finishWriting()
        records.close()
        var summary = RunSummary(name: request.name, target: request.plan.target.description, runDirectory: directory.path,
                                 plannedSteps: request.plan.steps.count, interrupted: engine.wasInterrupted, steps: results,
                                 requestsRecorded: records.recordsWritten, generatorPeakRSSBytes: ProcessCPUTime.peakRSSBytes())
        // Every observer started (or the run ended above), so each kind's part is there to take.
        summary.sampling = request.observers.samplers.first { $0.role == .service }?.summary
        summary.proxySampling = request.observers.samplers.first { $0.role == .proxy }?.summary
        summary.agentSampling = request.observers.agent?.summary
        summary.warnings += RunSummary.hostWarnings(steps: results, sampling: summary.sampling)
        try directory.write(summary, to: RunFile.summary.rawValue)
        if let failure { throw failure }
        return (summary, directory)
    }

    static func iso8601(_ wallNs: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(wallNs) / 1e9))
    }
}

/// The engine needs its record sink before the run directory exists (the target is
/// checked first, so an unreachable target leaves no empty directory behind).
private final class DeferredSink: RequestRecordSink {
    let target = Mutex<RequestRecordWriter?>(nil)
    func submit(_ batch: [RequestRecord]) {
        target.withLock { $0 }?.submit(batch)
    }

    func trySubmit(_ batch: [RequestRecord]) -> Bool {
        guard let writer = target.withLockIfAvailable({ $0 }) else { return false }
        return writer?.trySubmit(batch) ?? true
    }
}

/// Writes the run directory as the engine reports, and forwards to the live display.
private final class RunDirectoryObserver: LoadObserver {
    let directory: RunDirectory
    let request: LoadRun.Request
    let records: RequestRecordWriter
    let display: (any LoadObserver)?
    let attachments: [any RunAttachment]
    private let steps = Mutex<[StepResult]>([])

    init(directory: RunDirectory, request: LoadRun.Request, records: RequestRecordWriter, display: (any LoadObserver)?,
         attachments: [any RunAttachment]) {
        self.directory = directory
        self.request = request
        self.records = records
        self.display = display
        self.attachments = attachments
    }

    var finishedSteps: [StepResult] { steps.withLock { $0 } }

    func stepStarted(index: Int, step: LoadStep) {
        let now = MonotonicClock.now()
        for attachment in attachments { attachment.stepStarted(index: index, name: step.name, at: now) }
        display?.stepStarted(index: index, step: step)
    }

    func progress(_ progress: LoadProgress) { display?.progress(progress) }

    func interval(stepIndex: Int, start: UInt64, end: UInt64, latency: Histogram<UInt64>) {
        directory.logInterval(stepIndex: stepIndex, start: start, end: end, latency: latency)
        display?.interval(stepIndex: stepIndex, start: start, end: end, latency: latency)
    }

    func stepFinished(_ result: StepResult) {
        let all = steps.withLock { $0.append(result); return $0 }
        // Rewrite the summary after every step so a crash loses at most the current step.
        let partial = RunSummary(name: request.name, target: request.plan.target.description, runDirectory: directory.path,
                                 plannedSteps: request.plan.steps.count, interrupted: false, steps: all,
                                 requestsRecorded: records.recordsWritten, generatorPeakRSSBytes: ProcessCPUTime.peakRSSBytes())
        try? directory.write(partial, to: RunFile.summary.rawValue)
        display?.stepFinished(result)
    }
}
