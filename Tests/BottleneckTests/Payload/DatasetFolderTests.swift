import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite struct DatasetFolderTests {
    /// A fresh folder with a nested layout, a hidden file and a symlink to a folder.
    private func makeFolder(_ files: [String: [UInt8]]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-dir-\(UUID().uuidString)")
        for (path, bytes) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return root
    }

    @Test func sampledFilesComeFromTheFolder() throws {
        let jpeg = try PayloadPool(specs: [PayloadSpec.parse("image:w=48,aspect=1.5")], wrapping: .raw, seed: 1, size: 1).payloads[0].body
        let files: [String: [UInt8]] = [
            "a.txt": Array("hello".utf8), "sub/b.json": Array("{\"x\":1}".utf8),
            "sub/deeper/c.jpg": jpeg, ".hidden": Array("secret".utf8),
        ]
        let root = try makeFolder(files)
        defer { try? FileManager.default.removeItem(at: root) }

        let pool = try PayloadPool(specs: [PayloadSpec.parse("dir:\(root.path)")], wrapping: .raw, seed: 4, size: 40)
        let visible = files.filter { !$0.key.hasPrefix(".") }
        for payload in pool.payloads {
            #expect(payload.payloadClass == "file")
            let name = try #require(payload.label.split(separator: " ").first.map(String.init))
            let match = try #require(visible.first { $0.key.hasSuffix(name) }, "\(name) is not in the folder")
            #expect(payload.body == match.value)
        }
        let types = Set(pool.payloads.map(\.contentType))
        #expect(types == ["text/plain; charset=utf-8", "application/json", "image/jpeg"])
        let image = try #require(pool.payloads.first { $0.contentType == "image/jpeg" })
        #expect(image.width == 48 && image.height == 32 && image.label == "c.jpg 48x32")
    }

    @Test func sameSeedSamplesTheSameFiles() throws {
        let root = try makeFolder(Dictionary(uniqueKeysWithValues: (0..<20).map { ("f\($0).bin", [UInt8($0)]) }))
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = try PayloadSpec.parse("dir:\(root.path)")
        let first = try PayloadPool(specs: [spec], wrapping: .raw, seed: 8, size: 30).payloads.map(\.body)
        let again = try PayloadPool(specs: [spec], wrapping: .raw, seed: 8, size: 30).payloads.map(\.body)
        let other = try PayloadPool(specs: [spec], wrapping: .raw, seed: 9, size: 30).payloads.map(\.body)
        #expect(first == again)
        #expect(first != other)
        #expect(Set(first).count > 5, "sampling should spread over the folder")
    }

    @Test func missingFolderIsAnError() throws {
        let spec = try PayloadSpec.parse("dir:/nope/not/here")
        #expect {
            try PayloadPool(specs: [spec], wrapping: .raw, seed: 1, size: 5)
        } throws: { error in
            (error as? PayloadError)?.message
                == "payload \"dir:/nope/not/here\": folder /nope/not/here does not exist; pass a folder of sample inputs"
        }
    }

    @Test func emptyFolderAndFileAreErrors() throws {
        let root = try makeFolder(["only/.hidden": [1]])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect {
            try PayloadPool(specs: [PayloadSpec.parse("dir:\(root.path)")], wrapping: .raw, seed: 1, size: 5)
        } throws: { error in
            (error as? PayloadError)?.message.contains("has no files") == true
        }
        let file = root.appendingPathComponent("only/.hidden").path
        #expect {
            try PayloadPool(specs: [PayloadSpec.parse("dir:\(file)")], wrapping: .raw, seed: 1, size: 5)
        } throws: { error in
            (error as? PayloadError)?.message.contains("is a file, not a folder") == true
        }
    }

    @Test(arguments: [("x.JPG", "image/jpeg"), ("a.png", "image/png"), ("s.wav", "audio/wav"), ("t.npy", "application/octet-stream")])
    func contentTypeFollowsTheExtension(name: String, type: String) {
        #expect(DatasetFolder.contentType(forExtension: (name as NSString).pathExtension) == type)
    }
}
