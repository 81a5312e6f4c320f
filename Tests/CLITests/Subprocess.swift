import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Spawns a program with posix_spawn and waits with waitpid. Output goes to temporary
/// files, so a chatty child can never block on a full pipe, and no run loop is involved
/// (Foundation's Process can miss SIGCHLD when many tests run at once).
enum Subprocess {
    static func run(_ path: String, _ arguments: [String], in directory: URL? = nil,
                    interruptAfter: Double? = nil) throws -> CLI.Result {
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("stdout").path
        let errPath = scratch.appendingPathComponent("stderr").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try closeOtherDescriptors(&actions)
        // posix_spawn has no portable chdir action; a shell changes directory, then execs.
        let command = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0.path, path] + arguments } ?? [path] + arguments
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw NSError(domain: "Subprocess", code: Int(spawned), userInfo: [NSLocalizedDescriptionKey: "cannot run \(path)"])
        }
        if let interruptAfter {
            Thread.sleep(forTimeInterval: interruptAfter)
            kill(pid, SIGINT)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return CLI.Result(status: exitCode, stdout: stdout, stderr: stderr)
    }

    /// Closes every descriptor from 3 up in the child (glibc 2.34+
    /// `posix_spawn_file_actions_addclosefrom_np`, looked up as Swift does not import it).
    ///
    /// All test targets run in one process on Linux, and SwiftNIO opens its sockets without
    /// close-on-exec: a `bottleneck` child would otherwise keep another test's agent listening
    /// socket, so that agent could not listen on its port again until the child exited.
    /// (BottleneckTests' `TestChildProcess` does the same for its programs.)
    static func closeOtherDescriptors(_ actions: inout posix_spawn_file_actions_t) throws {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"),
              unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3) == 0 else {
            throw NSError(domain: "Subprocess", code: Int(ENOSYS),
                          userInfo: [NSLocalizedDescriptionKey: "posix_spawn_file_actions_addclosefrom_np failed (needs glibc 2.34 or later)"])
        }
    }
}
