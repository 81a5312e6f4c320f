import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite struct PayloadSpecTests {
    @Test(arguments: [
        ("image:w=64..4096,aspect=0.5..2,format=jpeg,dist=lognormal",
         PayloadSpec.Kind.image(ImageSpec(width: 64...4096, aspect: 0.5...2, formats: [.jpeg], distribution: .logNormal)), 1.0),
        ("image:w=640,format=png,weight=3",
         .image(ImageSpec(width: 640...640, formats: [.png])), 3.0),
        ("image:format=jpeg|png,quality=50",
         .image(ImageSpec(formats: [.jpeg, .png], quality: 50)), 1.0),
        ("image", .image(ImageSpec()), 1.0),
        ("text:tokens=16..2048", .text(TextSpec(tokens: 16...2048)), 1.0),
        ("text:tokens=100,weight=0.5", .text(TextSpec(tokens: 100...100)), 0.5),
        ("audio:seconds=1..30,rate=16000", .audio(AudioSpec(seconds: 1...30, rate: 16000...16000)), 1.0),
        ("audio:seconds=2.5,rate=8000..48000", .audio(AudioSpec(seconds: 2.5...2.5, rate: 8000...48000)), 1.0),
        ("tensor:shape=1x3x224x224,dtype=float32,encoding=binary",
         .tensor(TensorSpec(shape: [1...1, 3...3, 224...224, 224...224], dtype: .float32, encoding: .binary)), 1.0),
        ("tensor:shape=1..8x128,dtype=int64,encoding=json",
         .tensor(TensorSpec(shape: [1...8, 128...128], dtype: .int64, encoding: .json)), 1.0),
        ("dir:/data/samples", .directory(path: "/data/samples"), 1.0),
        ("dir:/data/a,b,weight=2", .directory(path: "/data/a,b"), 2.0),
    ])
    func parsesValidSpecs(text: String, kind: PayloadSpec.Kind, weight: Double) throws {
        let spec = try PayloadSpec.parse(text)
        #expect(spec.kind == kind)
        #expect(spec.weight == weight)
        #expect(spec.source == text)
    }

    /// Each bad spec must fail with one line naming the field (or kind) and its accepted form.
    @Test(arguments: [
        ("image:w=abc", "payload \"image:w=abc\": w must be a pixel width or range like 64..4096"),
        ("image:w=900..100", "w must be a pixel width or range"),
        ("image:w=10000", "w must be between 1 and 8192"),
        ("image:w=8192,aspect=0.5", "keep width and height at most 8192"),
        ("image:aspect=wide", "aspect must be a width/height ratio"),
        ("image:format=gif", "format must be jpeg, png or jpeg|png"),
        ("image:quality=101", "quality must be between 1 and 100"),
        ("image:dist=normal", "dist must be uniform or lognormal"),
        ("image:widht=64", "unknown key \"widht\" for image; use w, aspect"),
        ("image:w=64,w=128", "w is given twice"),
        ("image:w", "\"w\" must be key=value"),
        ("image:weight=0", "weight must be a positive number"),
        ("image:weight=-1", "weight must be a positive number"),
        ("text:tokens=lots", "tokens must be a token count or range like 16..2048"),
        ("audio:seconds=0..x", "seconds must be a duration in seconds"),
        ("audio:rate=100", "rate must be between 1000 and 384000"),
        ("audio:seconds=3600,rate=384000", "seconds × rate is too long"),
        ("tensor:shape=1x0x3", "shape must be dimensions joined by x"),
        ("tensor:shape=axb", "shape must be dimensions joined by x"),
        ("tensor:shape=100000x100000", "shape has too many elements"),
        ("tensor:dtype=bf16", "dtype must be float32 or float64 or int32 or int64 or uint8"),
        ("tensor:encoding=xml", "encoding must be json or binary"),
        ("foo:x=1", "payload \"foo:x=1\": unknown kind \"foo\"; use image, text, audio, tensor, kserve-v2 or dir:PATH"),
        ("dir:", "dir needs a folder"),
        ("dir:/data,weight=many", "weight must be a positive number"),
    ])
    func rejectsInvalidSpecs(text: String, expected: String) {
        do {
            _ = try PayloadSpec.parse(text)
            Issue.record("\(text) was accepted")
        } catch let error as PayloadError {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.message.hasPrefix("payload \"\(text)\": "))
            #expect(!error.message.contains("\n"))
            #expect(error.exitCode == 2)
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }
}
