#if os(Linux)
import CSched
import Glibc
#endif

/// What the generator's helper threads (the record writer, the sampler) say about
/// themselves to the kernel, from inside the thread.
package enum HelperThread {
    /// Names the calling thread as `top -H`, `perf` and `/proc/PID/task/TID/comm` show it
    /// (at most 15 bytes; longer names are cut). Without it a thread started from a
    /// Dispatch worker inherits that worker's name, and every helper reads `…default-qos`.
    package static func name(_ name: String) {
        #if os(Linux)
        _ = csched_set_thread_name(name)
        #endif
    }

    /// Gives the calling thread the lowest priority of the normal policy (nice 19), so on a
    /// generator pinned to one core its bookkeeping yields to the event loops' timers the
    /// moment they fire; on an idle core it runs at full speed.
    ///
    /// Why it matters: the fair scheduler (EEVDF) lets a waking event loop preempt only a
    /// thread whose virtual deadline is later than its own. An event loop that sends
    /// thousands of requests a second has used more than its share of the core, so against
    /// a nice-0 neighbour it waits for that neighbour's slice: measured here at 10k req/s,
    /// each 250 ms sample (0.6-1.3 ms of CPU) delayed sends by 0.4-1 ms. At nice 19 the
    /// neighbour's deadline is always later and the event loop runs at once.
    /// Not `SCHED_IDLE`: on a saturated host such a thread can wait seconds for a CPU, and
    /// anything waiting on it would wait too.
    package static func yieldToEventLoops() {
        #if os(Linux)
        // On Linux the nice value is per thread; who = 0 means the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
    }
}
