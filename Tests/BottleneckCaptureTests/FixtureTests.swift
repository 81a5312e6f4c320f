import Foundation
import Testing
@testable import BottleneckCapture

/// Expected values of one exchange, read from the fixture (cross-checked with `tcpdump -tt --nano`).
struct X: Sendable {
    var t1: UInt64?, t2: UInt64?, t3: UInt64?, t4: UInt64?
    var status: Int?
    var requestBytes: UInt64, responseBytes: UInt64
    var requestID: String?
    var complete: Bool
    init(_ t1: UInt64?, _ t2: UInt64?, _ t3: UInt64?, _ t4: UInt64?, _ status: Int?, _ rq: UInt64, _ rs: UInt64, _ id: String?, _ complete: Bool) {
        (self.t1, self.t2, self.t3, self.t4, self.status, requestBytes, responseBytes, requestID, self.complete) = (t1, t2, t3, t4, status, rq, rs, id, complete)
    }
}

func fixture(_ name: String) -> String {
    Bundle.module.path(forResource: name, ofType: "pcap", inDirectory: "Fixtures")!
}

let expected: [String: [X]] = [
    // nginx, keep-alive: GET, POST with a 3000-byte body, GET of an 80 kB file (4 segments), GET.
    "keepalive": [
        X(1795922453263143260, 1795922453263143260, 1795922453263303070, 1795922453263303070, 200, 61, 269, "req-1", true),
        X(1795922453283603581, 1795922453283603581, 1795922453283733545, 1795922453283733545, 200, 3083, 154, "req-2", true),
        X(1795922453304245491, 1795922453304245491, 1795922453304424277, 1795922453304509806, 200, 59, 80243, "req-3", true),
        X(1795922453325537655, 1795922453325537655, 1795922453325664093, 1795922453325664093, 200, 61, 269, "req-4", true),
    ],
    // The same traffic captured with -s 400: bodies cut, sizes and t4 from sequence numbers.
    "keepalive-headers": [
        X(1795922455899212829, 1795922455899212829, 1795922455899354293, 1795922455899354293, 200, 61, 269, "req-1", true),
        X(1795922455923030656, 1795922455923030656, 1795922455923160598, 1795922455923160598, 200, 3083, 154, "req-2", true),
        X(1795922455943352980, 1795922455943352980, 1795922455943518539, 1795922455943570255, 200, 59, 80243, "req-3", true),
        X(1795922455963856512, 1795922455963856512, 1795922455964005359, 1795922455964005359, 200, 61, 269, "req-4", true),
    ],
    // Three GETs in one segment, answered in order, then a Connection: close request.
    "pipelined": [
        X(1795922458391032293, 1795922458391032293, 1795922458391117782, 1795922458391117782, 200, 54, 269, "pipe-1", true),
        X(1795922458391032293, 1795922458391032293, 1795922458391145003, 1795922458391145003, 200, 54, 269, "pipe-2", true),
        X(1795922458391032293, 1795922458391032293, 1795922458391164921, 1795922458391164921, 200, 54, 269, "pipe-3", true),
        X(1795922458691385486, 1795922458691385486, 1795922458691481635, 1795922458691481635, 200, 76, 264, "pipe-last", true),
    ],
    // Chunked responses, headers and each chunk in its own segment, 10 ms apart.
    "chunked": [
        X(1795922466439125488, 1795922466439125488, 1795922466439263736, 1795922466487962022, 200, 57, 1878, "req-1", true),
        X(1795922466508312989, 1795922466508312989, 1795922466508524053, 1795922466553649182, 200, 57, 1878, "req-2", true),
    ],
    // Server answers once, then resets (SO_LINGER 0) on the second request.
    "reset": [
        X(1795922472278283528, 1795922472278283528, 1795922472278377484, 1795922472278377484, 200, 57, 62, "req-1", true),
        X(1795922472298644725, 1795922472298644725, nil, nil, nil, 57, 0, "req-2", false),
    ],
    // First request dropped after the capture tap (nft): TCP retransmits it ~204 ms later.
    "retransmission": [
        X(1795922474611112914, 1795922474611112914, 1795922474815144650, 1795922474815144650, 200, 61, 269, "req-1", true),
        X(1795922474835473346, 1795922474835473346, 1795922474835619789, 1795922474835619789, 200, 61, 269, "req-2", true),
    ],
    "ipv6": [
        X(1795922461191148960, 1795922461191148960, 1795922461191300954, 1795922461191300954, 200, 57, 269, "req-1", true),
        X(1795922461211641732, 1795922461211641732, 1795922461211785941, 1795922461211785941, 200, 57, 269, "req-2", true),
    ],
    // Every request and response written in pieces, one TCP segment per piece (TCP_NODELAY, 5 ms
    // apart; fixture_servers.py SPLIT_EXCHANGES), cut inside a header name and value, between the
    // CR and LF of the blank line, in a chunk-size line and in chunk data. t1/t2 are the first and
    // last request segments, t3/t4 the first and last response segments (tcpdump -tt --nano).
    "split-segments": [
        X(1795932257446972345, 1795932257477795464, 1795932257477886384, 1795932257504223021, 200, 385, 2118, "split-1", true),
        X(1795932257524483249, 1795932257552239976, 1795932257552340173, 1795932257571025923, 200, 211, 1082, "split-2", true),
        X(1795932257595049757, 1795932257600212411, 1795932257600338587, 1795932257605468580, 204, 69, 50, "split-3", true),
    ],
    // tcpdump -i any -y LINUX_SLL: Linux cooked v1 framing.
    "any-sll": [
        X(1795933365405435997, 1795933365405435997, 1795933365405596787, 1795933365405596787, 200, 61, 269, "req-1", true),
        X(1795933365425944668, 1795933365425944668, 1795933365426076015, 1795933365426076015, 200, 61, 269, "req-2", true),
    ],
    // curl against a server that sends no Content-Length and closes: t4 is the last data byte
    // (tshark's http.time runs to the FIN, 68 µs later, as it waits for the close to reassemble).
    "close-delimited": [
        X(1795933369929556423, 1795933369929556423, 1795933369930021140, 1795933369935736856, 200, 107, 1087, "close-1", true),
    ],
    // A 200 kB response to a reader that stalls 300 ms with a 4 kB buffer (-s 200): the body is
    // followed by sequence numbers through two zero windows.
    "zero-window": [
        X(1795933372550271358, 1795933372550271358, 1795933372550815733, 1795933372904782889, 200, 51, 200_063, "zw-1", true),
    ],
    // A POST body in five pieces; the first is dropped behind the capture tap, so the server
    // sends three duplicate ACKs and gets it by fast retransmission. t2 is the last piece.
    "dup-acks": [
        X(1795933435038730810, 1795933435142904870, 1795933435143114882, 1795933435143114882, 200, 1591, 65, "pieces-1", true),
    ],
    // tcpdump -i any: Linux cooked v2 framing.
    "any-sll2": [
        X(1795922463474660360, 1795922463474660360, 1795922463474735701, 1795922463474735701, 200, 61, 269, "req-1", true),
        X(1795922463495071920, 1795922463495071920, 1795922463495204598, 1795922463495204598, 200, 61, 269, "req-2", true),
    ],
]

