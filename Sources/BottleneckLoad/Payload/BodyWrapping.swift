import Foundation
import BottleneckCore

/// How a generated payload is put into the HTTP body (`--body`).
///
/// Model servers differ: some read the raw bytes (`raw`), web-style ones take an upload
/// form (`multipart:FIELD`), JSON APIs take the file base64-encoded in a field
/// (`json-base64:FIELD`). Wrapping happens when the pool is built, never per request.
public enum BodyWrapping: Sendable, Equatable, CustomStringConvertible {
    case raw
    case multipart(field: String)
    case jsonBase64(field: String)

    /// The form `parse` reads: `raw`, `multipart:FIELD` or `json-base64:FIELD`.
    public var description: String {
        switch self {
        case .raw: return "raw"
        case .multipart(let field): return "multipart:\(field)"
        case .jsonBase64(let field): return "json-base64:\(field)"
        }
    }

    /// Parses `raw`, `multipart:FIELD` or `json-base64:FIELD`.
    public static func parse(_ text: String) throws -> BodyWrapping {
        let colon = text.firstIndex(of: ":")
        let mode = (colon.map { text[..<$0] } ?? text[...]).lowercased()
        let field = colon.map { String(text[text.index(after: $0)...]) }
        let form = "use raw, multipart:FIELD or json-base64:FIELD"
        switch (mode, field) {
        case ("raw", nil):
            return .raw
        case ("multipart", let field?):
            return .multipart(field: try checkField(field, text))
        case ("json-base64", let field?):
            return .jsonBase64(field: try checkField(field, text))
        case ("multipart", nil), ("json-base64", nil):
            throw PayloadError("\(mode) needs a field name, like \(mode):file")
        default:
            throw PayloadError("unknown wrapping; \(form)")
        }
    }

    /// Field names go into a header and a JSON key unescaped, so keep to a safe alphabet.
    private static func checkField(_ field: String, _ text: String) throws(PayloadError) -> String {
        let allowed = field.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
        }
        guard !field.isEmpty, allowed else {
            throw PayloadError("field must be letters, digits, _ - . [ ] (like file or inputs[0])")
        }
        return field
    }

    /// The final body and Content-Type for `raw`. `random` supplies the multipart boundary,
    /// so a pool built from the same seed is byte-identical.
    func wrap(_ raw: RawPayload, random: inout SeededRandom) -> (body: [UInt8], contentType: String) {
        switch self {
        case .raw:
            return (raw.bytes, raw.contentType)
        case .multipart(let field):
            var boundary: String
            repeat {
                boundary = "bottleneck-" + String(random.next(), radix: 16) + String(random.next(), radix: 16)
            } while raw.bytes.contains(subsequence: Array(boundary.utf8))
            var body: [UInt8] = []
            body.reserveCapacity(raw.bytes.count + 256)
            body += Array("--\(boundary)\r\n".utf8)
            body += Array("Content-Disposition: form-data; name=\"\(field)\"; filename=\"\(raw.filename)\"\r\n".utf8)
            body += Array("Content-Type: \(raw.contentType)\r\n\r\n".utf8)
            body += raw.bytes
            body += Array("\r\n--\(boundary)--\r\n".utf8)
            return (body, "multipart/form-data; boundary=\(boundary)")
        case .jsonBase64(let field):
            let encoded = Data(raw.bytes).base64EncodedData()
            var body: [UInt8] = []
            body.reserveCapacity(encoded.count + field.utf8.count + 8)
            body += Array("{\"\(field)\":\"".utf8)
            body += encoded
            body += Array("\"}".utf8)
            return (body, "application/json")
        }
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in the array (first-byte scan; off the hot path).
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= count else { return false }
        return withUnsafeBufferPointer { hay in
            var i = 0
            let last = hay.count - needle.count
            while i <= last {
                if hay[i] == first {
                    var j = 1
                    while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return true }
                }
                i += 1
            }
            return false
        }
    }
}
