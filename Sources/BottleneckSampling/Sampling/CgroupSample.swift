/// One line of `/proc/PID/cgroup`: `hierarchy-ID:controller-list:path`.
///
/// cgroup v2 has the single line `0::/path`; v1 has one line per hierarchy, with the
/// controllers of that hierarchy (`4:memory:/…`, `3:cpu,cpuacct:/…`).
public struct CgroupMembership: Sendable, Equatable, Hashable {
    public var hierarchyID: Int
    public var controllers: [String]
    public var path: String
}

/// CPU bandwidth control of a cgroup, normalized across v1 and v2.
///
/// v1 `cpu.stat` reports `throttled_time` in ns and `cpu.cfs_quota_us`/`cpu.cfs_period_us`;
/// v2 reports `throttled_usec` and `cpu.max`. Both end up here in nanoseconds and cores.
public struct CgroupCPU: Sendable, Equatable {
    public var periods: UInt64?
    public var throttledPeriods: UInt64?
    public var throttledNanoseconds: UInt64?
    /// CPU used by the cgroup, when the kernel reports it (v2 `usage_usec`, v1 `cpuacct.usage`).
    public var usageNanoseconds: UInt64?
    /// The quota in cores (`quota / period`), nil when unlimited.
    public var quotaCores: Double?
}

/// Memory of a cgroup, normalized across v1 (`memory.usage_in_bytes`, `limit_in_bytes`,
/// `failcnt`, `oom_control`) and v2 (`memory.current`, `max`, `events`).
public struct CgroupMemory: Sendable, Equatable {
    public var currentBytes: UInt64
    /// nil when unlimited (v2 `max`, v1 the page-rounded 2^63).
    public var limitBytes: UInt64?
    /// v2 `memory.events` `max` or v1 `failcnt`: times usage hit the limit.
    public var limitHits: UInt64?
    public var oomKills: UInt64?
}

/// Whether the values came from a v1 or a v2 hierarchy (reported with each sample so a
/// reader knows which kernel semantics apply).
public enum CgroupVersion: Int, Sendable, Codable {
    case v1 = 1
    case v2 = 2
}
