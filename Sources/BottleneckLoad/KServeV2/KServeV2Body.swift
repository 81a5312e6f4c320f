import BottleneckCore

/// Writes one KServe v2 inference request as JSON: `{"inputs":[{"name":…,"shape":[…],
/// "datatype":…,"data":[…]}]}`, data flat in row-major order, values as `TensorGenerator`
/// makes them (standard-normal floats with six decimals, token-like integers, pixel-like bytes).
enum KServeV2Body {
    static func generate(_ spec: KServeV2Spec, random: inout SeededRandom) -> RawPayload {
        if spec.protocolBuffers { return KServeV2GRPCMessages.inferRequest(spec, random: &random) }
        let batch = random.uniform(spec.batch)
        let dim = random.uniform(spec.dim)
        var bytes: [UInt8] = []
        bytes += Array("{\"inputs\":[".utf8)
        for (position, input) in spec.inputs.enumerated() {
            let shape = spec.shape(of: input, batch: batch, dim: dim)
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += Array("{\"name\":".utf8)
            appendString(&bytes, input.name)
            bytes += Array(",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"datatype\":\"\(input.datatype.rawValue)\",\"data\":[".utf8)
            let count = shape.reduce(1, *)
            bytes.reserveCapacity(bytes.count + count * 10)
            for index in 0..<count {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendElement(&bytes, input.datatype, &random)
            }
            bytes += Array("]}".utf8)
        }
        bytes += Array("]}".utf8)
        let sizes = (spec.batch.lowerBound < spec.batch.upperBound ? " batch \(batch)" : "")
            + (spec.dim.lowerBound < spec.dim.upperBound ? " dim \(dim)" : "")
        return RawPayload(payloadClass: "tensor", bytes: bytes, contentType: "application/json", filename: "infer.json",
                          label: "kserve-v2 \(spec.model)\(sizes)")
    }

    private static func appendElement(_ bytes: inout [UInt8], _ datatype: KServeV2Datatype, _ random: inout SeededRandom) {
        switch datatype {
        case .bool:
            bytes += Array((random.next() & 1 == 0 ? "false" : "true").utf8)
        case .fp16, .bf16, .fp32, .fp64:
            TensorGenerator.appendDecimal(&bytes, TensorGenerator.gaussian(&random))
        case .bytes:
            let word = WordList.words[Int(random.next() % UInt64(WordList.words.count))]
            appendString(&bytes, String(word))
        case .uint8, .uint16, .uint32, .uint64, .int8, .int16, .int32, .int64:
            TensorGenerator.appendInteger(&bytes, random.next() % (datatype.integerLimit ?? 30_000))
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped.
    static func appendString(_ bytes: inout [UInt8], _ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes += [UInt8(ascii: "\\"), byte]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
