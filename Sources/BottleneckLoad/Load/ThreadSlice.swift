#if os(Linux)
import CSched
import Glibc
#endif

/// The fair scheduler's time slice for the calling thread (EEVDF, Linux 6.12 and later).
///
/// A thread that wakes on a CPU another thread is using runs at once only if its virtual
/// deadline is earlier than that thread's, and a shorter slice makes it earlier. With the
/// default slice (1.4 ms on two CPUs) a busy neighbour on its CPU, in another process or in
/// ours (the sampler, the record writer), can keep the woken thread waiting for the rest of
/// its own slice or until the next tick. The open loop sleeps between sends and must send on
/// time, so its event loops ask for the shortest slice the kernel grants. This changes when
/// the thread gets the CPU, not how much of it: no privilege is needed and other processes
/// keep their share. Measured with `scripts/bench/timer_reference.c --slice 100000` on a
/// busy 2-CPU VM: p99 lateness of a bare sleeping thread at 1k/5k/10k wake-ups per second
/// went from 1.5/3.1/2.6 ms to 0.3/1.3/1.7 ms (medians of three 10 s runs).
enum ThreadSlice {
    /// The open loop's request: the shortest slice the kernel grants.
    static let openLoop: UInt64 = 100_000

    /// Asks for a slice of `nanoseconds` for the calling thread, or the kernel's default for 0.
    /// Leaves a thread alone that runs under another policy than the normal one (e.g. started
    /// with `chrt`). Returns the slice now in force, nil when the kernel refused or cannot tell
    /// (before 6.12 the request is accepted and ignored, and the answer is 0).
    @discardableResult
    static func request(_ nanoseconds: UInt64) -> UInt64? {
        #if os(Linux)
        var attr = csched_attr()
        guard csched_getattr(&attr) == 0, attr.sched_policy == UInt32(SCHED_OTHER) else { return nil }
        attr.sched_flags &= UInt64(resetOnFork)
        attr.sched_runtime = nanoseconds
        guard csched_setattr(&attr) == 0 else { return nil }
        return current()
        #else
        return nil
        #endif
    }

    /// The slice in force for the calling thread; 0 on kernels that do not report it, nil on error.
    static func current() -> UInt64? {
        #if os(Linux)
        var attr = csched_attr()
        guard csched_getattr(&attr) == 0 else { return nil }
        return attr.sched_runtime
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// SCHED_FLAG_RESET_ON_FORK, the one flag a normal thread may carry that must be kept.
    private static let resetOnFork = 0x01
    #endif
}