/// Fixtures made from another by editcap (`-C 14 -T rawip4|rawip6`: the Ethernet header cut off),
/// so they hold the same packets and must give the same exchanges.
let derivedFrom = ["raw-ipv4": "pipelined", "raw-ipv6": "ipv6"]

@Test(arguments: ["keepalive", "keepalive-headers", "pipelined", "chunked", "reset", "retransmission", "ipv6", "any-sll2", "any-sll",
                  "raw-ipv4", "raw-ipv6", "split-segments", "close-delimited", "zero-window", "dup-acks"])
func exchangeTimingsMatchFixture(name: String) throws {
    let analysis = try analyzeFile(path: fixture(name))
    let want = expected[derivedFrom[name] ?? name]!
    #expect(analysis.exchanges.count == want.count)
    for (got, w) in zip(analysis.exchanges, want) {
        #expect(got.t1 == w.t1, "\(name) t1 of \(w.requestID ?? "?")")
        #expect(got.t2 == w.t2, "\(name) t2 of \(w.requestID ?? "?")")
        #expect(got.t3 == w.t3, "\(name) t3 of \(w.requestID ?? "?")")
        #expect(got.t4 == w.t4, "\(name) t4 of \(w.requestID ?? "?")")
        #expect(got.status == w.status)
        #expect(got.requestBytes == w.requestBytes)
        #expect(got.responseBytes == w.responseBytes)
        #expect(got.requestID == w.requestID)
        #expect(got.complete == w.complete)
    }
    #expect(analysis.packets.malformed == 0)
}

