extension ProcParse {
    /// One section (`Tcp`, `TcpExt`, …) of `/proc/PID/net/snmp` or `netstat`: a header line of
    /// names followed by a line of values with the same prefix. Values can be negative
    /// (`MaxConn -1`).
    static func parseProtocolSection(_ text: Substring, section: StaticString, what: String) throws(SamplerError) -> [Substring: Int64] {
        try withBytes(text) { bytes throws(SamplerError) in
            var result: [Substring: Int64] = [:]
            try forEachCounter(in: bytes, section: section, what: what) { cursor, name, value in
                result[Substring(cursor.text(name))] = value
            }
            return result
        }
    }

    /// Calls `visit` with each name (a range of `bytes`) and value of `section`, checking
    /// the whole file's header/values pairing on the way.
    static func forEachCounter(in bytes: UnsafeBufferPointer<UInt8>, section: StaticString, what: String,
                               _ visit: (TextCursor, Range<Int>, Int64) -> Void) throws(SamplerError) {
        var cursor = TextCursor(bytes)
        var found = false
        while !cursor.isAtEnd {
            let header = cursor.position
            let headerEnd = cursor.lineEnd
            cursor.move(to: headerEnd + 1)
            if header == headerEnd { continue }
            var colon = header
            while colon < headerEnd, bytes[colon] != 58 { colon += 1 }
            guard colon < headerEnd else { throw SamplerError.malformed(what, "no 'Proto:' prefix") }
            let prefix = header..<(colon + 1)
            guard !cursor.isAtEnd else { throw SamplerError.malformed(what, "header without values (truncated?)") }
            let values = cursor.position
            let valuesEnd = cursor.lineEnd
            cursor.move(to: valuesEnd + 1)
            guard valuesEnd - values >= prefix.count,
                  prefix.allSatisfy({ bytes[$0] == bytes[values + $0 - header] }) else {
                throw SamplerError.malformed(what, "values do not follow header \(cursor.text(header..<colon))")
            }
            guard cursor.range(header..<colon, equals: section) else { continue }
            found = true
            var names = TextCursor(bytes, position: colon + 1)
            var numbers = TextCursor(bytes, position: values + prefix.count)
            while true {
                let name = names.field()
                let number = numbers.field()
                if name.isEmpty && number.isEmpty { break }
                guard !name.isEmpty, !number.isEmpty else {
                    throw SamplerError.malformed(what, "\(section): as many names as values expected")
                }
                var field = TextCursor(bytes, position: number.lowerBound)
                guard let value = field.signed(), field.position == number.upperBound else {
                    throw SamplerError.malformed(what, "not a number: \(cursor.text(number).prefix(32))")
                }
                visit(cursor, name, value)
            }
        }
        guard found else { throw SamplerError.malformed(what, "no \(section) section") }
    }

    /// The TCP counters of `snmp` + `netstat`; negative (signed-printed) values become 0.
    static func parseTCPCounters(snmp: Substring, netstat: Substring) throws(SamplerError) -> TCPCounters {
        var counters = TCPCounters()
        try withBytes(snmp) { bytes throws(SamplerError) in try addSNMPCounters(bytes: bytes, to: &counters) }
        try withBytes(netstat) { bytes throws(SamplerError) in try addNetstatCounters(bytes: bytes, to: &counters) }
        return counters
    }

    /// The `Tcp:` counters of `/proc/PID/net/snmp`.
    static func addSNMPCounters(bytes: UnsafeBufferPointer<UInt8>, to counters: inout TCPCounters) throws(SamplerError) {
        try addCounters(snmpCounters, section: "Tcp", of: bytes, what: "net/snmp", to: &counters)
    }

    /// The `TcpExt:` counters of `/proc/PID/net/netstat`.
    static func addNetstatCounters(bytes: UnsafeBufferPointer<UInt8>, to counters: inout TCPCounters) throws(SamplerError) {
        try addCounters(netstatCounters, section: "TcpExt", of: bytes, what: "net/netstat", to: &counters)
    }

    /// A counter's name in its section, and where it goes.
    private typealias NamedCounter = (name: StaticString, field: any WritableKeyPath<TCPCounters, UInt64> & Sendable)

    private static let snmpCounters: [NamedCounter] = [
        ("OutSegs", \.outSegments), ("RetransSegs", \.retransmittedSegments), ("ActiveOpens", \.activeOpens),
        ("PassiveOpens", \.passiveOpens), ("AttemptFails", \.attemptFails), ("EstabResets", \.establishedResets), ("OutRsts", \.outResets),
    ]

