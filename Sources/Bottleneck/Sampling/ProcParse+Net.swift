extension ProcParse {
    /// One section (`Tcp`, `TcpExt`, …) of `/proc/PID/net/snmp` or `netstat`: a header line of
    /// names followed by a line of values with the same prefix. Values can be negative
    /// (`MaxConn -1`).
    static func parseProtocolSection(_ text: Substring, section: String, what: String) throws(SamplerError) -> [Substring: Int64] {
        let all = lines(text)
        var index = 0
        var found = false
        var result: [Substring: Int64] = [:]
        while index < all.count {
            let header = all[index]
            guard let colon = header.utf8.firstIndex(of: 58) else { throw SamplerError.malformed(what, "no 'Proto:' prefix") }
            guard index + 1 < all.count else { throw SamplerError.malformed(what, "header without values (truncated?)") }
            let values = all[index + 1]
            guard values.hasPrefix(header[...colon]) else { throw SamplerError.malformed(what, "values do not follow header \(header[..<colon])") }
            if header[..<colon] == section {
                let names = fields(header[header.index(after: colon)...])
                let numbers = fields(values[values.index(values.startIndex, offsetBy: header.distance(from: header.startIndex, to: colon) + 1)...])
                guard names.count == numbers.count else { throw SamplerError.malformed(what, "\(section): \(names.count) names, \(numbers.count) values") }
                for (name, number) in zip(names, numbers) { result[name] = try signed(number, what) }
                found = true
            }
            index += 2
        }
        guard found else { throw SamplerError.malformed(what, "no \(section) section") }
        return result
    }

    /// The TCP counters of `snmp` + `netstat`; negative (signed-printed) values become 0.
    static func parseTCPCounters(snmp: Substring, netstat: Substring) throws(SamplerError) -> TCPCounters {
        let tcp = try parseProtocolSection(snmp, section: "Tcp", what: "net/snmp")
        let ext = try parseProtocolSection(netstat, section: "TcpExt", what: "net/netstat")
        func u(_ v: Int64?) -> UInt64 { UInt64(Swift.max(v ?? 0, 0)) }
        var c = TCPCounters()
        c.outSegments = u(tcp["OutSegs"])
        c.retransmittedSegments = u(tcp["RetransSegs"])
        c.activeOpens = u(tcp["ActiveOpens"])
        c.attemptFails = u(tcp["AttemptFails"])
        c.establishedResets = u(tcp["EstabResets"])
        c.outResets = u(tcp["OutRsts"])
        c.listenOverflows = u(ext["ListenOverflows"])
        c.listenDrops = u(ext["ListenDrops"])
        c.backlogDrops = u(ext["TCPBacklogDrop"])
        c.timeouts = u(ext["TCPTimeouts"])
        c.syncookiesSent = u(ext["SyncookiesSent"])
        return c
    }

    /// `/proc/PID/net/tcp` or `tcp6`. The first line is the column header.
    ///
    /// Columns: `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
    /// timeout inode …`; addresses are `HEX:PORT` (IPv4 8 hex digits, IPv6 32).
    static func parseTCPTable(_ text: Substring) throws(SamplerError) -> [TCPSocket] {
        let what = "net/tcp"
        var result: [TCPSocket] = []
        var sawHeader = false
        for line in lines(text) {
            if !sawHeader {
                guard line.trimmingSpaces.hasPrefix("sl") else { throw SamplerError.malformed(what, "no header line") }
                sawHeader = true
                continue
            }
            let parts = line.utf8.split(separator: 32, maxSplits: 10, omittingEmptySubsequences: true).map { Substring($0) }
            guard parts.count >= 10, parts[0].hasSuffix(":") else { throw SamplerError.malformed(what, "short row (truncated?)") }
            guard let localPort = port(parts[1]), let remotePort = port(parts[2]),
                  let st = UInt8(parts[3], radix: 16), let state = TCPState(rawValue: st) else {
                throw SamplerError.malformed(what, "bad address or state in row \(parts[0])")
            }
            let queues = parts[4].split(separator: ":")
            guard queues.count == 2, let tx = UInt32(queues[0], radix: 16), let rx = UInt32(queues[1], radix: 16),
                  let uid = UInt32(parts[7]), let inode = UInt64(parts[9]) else {
                throw SamplerError.malformed(what, "bad queues, uid or inode in row \(parts[0])")
            }
            result.append(TCPSocket(localPort: localPort, remotePort: remotePort, state: state,
                                    txQueue: tx, rxQueue: rx, uid: uid, inode: inode))
        }
        guard sawHeader else { throw SamplerError.malformed(what, "empty") }
        return result
    }

    private static func port(_ address: Substring) -> UInt16? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        let hex = address[..<colon].count
        guard hex == 8 || hex == 32 else { return nil }
        return UInt16(address[address.index(after: colon)...], radix: 16)
    }

    /// `/proc/sys/net/ipv4/ip_local_port_range`: `low<TAB>high`.
    static func parsePortRange(_ text: Substring) throws(SamplerError) -> ClosedRange<UInt16> {
        let parts = fields(text.trimmingSpaces)
        guard parts.count == 2, let low = UInt16(parts[0]), let high = UInt16(parts[1]), low <= high else {
            throw SamplerError.malformed("ip_local_port_range", "expected 'low high'")
        }
        return low...high
    }
}
