import Foundation
import Synchronization
import Testing

/// The guarantee the agent outage tests rely on: a program another test starts holds no
/// descriptor of the test process, in particular none of an agent's sockets.
@Suite("Programs started by tests")
struct TestChildProcessTests {
    /// Opens and closes sockets without close-on-exec (as SwiftNIO opens them) on its own
    /// thread, always keeping a few open, until stopped: what the event loops of the other
    /// tests do while a test starts a program.
    final class SocketChurn: Sendable {
        private let stopped = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)

        init() {
            Thread { [self] in
                var open: [Int32] = []
                while !stopped.load(ordering: .relaxed) {
                    open.append(socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
                    if open.count > 8 { close(open.removeFirst()) }
                }
                open.forEach { close($0) }
                finished.signal()
            }.start()
        }

        func stop() {
            stopped.store(true, ordering: .relaxed)
            finished.wait()
        }
    }

    /// No child holds a socket of the test process, even with sockets being opened on
    /// another thread while it starts. (Only sockets are looked for: the child may have a
    /// file of its own open, `sleep` reading its locale as it starts.)
    @Test func childrenHoldNoSocketOfTheTests() throws {
        let churn = SocketChurn()
        defer { churn.stop() }
        for _ in 0..<40 {
            let child = try TestChildProcess("/bin/sleep", ["10"])
            defer { child.stop() }
            let directory = "/proc/\(child.pid)/fd"
            let sockets = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + $0))?.hasPrefix("socket:") ?? false
            }
            #expect(sockets.isEmpty, "descriptors \(sockets) of child \(child.pid) are sockets")
        }
    }

    @Test func outputAndExitStatusReachTheTest() throws {
        let result = try TestChildProcess.run("/bin/sh", ["-c", "echo one; echo two; exit 3"])
        #expect(result.output == "one\ntwo\n")
        #expect(result.status == 3)
        let child = try TestChildProcess("/bin/sh", ["-c", "echo ready; exec sleep 10"], captureOutput: true)
        #expect(child.readLine() == "ready")
        child.stop(signal: SIGTERM)
        #expect(child.waitForExit() == 128 + SIGTERM)
    }
}
