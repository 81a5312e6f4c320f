import Foundation

/// How much CPU this process may use: the CPUs in its affinity mask, further limited by
/// a cgroup CPU quota (v2 `cpu.max` or v1 `cpu.cfs_quota_us`). The engine sizes its
/// event loops from it, and the generator's CPU use is judged against it.
public struct CPUAllowance: Sendable, Codable, Equatable {
    /// CPUs the affinity mask allows.
    public var affinityCPUs: [Int]
    /// Quota in cores from the cgroup (nil when unlimited or unknown).
    public var quotaCores: Double?
    /// Where the quota came from, e.g. "cgroup v1 /sys/fs/cgroup/cpu/.../cpu.cfs_quota_us".
    public var quotaSource: String?

    /// Cores usable at once: the smaller of the affinity count and the quota.
    public var cores: Double {
        let affinity = Double(max(1, affinityCPUs.count))
        guard let quotaCores else { return affinity }
        return min(affinity, quotaCores)
    }

    /// Event-loop threads to run: whole cores, at least one.
    public var threads: Int { max(1, Int(cores.rounded(.up))) }

    /// Reads the allowance of the calling process.
    public static func current(procRoot: String = "/proc") -> CPUAllowance {
        let status = (try? String(contentsOfFile: "\(procRoot)/self/status", encoding: .utf8)) ?? ""
        var cpus: [Int] = []
        for line in status.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
            cpus = parseCPUList(line.dropFirst("Cpus_allowed_list:".count))
        }
        if cpus.isEmpty { cpus = Array(0..<ProcessInfo.processInfo.activeProcessorCount) }
        let quota = CgroupCPUQuota.read(procRoot: procRoot)
        return CPUAllowance(affinityCPUs: cpus, quotaCores: quota?.cores, quotaSource: quota?.source)
    }

    /// Parses a kernel CPU list such as "0-3,8,10-11".
    public static func parseCPUList(_ text: Substring) -> [Int] {
        var cpus: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            if bounds.count == 1, let a = bounds[0] {
                cpus.append(a)
            } else if bounds.count == 2, let a = bounds[0], let b = bounds[1], a <= b {
                cpus.append(contentsOf: a...b)
            }
        }
        return cpus
    }
}

/// Finds the CPU quota of the calling process's cgroup, v2 or v1.
public enum CgroupCPUQuota: Sendable {
    public static func read(procRoot: String = "/proc") -> (cores: Double, source: String)? {
        guard let cgroups = try? String(contentsOfFile: "\(procRoot)/self/cgroup", encoding: .utf8),
              let mountinfo = try? String(contentsOfFile: "\(procRoot)/self/mountinfo", encoding: .utf8)
        else { return nil }
        let mounts = parseCgroupMounts(mountinfo)
        for line in cgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            let path = String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                // cgroup v2: cpu.max is "max 100000" or "50000 100000".
                guard let mount = mounts.first(where: { $0.version == 2 }) else { continue }
                let file = mount.path(for: path) + "/cpu.max"
                if let text = try? String(contentsOfFile: file, encoding: .utf8),
                   let cores = parseCPUMax(text) {
                    return (cores, "cgroup v2 \(file)")
                }
            } else if controllers.contains("cpu") {
                guard let mount = mounts.first(where: { $0.version == 1 && $0.controllers.contains("cpu") }) else { continue }
                let directory = mount.path(for: path)
                if let quota = try? String(contentsOfFile: directory + "/cpu.cfs_quota_us", encoding: .utf8),
                   let period = try? String(contentsOfFile: directory + "/cpu.cfs_period_us", encoding: .utf8),
                   let q = Double(quota.trimmingCharacters(in: .whitespacesAndNewlines)),
                   let p = Double(period.trimmingCharacters(in: .whitespacesAndNewlines)), q > 0, p > 0 {
                    return (q / p, "cgroup v1 \(directory)/cpu.cfs_quota_us")
                }
            }
        }
        return nil
    }

    /// "max 100000" → nil (unlimited); "50000 100000" → 0.5.
    public static func parseCPUMax(_ text: String) -> Double? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 1, parts[0] != "max", let quota = Double(parts[0]) else { return nil }
        let period = parts.count > 1 ? Double(parts[1]) ?? 100_000 : 100_000
        return period > 0 ? quota / period : nil
    }

    struct CgroupMount {
        var version: Int
        var controllers: [Substring]
        /// The cgroup path the mount's root corresponds to.
        var root: String
        var mountPoint: String

        func path(for cgroupPath: String) -> String {
            var relative = cgroupPath
            if root != "/" && relative.hasPrefix(root) { relative = String(relative.dropFirst(root.count)) }
            if relative == "/" { relative = "" }
            return mountPoint + relative
        }
    }

    static func parseCgroupMounts(_ mountinfo: String) -> [CgroupMount] {
        var mounts: [CgroupMount] = []
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let fsType = right[0]
            if fsType == "cgroup2" {
                mounts.append(CgroupMount(version: 2, controllers: [], root: String(left[3]), mountPoint: String(left[4])))
            } else if fsType == "cgroup" {
                let options = right[2].split(separator: ",")
                mounts.append(CgroupMount(version: 1, controllers: options, root: String(left[3]), mountPoint: String(left[4])))
            }
        }
        return mounts
    }
}
