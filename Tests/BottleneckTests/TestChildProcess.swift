import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program a test starts, inheriting nothing of the test process but its environment:
/// stdin and stderr are `/dev/null`, stdout is a pipe to the test (or `/dev/null`), and every
/// other descriptor is closed in the child before it runs.
///
/// Why not Foundation's `Process`: on Linux it closes in the child the descriptors it saw
/// open just before spawning, so a descriptor another thread opens in between is inherited —
/// unless it has close-on-exec, and SwiftNIO opens its sockets without it. The tests share one
/// process, so a program one test started (a python server living 20 s) could keep a copy of
/// another test's agent listening socket or of a connection it had just accepted: the agent
/// stopped, yet its port stayed in LISTEN in the python process (EADDRINUSE when the agent
/// came back on it), and a response never reached end-of-file at the client (a timeout).
final class TestChildProcess {
    let pid: pid_t
    private var outputReader: Int32
    private var exitStatus: Int32?

    /// Starts `executable` (an absolute path) with `arguments`.
    /// - Parameter captureOutput: connect stdout to a pipe read by `readOutput`/`readLine`.
    init(_ executable: String, _ arguments: [String], captureOutput: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeEnds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&pipeEnds) == 0 else { throw Self.failure("pipe", errno) }
            // The reading end must not reach any child; the writing end only this one (as fd 1).
            _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        try Self.closeEverythingElse(&actions)

        // Default signal handling and an empty mask: the test thread may block signals, and a
        // child that inherits that mask ignores SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        if captureOutput { close(pipeEnds[1]) }
        guard rc == 0 else {
            if captureOutput { close(pipeEnds[0]) }
            throw Self.failure("posix_spawn \(executable)", rc)
        }
        pid = child
        outputReader = pipeEnds[0]
    }

    deinit {
        if outputReader >= 0 { close(outputReader) }
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = waitForExit()
        }
    }

    /// Everything the child wrote to stdout until it closed it (usually: until it exited).
    func readOutput() -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while outputReader >= 0 {
            let n = chunk.withUnsafeMutableBytes { read(outputReader, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first line the child writes to stdout (without the newline), nil if it closes
    /// stdout first.
    func readLine() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while outputReader >= 0 {
            let n = read(outputReader, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            if byte == 10 { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }

    /// Waits for the child; its exit code, or 128 + the signal that ended it.
    @discardableResult
    func waitForExit() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        let code = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        exitStatus = code
        return code
    }

    /// Sends `signal` and waits for the child to end.
    func stop(signal: Int32 = SIGKILL) {
        guard exitStatus == nil else { return }
        kill(pid, signal)
        waitForExit()
    }

    /// Runs a program to its end; its exit code and stdout.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let child = try TestChildProcess(executable, arguments, captureOutput: true)
        let output = child.readOutput()
        return (child.waitForExit(), output)
    }

    /// Closes every descriptor from 3 up in the child, atomically at its start: glibc's
    /// `posix_spawn_file_actions_addclosefrom_np` (2.34+; Swift does not import it, hence the
    /// lookup). Listing the open descriptors first, as Foundation does, misses those other
    /// threads open between the listing and the spawn.
    private static func closeEverythingElse(_ actions: inout posix_spawn_file_actions_t) throws {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            throw failure("posix_spawn_file_actions_addclosefrom_np (needs glibc 2.34 or later)", ENOSYS)
        }
        let rc = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
        guard rc == 0 else { throw failure("posix_spawn_file_actions_addclosefrom_np", rc) }
    }

    private static func failure(_ call: String, _ code: Int32) -> NSError {
        NSError(domain: NSPOSIXErrorDomain, code: Int(code), userInfo: [NSLocalizedDescriptionKey: "\(call): \(String(cString: strerror(code)))"])
    }
}
