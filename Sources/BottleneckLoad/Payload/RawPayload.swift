/// A generated body before `BodyWrapping` is applied: the bytes a model would decode,
/// plus what the wrapper and the reports need to know about them.
struct RawPayload: Sendable {
    var payloadClass: String
    var bytes: [UInt8]
    var contentType: String
    /// The file name a multipart upload carries (`image.jpg`, the dataset file's name, ...).
    var filename: String
    var width: Int = 0
    var height: Int = 0
    var label: String
}
