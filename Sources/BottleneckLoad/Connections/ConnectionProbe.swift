import BottleneckCore
import Foundation
import Synchronization

/// Runs a connections probe on its own thread (it blocks in epoll) and hands back the result.
public final class ConnectionProbe: Sendable {
    private let stop = StopFlag()

    public init() {}

    /// Ends the probe early; what it found so far is still reported.
    public func interrupt() {
        stop.set()
    }

    /// Runs `plan`. `levelStarted` is called on the probe's thread as each level begins (the
    /// samplers keep one aggregate per level).
    public func run(_ plan: ConnectionProbePlan,
                    levelStarted: @escaping @Sendable (Int, String) -> Void) async throws -> ConnectionProbeResult {
        let loop = try ConnectionProbeLoop(plan: plan, stop: stop, levelStarted: levelStarted)
        let box = LoopBox(loop)
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                HelperThread.name("bn-connprobe")
                continuation.resume(returning: box.loop.run())
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}

/// The loop moves to the probe's thread once and is used only there.
private final class LoopBox: @unchecked Sendable {
    let loop: ConnectionProbeLoop
    init(_ loop: ConnectionProbeLoop) { self.loop = loop }
}
