/// What one sampling interval contributes to the current step, per side.
struct RoleInterval {
    var cores: Double = 0
    var rssBytes: UInt64 = 0
    var processes = 0
    /// pid → (comm, CPU ticks in the interval): summed per step to find the busiest process.
    var ticksByPID: [Int32: (comm: String, ticks: UInt64)] = [:]
    var periods: UInt64 = 0
    var throttledPeriods: UInt64 = 0
    var throttledNanoseconds: UInt64 = 0
    var quotaCores: Double?
    var allowedCPUs: Int?
    var net = TCPCounters()
    var socketStates: [TCPState: Int] = [:]
    var acceptQueueMax = 0
    var runDelayNanoseconds: UInt64 = 0
    var nonvoluntarySwitches: UInt64 = 0
    var connections = ConnectionInterval()
    /// The process nearest its open-file limit (open fds / soft limit), and the most fds of any one process.
    var fdUsage: DescriptorUsage?
    var fdsMax: Int?
    /// The most sockets of any one process, where they were counted.
    var socketsMax: Int?
}

/// One process's open file descriptors against its soft limit.
struct DescriptorUsage {
    var fds: Int
    var limit: Int
    var ratio: Double { Double(fds) / Double(limit) }
}

/// `tcp_info` of one side's connections in one interval: increases since the last sample.
struct ConnectionInterval {
    var sampled = 0
    var rttMicrosSum: Double = 0
    var rttMicrosMax: Double = 0
    var deliveryBytesPerSecondMax: Double = 0
    var busyMicros: UInt64 = 0
    var receiveWindowLimitedMicros: UInt64 = 0
    var sendBufferLimitedMicros: UInt64 = 0
    var bytesAcked: UInt64 = 0
    var bytesReceived: UInt64 = 0
    var retransmits: UInt64 = 0
    var segmentsOut: UInt64 = 0

    mutating func add(_ other: ConnectionInterval) {
        sampled.addSaturating(other.sampled)
        rttMicrosSum += other.rttMicrosSum
        rttMicrosMax = max(rttMicrosMax, other.rttMicrosMax)
        deliveryBytesPerSecondMax = max(deliveryBytesPerSecondMax, other.deliveryBytesPerSecondMax)
        busyMicros.addSaturating(other.busyMicros)
        receiveWindowLimitedMicros.addSaturating(other.receiveWindowLimitedMicros)
        sendBufferLimitedMicros.addSaturating(other.sendBufferLimitedMicros)
        bytesAcked.addSaturating(other.bytesAcked)
        bytesReceived.addSaturating(other.bytesReceived)
        retransmits.addSaturating(other.retransmits)
        segmentsOut.addSaturating(other.segmentsOut)
    }

    /// One connection's sample against its previous one (nil: opened since, counted from 0).
    mutating func add(_ now: TCPConnectionInfo, previous: TCPConnectionInfo?) {
        func increase<T: FixedWidthInteger>(_ a: T, _ b: T?) -> UInt64 { UInt64(a >= (b ?? 0) ? a - (b ?? 0) : 0) }
        sampled += 1
        rttMicrosSum += Double(now.rttMicros)
        rttMicrosMax = max(rttMicrosMax, Double(now.rttMicros))
        deliveryBytesPerSecondMax = max(deliveryBytesPerSecondMax, Double(now.deliveryRateBytesPerSecond))
        busyMicros.addSaturating(increase(now.busyMicros, previous?.busyMicros))
        receiveWindowLimitedMicros.addSaturating(increase(now.receiveWindowLimitedMicros, previous?.receiveWindowLimitedMicros))
        sendBufferLimitedMicros.addSaturating(increase(now.sendBufferLimitedMicros, previous?.sendBufferLimitedMicros))
        bytesAcked.addSaturating(increase(now.bytesAcked, previous?.bytesAcked))
        bytesReceived.addSaturating(increase(now.bytesReceived, previous?.bytesReceived))
        retransmits.addSaturating(increase(now.totalRetransmits, previous?.totalRetransmits))
        segmentsOut.addSaturating(increase(now.segmentsOut, previous?.segmentsOut))
    }
}

