/// How a front-leg exchange was paired with a back-leg one.
public enum LegMatch: String, Sendable, Codable {
    /// Same X-Request-Id on both legs (nginx passes it through).
    case requestID
    /// No usable id: the back exchange is the earliest unpaired one whose times lie inside
    /// the front exchange's (t1 ≤ back.t1, back.t4 ≤ t4), in order.
    case order
    /// No back-leg exchange found.
    case none
}

/// A request seen on both legs: client → proxy (front) and proxy → service (back).
public struct JoinedExchange: Sendable, Codable, Equatable {
    public var front: HTTPExchange
    public var back: HTTPExchange?
    public var match: LegMatch

    /// Front server time − back server time: what the proxy and the proxy↔service network added.
    public var proxyTime: UInt64? {
        guard let f = front.serverTime, let b = back?.serverTime, f >= b else { return nil }
        return f - b
    }
}

/// Joins captured legs to each other and to the load generator's records.
public enum CaptureLegJoin: Sendable {
    /// Pairs each front exchange with a back exchange: by X-Request-Id first, then by order
    /// (time containment) among the ones left.
    public static func join(front: [HTTPExchange], back: [HTTPExchange]) -> [JoinedExchange] {
        var byID: [String: [Int]] = [:]
        for (i, b) in back.enumerated() { if let id = b.requestID { byID[id, default: []].append(i) } }
        var used = [Bool](repeating: false, count: back.count)
        var result = front.map { JoinedExchange(front: $0, back: nil, match: .none) }
        for (k, f) in front.enumerated() {
            guard let id = f.requestID, var list = byID[id], let first = list.first else { continue }
            list.removeFirst()
            byID[id] = list
            used[first] = true
            result[k].back = back[first]
            result[k].match = .requestID
        }
        // Order fallback among the unmatched, both sorted by first byte.
        let freeBack = back.indices.filter { !used[$0] && back[$0].t1 != nil }.sorted { back[$0].t1! < back[$1].t1! }
        let freeFront = result.indices.filter { result[$0].back == nil && result[$0].front.t1 != nil }
            .sorted { result[$0].front.t1! < result[$1].front.t1! }
        var taken = [Bool](repeating: false, count: freeBack.count)
        var start = 0
        for k in freeFront {
            let f = result[k].front
            guard let ft1 = f.t1 else { continue }
            let ft4 = f.t4 ?? UInt64.max
            while start < freeBack.count, taken[start] { start += 1 }
            var j = start
            while j < freeBack.count {
                let b = back[freeBack[j]]
                if b.t1! > ft4 { break }
                if !taken[j], b.t1! >= ft1, (b.t4 ?? b.t1!) <= ft4 {
                    taken[j] = true
                    result[k].back = b
                    result[k].match = .order
                    break
                }
                j += 1
            }
        }
        return result
    }
}
