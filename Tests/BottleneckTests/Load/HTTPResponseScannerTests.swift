import NIOCore
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("HTTP/1.1 response framing")
struct HTTPResponseScannerTests {
    /// Feeds `response` split into reads of `chunk` bytes; returns the outcome and the scanner.
    func scan(_ response: String, chunk: Int, head: Bool = false) -> (HTTPResponseScanner.Outcome, HTTPResponseScanner, Int) {
        var scanner = HTTPResponseScanner()
        scanner.reset(requestWasHead: head)
        let bytes = Array(response.utf8)
        var index = 0
        var outcome = HTTPResponseScanner.Outcome.needMore
        var leftover = 0
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            var buffer = ByteBuffer(bytes: bytes[index..<end])
            outcome = scanner.feed(&buffer)
            index = end
            if outcome != .needMore {
                leftover = buffer.readableBytes + (bytes.count - index)
                break
            }
        }
        return (outcome, scanner, leftover)
    }

    static let contentLength = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nServer-Timing: model;dur=3\r\n\r\nhello world"
    static let chunked = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nserver-timing: pre;dur=1\r\nServer-Timing: model;dur=2\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"

    @Test(arguments: [1, 2, 3, 7, 16, 1000])
    func contentLengthAcrossReads(chunk: Int) {
        let (outcome, scanner, leftover) = scan(Self.contentLength, chunk: chunk)
        #expect(outcome == .complete)
        #expect(scanner.status == 200)
        #expect(scanner.serverTiming == "model;dur=3")
        #expect(!scanner.closeAfter)
        #expect(scanner.bytesIn == Self.contentLength.utf8.count)
        #expect(leftover == 0)
    }

    @Test(arguments: [1, 2, 5, 9, 1000])
    func chunkedAcrossReads(chunk: Int) {
        let (outcome, scanner, _) = scan(Self.chunked, chunk: chunk)
        #expect(outcome == .complete)
        #expect(scanner.status == 201)
        #expect(scanner.serverTiming == "pre;dur=1, model;dur=2")
        #expect(scanner.bytesIn == Self.chunked.utf8.count)
    }

    @Test func untilCloseCompletesOnClose() {
        var (outcome, scanner, _) = scan("HTTP/1.0 200 OK\r\n\r\nsome body", chunk: 4)
        #expect(outcome == .needMore)
        #expect(scanner.closeAfter)
        let closed = scanner.connectionClosed()
        #expect(closed)
    }

    @Test func connectionCloseHeaderAndHTTP10KeepAlive() {
        let (_, closing, _) = scan("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", chunk: 100)
        #expect(closing.closeAfter)
        let (_, keeping, _) = scan("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", chunk: 100)
        #expect(!keeping.closeAfter)
    }

    @Test func headAnd204HaveNoBody() {
        #expect(scan("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", chunk: 100, head: true).0 == .complete)
        #expect(scan("HTTP/1.1 204 No Content\r\n\r\n", chunk: 100).0 == .complete)
    }

    @Test func interimResponseIsSkipped() {
        let (outcome, scanner, _) = scan("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 2\r\n\r\nno", chunk: 3)
        #expect(outcome == .complete)
        #expect(scanner.status == 503)
    }

    @Test(arguments: ["SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
    func malformedIsReported(_ response: String) {
        let (outcome, _, _) = scan(response, chunk: 1000)
        if case .malformed = outcome {} else { Issue.record("expected malformed, got \(outcome)") }
    }

    @Test func extraBytesAfterAResponseAreLeftInTheBuffer() {
        let (outcome, _, leftover) = scan(Self.contentLength + "HTTP/1.1", chunk: 1000)
        #expect(outcome == .complete)
        #expect(leftover == 8)
    }
}
