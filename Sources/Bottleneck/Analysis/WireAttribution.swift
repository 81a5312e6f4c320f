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

    /// Front and back exchanges per X-Request-Id, from `capture-exchanges.jsonl`.
    struct Exchanges {
        var front: [String: (t1: UInt64, t2: UInt64, t3: UInt64, t4: UInt64)] = [:]
        var back: [String: UInt64] = [:]
    }

    private struct Line: Decodable {
        var serverPort: UInt16
        var t1: UInt64?, t2: UInt64?, t3: UInt64?, t4: UInt64?
        var requestID: String?
    }

    /// Reads the run directory's capture; nil when there is none or it has no front leg.
    public static func load(directory: String, frontPort: UInt16) -> WireAttribution? {
        guard let data = FileManager.default.contents(atPath: directory + "/capture-exchanges.jsonl") else { return nil }
        var exchanges = Exchanges()
        let decoder = JSONDecoder()
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let e = try? decoder.decode(Line.self, from: Data(line)), let id = e.requestID,
                  let t1 = e.t1, let t2 = e.t2, let t3 = e.t3, let t4 = e.t4, t1 <= t2, t2 <= t3, t3 <= t4 else { continue }
            if e.serverPort == frontPort {
                if exchanges.front[id] == nil { exchanges.front[id] = (t1, t2, t3, t4) }
            } else if exchanges.back[id] == nil {
                exchanges.back[id] = t3 - t2
            }
        }
        guard !exchanges.front.isEmpty,
              let csv = FileManager.default.contents(atPath: directory + "/requests.csv") else { return nil }
        return attribute(requestsCSV: csv, exchanges: exchanges)
    }

    static func attribute(requestsCSV: Data, exchanges: Exchanges) -> WireAttribution {
        var sums: [Int: Step] = [:]
        var columns: [String: Int] = [:]
        for (number, line) in requestsCSV.split(separator: 0x0A).enumerated() {
            let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if number == 0 {
                for (index, name) in fields.enumerated() { columns[name] = index }
                continue
            }
            func field(_ name: String) -> String? { columns[name].flatMap { $0 < fields.count ? fields[$0] : nil } }
            guard let step = field("step").flatMap({ Int($0) }), step >= 0, field("error")?.isEmpty ?? true,
                  let serviceUs = field("service_us").flatMap({ Double($0) }), let id = field("request_id"),
                  let front = exchanges.front[id] else { continue }
            let serviceMs = serviceUs / 1000
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
