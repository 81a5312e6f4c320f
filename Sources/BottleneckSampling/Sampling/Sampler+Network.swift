/// TCP counters and sockets of a tick, per side and network namespace, into `net` records.
extension Sampler {
    func readNetwork(t: UInt64, connectionStates: Bool) {
        // One read per network namespace, through a live process in it; each side present in
        // that namespace then gets its own record (its own ports, its own rates).
        var namespaces: [(namespace: UInt64, pid: Int32, roles: [SampleRole])] = []
        for pid in order {
            guard let entry = tracked[pid], let namespace = entry.namespace else { continue }
            if let i = namespaces.firstIndex(where: { $0.namespace == namespace }) {
                if !namespaces[i].roles.contains(entry.role) { namespaces[i].roles.append(entry.role) }
            } else {
                namespaces.append((namespace, pid, [entry.role]))
            }
        }
        for (namespace, pid, roles) in namespaces {
            guard let counters = try? reader.readTCPCounters(pid) else { continue }
            // Only rows of the ports any side cares about (listening inodes are on server ports
            // discovered at start, so they are covered too); only the listeners between
            // connection-state ticks.
            let sockets = try? reader.readTCPSockets(pid, namespace: namespace, ports: socketPorts, listeningOnly: !connectionStates,
                                                     withInfo: roles.contains(.client))
            for role in roles {
                tick.networks.append(networkRecord(t: t, role: role, namespace: namespace, pid: pid, counters: counters,
                                                   sockets: sockets, connectionStates: connectionStates))
            }
        }
    }

    private func networkRecord(t: UInt64, role: SampleRole, namespace: UInt64, pid: Int32, counters: TCPCounters,
                               sockets: [TCPSocket]?, connectionStates: Bool) -> NetworkTick {
        let key = SideKey(role: role, entity: namespace)
        let ports = role == .client ? targetPorts : serverPorts
        var record = NetworkTick(t: t, role: role, namespace: namespace, pid: pid, counters: counters, ports: ports.sorted())
        let previous = previousNet[key]
        previousNet[key] = (t, counters)
        if let previous, t > previous.t {
            let dt = t - previous.t
            let p = previous.counters
            let out = CounterDelta.increase(from: p.outSegments, to: counters.outSegments)
            let retransmitted = CounterDelta.increase(from: p.retransmittedSegments, to: counters.retransmittedSegments)
            record.rates = NetworkTick.Rates(
                dt: dt,
                countersPerSecond: zip(p.named, counters.named).map { before, after in
                    CounterDelta.rate(from: before.1, to: after.1, nanoseconds: dt)
                },
                retransmitRatio: out > 0 ? Double(retransmitted) / Double(out) : 0)
        }
        if let sockets {
            var states: [TCPState: Int] = [:]
            var rx: UInt64 = 0, tx: UInt64 = 0
            var listening: [ListenerTick] = []
            for s in sockets {
                let matches = role == .client
                    ? ports.contains(s.remotePort) && s.state != .listen
                    : ports.contains(s.localPort) || (s.inode != 0 && listenInodes.contains(s.inode))
                guard matches else { continue }
                states[s.state, default: 0] += 1
                rx += UInt64(s.rxQueue)
                tx += UInt64(s.txQueue)
                if s.state == .listen { listening.append(ListenerTick(port: s.localPort, inode: s.inode, acceptQueue: UInt64(s.rxQueue))) }
            }
            if connectionStates {
                record.sockets = NetworkTick.SocketCounts(states: states, rxQueue: rx, txQueue: tx)
                if role == .client { record.connections = connectionInfo(sockets) }
            }
            record.listening = listening
        }
        if role == .client { record.ephemeralPorts = ephemeralPorts }
        return record
    }

    /// The generator's established connections to the target: what `tcp_info` says happened on
    /// them since the last sample; nil when none had it.
    private func connectionInfo(_ sockets: [TCPSocket]) -> ConnectionInterval? {
        var account = ConnectionInterval()
        var seen: [UInt64: TCPConnectionInfo] = [:]
        for s in sockets where s.state == .established && targetPorts.contains(s.remotePort) && s.inode != 0 {
            guard let info = s.info else { continue }
            account.add(info, previous: previousConnectionInfo[s.inode])
            seen[s.inode] = info
        }
        previousConnectionInfo = seen
        return account.sampled > 0 ? account : nil
    }
}
