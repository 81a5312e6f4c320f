import BottleneckCore
import Foundation
import Synchronization

/// A recorded run directory, for reading: the only reader of its files, each read once (on
/// first use) however many parts of the analysis and the report ask for it.
public final class RunRecord: Sendable {
    public let directory: String
    /// `summary.json`, which every run directory has.
    public let summary: RunSummary
    private let cache = Mutex<[RunFile: Data?]>([:])

    /// Opens `directory` and reads its summary.
    ///
    /// - Throws: `AnalysisError`-like ``RunRecordError`` (exit 2) when it is not a run directory.
    public init(directory: String) throws(RunRecordError) {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunRecordError("\(directory): no such directory; give a run directory bottleneck wrote (runs/<time>-<name>/)")
        }
        guard let data = FileManager.default.contents(atPath: RunFile.summary.path(in: directory)) else {
            if FileManager.default.fileExists(atPath: RunFile.connections.path(in: directory)) {
                throw RunRecordError("\(directory) is a connections probe, not a load run: show it with bottleneck probe connections --from \(directory)")
            }
            throw RunRecordError("\(directory): no summary.json; give the directory a bottleneck run wrote (runs/<time>-<name>/)")
        }
        do {
            summary = try RunJSON.decode(RunSummary.self, from: data)
        } catch {
            throw RunRecordError("\(directory)/summary.json does not parse (\(error)); was it written by a newer bottleneck?")
        }
    }

    /// The bytes of `file`, or nil when the run has none (read once, then kept).
    public func data(_ file: RunFile) -> Data? {
        if let known = cache.withLock({ $0[file] }) { return known }
        let data = FileManager.default.contents(atPath: file.path(in: directory))
        cache.withLock { $0[file] = data }
        return data
    }

    /// `run.json`; nil when the run lacks it (older or partial runs) or it does not decode.
    public var description: RunDescription? {
        data(.description).flatMap { try? RunJSON.decode(RunDescription.self, from: $0) }
    }

    /// A JSON document of the run decoded as `type`, nil when the file is absent.
    ///
    /// - Throws: ``RunRecordError`` naming the file when it is there but does not decode.
    public func decode<T: Decodable>(_ type: T.Type, from file: RunFile) throws(RunRecordError) -> T? {
        guard let data = data(file) else { return nil }
        do {
            return try RunJSON.decode(type, from: data)
        } catch {
            throw RunRecordError("\(file.path(in: directory)) does not decode (\(error)); was it written by a newer bottleneck?")
        }
    }

    /// The bypass run (`--backend`) inside this one, when it was made and is readable.
    public var bypass: RunRecord? {
        try? RunRecord(directory: directory + "/" + RunFile.bypassDirectory)
    }
}

/// A run directory that cannot be read: one line naming the directory or file and what to give instead.
public struct RunRecordError: UserFacingError {
    public let message: String
    public var exitCode: Int32 { 2 }
    public var description: String { message }

    public init(_ message: String) { self.message = message }
}
