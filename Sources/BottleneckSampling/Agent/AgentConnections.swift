import NIOCore
import NIOHTTP1

extension AgentServer {
    /// What one peer may make the agent hold, and for how long (docs/agent.md, "Limits").
    /// The defaults fit the agent's clients, `bottleneck load` and Prometheus, with room to
    /// spare; tests shorten the deadlines.
    public struct Limits: Sendable, Equatable {
        /// Request line plus header names and values, bytes (NIOHTTP1 counts these, not the
        /// `: ` and line ends); over it the agent answers 431 and closes.
        public var maxHeaderBytes = 16 * 1024
        /// Header fields in one request; over it, 431. Bounds the decoded header list, whose
        /// per-field overhead the byte limit above does not see.
        public var maxHeaderFields = 64
        /// Request body, bytes: `/v1/session` and `/v1/step` take a few hundred; over it, 413.
        public var maxBodyBytes = 64 * 1024
        /// Simultaneous connections. A new one past the cap evicts the oldest connection
        /// that has not yet sent a whole request (a slow or idle peer), or is closed at
        /// once when every connection is being answered.
        public var maxConnections = 64
        /// From accepting a connection to having its whole request (head and body): a peer
        /// that trickles or sends nothing is closed then.
        public var requestTimeout: Duration = .seconds(10)
        /// From the whole request to the response sent: a peer that does not read its
        /// answer is closed then.
        public var responseTimeout: Duration = .seconds(60)

        public init() {}

        var decoderLimits: NIOHTTPDecoderLimitConfiguration {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = maxHeaderBytes
            limits.maxHeaderListSize = maxHeaderBytes
            limits.maxHeaderFieldCount = maxHeaderFields
            return limits
        }
    }

    /// The connections open now (tests watch the cap with it).
    var openConnections: Int { connections.withLock { $0.count } }

    /// Admits a newly accepted connection: its id, or nil when it must be closed.
    func admit(_ channel: any Channel) -> UInt64? {
        let admission = connections.withLock { $0.admit(channel) }
        switch admission {
        case .admitted(let id, let evicted):
            if let evicted {
                logger.debug("agent connection cap reached: closing the oldest connection still sending its request")
                evicted.close(promise: nil)
            }
            return id
        case .refused:
            logger.debug("agent connection cap reached and every connection is being answered: refusing one")
            return nil
        }
    }

    /// The connection's whole request arrived: it is no longer evicted for a newcomer.
    func requestReceived(_ id: UInt64) { connections.withLock { $0.markRequestReceived(id) } }

    func release(_ id: UInt64) { connections.withLock { $0.remove(id) } }
}

/// The agent's open connections, at most `capacity`, in the order they were accepted.
///
/// Past the cap, a newcomer takes the place of the oldest connection still sending its
/// request rather than being turned away: a peer that opens connections and sends nothing
/// then only ever holds slots until the next connection arrives, and cannot keep a client
/// with the token out; one that has sent its request keeps its slot until it is answered.
struct AgentConnectionTable<Connection> {
    enum Admission {
        case admitted(id: UInt64, evicted: Connection?)
        case refused
    }

    private struct Entry {
        var id: UInt64
        var connection: Connection
        var awaitingRequest: Bool
    }

    let capacity: Int
    private var entries: [Entry] = []
    private var nextID: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { entries.count }

    mutating func admit(_ connection: Connection) -> Admission {
        var evicted: Connection?
        if entries.count >= capacity {
            guard let oldest = entries.firstIndex(where: { $0.awaitingRequest }) else { return .refused }
            evicted = entries.remove(at: oldest).connection
        }
        nextID += 1
        entries.append(Entry(id: nextID, connection: connection, awaitingRequest: true))
        return .admitted(id: nextID, evicted: evicted)
    }

    mutating func markRequestReceived(_ id: UInt64) {
        if let i = entries.firstIndex(where: { $0.id == id }) { entries[i].awaitingRequest = false }
    }

    mutating func remove(_ id: UInt64) {
        entries.removeAll { $0.id == id }
    }
}
