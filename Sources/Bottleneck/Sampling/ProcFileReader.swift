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
    private var buffer: [UInt8]

    init(initialCapacity: Int = 64 * 1024) {
        buffer = [UInt8](repeating: 0, count: initialCapacity)
    }

    /// Files kept open between ticks: path → descriptor.
    private var openFiles: [String: Int32] = [:]

    deinit {
        for fd in openFiles.values { close(fd) }
    }

    /// Reads the whole file as text.
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
    func read(_ path: String, singleShot: Bool = false, keepOpen: Bool = false) throws(SamplerError) -> String {
        var fd: Int32
        if keepOpen, let cached = openFiles[path] {
            fd = cached
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw SamplerError.fromErrno(errno, path: path) }
            if keepOpen { openFiles[path] = fd }
        }
        defer { if !keepOpen { close(fd) } }
        var used = 0
        while true {
            if used == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let requested = buffer.count - used
            let offset = used
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + offset, requested, off_t(offset))
            }
            if n < 0 {
                let err = errno
                if err == EINTR { continue }
                if keepOpen {
                    close(fd)
                    openFiles[path] = nil
                }
                throw SamplerError.fromErrno(err, path: path)
            }
            if n == 0 { break }
            used += n
            if singleShot && n < requested { break }
        }
        return buffer.withUnsafeBufferPointer { String(decoding: $0[0..<used], as: UTF8.self) }
    }

    /// Closes the kept descriptors of paths starting with `prefix` (a process that exited).
    func closeFiles(under prefix: String) {
        for (path, fd) in openFiles where path.hasPrefix(prefix) {
            close(fd)
            openFiles[path] = nil
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
        let n = buffer.withUnsafeMutableBytes { raw in
            readlink(path, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard n > 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(decoding: $0[0..<n], as: UTF8.self) }
    }

    /// The number of open file descriptors of a process.
    ///
    /// Since Linux 6.2 `stat(/proc/PID/fd)` reports the count as its size, one syscall instead of
    /// listing the directory; older kernels report 0 and we fall back to counting entries.
    func openFileCount(_ fdDirectory: String) throws(SamplerError) -> Int {
        var fd: Int32
        if let cached = openFiles[fdDirectory] {
            fd = cached
        } else {
            fd = open(fdDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { throw SamplerError.fromErrno(errno, path: fdDirectory) }
            openFiles[fdDirectory] = fd
        }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let err = errno
            close(fd)
            openFiles[fdDirectory] = nil
            throw SamplerError.fromErrno(err, path: fdDirectory)
        }
        if st.st_size > 0 { return Int(st.st_size) }
        return try numericEntries(fdDirectory).count
    }

    /// Whether a path exists (used once per cgroup to pick the v1 mount or the v2 tree).
    func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}

