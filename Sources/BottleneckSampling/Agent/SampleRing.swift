import Synchronization

/// The agent's bounded window of sample lines, each numbered with a sequence number that
/// never repeats within one agent process (`epoch`).
///
/// A run pulls lines after the last number it has; when it asks for lines already
/// evicted (it was disconnected longer than the window holds), it is told the exact
/// range it lost instead of being handed anything made up.
public final class SampleRing: Sendable {
    /// One pull: the lines after the asked-for number, and what was lost before them.
    public struct Batch: Sendable, Equatable {
        /// Sequence number of the first line in `lines` (meaningless when `lines` is empty).
        public var firstSequence: UInt64
        /// Each line a JSON object ending in `"seq":N}` without the newline.
        public var lines: [[UInt8]]
        /// Lines that were asked for but already evicted: `from...to`, inclusive.
        public var gap: ClosedRange<UInt64>?
        /// The newest sequence number the agent has produced.
        public var latestSequence: UInt64
    }

    private struct Storage {
        var lines: [[UInt8]] = []
        var head = 0                 // index of the oldest live line in `lines`
        var oldestSequence: UInt64 = 1
        var nextSequence: UInt64 = 1
        var bytes = 0
        var headerLine: [UInt8]?
    }

    private let storage = Mutex(Storage())
    /// Bound on the bytes of lines kept; the oldest are evicted first.
    public let capacityBytes: Int
    /// Bound on the number of lines kept.
    public let capacityLines: Int

    public init(capacityBytes: Int = 64 << 20, capacityLines: Int = 1_000_000) {
        precondition(capacityBytes > 0 && capacityLines > 0)
        self.capacityBytes = capacityBytes
        self.capacityLines = capacityLines
    }

    /// Appends one sample line (a JSON object, no newline), stamping it with its sequence
    /// number as a last `seq` field. Returns the number given.
    @discardableResult
    public func append(line: some Collection<UInt8>) -> UInt64 {
        var stamped = Array(line)
        while let last = stamped.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { stamped.removeLast() }
        return storage.withLock { s -> UInt64 in
            let sequence = s.nextSequence
            if stamped.last == UInt8(ascii: "}") {
                stamped.removeLast()
                if stamped.last != UInt8(ascii: "{") { stamped.append(UInt8(ascii: ",")) }
                stamped.append(contentsOf: "\"seq\":\(sequence)}".utf8)
            }
            if stamped.starts(with: "{\"type\":\"header\"".utf8) { s.headerLine = stamped }
            s.nextSequence += 1
            s.bytes += stamped.count
            s.lines.append(stamped)
            while s.lines.count - s.head > capacityLines || (s.bytes > capacityBytes && s.lines.count - s.head > 1) {
                s.bytes -= s.lines[s.head].count
                s.lines[s.head] = []
                s.head += 1
                s.oldestSequence += 1
            }
            if s.head > 4096 && s.head * 2 > s.lines.count {
                s.lines.removeFirst(s.head)
                s.head = 0
            }
            return sequence
        }
    }

    /// The lines after `after`, at most `limit` of them.
    public func lines(after: UInt64, limit: Int = 5000) -> Batch {
        storage.withLock { s -> Batch in
            let latest = s.nextSequence - 1
            var from = after + 1
            var gap: ClosedRange<UInt64>?
            if from < s.oldestSequence {
                gap = from...(s.oldestSequence - 1)
                from = s.oldestSequence
            }
            guard from <= latest else { return Batch(firstSequence: from, lines: [], gap: gap, latestSequence: latest) }
            let start = s.head + Int(from - s.oldestSequence)
            let end = min(s.lines.count, start + max(1, limit))
            return Batch(firstSequence: from, lines: Array(s.lines[start..<end]), gap: gap, latestSequence: latest)
        }
    }

    /// The newest sequence number produced (0 before the first line).
    public var latestSequence: UInt64 { storage.withLock { $0.nextSequence - 1 } }

    /// The newest lines, newest last, going back at most `count` lines; plus the last
    /// header seen (for `clk_tck`), for rendering `/metrics`.
    func recent(count: Int) -> (lines: [[UInt8]], header: [UInt8]?) {
        storage.withLock { s in
            let start = max(s.head, s.lines.count - count)
            return (Array(s.lines[start...]), s.headerLine)
        }
    }
}
