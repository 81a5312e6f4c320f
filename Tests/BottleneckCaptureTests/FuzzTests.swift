import Testing
@testable import BottleneckCapture

/// Deterministic xorshift so failures reproduce.
private struct XorShift: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
}

private func packets(_ name: String) throws -> ([OwnedPacket], LinkType) {
    let source = try PacketSource.file(path: fixture(name))
    var out: [OwnedPacket] = []
    try source.forEach { out.append(OwnedPacket($0)) }
    return (out, source.linkType)
}

@Test(arguments: LinkType.allCases)
func randomBytesNeverCrash(linkType: LinkType) {
    var rng = XorShift(state: 0x9E37_79B9_7F4A_7C15 ^ UInt64(linkType.rawValue))
    let analyzer = ExchangeAnalyzer(linkType: linkType)
    for i in 0..<20_000 {
        let n = Int.random(in: 0..<200, using: &rng)
        var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // Make many of them look like IPv4/IPv6 TCP so deeper code runs.
        if n > 40, i % 2 == 0 {
            let ipAt = [LinkType.ethernet: 14, .linuxSLL: 16, .linuxSLL2: 20, .null: 4, .loop: 4][linkType] ?? 0
            if ipAt + 40 < n {
                bytes[ipAt] = i % 4 == 0 ? 0x45 : 0x60
                bytes[ipAt + 9] = 6
                bytes[ipAt + 6] = i % 4 == 0 ? 0 : 6
                if linkType == .ethernet { bytes[12] = i % 4 == 0 ? 0x08 : 0x86; bytes[13] = i % 4 == 0 ? 0x00 : 0xDD }
                if linkType == .linuxSLL2 { bytes[0] = i % 4 == 0 ? 0x08 : 0x86; bytes[1] = i % 4 == 0 ? 0x00 : 0xDD }
            }
        }
        bytes.withUnsafeBytes { analyzer.feed(timestamp: UInt64(i), bytes: $0, originalLength: n + Int.random(in: 0..<3000, using: &rng)) }
    }
    let a = analyzer.finish()
    #expect(a.packets.packets == 20_000)
}

@Test(arguments: ["keepalive", "pipelined", "chunked", "reset", "retransmission", "ipv6", "any-sll2", "any-sll", "raw-ipv4", "raw-ipv6",
                  "split-segments", "close-delimited", "zero-window", "dup-acks"])
func mutatedRealPacketsNeverCrash(name: String) throws {
    let (real, linkType) = try packets(name)
    var rng = XorShift(state: 42)
    for round in 0..<200 {
        let analyzer = ExchangeAnalyzer(linkType: linkType)
        for p in real {
            var bytes = p.bytes
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))   // truncate
            case 1: if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            case 2: continue                                                                       // drop
            case 3: bytes.withUnsafeBytes { analyzer.feed(timestamp: p.timestamp, bytes: $0, originalLength: p.originalLength) } // duplicate
            default: break
            }
            let ts = p.timestamp &+ UInt64(Int.random(in: 0..<1000, using: &rng))
            bytes.withUnsafeBytes { analyzer.feed(timestamp: ts, bytes: $0, originalLength: max(bytes.count, p.originalLength)) }
        }
        let a = analyzer.finish()
        #expect(a.packets.packets >= 1 || real.count < 3, "round \(round)")
        for e in a.exchanges where e.complete {
            #expect(e.t1! <= e.t2! || e.t1 == nil)
        }
    }
}

@Test func shuffledSegmentsAreFlaggedNotMistimed() throws {
    // Swap two adjacent response segments of the 80 kB download: the exchange is reassembled but
    // marked out of order and incomplete, never silently timed; the others stay complete.
    let (real, linkType) = try packets("keepalive")
    var shuffled = real
    shuffled.swapAt(13, 14)
    let analyzer = ExchangeAnalyzer(linkType: linkType)
    for p in shuffled { p.bytes.withUnsafeBytes { analyzer.feed(timestamp: p.timestamp, bytes: $0, originalLength: p.originalLength) } }
    let a = analyzer.finish()
    #expect(a.exchanges.count == 4)
    let big = a.exchanges[2]
    #expect(big.flags.contains(.outOfOrder))
    #expect(!big.complete)
    #expect(a.exchanges[0].complete && a.exchanges[1].complete && a.exchanges[3].complete)
    // Dropping a middle segment entirely: incomplete.
    var dropped = real
    dropped.remove(at: 13)
    let analyzer2 = ExchangeAnalyzer(linkType: linkType)
    for p in dropped { p.bytes.withUnsafeBytes { analyzer2.feed(timestamp: p.timestamp, bytes: $0, originalLength: p.originalLength) } }
    let b = analyzer2.finish()
    #expect(b.exchanges[2].flags.contains(.missingSegment))
    #expect(!b.exchanges[2].complete)
    #expect(b.exchanges[3].complete)
}
