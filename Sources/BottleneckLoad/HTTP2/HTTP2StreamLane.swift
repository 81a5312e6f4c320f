import NIOCore
import NIOHPACK

/// One stream slot of an HTTP/2 connection: carries one request at a time, each on a new
/// stream. The worker sees it as any lane; its session owns the connection and the frames.
final class HTTP2StreamLane: LoadLane {
    let id: UInt32
    unowned let session: HTTP2Session
    var inFlight: InFlightRequest?
    /// The stream of the request in flight (0: none).
    var streamID: Int32 = 0
    /// The response so far: its status (0 until a final HEADERS), Server-Timing, bytes.
    var status: UInt16 = 0
    var serverTiming: String?
    var bytesIn: UInt32 = 0
    /// A gRPC call's grpc-status (trailers, or headers of a trailers-only reply); nil until seen.
    var grpcStatus: Int?

    init(id: UInt32, session: HTTP2Session) {
        self.id = id
        self.session = session
    }

    var connectionID: UInt32 { session.connectionID }
    var localPort: UInt16 { session.localPort }

    func send(_ request: InFlightRequest, template: RequestTemplate) {
        session.send(request, on: self, template: template)
    }

    func close() {
        session.cancel(self)
    }

    /// A new request's response starts empty.
    func resetResponse() {
        status = 0
        serverTiming = nil
        bytesIn = 0
        grpcStatus = nil
    }

    /// The status the request record keeps: the HTTP status, or for a gRPC call that failed the
    /// HTTP status its grpc-status stands for (so 4xx and 5xx count the same for both).
    var recordedStatus: UInt16 {
        if let grpcStatus, grpcStatus != 0, status == 200 { return GRPCFraming.httpStatus(grpcStatus: grpcStatus) }
        return status
    }

    /// Reads a HEADERS block of the response: the final status (1xx blocks are skipped) and
    /// Server-Timing, or trailers. Counts its size as HPACK does (name + value + 32 per field),
    /// the decoded size, since the compressed one is not exposed.
    func read(headers: HPACKHeaders) {
        var size = 0
        for field in headers {
            size += field.name.utf8.count + field.value.utf8.count + 32
            if field.name == ":status" {
                let code = UInt16(field.value) ?? 0
                if code >= 200 || status == 0 && code < 100 { status = code }
            } else if field.name == "grpc-status" {
                grpcStatus = Int(field.value) ?? 2
            } else if field.name == "server-timing" {
                serverTiming = serverTiming.map { $0 + ", " + field.value } ?? field.value
            }
        }
        bytesIn &+= UInt32(truncatingIfNeeded: size)
    }
}
