import CJPEG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encodes RGB pixels to JPEG with libjpeg-turbo, in memory.
///
/// libjpeg reports errors through `error_exit`, which must not return; the default one
/// calls `exit()`, and the usual `setjmp`/`longjmp` escape is not available from Swift.
/// So the inputs are validated here until libjpeg has nothing left to reject (dimensions
/// within its limits, 3 components, quality 1–100, a buffer of exactly the right size),
/// and the installed `error_exit` is a `fatalError` naming libjpeg's message: reaching it
/// means a bug here or an out-of-memory, not bad user input (that is rejected earlier, by
/// `ImageSpec`). Warnings are dropped instead of being printed to stderr.
enum JPEGEncoder {
    /// libjpeg's own limit on either dimension (`JPEG_MAX_DIMENSION`).
    static let maxDimension = 65500

    static func encode(rgb: [UInt8], width: Int, height: Int, quality: Int) -> [UInt8] {
        precondition(width >= 1 && width <= maxDimension && height >= 1 && height <= maxDimension)
        precondition(quality >= 1 && quality <= 100)
        precondition(rgb.count == width * height * 3)

        // libjpeg keeps pointers to the error manager and the destination variables, so
        // they must live at stable addresses for the whole compression.
        let cinfo = UnsafeMutablePointer<jpeg_compress_struct>.allocate(capacity: 1)
        cinfo.initialize(to: jpeg_compress_struct())
        defer { cinfo.deallocate() }
        let errors = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
        errors.initialize(to: jpeg_error_mgr())
        defer { errors.deallocate() }
        let output = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: 1)
        output.initialize(to: nil)
        defer { output.deallocate() }
        let outputSize = UnsafeMutablePointer<UInt>.allocate(capacity: 1)
        outputSize.initialize(to: 0)
        defer { outputSize.deallocate() }

        cinfo.pointee.err = jpeg_std_error(errors)
        errors.pointee.error_exit = { common in
            var text = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
            common?.pointee.err.pointee.format_message(common, &text)
            let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            fatalError("libjpeg failed on validated input: \(message)")
        }
        errors.pointee.output_message = { _ in }

        jpeg_CreateCompress(cinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_compress_struct>.size)
        defer { jpeg_destroy_compress(cinfo) }
        jpeg_mem_dest(cinfo, output, outputSize)
        // libjpeg mallocs the output buffer; it is ours to free once copied.
        defer { free(output.pointee) }

        cinfo.pointee.image_width = JDIMENSION(width)
        cinfo.pointee.image_height = JDIMENSION(height)
        cinfo.pointee.input_components = 3
        cinfo.pointee.in_color_space = JCS_RGB
        jpeg_set_defaults(cinfo)
        jpeg_set_quality(cinfo, Int32(quality), 1)
        jpeg_start_compress(cinfo, 1)

        var pixels = rgb
        pixels.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            var rows = (0..<height).map { Optional(base + $0 * width * 3) }
            rows.withUnsafeMutableBufferPointer { rowPointers in
                while Int(cinfo.pointee.next_scanline) < height {
                    let next = Int(cinfo.pointee.next_scanline)
                    _ = jpeg_write_scanlines(cinfo, rowPointers.baseAddress! + next, JDIMENSION(height - next))
                }
            }
        }
        jpeg_finish_compress(cinfo)

        guard let bytes = output.pointee else { fatalError("libjpeg produced no output") }
        return Array(UnsafeBufferPointer(start: bytes, count: Int(outputSize.pointee)))
    }
}
