import ArgumentParser
import BottleneckDiagnosis

/// How `Server-Timing` phase names map to the attribution's segments, for the commands that
/// analyse a run (`diagnose`, `report`, `playbook run`).
struct PhaseOptions: ParsableArguments {
    @Option(name: .customLong("phase"), help: ArgumentHelp(
        "Map Server-Timing metrics whose name starts with NAME to SEGMENT (queue, preprocess, model, postprocess), before the defaults (repeatable).",
        discussion: "Defaults: queue, wait -> queue; pre, decode, resize, tokeni, normali -> preprocess; model, infer, predict, forward -> model; post, serializ, encode -> postprocess. Your prefixes are tried first (the longest matching one wins), the defaults only for names none of yours matches.",
        valueName: "NAME=SEGMENT"))
    var mappings: [String] = []
    @Flag(name: .customLong("no-server-timing"), help: "Analyse as if no response carried Server-Timing: model and preprocessing are then told apart by how service time scales with input size.")
    var ignoresServerTiming = false

    /// True when a flag changes the mapping from the defaults.
    var changesDefaults: Bool { !mappings.isEmpty || ignoresServerTiming }

    func validate() throws {
        _ = try segments()
    }

    func segments() throws -> ServerTimingSegments {
        for mapping in mappings {
            do { _ = try ServerTimingSegments.parse(mappings: [mapping]) } catch {
                throw ValidationError("--phase \(mapping): \(error.message)")
            }
        }
        return try ServerTimingSegments.parse(mappings: mappings, readsServerTiming: !ignoresServerTiming)
    }
}
