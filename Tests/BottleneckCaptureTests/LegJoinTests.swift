import Testing
@testable import BottleneckCapture

private func ex(_ server: UInt16, _ clientPort: UInt16, _ t1: UInt64, _ t4: UInt64, id: String?, t2: UInt64? = nil, t3: UInt64? = nil) -> HTTPExchange {
    let a = IPAddress(ipv4: 0x7F00_0001)
    var e = HTTPExchange(connection: ConnectionKey(client: Endpoint(address: a, port: clientPort), server: Endpoint(address: a, port: server)), ordinal: 0)
    e.t1 = t1; e.t2 = t2 ?? t1; e.t3 = t3 ?? t4; e.t4 = t4; e.requestID = id; e.status = 200
    return e
}

@Test func legsJoinByRequestIDThenByOrder() {
    let front = [ex(80, 50000, 100, 900, id: "a", t2: 110, t3: 800), ex(80, 50001, 1000, 2000, id: nil), ex(80, 50000, 3000, 4000, id: "c")]
    let back = [ex(8000, 40000, 3100, 3900, id: "c"), ex(8000, 40000, 1100, 1900, id: nil), ex(8000, 40001, 200, 700, id: "a", t2: 210, t3: 650)]
    let joined = CaptureLegJoin.join(front: front, back: back)
    #expect(joined.map(\.match) == [.requestID, .order, .requestID])
    #expect(joined[0].back?.t1 == 200)
    #expect(joined[1].back?.t1 == 1100)
    #expect(joined[2].back?.t1 == 3100)
    // front server time 690, back server time 440.
    #expect(joined[0].proxyTime == 250)
}

@Test func unmatchedFrontHasNoBack() {
    let joined = CaptureLegJoin.join(front: [ex(80, 1, 100, 200, id: "x")], back: [ex(8000, 2, 300, 400, id: "y")])
    #expect(joined[0].match == .none && joined[0].back == nil)
}

@Test func legJoinSummaryTimesEveryCompletePairAndCountsTheRest() throws {
    var incompleteBack = ex(8000, 40002, 6010, 6090, id: "e")
    incompleteBack.flags.insert(.reset)
    let front = [
        ex(80, 50000, 100, 900, id: "a", t2: 110, t3: 800),        // server 690
        ex(80, 50001, 1000, 2000, id: nil),                        // server 1000
        ex(80, 50000, 3000, 4000, id: "c"),                        // server 1000
        ex(80, 50002, 5000, 5200, id: "d", t2: 5000, t3: 5100),    // server 100
        ex(80, 50003, 6000, 6100, id: "e"),
    ]
    let back = [
        ex(8000, 40001, 200, 700, id: "a", t2: 210, t3: 650),      // server 440 → proxy 250
        ex(8001, 40000, 1100, 1900, id: nil),                      // server 800 → proxy 200 (by order)
        ex(8000, 40000, 3100, 3900, id: "c"),                      // server 800 → proxy 200
        ex(8000, 40002, 5010, 5400, id: "d", t2: 5010, t3: 5310),  // server 300 > front's 100
        incompleteBack,
    ]
    let join = try #require(LegJoinSummary(exchanges: front + back, frontPort: 80))
    #expect(join.backPorts == [8000, 8001])
    #expect(join.frontExchanges == 5)
    #expect(join.joined == 5 && join.joinedByRequestID == 4 && join.joinedByOrder == 1)
    #expect(join.excluded == 1)
    #expect(join.backLongerThanFront == 1)
    let proxy = try #require(join.proxyTime)
    #expect(proxy.count == 3 && proxy.min == 200 && proxy.p50 == 200 && proxy.p99 == 250 && proxy.max == 250)
    #expect(abs(proxy.mean - 650.0 / 3) < 1e-9)
    #expect(CaptureAttachment.note(join).contains("1 joined with a back leg longer than the front"))
}

@Test func legJoinSummaryNeedsBothLegs() {
    let frontOnly = [ex(80, 50000, 100, 900, id: "a"), ex(80, 50001, 1000, 2000, id: "b")]
    #expect(LegJoinSummary(exchanges: frontOnly, frontPort: 80) == nil)
    #expect(LegJoinSummary(exchanges: frontOnly, frontPort: 8000) == nil)
}
