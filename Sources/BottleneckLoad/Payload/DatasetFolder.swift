import Foundation
import BottleneckCore

/// The regular files under a `dir:PATH` folder, listed once in a stable order.
///
/// Real inputs from the user's own dataset are the most faithful payloads there are; this
/// lists them recursively (regular files only, hidden files skipped, symlinks followed to
/// files), sorts the paths so a seed picks the same files on every machine, and reads a
/// file only when the pool samples it.
struct DatasetFolder {
    let path: String
    let files: [String]

    init(path: String, spec: String) throws(PayloadError) {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .spec(spec, "folder \(path) does not exist; pass a folder of sample inputs")
        }
        guard isDirectory.boolValue else {
            throw .spec(spec, "\(path) is a file, not a folder; pass a folder of sample inputs")
        }
        let root = URL(fileURLWithPath: path)
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else {
            throw .spec(spec, "folder \(path) cannot be read; check its permissions")
        }
        var found: [String] = []
        for case let url as URL in walker {
            let resolved = url.resolvingSymlinksInPath()
            if (try? resolved.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                found.append(url.path)
            }
        }
        guard !found.isEmpty else {
            throw .spec(spec, "folder \(path) has no files; pass a folder of sample inputs")
        }
        files = found.sorted()
    }

    /// One file, chosen uniformly with `random`.
    func pick(_ random: inout SeededRandom) -> String {
        files[random.uniform(0...(files.count - 1))]
    }

    /// The file's bytes as a payload of class `file`, typed by its extension; JPEG and PNG
    /// dimensions are read from the header so reports can still group by pixels.
    static func load(_ file: String, spec: String) throws(PayloadError) -> RawPayload {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .spec(spec, "cannot read \(file); check its permissions")
        }
        let bytes = [UInt8](data)
        let name = (file as NSString).lastPathComponent
        let type = contentType(forExtension: (name as NSString).pathExtension)
        let size = ImageHeader.dimensions(of: bytes)
        var label = name
        if let size { label += " \(size.width)x\(size.height)" }
        return RawPayload(
            payloadClass: "file", bytes: bytes, contentType: type, filename: name,
            width: size?.width ?? 0, height: size?.height ?? 0, label: label)
    }

    /// Content-Type by file extension, for the formats ML endpoints receive.
    static func contentType(forExtension ext: String) -> String {
        switch ext.lowercased() {
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "gif": "image/gif"
        case "webp": "image/webp"
        case "bmp": "image/bmp"
        case "tif", "tiff": "image/tiff"
        case "wav": "audio/wav"
        case "mp3": "audio/mpeg"
        case "flac": "audio/flac"
        case "ogg": "audio/ogg"
        case "json": "application/json"
        case "txt", "md": "text/plain; charset=utf-8"
        case "csv": "text/csv"
        case "html", "htm": "text/html; charset=utf-8"
        case "xml": "application/xml"
        case "pdf": "application/pdf"
        default: "application/octet-stream"
        }
    }
}
