/// The protocol-buffers wire format, as much of it as the tool writes and reads: the KServe v2
/// inference messages (`grpc_service.proto`, package `inference`) are few and small, and writing
/// them by hand keeps generated code and a protobuf runtime off the load path.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// A length-delimited field (wire type 2): bytes, a string, a message, a packed list.
    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    /// A string field, left out when empty (proto3's default).
    mutating func stringIfSet(_ field: Int, _ value: String?) {
        if let value, !value.isEmpty { string(field, value) }
    }

    /// A repeated int64 as one packed field (negative values as ten-byte two's complement).
    mutating func packedInt64(_ field: Int, _ values: [Int]) {
        var inner = ProtobufWriter(capacity: values.count * 2)
        for value in values { inner.varint(UInt64(bitPattern: Int64(value))) }
        bytes(field, inner.bytes)
    }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
}

/// Reads the fields of one message, in order; unknown fields are skipped as the format allows.
/// Throws on a truncated or malformed message (hostile input: every length is checked).
struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed64(UInt64)
        case fixed32(UInt32)
    }

    struct Malformed: Error {}

    private let data: ArraySlice<UInt8>
    private var position: Int

    init(_ data: ArraySlice<UInt8>) {
        self.data = data
        position = data.startIndex
    }

    init(_ data: [UInt8]) { self.init(data[...]) }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < data.endIndex, shift < 64 else { throw Malformed() }
            let byte = data[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    private mutating func fixed(_ count: Int) throws -> UInt64 {
        guard data.endIndex - position >= count else { throw Malformed() }
        var value: UInt64 = 0
        for index in 0..<count { value |= UInt64(data[position + index]) << (8 * UInt64(index)) }
        position += count
        return value
    }

    /// The next field's number and value, or nil at the end.
    mutating func next() throws -> (field: Int, value: Value)? {
        guard position < data.endIndex else { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw Malformed() }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(try fixed(8)))
        case 2:
            let length = try varint()
            guard length <= UInt64(data.endIndex - position) else { throw Malformed() }
            let start = position
            position += Int(length)
            return (field, .bytes(data[start..<position]))
        case 5: return (field, .fixed32(UInt32(try fixed(4))))
        default: throw Malformed()
        }
    }

    /// A repeated int64 field's values, packed (one length-delimited run) or not (one varint).
    static func int64s(_ value: Value) throws -> [Int] {
        switch value {
        case .varint(let v): return [Int(truncatingIfNeeded: Int64(bitPattern: v))]
        case .bytes(let run):
            var reader = ProtobufReader(run)
            var values: [Int] = []
            while reader.position < reader.data.endIndex { values.append(Int(truncatingIfNeeded: Int64(bitPattern: try reader.varint()))) }
            return values
        default: throw Malformed()
        }
    }

    static func string(_ value: Value) throws -> String {
        guard case .bytes(let bytes) = value else { throw Malformed() }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func uint64(_ value: Value) throws -> UInt64 {
        guard case .varint(let v) = value else { throw Malformed() }
        return v
    }
}
