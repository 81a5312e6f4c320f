import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite struct ImagePayloadTests {
    private func pool(_ spec: String, size: Int, seed: UInt64 = 7) throws -> PayloadPool {
        try PayloadPool(specs: [PayloadSpec.parse(spec)], wrapping: .raw, seed: seed, size: size)
    }

    /// A server decodes these with the same libraries: the decoded size must be exactly
    /// what the payload claims, and the claim must match the spec.
    @Test(arguments: ["jpeg", "png"])
    func generatedImagesDecodeToTheirStatedSize(format: String) throws {
        let pool = try pool("image:w=33..300,aspect=0.5..2,format=\(format)", size: 12)
        for payload in pool.payloads {
            let decoded = format == "jpeg"
                ? TestDecoders.decodeJPEG(payload.body) : TestDecoders.decodePNG(payload.body)
            let image = try #require(decoded, "\(payload.label) did not decode")
            #expect(image.width == payload.width)
            #expect(image.height == payload.height)
            #expect(image.components == 3)
            #expect(image.pixelBytes == payload.pixels * 3)
            #expect(payload.pixels == payload.width * payload.height)
            #expect((33...300).contains(payload.width))
            #expect(payload.contentType == "image/\(format)")
            #expect(payload.payloadClass == "image")
            #expect(payload.label == "\(format) \(payload.width)x\(payload.height)")
            #expect(payload.rawBytes == payload.body.count)
        }
    }

    @Test func exactWidthAndAspectGiveExactSize() throws {
        let pool = try pool("image:w=640,aspect=1.3333333", size: 2)
        for payload in pool.payloads {
            let image = try #require(TestDecoders.decodeJPEG(payload.body))
            #expect(image.width == 640)
            #expect(image.height == 480)
        }
    }

    @Test func aspectRangeIsRespectedAndBothEndsAreReached() throws {
        let pool = try pool("image:w=64..128,aspect=0.5..2", size: 60)
        let ratios = pool.payloads.map { Double($0.width) / Double($0.height) }
        // Rounding the height to whole pixels moves the ratio by at most one pixel's worth.
        for (ratio, payload) in zip(ratios, pool.payloads) {
            let slack = ratio / Double(payload.height)
            #expect(ratio >= 0.5 - slack && ratio <= 2 + slack, "\(payload.label)")
        }
        #expect(ratios.contains { $0 < 0.8 }, "no portrait images in 60 draws")
        #expect(ratios.contains { $0 > 1.25 }, "no landscape images in 60 draws")
    }

    /// Realistic sizes: neither flat colour (tiny files) nor noise (near raw size).
    @Test func jpegSizesLookLikePhotos() throws {
        let pool = try pool("image:w=512,aspect=1", size: 4)
        for payload in pool.payloads {
            let bitsPerPixel = Double(payload.body.count * 8) / Double(payload.pixels)
            #expect(bitsPerPixel > 0.4 && bitsPerPixel < 6, "\(payload.label): \(bitsPerPixel) bpp")
        }
    }

    @Test func lowerQualityGivesSmallerFiles() throws {
        let high = try pool("image:w=400,aspect=1,quality=95", size: 3, seed: 11)
        let low = try pool("image:w=400,aspect=1,quality=20", size: 3, seed: 11)
        for (h, l) in zip(high.payloads, low.payloads) {
            #expect(l.body.count < h.body.count / 2)
        }
    }

    @Test func pngIsLosslessButCompressed() throws {
        let pool = try pool("image:w=256,aspect=1,format=png", size: 2)
        for payload in pool.payloads {
            #expect(payload.body.count < payload.pixels * 3, "PNG no smaller than raw pixels")
            #expect(payload.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }

    @Test func mixedFormatsProduceBoth() throws {
        let pool = try pool("image:w=32..64,format=jpeg|png", size: 30)
        let types = Set(pool.payloads.map(\.contentType))
        #expect(types == ["image/jpeg", "image/png"])
    }

    @Test func headerReaderAgreesWithDecoder() throws {
        let pool = try pool("image:w=50..200,format=jpeg|png", size: 10)
        for payload in pool.payloads {
            let size = try #require(ImageHeader.dimensions(of: payload.body))
            #expect(size.width == payload.width && size.height == payload.height)
        }
        #expect(ImageHeader.dimensions(of: Array("not an image".utf8)) == nil)
    }
}
