import Foundation
import Testing
import BottleneckCore
@testable import BottleneckLoad

/// The KServe v2 gRPC messages the tool writes and reads by hand, against bytes the real protobuf
/// library wrote (`fuzz/corpus/grpc-reply`, made with the test bed's generated `kserve_v2_pb2`).
@Suite("KServe v2 gRPC messages")
struct GRPCMessageTests {
    static func corpus(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/grpc-reply/\(name)")
        return [UInt8](try Data(contentsOf: url))
    }

    @Test func metadataAndStatisticsWrittenByProtobufAreReadAsTheyWereMeant() throws {
        let metadata = try KServeV2GRPCMessages.decodeMetadata(try #require(GRPCFraming.firstMessage(try Self.corpus("metadata.bin"))))
        #expect(metadata == KServeV2Metadata(name: "bert", platform: "onnx", inputs: [
            .init(name: "input_ids", datatype: "INT64", shape: [-1, -1]), .init(name: "mask", datatype: "BOOL", shape: [-1, 128]),
        ]))
        let fromGRPC = try ModelStatisticsSnapshot(protobuf: try #require(GRPCFraming.firstMessage(try Self.corpus("statistics.bin"))))
        let fromREST = try ModelStatisticsSnapshot(json: try Self.corpus("statistics.json"))
        let expected = ModelStatisticsSnapshot(inferences: 7, queueNs: 1000, computeInputNs: 200_000, computeInferNs: 8_000_000, computeOutputNs: 30_000)
        #expect(fromGRPC == expected && fromREST == expected)
        // A restart (counters back to zero) is no negative time.
        #expect(ModelStatisticsSnapshot().since(expected) == ModelStatisticsSnapshot())
    }

    @Test func anInferRequestCarriesEachInputsShapeAndExactlyItsBytes() throws {
        let metadata = KServeV2Metadata(name: "m", platform: nil, inputs: [
            .init(name: "pixels", datatype: "FP32", shape: [-1, 3, 4, 4]), .init(name: "words", datatype: "BYTES", shape: [-1, 2]),
        ])
        var spec = try KServeV2Spec(batch: 2...2).resolved(with: metadata, source: "kserve-v2")
        spec.protocolBuffers = true
        spec.version = "3"
        var random = SeededRandom(seed: 1, stream: 0)
        let payload = KServeV2Body.generate(spec, random: &random)
        #expect(payload.contentType == "application/grpc")
        var reader = ProtobufReader(payload.bytes)
        var names: [String] = [], shapes: [[Int]] = [], raw: [[UInt8]] = [], model = "", version = ""
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, _): model = try ProtobufReader.string(value)
            case (2, _): version = try ProtobufReader.string(value)
            case (5, .bytes(let tensor)):
                var inner = ProtobufReader(tensor)
                while let (f, v) = try inner.next() {
                    if f == 1 { names.append(try ProtobufReader.string(v)) }
                    if f == 3 { shapes.append(try ProtobufReader.int64s(v)) }
                }
            case (7, .bytes(let contents)): raw.append(Array(contents))
            default: Issue.record("unexpected field \(field)")
            }
        }
        #expect(model == "m" && version == "3" && names == ["pixels", "words"] && shapes == [[2, 3, 4, 4], [2, 2]])
        #expect(raw.count == 2 && raw[0].count == 2 * 3 * 4 * 4 * 4)
        // BYTES: four elements, each a 4-byte little-endian length and the word.
        var offset = 0, elements = 0
        while offset + 4 <= raw[1].count {
            let length = Int(raw[1][offset]) | Int(raw[1][offset + 1]) << 8 | Int(raw[1][offset + 2]) << 16 | Int(raw[1][offset + 3]) << 24
            offset += 4 + length
            elements += 1
        }
        #expect(offset == raw[1].count && elements == 4)
    }

    @Test func hostileBytesThrowAndNeverTrap() {
        // A length past the end, a varint of eleven bytes, a group wire type, field number 0.
        for bytes: [UInt8] in [[0x22, 0x05, 0x01], [0x08] + Array(repeating: 0xFF, count: 11), [0x0B], [0x00, 0x01]] {
            #expect(throws: (any Error).self) { _ = try KServeV2GRPCMessages.decodeMetadata(bytes) }
            #expect(throws: (any Error).self) { _ = try ModelStatisticsSnapshot(protobuf: bytes) }
        }
        #expect(GRPCFraming.firstMessage([0, 0, 0, 0, 9, 1]) == nil, "a message longer than what arrived")
        #expect(GRPCFraming.firstMessage([1, 0, 0, 0, 1, 1]) == nil, "a compressed message")
        #expect(throws: (any Error).self) { _ = try ModelStatisticsSnapshot(json: Array("[]".utf8)) }
    }

    @Test func aFailedCallCountsAsTheHTTPClassItStandsFor() {
        #expect(GRPCFraming.httpStatus(grpcStatus: 0) == 200)
        #expect(GRPCFraming.httpStatus(grpcStatus: 3) == 400 && GRPCFraming.httpStatus(grpcStatus: 5) == 404)
        #expect(GRPCFraming.httpStatus(grpcStatus: 8) == 429 && GRPCFraming.httpStatus(grpcStatus: 14) == 503)
        #expect(GRPCFraming.httpStatus(grpcStatus: 13) == 500 && GRPCFraming.httpStatus(grpcStatus: 99) == 500)
        #expect(GRPCFraming.frame([7, 8]) == [0, 0, 0, 0, 2, 7, 8])
    }
}
