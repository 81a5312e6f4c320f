import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite struct GeneratedContentTests {
    private func only(_ spec: String, size: Int = 1, seed: UInt64 = 9) throws -> [Payload] {
        try PayloadPool(specs: [PayloadSpec.parse(spec)], wrapping: .raw, seed: seed, size: size).payloads
    }

    private func le(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        (0..<count).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }

    @Test(arguments: [(2.0, 16000), (1.5, 8000), (0.25, 44100)])
    func wavHeaderAndLengthAreCorrect(seconds: Double, rate: Int) throws {
        let payload = try #require(try only("audio:seconds=\(seconds),rate=\(rate)").first)
        let wav = payload.body
        let samples = Int((seconds * Double(rate)).rounded())
        #expect(wav.count == samples * 2 + 44)
        #expect(Array(wav[0..<4]) == Array("RIFF".utf8))
        #expect(le(wav, 4, 4) == wav.count - 8)
        #expect(Array(wav[8..<16]) == Array("WAVEfmt ".utf8))
        #expect(le(wav, 16, 4) == 16)  // PCM fmt chunk
        #expect(le(wav, 20, 2) == 1)  // PCM
        #expect(le(wav, 22, 2) == 1)  // mono
        #expect(le(wav, 24, 4) == rate)
        #expect(le(wav, 28, 4) == rate * 2)  // byte rate
        #expect(le(wav, 32, 2) == 2)  // block align
        #expect(le(wav, 34, 2) == 16)  // bits per sample
        #expect(Array(wav[36..<40]) == Array("data".utf8))
        #expect(le(wav, 40, 4) == samples * 2)
        #expect(payload.contentType == "audio/wav")
        #expect(payload.payloadClass == "audio")
    }

    @Test func wavCarriesSignalNotSilenceOrClipping() throws {
        let wav = try #require(try only("audio:seconds=1,rate=16000").first).body
        let samples = stride(from: 44, to: wav.count, by: 2).map { Int(Int16(bitPattern: UInt16(wav[$0]) | UInt16(wav[$0 + 1]) << 8)) }
        let rms = (Double(samples.map { $0 * $0 }.reduce(0, +)) / Double(samples.count)).squareRoot()
        #expect(rms > 500 && rms < 16000, "rms \(rms)")
        #expect(samples.filter { abs($0) >= 32767 }.count < samples.count / 100)
    }

    @Test(arguments: [
        ("1x3x224x224", "float32", 1 * 3 * 224 * 224 * 4),
        ("2x5", "float64", 80),
        ("4x16", "int32", 256),
        ("3x7", "int64", 168),
        ("8x8x3", "uint8", 192),
    ])
    func binaryTensorLengthIsElementsTimesSize(shape: String, dtype: String, bytes: Int) throws {
        let payload = try #require(try only("tensor:shape=\(shape),dtype=\(dtype),encoding=binary").first)
        #expect(payload.body.count == bytes)
        #expect(payload.contentType == "application/octet-stream")
    }

    @Test func binaryFloat32ValuesAreFiniteAndSpread() throws {
        let body = try #require(try only("tensor:shape=1000,encoding=binary").first).body
        let values = stride(from: 0, to: body.count, by: 4).map { Float(bitPattern: UInt32(le(body, $0, 4))) }
        #expect(values.allSatisfy { $0.isFinite })
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
        #expect(abs(mean) < 0.2 && variance > 0.7 && variance < 1.3, "mean \(mean) variance \(variance)")
    }

    @Test(arguments: ["float32", "int64", "uint8"])
    func jsonTensorParsesWithShapeAndData(dtype: String) throws {
        let payload = try #require(try only("tensor:shape=2x3x4,dtype=\(dtype),encoding=json").first)
        #expect(payload.contentType == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(payload.body)) as? [String: Any])
        #expect(object["shape"] as? [Int] == [2, 3, 4])
        #expect(object["dtype"] as? String == dtype)
        let data = try #require(object["data"] as? [NSNumber])
        #expect(data.count == 24)
        if dtype == "uint8" { #expect(data.allSatisfy { (0...255).contains($0.intValue) }) }
    }

    @Test func varyingBatchDimensionStaysInRange() throws {
        let payloads = try only("tensor:shape=1..4x10,encoding=binary", size: 30)
        let batches = Set(payloads.map { $0.body.count / 40 })
        #expect(batches.isSubset(of: [1, 2, 3, 4]))
        #expect(batches.count > 1)
    }

    @Test(arguments: [1, 2, 16, 100, 2048])
    func textHasExactlyTheTokenCount(tokens: Int) throws {
        let payload = try #require(try only("text:tokens=\(tokens)").first)
        let text = String(decoding: payload.body, as: UTF8.self)
        let words = text.split { !$0.isLetter }.count
        let marks = text.filter { $0 == "," || $0 == "." }.count
        #expect(words + marks == tokens)
        #expect(payload.contentType == "text/plain; charset=utf-8")
        #expect(payload.label == "text \(tokens) tokens")
    }

    @Test func textIsMadeOfRealWordsAndSentences() throws {
        let text = String(decoding: try #require(try only("text:tokens=300").first).body, as: UTF8.self)
        let vocabulary = Set(WordList.words.map { $0.lowercased() })
        let words = text.split { !$0.isLetter }.map { $0.lowercased() }
        #expect(words.allSatisfy(vocabulary.contains))
        #expect(Set(words).count > 60, "vocabulary too small")
        #expect(text.first?.isUppercase == true)
        #expect(text.filter { $0 == "." }.count >= 10)
    }
}
