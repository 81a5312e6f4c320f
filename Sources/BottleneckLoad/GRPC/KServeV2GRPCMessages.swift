import BottleneckCore

/// The KServe v2 gRPC messages the tool writes and reads (`inference.GRPCInferenceService` in
/// Triton's and KServe's `grpc_service.proto`), with the field numbers of that file.
package enum KServeV2GRPCMessages {
    static let service = "/inference.GRPCInferenceService/"
    static let modelInfer = service + "ModelInfer"
    static let modelMetadata = service + "ModelMetadata"
    static let modelStatistics = service + "ModelStatistics"

    /// `ModelMetadataRequest { string name = 1; string version = 2; }` (also the shape of
    /// `ModelStatisticsRequest`).
    static func modelRequest(model: String, version: String?) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.stringIfSet(1, model)
        writer.stringIfSet(2, version)
        return writer.bytes
    }

    /// `ModelMetadataResponse { name = 1; versions = 2; platform = 3; repeated TensorMetadata
    /// inputs = 4 { name = 1; datatype = 2; repeated int64 shape = 3; } }` as the REST metadata.
    package static func decodeMetadata(_ bytes: [UInt8]) throws -> KServeV2Metadata {
        var reader = ProtobufReader(bytes)
        var name = "", platform: String?
        var inputs: [KServeV2Metadata.Tensor] = []
        while let (field, value) = try reader.next() {
            switch field {
            case 1: name = try ProtobufReader.string(value)
            case 3: platform = try ProtobufReader.string(value)
            case 4:
                guard case .bytes(let tensorBytes) = value else { throw ProtobufReader.Malformed() }
                var tensor = ProtobufReader(tensorBytes)
                var input = KServeV2Metadata.Tensor(name: "", datatype: "", shape: [])
                while let (tensorField, tensorValue) = try tensor.next() {
                    switch tensorField {
                    case 1: input.name = try ProtobufReader.string(tensorValue)
                    case 2: input.datatype = try ProtobufReader.string(tensorValue)
                    case 3: input.shape += try ProtobufReader.int64s(tensorValue)
                    default: break
                    }
                }
                inputs.append(input)
            default:
                break
            }
        }
        return KServeV2Metadata(name: name, platform: platform?.isEmpty == true ? nil : platform, inputs: inputs)
    }

    /// One `ModelInferRequest`: model_name = 1, model_version = 2, repeated InferInputTensor
    /// inputs = 5 { name = 1; datatype = 2; repeated int64 shape = 3; }, and each input's values in
    /// `raw_input_contents = 7` (little-endian, row-major; BYTES elements each after a 4-byte
    /// length), the form Triton's clients send by default.
    static func inferRequest(_ spec: KServeV2Spec, random: inout SeededRandom) -> RawPayload {
        let batch = random.uniform(spec.batch)
        let dim = random.uniform(spec.dim)
        var writer = ProtobufWriter(capacity: 256)
        writer.stringIfSet(1, spec.model)
        writer.stringIfSet(2, spec.version)
        var contents: [[UInt8]] = []
        for input in spec.inputs {
            let shape = spec.shape(of: input, batch: batch, dim: dim)
            writer.message(5) { tensor in
                tensor.string(1, input.name)
                tensor.string(2, input.datatype.rawValue)
                tensor.packedInt64(3, shape)
            }
            contents.append(rawContents(input.datatype, count: shape.reduce(1, *), random: &random))
        }
        for content in contents { writer.bytes(7, content) }
        let sizes = (spec.batch.lowerBound < spec.batch.upperBound ? " batch \(batch)" : "")
            + (spec.dim.lowerBound < spec.dim.upperBound ? " dim \(dim)" : "")
        return RawPayload(payloadClass: "tensor", bytes: writer.bytes, contentType: "application/grpc", filename: "infer.pb",
                          label: "kserve-v2 grpc \(spec.model)\(sizes)")
    }

    /// `count` random elements of `datatype` as raw little-endian bytes.
    static func rawContents(_ datatype: KServeV2Datatype, count: Int, random: inout SeededRandom) -> [UInt8] {
        var bytes: [UInt8] = []
        func little<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        for _ in 0..<count {
            switch datatype {
            case .bool: bytes.append(UInt8(random.next() & 1))
            case .fp32: little(Float(TensorGenerator.gaussian(&random)).bitPattern)
            case .fp64: little(TensorGenerator.gaussian(&random).bitPattern)
            case .fp16: little(Float16(TensorGenerator.gaussian(&random)).bitPattern)
            case .bf16: little(UInt16(truncatingIfNeeded: Float(TensorGenerator.gaussian(&random)).bitPattern >> 16))
            case .uint8, .int8: bytes.append(UInt8(truncatingIfNeeded: random.next() % (datatype.integerLimit ?? 128)))
            case .uint16, .int16: little(UInt16(truncatingIfNeeded: random.next() % (datatype.integerLimit ?? 30_000)))
            case .uint32, .int32: little(UInt32(truncatingIfNeeded: random.next() % (datatype.integerLimit ?? 30_000)))
            case .uint64, .int64: little(random.next() % (datatype.integerLimit ?? 30_000))
            case .bytes:
                let word = Array(WordList.words[Int(random.next() % UInt64(WordList.words.count))].utf8)
                little(UInt32(word.count))
                bytes += word
            }
        }
        return bytes
    }
}

/// gRPC's framing of a message on an HTTP/2 stream, and its status codes.
package enum GRPCFraming {
    /// The 5-byte prefix (not compressed, the length big-endian) and the message.
    package static func frame(_ message: [UInt8]) -> [UInt8] {
        let length = UInt32(truncatingIfNeeded: message.count)
        return [0, UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
                UInt8(truncatingIfNeeded: length)] + message
    }

    /// The first message of a response body, or nil when it is incomplete or compressed.
    package static func firstMessage(_ body: [UInt8]) -> [UInt8]? {
        guard body.count >= 5, body[0] == 0 else { return nil }
        let length = Int(body[1]) << 24 | Int(body[2]) << 16 | Int(body[3]) << 8 | Int(body[4])
        guard body.count - 5 >= length else { return nil }
        return Array(body[5..<(5 + length)])
    }

    /// The HTTP status a gRPC status stands for (the inverse of gRPC's own HTTP-to-gRPC table,
    /// so the run's 4xx/5xx counts mean the same for both): OK 200, a caller's mistake 4xx, the
    /// server's failure or overload 5xx.
    static func httpStatus(grpcStatus: Int) -> UInt16 {
        switch grpcStatus {
        case 0: 200
        case 1: 499       // CANCELLED
        case 3, 9, 11: 400  // INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE
        case 4: 504       // DEADLINE_EXCEEDED
        case 5: 404       // NOT_FOUND
        case 6: 409       // ALREADY_EXISTS
        case 7: 403       // PERMISSION_DENIED
        case 8: 429       // RESOURCE_EXHAUSTED
        case 10: 409      // ABORTED
        case 12: 501      // UNIMPLEMENTED
        case 14: 503      // UNAVAILABLE
        case 16: 401      // UNAUTHENTICATED
        default: 500      // UNKNOWN, INTERNAL, DATA_LOSS
        }
    }

    static func statusName(_ status: Int) -> String {
        let names = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                     "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                     "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
        return names.indices.contains(status) ? names[status] : "status \(status)"
    }
}