@Test func keepAliveDetails() throws {
    let a = try analyzeFile(path: fixture("keepalive"))
    #expect(a.connections.count == 1)
    let c = try #require(a.connections.first)
    #expect(c.connection.server.port == 28480)
    #expect(c.handshakeRTT == 29254)   // SYN 1795922453.247825407 → ACK 1795922453.247854661
    #expect(c.clientToServer.retransmissions == 0 && c.serverToClient.retransmissions == 0)
    #expect(c.clientToServer.fins == 1 && c.serverToClient.fins == 1)
    #expect(a.exchanges.map(\.ordinal) == [0, 1, 2, 3])
    #expect(a.exchanges.map(\.method) == ["GET", "POST", "GET", "GET"])
    #expect(a.exchanges[0].serverTiming == "app;dur=0.1")
    #expect(a.exchanges[1].requestBodyBytes == 3000)
    #expect(a.exchanges[2].responseBodyBytes == 80000)
    #expect(a.exchanges.allSatisfy { $0.handshakeRTT == 29254 && $0.clientPort == 58986 })
}

@Test func messagesSplitAcrossSegmentsKeepTheirBoundariesAndHeaders() throws {
    let a = try analyzeFile(path: fixture("split-segments"))
    #expect(a.connections.count == 1)
    #expect(a.exchanges.map(\.method) == ["POST", "POST", "GET"])
    // X-Request-Id cut inside its name (request) and inside its value (response) still reads whole.
    #expect(a.exchanges[0].serverTiming == "app;dur=5.0")
    // Content-Length body; chunked request and response bodies count their framing.
    #expect(a.exchanges.map(\.requestBodyBytes) == [300, 111, 0])
    #expect(a.exchanges.map(\.responseBodyBytes) == [2000, 1012, 0])
    #expect(a.exchanges.map(\.chunked) == [false, true, false])
    #expect(a.exchanges.allSatisfy { $0.flags.isEmpty })
    // tshark 4.0.17 (`-Y http -e http.time`, TCP reassembly on) reports 0.026427557 s for
    // split-1 and 0.005256169 s for split-3; it does not link the chunked request of split-2.
    #expect(a.exchanges[0].requestToResponseEnd == 26_427_557)
    #expect(a.exchanges[2].requestToResponseEnd == 5_256_169)
}

@Test func headersOnlyCaptureTracksBodiesBySequenceNumbers() throws {
    let a = try analyzeFile(path: fixture("keepalive-headers"))
    #expect(a.packets.truncatedBySnapLength > 0)
    #expect(a.exchanges[2].responseBodyBytes == 80000)
    #expect(a.exchanges.allSatisfy { $0.complete })
}

@Test func chunkedDetails() throws {
    let a = try analyzeFile(path: fixture("chunked"))
    #expect(a.exchanges.allSatisfy { $0.chunked && $0.responseBodyBytes == 1734 })
    #expect(a.exchanges[0].serverTiming == "preprocess;dur=1.5, model;dur=3.2")
}

@Test func chunkedBodyCutBySnapLengthIsIncomplete() throws {
    // -s 150 cuts the response headers and the whole chunked body in one segment: the end of
    // the response is unknowable, so t4 stays unknown and the exchange is incomplete.
    let a = try analyzeFile(path: fixture("chunked-snap"))
    let e = try #require(a.exchanges.first)
    #expect(e.t1 == 1795922469491590400 && e.t3 == 1795922469491692500)
    #expect(e.t4 == nil)
    #expect(!e.complete)
    #expect(e.flags.contains(.truncatedHeaders))
}

