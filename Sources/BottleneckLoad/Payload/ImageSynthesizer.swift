/// Paints RGB pixels that a codec treats like a photograph.
///
/// Flat colour compresses to almost nothing and pure noise to almost raw size; neither
/// stresses a server's decoder or its network path the way real uploads do. A photo is
/// mostly smooth (sky, walls, skin) with edges (objects) and sensor noise and texture, so
/// this paints a lit gradient background, a handful of shaded ellipses and rectangles with
/// soft edges, a band of fine texture, and a little per-pixel noise. JPEG sizes at quality
/// 85 come out in the range of real photos (roughly 1–3 bits per pixel).
import BottleneckCore

enum ImageSynthesizer {
    /// `width × height × 3` bytes, rows top to bottom, RGB.
    static func paint(width: Int, height: Int, random: inout SeededRandom) -> [UInt8] {
        precondition(width > 0 && height > 0)
        // Painted straight into bytes (no float canvas) so an 8192² image costs its 192 MB once.
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { canvas in
            paintBackground(canvas, width, height, &random)
            let shapes = random.uniform(3...8)
            for _ in 0..<shapes {
                paintShape(canvas, width, height, &random)
            }
            var noiseState = UInt32(truncatingIfNeeded: random.next()) | 1
            let noise = Float(random.uniform(6.0...12.0))
            addNoise(canvas, &noiseState, noise)
        }
        return pixels
    }

    /// A colour as three floats 0...255.
    private typealias Colour = (Float, Float, Float)

    private static func colour(_ random: inout SeededRandom) -> Colour {
        (Float(random.uniform(0.0...255.0)), Float(random.uniform(0.0...255.0)), Float(random.uniform(0.0...255.0)))
    }

    /// Bilinear blend of four corner colours plus a soft horizontal band of texture
    /// (like foliage or fabric), so large images are not one smooth ramp.
    private static func paintBackground(
        _ canvas: UnsafeMutableBufferPointer<UInt8>, _ width: Int, _ height: Int, _ random: inout SeededRandom
    ) {
        let topLeft = colour(&random), topRight = colour(&random)
        let bottomLeft = colour(&random), bottomRight = colour(&random)
        let bandTop = random.uniform(0.4...0.8)
        let bandHeight = random.uniform(0.1...0.3)
        let bandStrength = Float(random.uniform(10.0...30.0))
        let frequencyX = Float(random.uniform(0.15...0.6))
        let frequencyY = Float(random.uniform(0.15...0.6))
        let invW = width > 1 ? 1 / Float(width - 1) : 0
        let invH = height > 1 ? 1 / Float(height - 1) : 0
        for y in 0..<height {
            let v = Float(y) * invH
            let left = (topLeft.0 + (bottomLeft.0 - topLeft.0) * v, topLeft.1 + (bottomLeft.1 - topLeft.1) * v, topLeft.2 + (bottomLeft.2 - topLeft.2) * v)
            let right = (topRight.0 + (bottomRight.0 - topRight.0) * v, topRight.1 + (bottomRight.1 - topRight.1) * v, topRight.2 + (bottomRight.2 - topRight.2) * v)
            let inBand = Double(v) >= bandTop && Double(v) < bandTop + bandHeight
            var row = y * width * 3
            for x in 0..<width {
                let u = Float(x) * invW
                var texture: Float = 0
                if inBand {
                    // Cheap quasi-periodic texture: two crossing triangle waves.
                    let a = Float(x) * frequencyX + Float(y) * 0.37
                    let b = Float(y) * frequencyY - Float(x) * 0.23
                    texture = bandStrength * (triangle(a) + triangle(b) - 1)
                }
                canvas[row] = clampByte(left.0 + (right.0 - left.0) * u + texture)
                canvas[row + 1] = clampByte(left.1 + (right.1 - left.1) * u + texture)
                canvas[row + 2] = clampByte(left.2 + (right.2 - left.2) * u + texture)
                row += 3
            }
        }
    }

