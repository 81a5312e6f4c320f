/// Where a process's cgroup files are, resolved once per distinct `/proc/PID/cgroup` text.
struct CgroupLocation: Hashable {
    var version: CgroupVersion
    /// The cgroup path as the process sees it (`/system.slice/model.service`), for reports.
    var path: String
    /// Directory holding `cpu.stat` (v1 cpu hierarchy, or the v2 directory).
    var cpuDirectory: String?
    var cpuacctDirectory: String?
    var memoryDirectory: String?
    var memoryVersion: CgroupVersion
}

extension ProcReader {
    /// Maps a membership to directories under `cgroupRoot`.
    ///
    /// A hybrid host (like this one) has v1 hierarchies for cpu and memory and a v2 tree
    /// at `unified/` with no controllers; a v2 host has the v2 tree at the root. A v1
    /// controller wins when the process is in one, since only then do its files carry the
    /// throttling data. v1 mount directories are named after the hierarchy's controllers
    /// (`cpu,cpuacct`) or each one separately (`cpu`), so we try both.
    func resolveCgroup(_ entries: [CgroupMembership], cacheKey: String) -> CgroupLocation {
        if let cached = cgroupLocations[cacheKey] { return cached }
        func v1Directory(_ controller: String) -> String? {
            guard let entry = entries.first(where: { $0.hierarchyID != 0 && $0.controllers.contains(controller) }) else { return nil }
            let candidates = [entry.controllers.joined(separator: ","), controller] + entry.controllers
            for mount in candidates {
                let dir = cgroupRoot + "/" + mount + (entry.path == "/" ? "" : entry.path)
                if files.exists(dir) { return dir }
            }
            return nil
        }
        var v2Directory: String?
        var v2Path = "/"
        if let unified = entries.first(where: { $0.hierarchyID == 0 }) {
            v2Path = unified.path
            let base = files.exists(cgroupRoot + "/cgroup.controllers") ? cgroupRoot : cgroupRoot + "/unified"
            let dir = base + (unified.path == "/" ? "" : unified.path)
            if files.exists(dir) { v2Directory = dir }
        }
        let v1CPU = v1Directory("cpu")
        let v1Memory = v1Directory("memory")
        let v2HasCPU = v2Directory.map { files.exists($0 + "/cpu.max") } ?? false
        let v2HasMemory = v2Directory.map { files.exists($0 + "/memory.current") } ?? false
        let path = v1CPU != nil ? entries.first(where: { $0.controllers.contains("cpu") })?.path ?? v2Path : v2Path
        let location = CgroupLocation(
            version: v1CPU != nil ? .v1 : .v2,
            path: path,
            cpuDirectory: v1CPU ?? (v2HasCPU ? v2Directory : nil),
            cpuacctDirectory: v1Directory("cpuacct"),
            memoryDirectory: v1Memory ?? (v2HasMemory ? v2Directory : nil),
            memoryVersion: v1Memory != nil ? .v1 : .v2)
        cgroupLocations[cacheKey] = location
        return location
    }

    private func optionalRead(_ path: String) -> Substring? {
        (try? files.read(path, singleShot: true, keepOpen: true))?[...]
    }

    /// CPU bandwidth data of the cgroup, nil when no cpu controller applies to it.
    func readCgroupCPU(_ location: CgroupLocation) throws(SamplerError) -> CgroupCPU? {
        guard let dir = location.cpuDirectory else { return nil }
        let stat = try files.read(dir + "/cpu.stat", singleShot: true, keepOpen: true)
        switch location.version {
        case .v1:
            return try ProcParse.parseCgroupV1CPU(
                stat: stat[...], quota: optionalRead(dir + "/cpu.cfs_quota_us"),
                period: optionalRead(dir + "/cpu.cfs_period_us"),
                usage: location.cpuacctDirectory.flatMap { optionalRead($0 + "/cpuacct.usage") })
        case .v2:
            return try ProcParse.parseCgroupV2CPU(stat: stat[...], max: optionalRead(dir + "/cpu.max"))
        }
    }

    func readCgroupMemory(_ location: CgroupLocation) throws(SamplerError) -> CgroupMemory? {
        guard let dir = location.memoryDirectory else { return nil }
        switch location.memoryVersion {
        case .v1:
            let usage = try files.read(dir + "/memory.usage_in_bytes", singleShot: true, keepOpen: true)
            return try ProcParse.parseCgroupV1Memory(
                usage: usage[...], limit: optionalRead(dir + "/memory.limit_in_bytes"),
                failcnt: optionalRead(dir + "/memory.failcnt"), oomControl: optionalRead(dir + "/memory.oom_control"))
        case .v2:
            let current = try files.read(dir + "/memory.current", singleShot: true, keepOpen: true)
            return try ProcParse.parseCgroupV2Memory(
                current: current[...], max: optionalRead(dir + "/memory.max"), events: optionalRead(dir + "/memory.events"))
        }
    }
}
