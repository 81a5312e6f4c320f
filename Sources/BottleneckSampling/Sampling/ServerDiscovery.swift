/// Finds the processes behind `--server-port`.
///
/// A listening socket is found by port in `/proc/PID/net/tcp{,6}` and matched by inode to
/// the `socket:[INODE]` links in `/proc/PID/fd`. Both tables are read through each PID, once
/// per network namespace, so a server inside another namespace on this host (a container,
/// `ip netns`) is found too. Every holder is returned: a gunicorn master and its forked
/// workers all hold the listening socket.
public enum ServerDiscovery: Sendable {
    /// PIDs holding a socket that listens on `port`, sorted; throws `.noListener` when none.
    public static func listeningPIDs(port: UInt16, procRoot: String = "/proc") throws -> [Int32] {
        let reader = ProcReader(procRoot: procRoot)
        let result = try listeners(ports: [port], reader: reader)
        guard let pids = result[port], !pids.isEmpty else { throw SamplerError.noListener(port: port) }
        return pids.sorted()
    }

    /// Listening ports → holder PIDs, for every port in `ports` (absent ports are missing).
    static func listeners(ports: Set<UInt16>, reader: ProcReader) throws(SamplerError) -> [UInt16: Set<Int32>] {
        let pids = try reader.allPIDs()
        // Listening inodes per namespace, read once per namespace.
        var inodesByNamespace: [UInt64: [UInt64: UInt16]] = [:]
        var result: [UInt16: Set<Int32>] = [:]
        for pid in pids {
            guard let namespace = reader.networkNamespace(pid) else { continue }
            if inodesByNamespace[namespace] == nil {
                guard let sockets = try? reader.readTCPSockets(pid) else { continue }
                var map: [UInt64: UInt16] = [:]
                for s in sockets where s.state == .listen && ports.contains(s.localPort) && s.inode != 0 {
                    map[s.inode] = s.localPort
                }
                inodesByNamespace[namespace] = map
            }
            guard let listening = inodesByNamespace[namespace], !listening.isEmpty else { continue }
            for inode in reader.socketInodes(pid) {
                if let port = listening[inode] { result[port, default: []].insert(pid) }
            }
        }
        return result
    }

    /// Ports on which any of `pids` holds a listening socket (for `--server-pid` without a port).
    static func listeningPorts(of pids: [Int32], reader: ProcReader) -> [UInt16: Set<UInt64>] {
        var result: [UInt16: Set<UInt64>] = [:]
        var seenNamespaces: [UInt64: [UInt64: UInt16]] = [:]
        for pid in pids {
            guard let namespace = reader.networkNamespace(pid) else { continue }
            if seenNamespaces[namespace] == nil {
                var map: [UInt64: UInt16] = [:]
                for s in (try? reader.readTCPSockets(pid)) ?? [] where s.state == .listen && s.inode != 0 {
                    map[s.inode] = s.localPort
                }
                seenNamespaces[namespace] = map
            }
            let listening = seenNamespaces[namespace] ?? [:]
            for inode in reader.socketInodes(pid) {
                if let port = listening[inode] { result[port, default: []].insert(inode) }
            }
        }
        return result
    }
}