    @inline(__always)
    private static func triangle(_ t: Float) -> Float {
        let f = t - t.rounded(.down)
        return f < 0.5 ? 2 * f : 2 - 2 * f
    }

    /// One ellipse or rectangle, shaded from one side, blended with a soft edge.
    private static func paintShape(
        _ canvas: UnsafeMutableBufferPointer<UInt8>, _ width: Int, _ height: Int, _ random: inout SeededRandom
    ) {
        let base = colour(&random)
        let centreX = Float(random.uniform(0.0...Double(width)))
        let centreY = Float(random.uniform(0.0...Double(height)))
        let side = Float(min(width, height))
        let radiusX = max(1, side * Float(random.uniform(0.05...0.35)))
        let radiusY = max(1, side * Float(random.uniform(0.05...0.35)))
        let isEllipse = random.uniform(0...2) > 0
        let opacity = Float(random.uniform(0.6...0.95))
        let shade = Float(random.uniform(-60.0...60.0))
        let edge: Float = 0.08  // the soft rim, as a fraction of the radius

        let x0 = max(0, Int(centreX - radiusX)), x1 = min(width - 1, Int(centreX + radiusX))
        let y0 = max(0, Int(centreY - radiusY)), y1 = min(height - 1, Int(centreY + radiusY))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            let dy = (Float(y) - centreY) / radiusY
            var index = (y * width + x0) * 3
            for x in x0...x1 {
                let dx = (Float(x) - centreX) / radiusX
                let distance = isEllipse ? (dx * dx + dy * dy).squareRoot() : max(abs(dx), abs(dy))
                if distance < 1 {
                    let rim = distance > 1 - edge ? (1 - distance) / edge : 1
                    let alpha = opacity * rim
                    let light = shade * (dx + dy) * 0.5
                    canvas[index] = blend(canvas[index], base.0 + light, alpha)
                    canvas[index + 1] = blend(canvas[index + 1], base.1 + light, alpha)
                    canvas[index + 2] = blend(canvas[index + 2], base.2 + light, alpha)
                }
                index += 3
            }
        }
    }

    /// Adds sensor-like noise (mostly luma, a little chroma) and clamps to bytes.
    /// Integer arithmetic: this touches every byte of the image, so it must be cheap.
    private static func addNoise(
        _ canvas: UnsafeMutableBufferPointer<UInt8>, _ state: inout UInt32, _ amplitude: Float
    ) {
        // Noise bytes are -128...127; scale them to ±amplitude in 8.8 fixed point.
        let lumaScale = Int32(amplitude * 2)
        let chromaScale = max(1, lumaScale * 3 / 10)
        var i = 0
        while i + 2 < canvas.count {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            let luma = (Int32(Int8(truncatingIfNeeded: state)) &* lumaScale) >> 8
            let chroma = (Int32(Int8(truncatingIfNeeded: state >> 8)) &* chromaScale) >> 8
            canvas[i] = clampByte(Int32(canvas[i]) &+ luma &+ chroma)
            canvas[i + 1] = clampByte(Int32(canvas[i + 1]) &+ luma)
            canvas[i + 2] = clampByte(Int32(canvas[i + 2]) &+ luma &- chroma)
            i += 3
        }
    }

    @inline(__always)
    private static func clampByte(_ value: Int32) -> UInt8 {
        UInt8(truncatingIfNeeded: min(max(value, 0), 255))
    }

    @inline(__always)
    private static func blend(_ under: UInt8, _ over: Float, _ alpha: Float) -> UInt8 {
        let below = Float(under)
        return clampByte(below + alpha * (over - below))
    }

    @inline(__always)
    private static func clampByte(_ value: Float) -> UInt8 {
        // Clamped first, so the conversion cannot trap; NaN cannot occur (finite inputs).
        UInt8(truncatingIfNeeded: Int32(min(max(value, 0), 255)))
    }
}
