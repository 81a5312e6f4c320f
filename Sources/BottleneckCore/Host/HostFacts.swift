import Foundation

/// Facts about the machine a run was measured on, recorded in `run.json` so numbers
/// from different machines are never compared blindly.
public struct HostFacts: Sendable, Codable {
    public var hostname: String
    public var kernel: String
    public var onlineCPUs: Int
    public var affinityCPUs: [Int]
    public var cgroupCPUQuotaCores: Double?
    public var cgroupCPUQuotaSource: String?
    /// Cores the generator may use (affinity limited by quota).
    public var allowedCores: Double
    public var memoryTotalBytes: UInt64
    public var cgroupMemoryLimitBytes: UInt64?
    /// `net.ipv4.ip_local_port_range` as [first, last]: the local ports new connections can use.
    public var ephemeralPortRange: [Int]?
    /// The generator's soft limit of open files (`ulimit -n`): one per connection.
    public var openFilesLimit: Int?

    /// Local ports available to new connections (nil when the range was not readable).
    public var ephemeralPorts: Int? {
        guard let range = ephemeralPortRange, range.count == 2, range[1] >= range[0] else { return nil }
        return range[1] - range[0] + 1
    }

    public static func current() -> HostFacts {
        var names = utsname()
        uname(&names)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        let allowance = CPUAllowance.current()
        return HostFacts(
            hostname: text(names.nodename),
            kernel: "\(text(names.sysname)) \(text(names.release)) \(text(names.machine))",
            onlineCPUs: ProcessInfo.processInfo.activeProcessorCount,
            affinityCPUs: allowance.affinityCPUs,
            cgroupCPUQuotaCores: allowance.quotaCores,
            cgroupCPUQuotaSource: allowance.quotaSource,
            allowedCores: allowance.cores,
            memoryTotalBytes: ProcessInfo.processInfo.physicalMemory,
            cgroupMemoryLimitBytes: Self.cgroupMemoryLimit(),
            ephemeralPortRange: Self.ephemeralPortRange(),
            openFilesLimit: Self.openFilesLimit())
    }

    static func ephemeralPortRange() -> [Int]? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else { return nil }
        let ports = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        return ports.count == 2 ? ports : nil
    }

    static func openFilesLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max, limit.rlim_cur <= UInt64(Int.max) else { return nil }
        return Int(limit.rlim_cur)
    }

    /// The memory limit of this process's cgroup (v2 `memory.max` or v1 `memory.limit_in_bytes`).
    static func cgroupMemoryLimit() -> UInt64? {
        guard let cgroups = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        let mounts = CgroupCPUQuota.parseCgroupMounts(mountinfo)
        for line in cgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let candidates: [String]
            if fields[0] == "0" && fields[1].isEmpty, let mount = mounts.first(where: { $0.version == 2 }) {
                candidates = [mount.path(for: String(fields[2])) + "/memory.max"]
            } else if fields[1].split(separator: ",").contains("memory"),
                      let mount = mounts.first(where: { $0.version == 1 && $0.controllers.contains("memory") }) {
                candidates = [mount.path(for: String(fields[2])) + "/memory.limit_in_bytes"]
            } else {
                continue
            }
            for file in candidates {
                guard let value = try? String(contentsOfFile: file, encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines), let limit = UInt64(value) else { continue }
                // v1 reports "no limit" as a huge page-aligned number.
                return limit >= (1 << 62) ? nil : limit
            }
        }
        return nil
    }
}
