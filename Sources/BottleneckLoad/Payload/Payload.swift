/// One ready-to-send request body, with what reports need to group latency by input.
///
/// Built before the run by `PayloadPool`; the load engine only reads `body` and
/// `contentType`, and records `payloadClass`, `rawBytes` and `pixels` per request so the
/// analysis can tell "large images are slow" from "everything is slow".
public struct Payload: Sendable {
    /// `image`, `text`, `audio`, `tensor` or `file`.
    public let payloadClass: String
    /// The final bytes to send, already wrapped.
    public let body: [UInt8]
    /// The Content-Type header value (multipart includes its boundary).
    public let contentType: String
    /// Size of the payload before wrapping (the image, clip, text or file itself).
    public let rawBytes: Int
    /// Image dimensions; 0 unless the payload is an image.
    public let width: Int
    public let height: Int
    public let pixels: Int
    /// A short human description, e.g. `jpeg 640x480`.
    public let label: String

    public init(
        payloadClass: String, body: [UInt8], contentType: String, rawBytes: Int,
        width: Int = 0, height: Int = 0, label: String
    ) {
        self.payloadClass = payloadClass
        self.body = body
        self.contentType = contentType
        self.rawBytes = rawBytes
        self.width = width
        self.height = height
        self.pixels = width * height
        self.label = label
    }
}