extension RoleInterval {
    /// Adds one namespace's network figures (a side can span several namespaces).
    mutating func add(network other: RoleInterval) {
        net.retransmittedSegments.addSaturating(other.net.retransmittedSegments)
        net.outSegments.addSaturating(other.net.outSegments)
        net.listenOverflows.addSaturating(other.net.listenOverflows)
        net.listenDrops.addSaturating(other.net.listenDrops)
        net.passiveOpens.addSaturating(other.net.passiveOpens)
        for (state, n) in other.socketStates { socketStates[state, default: 0].addSaturating(n) }
        acceptQueueMax = max(acceptQueueMax, other.acceptQueueMax)
        connections.add(other.connections)
    }
}

/// Host figures of one interval.
struct HostInterval {
    var busyFraction: Double
    var stealFraction: Double
    var cpus: Int
    var cpuPressureFraction: Double?
    var oomKills: UInt64
}

/// Folds intervals into a `StepAggregate`. Lives on the sampler thread only.
struct StepAccumulator {
    let index: Int
    let name: String
    let start: UInt64
    var end: UInt64
    var intervals = 0
    var seconds: Double = 0
    let clockTicksPerSecond: Double

    private var hostBusy: Double = 0, hostBusyMax: Double = 0, hostSteal: Double = 0
    private var hostPressure: Double = 0, hostPressureSeconds: Double = 0
    private var hostCPUs = 0
    private var oomKills: UInt64 = 0
    private var sides: [Side] = [Side(), Side()]

    private struct Side {
        var aggregate = RoleAggregate()
        var coreSeconds: Double = 0
        var ticksByPID: [Int32: (comm: String, ticks: UInt64)] = [:]
        var firstRSS: UInt64?
        var lastRSS: UInt64 = 0
        var periods: UInt64 = 0
        var throttled: UInt64 = 0
        var runDelay: UInt64 = 0
        var nonvoluntary: UInt64 = 0
        var connections = ConnectionInterval()
        var connectionSamples = 0
        var connectionsMax = 0
    }

    init(index: Int, name: String, start: UInt64, clockTicksPerSecond: Double) {
        self.index = index
        self.name = name
        self.start = start
        self.end = start
        self.clockTicksPerSecond = clockTicksPerSecond
    }

    mutating func add(t: UInt64, dt: UInt64, host: HostInterval?, client: RoleInterval, server: RoleInterval) {
        end = t
        intervals += 1
        let s = Double(dt) / 1e9
        seconds += s
        if let host {
            hostBusy += host.busyFraction * s
            hostBusyMax = max(hostBusyMax, host.busyFraction)
            hostSteal += host.stealFraction * s
            hostCPUs = host.cpus
            if let p = host.cpuPressureFraction { hostPressure += p * s; hostPressureSeconds += s }
            oomKills.addSaturating(host.oomKills)
        }
        add(client, to: 0, seconds: s)
        add(server, to: 1, seconds: s)
    }

    private mutating func add(_ r: RoleInterval, to i: Int, seconds s: Double) {
        var side = sides[i]
        side.coreSeconds += r.cores * s
        side.aggregate.cpuCoresMax = max(side.aggregate.cpuCoresMax, r.cores)
        side.aggregate.processes = max(side.aggregate.processes, r.processes)
        for (pid, entry) in r.ticksByPID {
            side.ticksByPID[pid, default: (entry.comm, 0)].ticks.addSaturating(entry.ticks)
        }
        if r.processes > 0 {
            if side.firstRSS == nil { side.firstRSS = r.rssBytes }
            side.lastRSS = r.rssBytes
            side.aggregate.rssPeakBytes = max(side.aggregate.rssPeakBytes, r.rssBytes)
        }
        side.periods.addSaturating(r.periods)
        side.throttled.addSaturating(r.throttledPeriods)
        side.aggregate.throttledSeconds += Double(r.throttledNanoseconds) / 1e9
        if let q = r.quotaCores { side.aggregate.quotaCores = q }
        if let allowed = r.allowedCPUs {
            let byQuota = side.aggregate.quotaCores ?? Double(allowed)
            side.aggregate.coresAllowed = min(Double(allowed), byQuota)
        }
        side.aggregate.retransmittedSegments.addSaturating(r.net.retransmittedSegments)
        side.aggregate.outSegments.addSaturating(r.net.outSegments)
        side.aggregate.listenOverflows.addSaturating(r.net.listenOverflows)
        side.aggregate.listenDrops.addSaturating(r.net.listenDrops)
        var opens = side.aggregate.passiveOpens ?? 0
        opens.addSaturating(r.net.passiveOpens)
        side.aggregate.passiveOpens = opens
        for (state, count) in r.socketStates {
            side.aggregate.socketStatesMax[state.name] = max(side.aggregate.socketStatesMax[state.name] ?? 0, count)
        }
        side.aggregate.acceptQueueMax = max(side.aggregate.acceptQueueMax, r.acceptQueueMax)
        if let usage = r.fdUsage, usage.ratio > (side.aggregate.fdUsageMax ?? -1) {
            side.aggregate.fdUsageMax = usage.ratio
            side.aggregate.fdsAtUsageMax = usage.fds
            side.aggregate.fdLimitAtUsageMax = usage.limit
        }
        if let fds = r.fdsMax { side.aggregate.fdsMax = max(side.aggregate.fdsMax ?? 0, fds) }
        if let sockets = r.socketsMax { side.aggregate.socketsMax = max(side.aggregate.socketsMax ?? 0, sockets) }
        side.runDelay.addSaturating(r.runDelayNanoseconds)
        side.nonvoluntary.addSaturating(r.nonvoluntarySwitches)
        if r.connections.sampled > 0 {
            side.connections.add(r.connections)
            side.connectionsMax = max(side.connectionsMax, r.connections.sampled)
        }
        sides[i] = side
    }

