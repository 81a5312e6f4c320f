/// The fields of `/proc/PID/stat` (or `/proc/PID/task/TID/stat`) the samplers use.
///
/// `startTime` (ticks after boot) identifies a process together with its PID, so a PID
/// reused by a new process mid-run is not mistaken for the old one.
public struct ProcessStat: Sendable, Equatable {
    public var pid: Int32
    public var comm: String
    public var state: Character
    public var ppid: Int32
    /// CPU time in clock ticks (USER_HZ).
    public var userTicks: UInt64
    public var systemTicks: UInt64
    public var threads: Int
    public var startTime: UInt64
    /// Resident pages (RSS from the same snapshot as the CPU times).
    public var rssPages: UInt64
    /// The CPU the task last ran on.
    public var lastCPU: Int
}

/// The fields of `/proc/PID/status` the samplers use.
public struct ProcessStatus: Sendable, Equatable {
    public var rssBytes: UInt64?
    /// VmHWM: the peak RSS the kernel remembers, so a spike between two ticks is not missed.
    public var rssPeakBytes: UInt64?
    public var voluntaryContextSwitches: UInt64
    public var nonvoluntaryContextSwitches: UInt64
    /// Number of CPUs in `Cpus_allowed_list` (the affinity mask), when present.
    public var allowedCPUs: Int?
}

/// `/proc/PID/schedstat`: time on CPU and time waiting on a run queue, in nanoseconds.
///
/// Run delay is the direct measure of "runnable but no CPU": CPU starvation shows here
/// before it shows anywhere else.
public struct Schedstat: Sendable, Equatable {
    public var runNanoseconds: UInt64
    public var runDelayNanoseconds: UInt64
    public var timeslices: UInt64
}

/// Soft and hard limit of open files (`Max open files` in `/proc/PID/limits`); nil = unlimited.
public struct OpenFileLimit: Sendable, Equatable {
    public var soft: UInt64?
    public var hard: UInt64?
}
