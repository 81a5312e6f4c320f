import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckSampling

/// Runs the probes of `diagnose`, `capacity` and `playbook run` against a target: the load the user
/// described (target, payloads, method, headers, warm-up, and for `diagnose` a stated rate or
/// concurrency), what to observe beside it, and the runner that executes a run (the
/// executable's adds the progress display and Ctrl-C). Each command's probe becomes a plan of
/// steps here; what comes back is the run directory.
public struct ProbeRunner: Sendable {
    /// Runs one request and returns its run directory.
    public typealias Runner = @Sendable (LoadRun.Request) async throws -> String

    /// Target, payloads, method, headers and warm-up; for `diagnose` also a stated rate or
    /// concurrency (and its `duration`). Other kinds of steps are not read.
    public var load: LoadOptions
    public var outputDirectory: String?
    /// The service behind the proxy (`--backend`): sampled when it runs here, and measured
    /// directly after the run with the run's first step.
    public var backend: TargetURL?
    public var evidence: EvidenceSelection
    /// The command line, kept in run.json.
    public var command: [String]
    /// Lines for the user: what was found serving the target, the bypass starting.
    public var note: @Sendable (String) -> Void
    public var execute: Runner
    /// Who serves the target, once ``locateServices()`` has looked.
    public private(set) var topology: RunTopology?
    private var located = false
    private var resolved = false

    public init(load: LoadOptions, outputDirectory: String?, backend: TargetURL?, evidence: EvidenceSelection,
                command: [String], note: @escaping @Sendable (String) -> Void, execute: @escaping Runner) {
        self.load = load
        self.outputDirectory = outputDirectory
        self.backend = backend
        self.evidence = evidence
        self.command = command
        self.note = note
        self.execute = execute
    }

    /// True when `load` states the load to answer at (one rate or one concurrency), rather
    /// than leaving `diagnose` to ramp to the knee.
    public var statesLoad: Bool {
        switch load.steps {
        case .rate?, .concurrency?: return true
        default: return false
        }
    }

    /// Finds the service and the proxy serving the target on this host (unless the user named
    /// them or an agent samples them), says what was found, and keeps it for the run. Once.
    public mutating func locateServices() {
        guard !located else { return }
        located = true
        guard let target = load.target else { return }
        topology = evidence.locateServices(target: target, backend: backend)
        for line in topology?.notes ?? [] { note(line) }
    }

    /// Fills in what the target's protocol needs before any plan is built: a KServe v2 model's
    /// inputs (``KServeV2Payloads``), said in a note. Once.
    public mutating func resolveRequests() async throws {
        guard !resolved else { return }
        resolved = true
        let (options, line) = try await KServeV2Payloads.resolve(load)
        load = options
        if let line { note(line) }
    }

    /// `diagnose`: a one-connection baseline, then the adaptive ramp to the knee; or, with a
    /// stated load, a 4 s baseline and then that load. Then the bypass, with `--backend`.
    public mutating func diagnose(budgetSeconds: Double, sloP99Milliseconds: Double) async throws -> String {
        try await resolveRequests()
        if statesLoad {
            var built = try LoadPlanBuilder.build(load, runTag: LoadPlanBuilder.makeRunTag())
            // The stated load after a short one-connection baseline: the reference without queueing
            // that the size and transfer fits and the loss check are judged on.
            built.plan.steps.insert(DiagnosisProbe.fixedLoadBaseline, at: 0)
            return try await run(built, name: "diagnose", probe: nil, bypass: true)
        }
        let probe = DiagnosisProbe.steps(budgetSeconds: budgetSeconds)
        var built = try LoadPlanBuilder.build(load, steps: [probe.baseline], runTag: LoadPlanBuilder.makeRunTag())
        built.plan.nextStep = DiagnosisProbe.ramp(budgetSeconds: budgetSeconds, sloP99Milliseconds: sloP99Milliseconds)
        return try await run(built, name: "diagnose", probe: "diagnose-ramp", bypass: true)
    }

    /// `capacity`: the closed-loop sweep, then the open-loop search for the highest rate that meets the SLO.
    public mutating func capacity(_ settings: CapacityRun.Settings) async throws -> String {
        try await resolveRequests()
        var built = try LoadPlanBuilder.build(load, steps: CapacityRun.sweepSteps(settings), runTag: LoadPlanBuilder.makeRunTag())
        built.plan.nextStep = CapacityRun.nextStep(settings)
        return try await run(built, name: "capacity", probe: "capacity-search", bypass: false)
    }

    /// `playbook run`: the playbook's steps, then the bypass, with `--backend`.
    public mutating func playbook(_ playbook: Playbook, budgetSeconds: Double, sloP99Milliseconds: Double) async throws -> String {
        try await resolveRequests()
        let steps = PlaybookRun.plan(playbook, budgetSeconds: budgetSeconds, sloP99Milliseconds: sloP99Milliseconds)
        var built = try LoadPlanBuilder.build(load, steps: steps.steps, runTag: LoadPlanBuilder.makeRunTag())
        built.plan.nextStep = steps.nextStep
        if case .sizeSweep(let id, let seconds)? = playbook.steps.last {
            // Pixels for images, bytes for the rest: what a decoded buffer grows with.
            let sizes = built.payloadDescriptors.map { $0.pixels > 0 ? $0.pixels : $0.bytes }
            built.plan.nextStep = PlaybookRun.sizeSweep(id: id, seconds: seconds, sizes: sizes)
        }
        return try await run(built, name: playbook.name, probe: "playbook:\(playbook.name)", bypass: true)
    }

    /// The playbook's needs these settings meet: processes sampled (named or found), capture,
    /// payloads whose sizes vary.
    public func metNeeds() -> Set<Playbook.Need> {
        var met: Set<Playbook.Need> = []
        if evidence.samplesServer { met.insert(.server) }
        if evidence.samplesProxy { met.insert(.proxy) }
        if !evidence.captureInterfaces.isEmpty { met.insert(.capture) }
        if (load.payloads ?? []).contains(where: \.sizeVaries) { met.insert(.payload) }
        return met
    }

    private mutating func run(_ built: LoadPlanBuilder.Result, name: String, probe: String?, bypass: Bool) async throws -> String {
        locateServices()
        var request = LoadRun.Request(built, name: name, outputDirectory: outputDirectory, command: command, probe: probe)
        request.topology = topology
        request.observers = try evidence.observers(targetPort: UInt16(built.plan.target.port))
        request.observers.modelStatistics = ModelStatisticsSource(options: load).map(ModelStatisticsAttachment.init)
        let directory = try await execute(request)
        if bypass, let first = built.plan.steps.first {
            try await measureBypass(after: directory, step: first)
        }
        return directory
    }

    /// Measures the backend directly with the run's first step (same shape and length), into
    /// `directory/bypass`, so the evidence can subtract one from the other.
    private func measureBypass(after directory: String, step: LoadStep) async throws {
        guard let backend else { return }
        var options = load
        options.target = backend
        let built = try LoadPlanBuilder.build(options, steps: [step], runTag: LoadPlanBuilder.makeRunTag())
        let request = LoadRun.Request(built, name: "bypass", outputDirectory: directory + "/" + RunFile.bypassDirectory,
                                      command: command, probe: "bypass")
        note("bypass: step \(step.name) again, straight to \(backend), to compare with it through \(load.target.map(String.init(describing:)) ?? "the proxy")")
        _ = try await execute(request)
    }
}
