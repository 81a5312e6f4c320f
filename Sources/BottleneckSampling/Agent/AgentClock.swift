/// How an agent's monotonic clock relates to the run's, from the `clock` records of
/// `samples-agent.jsonl`: each pairs the agent's clock (`agent_t`, read while it answered a
/// pull) with the midpoint of that pull on the run's clock (`t`), so the offset between the
/// two is known to ±`rtt_ns`/2.
///
/// The agent's clock is read on another host in general (CLOCK_MONOTONIC counts from that
/// host's boot), so its `t`s are converted, never compared raw; on the run's own host the
/// offset comes out as about zero the same way. Two hosts' clocks drift apart by some parts
/// per million, so a time is converted with the reading nearest to it (one every 5 s or so).
struct AgentClock {
    struct Reading: Equatable {
        /// The run's clock, ns.
        var local: UInt64
        /// The agent's clock at the same moment, ns.
        var agent: UInt64
        var roundTrip: UInt64
    }

    /// In the agent's time order; never empty.
    let readings: [Reading]

    init(readings: [Reading]) {
        precondition(!readings.isEmpty, "an agent clock needs a reading")
        self.readings = readings.sorted { $0.agent < $1.agent }
    }

    /// The clock of the `clock` records in the file at `path`; nil when it has none.
    static func load(path: String) throws -> AgentClock? {
        var readings: [Reading] = []
        try SampleLines.forEach(in: path) { line in
            guard SampleLines.recordType(of: line) == "clock", let record = SampleLines.parse(line),
                  let local = SampleLines.unsigned(record["t"]), let agent = SampleLines.unsigned(record["agent_t"]) else { return }
            readings.append(Reading(local: local, agent: agent, roundTrip: SampleLines.unsigned(record["rtt_ns"]) ?? 0))
        }
        return readings.isEmpty ? nil : AgentClock(readings: readings)
    }

    /// `agentTime` on the run's clock.
    func runTime(_ agentTime: UInt64) -> UInt64 {
        // The first reading at or after agentTime, or the one before it, whichever is nearer.
        var low = 0, high = readings.count
        while low < high {
            let middle = (low + high) / 2
            if readings[middle].agent < agentTime { low = middle + 1 } else { high = middle }
        }
        var nearest = readings[min(low, readings.count - 1)]
        if low > 0 {
            let before = readings[low - 1]
            if low == readings.count || agentTime - before.agent < nearest.agent - agentTime { nearest = before }
        }
        let offset = Int64(bitPattern: nearest.agent &- nearest.local)
        return UInt64(bitPattern: max(0, Int64(bitPattern: agentTime) &- offset))
    }
}
