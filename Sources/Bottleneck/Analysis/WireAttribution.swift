import Foundation

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

    /// Front and back exchanges from `capture-exchanges.jsonl`: by X-Request-Id, and the front
    /// leg's also by client port in the order they began, for requests whose id the capture lost.
    struct Exchanges {
        typealias Timings = (t1: UInt64, t2: UInt64, t3: UInt64, t4: UInt64)
        var front: [String: Timings] = [:]
        var back: [String: UInt64] = [:]
        /// Every front exchange from a client port, by first byte; nil where it did not complete.
        var frontByPort: [UInt16: [Timings?]] = [:]
    }

    private struct Line: Decodable {
        var serverPort: UInt16
        var clientPort: UInt16?
        var t1: UInt64?, t2: UInt64?, t3: UInt64?, t4: UInt64?
        var requestID: String?
    }

    /// Reads the run directory's capture; nil when there is none or it has no front leg.
    public static func load(directory: String, frontPort: UInt16) -> WireAttribution? {
        guard let data = FileManager.default.contents(atPath: directory + "/capture-exchanges.jsonl") else { return nil }
        var exchanges = Exchanges()
        var portOrder: [UInt16: [(start: UInt64, timings: Exchanges.Timings?)]] = [:]
        let decoder = JSONDecoder()
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let e = try? decoder.decode(Line.self, from: Data(line)) else { continue }
            var timings: Exchanges.Timings?
            if let t1 = e.t1, let t2 = e.t2, let t3 = e.t3, let t4 = e.t4, t1 <= t2, t2 <= t3, t3 <= t4 { timings = (t1, t2, t3, t4) }
            if e.serverPort == frontPort {
                if let port = e.clientPort, let start = e.t1 ?? e.t3 { portOrder[port, default: []].append((start, timings)) }
                if let id = e.requestID, let timings, exchanges.front[id] == nil { exchanges.front[id] = timings }
            } else if let id = e.requestID, let timings, exchanges.back[id] == nil {
                exchanges.back[id] = timings.t3 - timings.t2
            }
        }
        exchanges.frontByPort = portOrder.mapValues { $0.sorted { $0.start < $1.start }.map(\.timings) }
        guard !portOrder.isEmpty,
              let csv = FileManager.default.contents(atPath: directory + "/requests.csv") else { return nil }
        return attribute(requestsCSV: csv, exchanges: exchanges)
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

    /// Joins each successful request to its front-leg exchange: by X-Request-Id, else by its
    /// position among the requests sent from its local port (by send time) against the exchanges
    /// from that port (by first byte) — the fallback for captures that lost the header.
    static func attribute(requestsCSV: Data, exchanges: Exchanges) -> WireAttribution {
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
        // Every request sent from a port counts for the order, failed ones too: their exchanges were captured as well.
        var ordinal = [Int?](repeating: nil, count: records.count)
        var byPort: [UInt16: [Int]] = [:]
        for (i, r) in records.enumerated() { if let port = r.localPort { byPort[port, default: []].append(i) } }
        for (_, list) in byPort {
            for (position, i) in list.sorted(by: { (records[$0].sentNs, $0) < (records[$1].sentNs, $1) }).enumerated() { ordinal[i] = position }
        }

        var sums: [Int: Step] = [:]
        for (i, record) in records.enumerated() {
            guard record.ok, let serviceMs = record.serviceMs else { continue }
            let byOrder = record.localPort.flatMap { port in
                ordinal[i].flatMap { n in exchanges.frontByPort[port].flatMap { n < $0.count ? $0[n] : nil } }
            }
            guard let front = exchanges.front[record.requestID] ?? byOrder else { continue }
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
