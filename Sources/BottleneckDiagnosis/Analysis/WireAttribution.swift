import Foundation
import BottleneckCore
import BottleneckRun

/// What the packet capture says each request's time was spent on, per step: the segments
/// the load generator cannot see from its own clock.
///
/// For a request whose exchange was captured on the front leg (client → proxy, the target's
/// port) — and, when the proxy's back leg (proxy → service) was captured too, joined to it by
/// X-Request-Id:
/// - generator overhead = service time the generator measured − (t4 − t1) on the front leg;
/// - network = (t4 − t1) − (t3 − t2) on the front leg: moving the request and response bytes;
/// - proxy = (t3 − t2) front − (t3 − t2) back: what the proxy and its link to the service add;
/// - service = (t3 − t2) on the back leg (or on the front leg without a proxy capture).
/// The four add up to the measured service time of each covered request.
public struct WireAttribution: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        /// Successful requests with a complete front-leg exchange, and how many of those had a back leg.
        public var requests = 0
        public var withBackLeg = 0
        public var generatorOverheadMs = 0.0
        public var networkMs = 0.0
        public var proxyMs = 0.0
        public var serviceMs = 0.0
    }

    /// Per step index: the means over the covered requests.
    public var steps: [Int: Step]

    /// Front and back exchanges from `capture-exchanges.jsonl`: every front-leg exchange by
    /// client port in the order they began, the ones whose X-Request-Id was captured also by id.
    struct Exchanges {
        typealias Timings = (t1: UInt64, t2: UInt64, t3: UInt64, t4: UInt64)
        struct Entry {
            /// First request byte (or first response byte), capture clock (ns since the epoch).
            var start: UInt64
            /// Nil when the exchange is incomplete (missing or reordered segments, a reset…): not trusted.
            var timings: Timings?
            var requestID: String?
        }
        var byPort: [UInt16: [Entry]] = [:]
        var front: [String: (port: UInt16, index: Int)] = [:]
        var back: [String: UInt64] = [:]
    }

    private struct Line: Decodable {
        var serverPort: UInt16
        var clientPort: UInt16?
        var t1: UInt64?, t2: UInt64?, t3: UInt64?, t4: UInt64?
        var requestID: String?
        var complete: Bool?
    }

    /// Reads the run directory's capture; nil when there is none or it has no front leg.
    public static func load(record: RunRecord, frontPort: UInt16) -> WireAttribution? {
        guard let data = record.data(.captureExchanges) else { return nil }
        var exchanges = Exchanges()
        let decoder = JSONDecoder()
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let e = try? decoder.decode(Line.self, from: Data(line)) else { continue }
            var timings: Exchanges.Timings?
            if e.complete ?? true, let t1 = e.t1, let t2 = e.t2, let t3 = e.t3, let t4 = e.t4, t1 <= t2, t2 <= t3, t3 <= t4 {
                timings = (t1, t2, t3, t4)
            }
            if e.serverPort == frontPort {
                guard let port = e.clientPort, let start = e.t1 ?? e.t3 else { continue }
                exchanges.byPort[port, default: []].append(Exchanges.Entry(start: start, timings: timings, requestID: e.requestID))
            } else if let id = e.requestID, let timings, exchanges.back[id] == nil {
                exchanges.back[id] = timings.t3 - timings.t2
            }
        }
        for (port, entries) in exchanges.byPort {
            let sorted = entries.sorted { $0.start < $1.start }
            exchanges.byPort[port] = sorted
            for (index, entry) in sorted.enumerated() {
                if let id = entry.requestID, exchanges.front[id] == nil { exchanges.front[id] = (port, index) }
            }
        }
        guard !exchanges.byPort.isEmpty,
              let csv = record.data(.requests) else { return nil }
        let run = record.description
        let offset = run.map { Int64(bitPattern: $0.wallStartNs &- $0.monotonicStartNs) }
        return attribute(requestsCSV: csv, exchanges: exchanges, wallMinusMonotonicNs: offset)
    }

    /// One row of `requests.csv`, as the join needs it.
    private struct Record {
        var step: Int
        var ok: Bool
        var serviceMs: Double?
        var requestID: String
        var localPort: UInt16?
        var sentNs: UInt64
    }

    /// A request without its id in the capture takes the unused exchange from its local port whose
    /// first byte is nearest its send time, within this much (capture and generator clocks agree
    /// to microseconds; requests on one keep-alive connection are a service time apart).
    static let sendTimeTolerance: UInt64 = 20_000_000

    /// Joins each successful request to its front-leg exchange: by X-Request-Id, else — when
    /// `run.json` gives the clocks' offset — by local port and send time (exchanges of the warm-up,
    /// which `requests.csv` does not record, and of failed requests are passed over; each exchange
    /// is used once).
    static func attribute(requestsCSV: Data, exchanges: Exchanges, wallMinusMonotonicNs: Int64?) -> WireAttribution {
        var records: [Record] = []
        var columns: [String: Int] = [:]
        for (number, line) in requestsCSV.split(separator: 0x0A).enumerated() {
            let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if number == 0 {
                for (index, name) in fields.enumerated() { columns[name] = index }
                continue
            }
            func field(_ name: String) -> String? { columns[name].flatMap { $0 < fields.count ? fields[$0] : nil } }
            guard let step = field("step").flatMap({ Int($0) }), step >= 0 else { continue }
            records.append(Record(step: step, ok: field("error")?.isEmpty ?? true, serviceMs: field("service_us").flatMap { Double($0) }.map { $0 / 1000 },
                                  requestID: field("request_id") ?? "", localPort: field("local_port").flatMap { UInt16($0) }.flatMap { $0 == 0 ? nil : $0 },
                                  sentNs: field("sent_ns").flatMap { UInt64($0) } ?? 0))
        }
        var used: [UInt16: Set<Int>] = [:]
        var matched = [Exchanges.Timings?](repeating: nil, count: records.count)
        var unmatched: [Int] = []
        for (i, record) in records.enumerated() where record.ok {
            if let (port, index) = exchanges.front[record.requestID] {
                used[port, default: []].insert(index)
                matched[i] = exchanges.byPort[port]?[index].timings
            } else {
                unmatched.append(i)
            }
        }
        if let offset = wallMinusMonotonicNs {
            for i in unmatched {
                guard let port = records[i].localPort, let entries = exchanges.byPort[port] else { continue }
                let sent = UInt64(clamping: Int64(clamping: records[i].sentNs) &+ offset)
                // Binary search for the first exchange at or after the send, then outward within the tolerance.
                var low = 0, high = entries.count
                while low < high {
                    let mid = (low + high) / 2
                    if entries[mid].start < sent { low = mid + 1 } else { high = mid }
                }
                var best: (distance: UInt64, index: Int)?
                func consider(_ index: Int) -> Bool {
                    let start = entries[index].start
                    let distance = start > sent ? start - sent : sent - start
                    guard distance <= Self.sendTimeTolerance else { return false }
                    if !(used[port]?.contains(index) ?? false), distance < (best?.distance ?? .max) { best = (distance, index) }
                    return true
                }
                var after = low
                while after < entries.count, consider(after) { after += 1 }
                var before = low - 1
                while before >= 0, consider(before) { before -= 1 }
                if let best {
                    used[port, default: []].insert(best.index)
                    matched[i] = entries[best.index].timings
                }
            }
        }

        var sums: [Int: Step] = [:]
        for (i, record) in records.enumerated() {
            guard record.ok, let serviceMs = record.serviceMs, let front = matched[i] else { continue }
            let id = record.requestID
            let step = record.step
            let wireMs = Double(front.t4 - front.t1) / 1e6
            let frontServerMs = Double(front.t3 - front.t2) / 1e6
            let backServerMs = exchanges.back[id].map { min(Double($0) / 1e6, frontServerMs) }
            var entry = sums[step] ?? Step()
            entry.requests += 1
            entry.generatorOverheadMs += serviceMs - wireMs
            entry.networkMs += wireMs - frontServerMs
            if let backServerMs {
                entry.withBackLeg += 1
                entry.proxyMs += frontServerMs - backServerMs
                entry.serviceMs += backServerMs
            } else {
                entry.serviceMs += frontServerMs
            }
            sums[step] = entry
        }
        var means: [Int: Step] = [:]
        for (step, sum) in sums where sum.requests > 0 {
            let n = Double(sum.requests)
            means[step] = Step(requests: sum.requests, withBackLeg: sum.withBackLeg, generatorOverheadMs: sum.generatorOverheadMs / n,
                               networkMs: sum.networkMs / n, proxyMs: sum.proxyMs / n, serviceMs: sum.serviceMs / n)
        }
        return WireAttribution(steps: means)
    }
}