    func aggregate() -> StepAggregate {
        let span = seconds > 0 ? seconds : 1
        func finish(_ side: Side) -> RoleAggregate {
            var a = side.aggregate
            a.cpuCoresMean = side.coreSeconds / span
            if let (pid, entry) = side.ticksByPID.max(by: { $0.value.ticks < $1.value.ticks }) {
                a.busiestProcess = BusiestProcess(pid: pid, comm: entry.comm,
                                                  cores: Double(entry.ticks) / clockTicksPerSecond / span)
            }
            a.saturatedProcesses = side.ticksByPID.values.filter {
                Double($0.ticks) / clockTicksPerSecond / span >= RoleAggregate.saturatedProcessCores
            }.count
            a.rssGrowthBytes = Int64(side.lastRSS) - Int64(side.firstRSS ?? side.lastRSS)
            a.throttledRatio = side.periods > 0 ? Double(side.throttled) / Double(side.periods) : nil
            a.retransmitRatio = a.outSegments > 0 ? Double(a.retransmittedSegments) / Double(a.outSegments) : nil
            a.runDelayFraction = Double(side.runDelay) / 1e9 / span
            a.nonvoluntaryContextSwitchesPerSecond = Double(side.nonvoluntary) / span
            let c = side.connections
            if c.sampled > 0 {
                var account = TCPConnectionAccount()
                account.connectionsMax = side.connectionsMax
                account.rttMsMean = c.rttMicrosSum / Double(c.sampled) / 1000
                account.rttMsMax = c.rttMicrosMax / 1000
                account.deliveryMbpsMax = c.deliveryBytesPerSecondMax * 8 / 1e6
                account.busySeconds = Double(c.busyMicros) / 1e6
                account.receiveWindowLimitedSeconds = Double(c.receiveWindowLimitedMicros) / 1e6
                account.sendBufferLimitedSeconds = Double(c.sendBufferLimitedMicros) / 1e6
                account.bytesAcked = c.bytesAcked
                account.bytesReceived = c.bytesReceived
                account.retransmits = c.retransmits
                account.segmentsOut = c.segmentsOut
                a.connections = account
            }
            return a
        }
        let host = HostAggregate(cpus: hostCPUs, busyCoresMean: hostBusy / span * Double(hostCPUs),
                                 busyFractionMean: hostBusy / span, busyFractionMax: hostBusyMax,
                                 stealFractionMean: hostSteal / span,
                                 cpuPressureSomeFraction: hostPressureSeconds > 0 ? hostPressure / hostPressureSeconds : nil,
                                 oomKills: oomKills)
        return StepAggregate(index: index, name: name, startNanoseconds: start, endNanoseconds: end,
                             intervals: intervals, host: host, client: finish(sides[0]), server: finish(sides[1]))
    }
}

extension FixedWidthInteger {
    /// Adds `other`, stopping at the type's largest value: a sum of counters read from a hostile or
    /// corrupt samples file stays a (huge) number, never a trap (a fuzzer find: run delays summed
    /// past UInt64.max).
    @inline(__always)
    mutating func addSaturating(_ other: Self) {
        let (sum, overflow) = addingReportingOverflow(other)
        self = overflow ? (other > 0 ? .max : .min) : sum
    }
}
