#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one clock every part of a run uses: load records, samples and captures are
/// joined on it, so they must all read `CLOCK_MONOTONIC` in nanoseconds.
public enum MonotonicClock: Sendable {
    /// Nanoseconds since an arbitrary fixed point (boot), never going backwards.
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Wall-clock time (UTC) in nanoseconds since the Unix epoch, recorded once per run
    /// so monotonic stamps can be placed on a calendar.
    public static func wallNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
