#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads small kernel files (procfs, cgroupfs) with plain POSIX calls into one reusable buffer.
///
/// The sampler reads hundreds of these files per second; `String(contentsOfFile:)` would
/// allocate and stat per call, which alone would blow the 1%-of-a-core budget. One reader is
/// owned by one thread (the sampler's), hence not `Sendable`.
final class ProcFileReader {
    /// The reused read buffer; grown (never shrunk) when a file does not fit.
    private var buffer: UnsafeMutableBufferPointer<UInt8>

    init(initialCapacity: Int = 64 * 1024) {
        buffer = .allocate(capacity: max(initialCapacity, 64))
        buffer.initialize(repeating: 0)
    }

    /// Descriptors kept open between ticks.
    private var openFiles: [KeptFile: Int32] = [:]

    deinit {
        for fd in openFiles.values { close(fd) }
        buffer.deallocate()
    }

    /// What a kept descriptor is filed under: its path, or, for the files of a process read
    /// on every tick, the process, thread and file, so that finding it builds no path string.
    enum KeptFile: Hashable {
        case path(String)
        case process(pid: Int32, tid: Int32, ProcessFile)

        /// A process file hashes as one 64-bit word (a few hundred lookups per tick).
        func hash(into hasher: inout Hasher) {
            switch self {
            case .path(let path):
                hasher.combine(path)
            case .process(let pid, let tid, let file):
                hasher.combine(UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(bitPattern: tid)) << 3 | UInt64(file.rawValue))
            }
        }
    }

    /// The per-process files the sampler reads on every tick (`tid` 0: the process's own).
    enum ProcessFile: UInt8 {
        case stat, status, schedstat, children, fdDirectory
    }

    /// Reads the whole file as text.
    func read(_ path: String, singleShot: Bool = false, keepOpen: Bool = false) throws(SamplerError) -> String {
        String(decoding: try readBytes(path, singleShot: singleShot, keepOpen: keepOpen), as: UTF8.self)
    }

    /// Reads the whole file into the reused buffer and returns its bytes, which stay valid
    /// only until the next call on this reader: parse them at once (the `bytes:` parsers),
    /// so the hot path builds no `String` at all.
    ///
    /// - Parameters:
    ///   - singleShot: the file is generated in one go by the kernel (`single_open`:
    ///     `/proc/PID/stat`, `status`, `schedstat`, cgroup files), so a short read is the whole
    ///     file and the extra `read` that would return 0 can be skipped. Record-by-record files
    ///     (`/proc/net/tcp`) must be read until EOF.
    ///   - keepOpen: keep the descriptor and `pread` from offset 0 next time. procfs
    ///     regenerates the text on every read from 0, and skipping `openat` (a path walk with
    ///     PID revalidation) halves the cost of a tick. A kept descriptor of a process that
    ///     exited fails with ESRCH, even if the PID was reused, so it cannot read a stranger.
    func readBytes(_ path: String, singleShot: Bool = false, keepOpen: Bool = false) throws(SamplerError) -> UnsafeBufferPointer<UInt8> {
        try readBytes(keepOpen ? .path(path) : nil, path: path, singleShot: singleShot)
    }

    /// `readBytes` of a per-process file, kept open under `file` (`path` is only built to open it).
    func readBytes(_ file: ProcessFile, pid: Int32, tid: Int32 = 0, path: () -> String) throws(SamplerError) -> UnsafeBufferPointer<UInt8> {
        let key = KeptFile.process(pid: pid, tid: tid, file)
        if openFiles[key] != nil { return try readBytes(key, path: "", singleShot: true) }
        return try readBytes(key, path: path(), singleShot: true)
    }

    private func readBytes(_ key: KeptFile?, path: String, singleShot: Bool) throws(SamplerError) -> UnsafeBufferPointer<UInt8> {
        var fd: Int32
        if let key, let cached = openFiles[key] {
            fd = cached
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw SamplerError.fromErrno(errno, path: path) }
            if let key { openFiles[key] = fd }
        }
        defer { if key == nil { close(fd) } }
        var used = 0
        while true {
            if used == buffer.count { grow() }
            let requested = buffer.count - used
            let n = pread(fd, buffer.baseAddress! + used, requested, off_t(used))
            if n < 0 {
                let err = errno
                if err == EINTR { continue }
                if let key {
                    close(fd)
                    openFiles[key] = nil
                }
                throw SamplerError.fromErrno(err, path: path.isEmpty ? Self.describe(key) : path)
            }
            if n == 0 { break }
            used += n
            if singleShot && n < requested { break }
        }
        return UnsafeBufferPointer(rebasing: buffer[0..<used])
    }

    /// A readable name for a kept file in an error message.
    private static func describe(_ key: KeptFile?) -> String {
        switch key {
        case .path(let path): path
        case .process(let pid, let tid, let file): tid == 0 ? "\(file) of process \(pid)" : "\(file) of thread \(tid) of process \(pid)"
        case nil: "file"
        }
    }

    private func grow() {
        let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count * 2)
        larger.initialize(repeating: 0)
        _ = larger.update(fromContentsOf: buffer)
        buffer.deallocate()
        buffer = larger
    }

    /// Closes the kept descriptors of a process that exited: its per-process files and
    /// those of paths starting with `prefix`.
    func closeFiles(of pid: Int32, under prefix: String) {
        for (key, fd) in openFiles {
            let belongs: Bool
            switch key {
            case .path(let path): belongs = path.hasPrefix(prefix)
            case .process(let owner, _, _): belongs = owner == pid
            }
            if belongs {
                close(fd)
                openFiles[key] = nil
            }
        }
    }

    /// Number of kept descriptors (tests check that exits release them).
    var keptOpenCount: Int { openFiles.count }

    /// The numeric entries (PIDs, TIDs) of a directory, in no particular order.
    func numericEntries(_ path: String) throws(SamplerError) -> [Int32] {
        guard let dir = opendir(path) else { throw SamplerError.fromErrno(errno, path: path) }
        defer { closedir(dir) }
        var result: [Int32] = []
        while let entry = readdir(dir) {
            let value: Int32? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                var v: Int32 = 0
                var digits = 0
                for byte in raw {
                    if byte == 0 { break }
                    guard byte >= 48 && byte <= 57 else { return nil }
                    v = v &* 10 &+ Int32(byte - 48)
                    digits += 1
                }
                return digits > 0 ? v : nil
            }
            if let value { result.append(value) }
        }
        return result
    }

    /// The target of a symbolic link (`/proc/PID/fd/N`, `/proc/PID/ns/net`), or nil if it is gone.
    func readLink(_ path: String) -> String? {
        let n = buffer.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<n]), as: UTF8.self)
    }

    /// The number of open file descriptors of a process.
    ///
    /// Since Linux 6.2 `stat(/proc/PID/fd)` reports the count as its size, one syscall instead of
    /// listing the directory; older kernels report 0 and we fall back to counting entries.
    func openFileCount(pid: Int32, fdDirectory: () -> String) throws(SamplerError) -> Int {
        let key = KeptFile.process(pid: pid, tid: 0, .fdDirectory)
        var fd: Int32
        if let cached = openFiles[key] {
            fd = cached
        } else {
            let path = fdDirectory()
            fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { throw SamplerError.fromErrno(errno, path: path) }
            openFiles[key] = fd
        }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let err = errno
            close(fd)
            openFiles[key] = nil
            throw SamplerError.fromErrno(err, path: fdDirectory())
        }
        if st.st_size > 0 { return Int(st.st_size) }
        return try numericEntries(fdDirectory()).count
    }

    /// The number of a process's open file descriptors that are sockets (`socket:[inode]`).
    func socketCount(fdDirectory: String) throws(SamplerError) -> Int {
        var sockets = 0
        for entry in try numericEntries(fdDirectory) {
            if let target = readLink(fdDirectory + "/" + String(entry)), target.hasPrefix("socket:") { sockets += 1 }
        }
        return sockets
    }

    /// Whether a path exists (used once per cgroup to pick the v1 mount or the v2 tree).
    func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}

