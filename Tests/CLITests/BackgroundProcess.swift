import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program left running while the test does something else (a tcpdump recording a leg the
/// load generator's capture cannot see), then interrupted like Ctrl-C and waited for. Its
/// stderr goes to a file, so the test can wait for the line that says it is ready.
final class BackgroundProcess {
    let pid: pid_t
    private let scratch: URL
    private var exited = false

    init(_ path: String, _ arguments: [String]) throws {
        scratch = try CLI.temporaryDirectory()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, scratch.appendingPathComponent("stdout").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, scratch.appendingPathComponent("stderr").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // A program left running (a server, an agent) must not hold another test's sockets.
        try Subprocess.closeOtherDescriptors(&actions)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, path, &actions, nil, argv, environ)
        guard spawned == 0 else {
            try? FileManager.default.removeItem(at: scratch)
            throw NSError(domain: "BackgroundProcess", code: Int(spawned), userInfo: [NSLocalizedDescriptionKey: "cannot run \(path)"])
        }
        pid = child
    }

    deinit {
        _ = interrupt()
        try? FileManager.default.removeItem(at: scratch)
    }

    var stderr: String { (try? String(contentsOf: scratch.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }

    /// Waits until stderr contains `text`; false after `timeout` seconds or when the program died.
    func waitForStandardError(containing text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { exited = true; return stderr.contains(text) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// SIGINT, then waits (SIGKILL after 10 s); returns the exit status, or nil if it had already been reaped.
    @discardableResult
    func interrupt() -> Int32? {
        guard !exited else { return nil }
        exited = true
        kill(pid, SIGINT)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(10)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
