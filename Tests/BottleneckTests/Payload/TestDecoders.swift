import CJPEG
import CPNG
import Foundation

/// Decodes what the generator produced with the real libraries, so the tests check what a
/// server would see rather than our own idea of the format.
enum TestDecoders {
    struct Decoded: Equatable {
        let width: Int
        let height: Int
        let components: Int
        /// Bytes of decoded pixels (width × height × components when complete).
        let pixelBytes: Int
    }

    /// Full JPEG decode via libjpeg. Like the encoder, inputs reaching here are ours; a
    /// libjpeg error is a test failure reported by `fatalError` with libjpeg's message.
    static func decodeJPEG(_ bytes: [UInt8]) -> Decoded? {
        guard bytes.count > 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        let cinfo = UnsafeMutablePointer<jpeg_decompress_struct>.allocate(capacity: 1)
        cinfo.initialize(to: jpeg_decompress_struct())
        defer { cinfo.deallocate() }
        let errors = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
        errors.initialize(to: jpeg_error_mgr())
        defer { errors.deallocate() }
        cinfo.pointee.err = jpeg_std_error(errors)
        errors.pointee.error_exit = { _ in fatalError("libjpeg could not decode a generated JPEG") }
        errors.pointee.output_message = { _ in }
        jpeg_CreateDecompress(cinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_decompress_struct>.size)
        defer { jpeg_destroy_decompress(cinfo) }

        return bytes.withUnsafeBufferPointer { input -> Decoded? in
            jpeg_mem_src(cinfo, input.baseAddress, UInt(input.count))
            guard jpeg_read_header(cinfo, 1) == JPEG_HEADER_OK else { return nil }
            cinfo.pointee.out_color_space = JCS_RGB
            jpeg_start_decompress(cinfo)
            let width = Int(cinfo.pointee.output_width)
            let height = Int(cinfo.pointee.output_height)
            let components = Int(cinfo.pointee.output_components)
            var row = [UInt8](repeating: 0, count: width * components)
            var decodedBytes = 0
            while cinfo.pointee.output_scanline < cinfo.pointee.output_height {
                let read = row.withUnsafeMutableBufferPointer { buffer -> Int in
                    var rowPointer: JSAMPROW? = buffer.baseAddress
                    return Int(jpeg_read_scanlines(cinfo, &rowPointer, 1))
                }
                decodedBytes += read * row.count
            }
            jpeg_finish_decompress(cinfo)
            return Decoded(width: width, height: height, components: components, pixelBytes: decodedBytes)
        }
    }

    /// Full PNG decode via libpng's simplified read API.
    static func decodePNG(_ bytes: [UInt8]) -> Decoded? {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { return nil }
        image.format = UInt32(PNG_FORMAT_RGB)
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, 0, nil)
        }
        guard finished != 0 else { return nil }
        return Decoded(width: width, height: height, components: 3, pixelBytes: pixels.count)
    }

    /// The parts of a multipart/form-data body, parsed by the RFC 7578 rules a server applies.
    struct Part {
        var headers: [String: String]
        var content: [UInt8]
    }

    static func parseMultipart(_ body: [UInt8], contentType: String) -> [Part]? {
        guard contentType.hasPrefix("multipart/form-data; boundary="),
            let boundary = contentType.split(separator: "=", maxSplits: 1).last
        else { return nil }
        let data = Data(body)
        let delimiter = Data("--\(boundary)".utf8)
        var parts: [Part] = []
        guard var cursor = data.range(of: delimiter)?.upperBound else { return nil }
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if data[cursor...].starts(with: Data("--".utf8)) { return parts }
            guard data[cursor...].starts(with: Data("\r\n".utf8)) else { return nil }
            let partStart = cursor + 2
            guard let next = data.range(of: Data("\r\n".utf8) + delimiter, in: partStart..<data.endIndex) else { return nil }
            let part = data[partStart..<next.lowerBound]
            guard let split = part.range(of: Data("\r\n\r\n".utf8)) else { return nil }
            var headers: [String: String] = [:]
            for line in String(decoding: part[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n") {
                let pieces = line.split(separator: ":", maxSplits: 1)
                guard pieces.count == 2 else { return nil }
                headers[pieces[0].lowercased()] = pieces[1].trimmingCharacters(in: .whitespaces)
            }
            parts.append(Part(headers: headers, content: [UInt8](part[split.upperBound...])))
            cursor = next.upperBound
        }
    }
}
