import Foundation
import Synchronization

/// A thread for the generator's bookkeeping (formatting request records, compressing
/// interval histograms, writing files) that the kernel runs only when nothing else wants
/// the CPU (`SCHED_IDLE`). On a generator pinned to one core this keeps disk and
/// formatting work from delaying the event loop's timers, which would show up as
/// schedule lag; on an idle core it runs at full speed.
public final class BackgroundWorker: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var closed = false
    }

    /// Shared between the submitting side and the thread.
    private final class Queue: Sendable {
        let state = Mutex(State())
        let wakeup = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
    }

    private let queue = Queue()
    private let finishing = Atomic<Bool>(false)

    public init(name: String) {
        let queue = self.queue
        let thread = Thread {
            let wakeup = queue.wakeup, finished = queue.finished
            BackgroundWorker.lowerPriority()
            while true {
                wakeup.wait()
                let (jobs, closed) = queue.state.withLock { s -> ([@Sendable () -> Void], Bool) in
                    let jobs = s.jobs
                    s.jobs.removeAll(keepingCapacity: true)
                    return (jobs, s.closed)
                }
                for job in jobs { job() }
                if closed && jobs.isEmpty { break }
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Runs `job` on the worker, after the jobs submitted before it.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        queue.state.withLock { $0.jobs.append(job) }
        queue.wakeup.signal()
    }

    /// Runs every submitted job, then stops the thread. Later calls return at once.
    public func finish() {
        guard !finishing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.state.withLock { $0.closed = true }
        queue.wakeup.signal()
        queue.wakeup.signal()  // one for a pending batch, one to observe `closed` with no jobs
        queue.finished.wait()
    }

    private static func lowerPriority() {
        #if os(Linux)
        var parameters = sched_param()
        // SCHED_IDLE (5) applies to the calling thread only on Linux.
        if sched_setscheduler(0, 5, &parameters) != 0 {
            // Fall back to the lowest nice value; on Linux who = 0 means the calling thread.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        }
        #endif
    }
}
