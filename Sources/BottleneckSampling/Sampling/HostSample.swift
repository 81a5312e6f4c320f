/// CPU time of one CPU (or all, the `cpu` line) from `/proc/stat`, in clock ticks (USER_HZ).
///
/// Steal is kept apart because on shared VMs it is the first sign that "our" cores are
/// not ours: the generator looks saturated while the hypervisor runs someone else.
public struct CPUTimes: Sendable, Equatable, Codable {
    public var user: UInt64
    public var nice: UInt64
    public var system: UInt64
    public var idle: UInt64
    public var iowait: UInt64
    public var irq: UInt64
    public var softirq: UInt64
    public var steal: UInt64

    public init(user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0,
                iowait: UInt64 = 0, irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0) {
        self.user = user; self.nice = nice; self.system = system; self.idle = idle
        self.iowait = iowait; self.irq = irq; self.softirq = softirq; self.steal = steal
    }

    /// Ticks spent doing anything but idling or waiting for I/O (steal included: the CPU was
    /// not available to us).
    public var busy: UInt64 { user &+ nice &+ system &+ irq &+ softirq &+ steal }
    public var total: UInt64 { busy &+ idle &+ iowait }
}

/// The host-wide part of `/proc/stat`.
public struct HostCPUStat: Sendable, Equatable {
    public var total: CPUTimes
    public var perCPU: [CPUTimes]
    public var contextSwitches: UInt64
    public var procsRunning: UInt64
    public var procsBlocked: UInt64
}

/// One line of a PSI file (`/proc/pressure/*`): share of time some (or all) tasks stalled.
public struct PressureLine: Sendable, Equatable, Codable {
    public var avg10: Double
    public var avg60: Double
    public var avg300: Double
    /// Cumulative stall time in microseconds: the counter we turn into a per-interval rate.
    public var totalMicroseconds: UInt64
}

/// A PSI file: `some` always, `full` for memory and io (and cpu since Linux 5.13).
public struct Pressure: Sendable, Equatable {
    public var some: PressureLine
    public var full: PressureLine?
}

/// The parts of `/proc/meminfo` that tell whether the host runs out of memory, in bytes.
public struct MemInfo: Sendable, Equatable {
    public var totalBytes: UInt64
    public var availableBytes: UInt64
    public var freeBytes: UInt64
    public var cachedBytes: UInt64
    public var swapTotalBytes: UInt64
    public var swapFreeBytes: UInt64
}

/// Everything host-wide read in one tick.
struct HostSample {
    var cpu: HostCPUStat
    var pressureCPU: Pressure?
    var pressureMemory: Pressure?
    var pressureIO: Pressure?
    var memory: MemInfo
    var oomKills: UInt64?
}
