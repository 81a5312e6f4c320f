/// Turns two raw readings of a kernel counter into the increase between them.
///
/// Counters are stored raw *and* as per-interval rates. Between two reads a counter can
/// only go down for two reasons: it wrapped (32-bit counters such as some `/proc/net/snmp`
/// fields on 32-bit kernels) or it was reset (a cgroup recreated, a thread whose share of
/// a sum left with it). A plausible wrap is unwrapped; anything else counts as a reset,
/// so the increase is the new value — never a huge bogus spike.
enum CounterDelta {
    static func increase(from previous: UInt64, to current: UInt64) -> UInt64 {
        if current >= previous { return current - previous }
        if previous <= UInt64(UInt32.max) {
            let wrapped = (UInt64(UInt32.max) - previous) + current + 1
            if wrapped < (1 << 31) { return wrapped }
        }
        return current
    }

    /// Increase per second over `nanoseconds`; 0 when no time passed.
    static func rate(from previous: UInt64, to current: UInt64, nanoseconds: UInt64) -> Double {
        guard nanoseconds > 0 else { return 0 }
        return Double(increase(from: previous, to: current)) * 1e9 / Double(nanoseconds)
    }
}
