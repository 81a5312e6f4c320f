import Foundation
import Synchronization

/// A thread for the generator's bookkeeping (writing request records, compressing
/// interval histograms, writing files) at the lowest nice value, so on a generator pinned
/// to one core disk and formatting work yields to the event loop's timers (which would
/// otherwise show up as schedule lag); on an idle core it runs at full speed
/// (`HelperThread.yieldToEventLoops`).
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
            HelperThread.name(name)
            HelperThread.yieldToEventLoops()
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

    /// Like `submit`, but returns false instead of waiting when the worker holds the queue's
    /// lock at this instant: event loops use it so a low-priority thread that was preempted
    /// inside its (tiny) critical section can never stall them (priority inversion).
    public func trySubmit(_ job: @escaping @Sendable () -> Void) -> Bool {
        guard queue.state.withLockIfAvailable({ $0.jobs.append(job) }) != nil else { return false }
        queue.wakeup.signal()
        return true
    }

    /// Runs every submitted job, then stops the thread. Later calls return at once.
    public func finish() {
        guard !finishing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.state.withLock { $0.closed = true }
        queue.wakeup.signal()
        queue.wakeup.signal()  // one for a pending batch, one to observe `closed` with no jobs
        queue.finished.wait()
    }
}
