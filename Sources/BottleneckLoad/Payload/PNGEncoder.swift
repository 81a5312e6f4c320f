import CPNG

/// Encodes RGB pixels to PNG with libpng, in memory.
///
/// Uses libpng's simplified API (`png_image_write_to_memory`, libpng ≥ 1.6.24) rather
/// than `png_create_write_struct` with custom callbacks: libpng's error callback must not
/// return and Swift cannot `longjmp`, whereas the simplified API does the `setjmp` inside
/// libpng and reports failure as a return value with a message. Nothing is left to call
/// back into Swift, so no context box or C-convention closure is needed.
enum PNGEncoder {
    /// An encoding failure (only out-of-memory is expected); the message is libpng's.
    struct Failure: Error, Sendable {
        let message: String
    }

    static func encode(rgb: [UInt8], width: Int, height: Int) throws(Failure) -> [UInt8] {
        precondition(width >= 1 && height >= 1 && rgb.count == width * height * 3)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        // FAST: no row filters and zlib level 3. The adaptive filter search at level 6 costs
        // ~3x the time for ~25% smaller files on photo-like content (18 vs 14 bits per pixel);
        // pool build time matters more here than that part of the PNG size.
        image.flags = UInt32(PNG_IMAGE_FLAG_FAST)
        defer { png_image_free(&image) }

        // Worst case is stored (uncompressed) deflate: raw rows plus a filter byte each,
        // block and chunk headers; a second pass with libpng's exact figure covers the rest.
        var capacity = (width * 3 + 1) * height
        capacity += capacity / 64 + 4096
        for _ in 0..<2 {
            var output = [UInt8](repeating: 0, count: capacity)
            var size = capacity
            let ok = output.withUnsafeMutableBytes { out in
                rgb.withUnsafeBytes { pixels in
                    png_image_write_to_memory(&image, out.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
                }
            }
            if ok != 0 {
                output.removeSubrange(size...)
                return output
            }
            guard size > capacity else { break }
            capacity = size
            png_image_free(&image)
            image.warning_or_error = 0
        }
        let message = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        throw Failure(message: message.isEmpty ? "unknown libpng error" : message)
    }
}