@Test func resetIsCountedAndMarksTheExchange() throws {
    let a = try analyzeFile(path: fixture("reset"))
    #expect(a.exchanges[1].flags.contains(.reset))
    #expect(a.connections[0].serverToClient.resets == 1)
    #expect(a.legs[0].resets == 1)
}

@Test func retransmissionIsCountedAndFlagged() throws {
    let a = try analyzeFile(path: fixture("retransmission"))
    #expect(a.connections[0].clientToServer.retransmissions == 1)
    #expect(a.exchanges[0].flags == [.retransmission])
    // The 204 ms retransmission stall shows up as server time seen from the capture point.
    #expect(a.exchanges[0].serverTime == 204_031_736)
    let leg = try #require(a.legs.first)
    #expect(leg.retransmissions == 1)
    #expect(leg.retransmitRatio > 0)
}

@Test func ipv6AndSLL2() throws {
    let v6 = try analyzeFile(path: fixture("ipv6"))
    #expect(v6.exchanges[0].connection.server.address.description == "::1")
    #expect(!v6.exchanges[0].connection.server.address.isIPv4)
    let source = try PacketSource.file(path: fixture("any-sll2"))
    #expect(source.linkType == .linuxSLL2)
    #expect(try PacketSource.file(path: fixture("keepalive")).linkType == .ethernet)
}

@Test(arguments: [("any-sll", LinkType.linuxSLL), ("raw-ipv4", .ipv4), ("raw-ipv6", .ipv6), ("any-sll2", .linuxSLL2), ("keepalive", .ethernet)])
func fixtureHasTheLinkTypeItWasRecordedWith(name: String, linkType: LinkType) throws {
    #expect(try PacketSource.file(path: fixture(name)).linkType == linkType)
}

@Test func duplicateAcksAndFastRetransmissionAreCounted() throws {
    // tshark 4.0.17 on the same file: tcp.analysis.duplicate_ack in 3 frames (#1..#3), one
    // tcp.analysis.fast_retransmission. The capture saw the dropped original, so it reads the
    // resent piece as a retransmission, not as out of order.
    let a = try analyzeFile(path: fixture("dup-acks"))
    let c = try #require(a.connections.first)
    #expect(c.serverToClient.dupAcks == 3)
    #expect(c.clientToServer.dupAcks == 0)
    #expect(c.clientToServer.retransmissions == 1)
    #expect(a.exchanges[0].flags == [.retransmission])
    #expect(a.exchanges[0].requestBodyBytes == 1511)
    let leg = try #require(a.legs.first)
    #expect(leg.dupAcks == 3 && leg.retransmissions == 1 && leg.zeroWindows == 0)
}

@Test func zeroWindowsAreCountedOnTheSideThatAdvertisedThem() throws {
    // tshark 4.0.17: tcp.analysis.zero_window in 2 frames, both from the client.
    let a = try analyzeFile(path: fixture("zero-window"))
    let c = try #require(a.connections.first)
    #expect(c.clientToServer.zeroWindows == 2)
    #expect(c.serverToClient.zeroWindows == 0)
    #expect(a.legs.first?.zeroWindows == 2)
    #expect(a.packets.truncatedBySnapLength > 0)
    #expect(a.exchanges[0].responseBodyBytes == 200_000)
    #expect(a.exchanges[0].flags.isEmpty)
}

@Test func closeDelimitedBodyEndsWithItsLastDataByte() throws {
    let a = try analyzeFile(path: fixture("close-delimited"))
    let e = try #require(a.exchanges.first)
    #expect(e.flags == [.closeDelimited])
    #expect(e.complete)
    #expect(e.responseBodyBytes == 1000)
    #expect(a.connections.first.map { $0.serverToClient.fins == 1 && $0.clientToServer.fins == 1 } == true)
}

