import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite struct BodyWrappingTests {
    @Test(arguments: [
        ("raw", BodyWrapping.raw),
        ("multipart:file", .multipart(field: "file")),
        ("json-base64:image", .jsonBase64(field: "image")),
        ("json-base64:inputs[0]", .jsonBase64(field: "inputs[0]")),
    ])
    func parsesValidWrappings(text: String, expected: BodyWrapping) throws {
        #expect(try BodyWrapping.parse(text) == expected)
    }

    @Test(arguments: [
        ("gzip", "unknown wrapping; use raw, multipart:FIELD or json-base64:FIELD"),
        ("multipart", "multipart needs a field name"),
        ("json-base64:", "field must be letters, digits"),
        ("multipart:a\"b", "field must be letters, digits"),
        ("raw:x", "unknown wrapping"),
    ])
    func rejectsInvalidWrappings(text: String, expected: String) {
        #expect {
            try BodyWrapping.parse(text)
        } throws: { error in
            let message = (error as? PayloadError)?.message ?? ""
            return message.contains(expected) && !message.contains("--")
        }
    }

    private func pool(_ spec: String, _ wrapping: BodyWrapping) throws -> (wrapped: PayloadPool, raw: PayloadPool) {
        let specs = [try PayloadSpec.parse(spec)]
        return (
            try PayloadPool(specs: specs, wrapping: wrapping, seed: 21, size: 3),
            try PayloadPool(specs: specs, wrapping: .raw, seed: 21, size: 3)
        )
    }

    @Test(arguments: ["image:w=40..80,format=jpeg|png", "audio:seconds=0.1", "text:tokens=30", "tensor:shape=4x4"])
    func multipartBodyParsesBackToTheRawPayload(spec: String) throws {
        let (wrapped, raw) = try pool(spec, .multipart(field: "upload"))
        for (payload, original) in zip(wrapped.payloads, raw.payloads) {
            #expect(payload.contentType.hasPrefix("multipart/form-data; boundary=bottleneck-"))
            let parts = try #require(TestDecoders.parseMultipart(payload.body, contentType: payload.contentType))
            #expect(parts.count == 1)
            let part = try #require(parts.first)
            let disposition = try #require(part.headers["content-disposition"])
            #expect(disposition.hasPrefix("form-data; name=\"upload\"; filename=\""))
            #expect(part.headers["content-type"] == original.contentType)
            #expect(part.content == original.body)
            #expect(payload.rawBytes == original.body.count)
            #expect(payload.body.count > original.body.count)
        }
    }

    @Test(arguments: ["image:w=40..80", "audio:seconds=0.1", "tensor:shape=4x4,encoding=binary"])
    func jsonBase64BodyDecodesBackToTheRawBytes(spec: String) throws {
        let (wrapped, raw) = try pool(spec, .jsonBase64(field: "b64"))
        for (payload, original) in zip(wrapped.payloads, raw.payloads) {
            #expect(payload.contentType == "application/json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(payload.body)) as? [String: String])
            #expect(Array(object.keys) == ["b64"])
            let decoded = try #require(Data(base64Encoded: object["b64"] ?? ""))
            #expect([UInt8](decoded) == original.body)
            #expect(payload.rawBytes == original.body.count)
            #expect(payload.width == original.width && payload.pixels == original.pixels)
        }
    }

    @Test func boundaryNeverOccursInsideTheContent() throws {
        let raw = RawPayload(payloadClass: "file", bytes: Array("--bottleneck-".utf8), contentType: "text/plain", filename: "a.txt", label: "a")
        var random = SeededRandom(seed: 1)
        let (body, type) = BodyWrapping.multipart(field: "f").wrap(raw, random: &random)
        let parts = try #require(TestDecoders.parseMultipart(body, contentType: type))
        #expect(parts.first?.content == raw.bytes)
    }
}