    private static let netstatCounters: [NamedCounter] = [
        ("ListenOverflows", \.listenOverflows), ("ListenDrops", \.listenDrops), ("TCPBacklogDrop", \.backlogDrops),
        ("TCPTimeouts", \.timeouts), ("SyncookiesSent", \.syncookiesSent),
    ]

    private static func addCounters(_ wanted: [NamedCounter], section: StaticString,
                                    of bytes: UnsafeBufferPointer<UInt8>, what: String, to counters: inout TCPCounters) throws(SamplerError) {
        try forEachCounter(in: bytes, section: section, what: what) { cursor, name, value in
            if let counter = wanted.first(where: { cursor.range(name, equals: $0.name) }) {
                counters[keyPath: counter.field] = UInt64(max(value, 0))
            }
        }
    }

    /// `/proc/PID/net/tcp` or `tcp6`. The first line is the column header.
    ///
    /// Columns: `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
    /// timeout inode …`; addresses are `HEX:PORT` (IPv4 8 hex digits, IPv6 32).
    ///
    /// - Parameter ports: when given, only rows whose local or remote port is in the set are
    ///   returned; the others are skipped after reading their two ports (a loaded host has
    ///   thousands of rows and the sampler wants a handful).
    static func parseTCPTable(_ text: Substring, ports: Set<UInt16>? = nil) throws(SamplerError) -> [TCPSocket] {
        let what = "net/tcp"
        var result: [TCPSocket] = []
        var sawHeader = false
        for line in lines(text) {
            if !sawHeader {
                guard line.trimmedForParsing.hasPrefix("sl") else { throw SamplerError.malformed(what, "no header line") }
                sawHeader = true
                continue
            }
            if let ports, let (local, remote) = quickPorts(line), !ports.contains(local) && !ports.contains(remote) {
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

    /// The local and remote ports of a row, read from its bytes without splitting it; nil
    /// when the row does not look right (the full parse then reports the error).
    private static func quickPorts(_ line: Substring) -> (UInt16, UInt16)? {
        var found: [UInt16] = []
        var value: UInt16 = 0
        var digits = 0
        var inPort = false
        var colons = 0
        for byte in line.utf8 {
            if byte == 58 {   // ':' — the 1st ends `sl`, the 2nd and 3rd precede the ports
                colons += 1
                if colons >= 2 { inPort = true; value = 0; digits = 0 }
                continue
            }
            if inPort {
                if byte == 32 {
                    guard digits == 4 else { return nil }
                    found.append(value)
                    inPort = false
                    if found.count == 2 { return (found[0], found[1]) }
                    continue
                }
                let nibble: UInt8
                switch byte {
                case 48...57: nibble = byte - 48
                case 65...70: nibble = byte - 55
                case 97...102: nibble = byte - 87
                default: return nil
                }
                guard digits < 4 else { return nil }
                value = value << 4 | UInt16(nibble)
                digits += 1
            }
        }
        return nil
    }

    private static func port(_ address: Substring) -> UInt16? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        let hex = address[..<colon].count
        guard hex == 8 || hex == 32 else { return nil }
        return UInt16(address[address.index(after: colon)...], radix: 16)
    }

    /// `inuse` of the `TCP6:` line of `/proc/PID/net/sockstat6` (`TCP6: inuse 3`): sockets of
    /// the namespace, so the costly `tcp6` table can be skipped when there are none.
    static func parseSockstatTCP6InUse(_ text: Substring) throws(SamplerError) -> UInt64 {
        for line in lines(text) where line.hasPrefix("TCP6:") {
            let parts = fields(line)
            guard parts.count >= 3, parts[1] == "inuse" else { throw SamplerError.malformed("net/sockstat6", "bad TCP6 line") }
            return try unsigned(parts[2], "net/sockstat6")
        }
        throw SamplerError.malformed("net/sockstat6", "no TCP6 line")
    }

    /// `/proc/sys/net/ipv4/ip_local_port_range`: `low<TAB>high`.
    static func parsePortRange(_ text: Substring) throws(SamplerError) -> ClosedRange<UInt16> {
        let parts = fields(text.trimmedForParsing)
        guard parts.count == 2, let low = UInt16(parts[0]), let high = UInt16(parts[1]), low <= high else {
            throw SamplerError.malformed("ip_local_port_range", "expected 'low high'")
        }
        return low...high
    }
}