@Test func packetStreamHandsOverEveryPacketFromItsOwnThread() async throws {
    var direct: [OwnedPacket] = []
    try PacketSource.file(path: fixture("keepalive")).forEach { direct.append(OwnedPacket($0)) }
    var streamed: [OwnedPacket] = []
    for try await packet in try PacketSource.file(path: fixture("keepalive")).packets() { streamed.append(packet) }
    #expect(direct.count == 21)
    #expect(streamed == direct)
    // A cut file ends the stream with the typed error, after the packets before the cut.
    var beforeTheCut = 0
    await #expect { for try await _ in try PacketSource.file(path: fixture("truncated")).packets() { beforeTheCut += 1 } } throws: {
        ($0 as? CaptureError)?.code == .truncatedFile
    }
    #expect(beforeTheCut == 19)
}

@Test func truncatedFileKeepsWhatWasRead() throws {
    let a = try analyzeFile(path: fixture("truncated"))
    let error = try #require(a.readError)
    #expect(error.contains("truncated"))
    #expect(a.exchanges.count == 4)
    #expect(a.exchanges.allSatisfy { $0.complete })
    #expect(a.exchanges.map(\.t4) == expected["keepalive"]!.map(\.t4))
    // Reading it directly throws the typed error after the good packets.
    let source = try PacketSource.file(path: fixture("truncated"))
    var count = 0
    do {
        try source.forEach { _ in count += 1 }
        Issue.record("expected a truncatedFile error")
    } catch let error as CaptureError {
        #expect(error.code == .truncatedFile)
    }
    #expect(count == 19)
}

@Test func portFilterLimitsAnalysis() throws {
    let a = try analyzeFile(path: fixture("keepalive"), ports: [9999])
    #expect(a.exchanges.isEmpty)
    #expect(a.packets.otherPorts == a.packets.packets)
    let b = try analyzeFile(path: fixture("keepalive"), ports: [28480])
    #expect(b.exchanges.count == 4)
}

@Test func openErrorsSayWhatToDo() throws {
    #expect { try PacketSource.file(path: "/nonexistent.pcap") } throws: { ($0 as? CaptureError)?.code == .openFailed }
    #expect { try PacketSource.file(path: fixture("keepalive"), filter: "tcp portt 80") } throws: { ($0 as? CaptureError)?.code == .invalidFilter }
    #expect { try PacketSource.file(path: fixture("keepalive")).stats() } throws: { ($0 as? CaptureError)?.code == .statsUnavailable }
    let filtered = try PacketSource.file(path: fixture("keepalive"), filter: "tcp[tcpflags] & tcp-syn != 0")
    var n = 0
    try filtered.forEach { _ in n += 1 }
    #expect(n == 2)
    #expect(CaptureError.permissionDenied(device: "lo", pcapMessage: nil).description.contains("setcap cap_net_raw,cap_net_admin=eip"))
}

@Test func outputRendersTextAndJSONLines() throws {
    let a = try analyzeFile(path: fixture("keepalive"))
    let text = CaptureAnalyzeCommandOutput.text(a, file: "keepalive.pcap")
    #expect(text.contains("leg :28480  4 exchanges, 4 complete, 1 connections"))
    #expect(text.contains("handshake RTT      p50 29.3µs"))
    let lines = CaptureAnalyzeCommandOutput.jsonLines(a).split(separator: "\n")
    #expect(lines.count == 4)
    let decoded = try lines.map { try JSONDecoder().decode(HTTPExchange.self, from: Data($0.utf8)) }
    #expect(decoded == a.exchanges)
    // The streaming writer produces the same bytes, in a private file.
    for name in ["keepalive", "chunked", "reset", "ipv6"] {
        let b = try analyzeFile(path: fixture(name))
        let path = NSTemporaryDirectory() + "bn-jsonl-\(getpid())-\(name).jsonl"
        defer { unlink(path) }
        try CaptureAnalyzeCommandOutput.writeJSONLines(b, toFile: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == CaptureAnalyzeCommandOutput.jsonLines(b))
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }
    // JSONEncoder output decodes to the same value too.
    let viaCodable = try JSONDecoder().decode(HTTPExchange.self, from: JSONEncoder().encode(a.exchanges[2]))
    #expect(viaCodable == a.exchanges[2])
}
