#if canImport(Glibc)
import Glibc
import BottleneckCore
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The agent's sampling: one `SamplingSession` at a time, running continuously, whose
/// lines land in a `SampleRing` instead of a file.
///
/// The session writes to a pipe (its output path is `/proc/self/fd/N` of the pipe's write
/// end), and a reader thread splits what arrives into lines. The sampler code is exactly
/// the one `bottleneck load` runs locally; only where its bytes go differs. Reconfiguring
/// drains the old session completely before the new one's lines are read, so the sequence
/// of lines is the order they were taken in.
public final class AgentSampler: Sendable {
    /// The lines sampled so far, for `/v1/samples` and `/metrics`.
    public let ring: SampleRing
    private let current = Mutex<Running?>(nil)
    /// Serialises reconfiguration (which blocks on draining) without holding `current`.
    private let reconfiguring = Mutex(())

    private final class Running: Sendable {
        let session: SamplingSession
        let readerDone: DispatchSemaphore
        let configuration: SamplerConfiguration
        init(session: SamplingSession, readerDone: DispatchSemaphore, configuration: SamplerConfiguration) {
            self.session = session
            self.readerDone = readerDone
            self.configuration = configuration
        }
    }

    public init(ring: SampleRing = SampleRing()) {
        self.ring = ring
    }

    /// The configuration being sampled, if started.
    public var configuration: SamplerConfiguration? { current.withLock { $0?.configuration } }

    /// Starts sampling `configuration` (as the agent: `source` = `agent`, the agent's own
    /// process not sampled as a client), replacing what was sampled before. Returns the
    /// sequence number of the last line of the previous session: the new session's lines
    /// (its `header` first) come after it. Throws, leaving the old session running, when
    /// the new one cannot start (no process listens on a server port, a PID is gone).
    @discardableResult
    public func configure(_ configuration: SamplerConfiguration) throws -> UInt64 {
        var configuration = configuration
        configuration.source = "agent"
        configuration.sampleSelf = false
        configuration.yieldsToEventLoops = false
        configuration.targetPorts = []
        return try reconfiguring.withLock { _ throws -> UInt64 in
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else {
                throw SamplerError(.badConfiguration, "cannot create a pipe for samples: \(String(cString: strerror(errno)))", errno: errno)
            }
            let readFD = fds[0], writeFD = fds[1]
            _ = fcntl(readFD, F_SETFD, FD_CLOEXEC)
            _ = fcntl(writeFD, F_SETFD, FD_CLOEXEC)
            let session: SamplingSession
            do {
                // Opening the fd's /proc link opens the same pipe; the session owns that
                // descriptor and closes it when it is released, which ends the reader.
                session = try SamplingSession(configuration: configuration, outputPath: "/proc/self/fd/\(writeFD)",
                                              now: MonotonicClock.now)
                close(writeFD)
            } catch {
                close(writeFD)
                close(readFD)
                throw error
            }
            // Drain and retire the previous session before any of the new one's lines are read.
            retireCurrent()?.wait()
            let before = ring.latestSequence
            let done = DispatchSemaphore(value: 0)
            let ring = self.ring
            let reader = Thread {
                Self.readLines(from: readFD, into: ring)
                close(readFD)
                done.signal()
            }
            reader.name = "bottleneck-agent-reader"
            reader.start()
            session.start()
            current.withLock { $0 = Running(session: session, readerDone: done, configuration: configuration) }
            return before
        }
    }

    /// Marks the start of a load step in the sample stream (a `step` record).
    public func markStep(_ index: Int, name: String) {
        current.withLock { $0 }?.session.markStep(index, name: name)
    }

    /// Stops sampling and waits until every line taken is in the ring.
    public func stop() {
        reconfiguring.withLock { _ in retireCurrent()?.wait() }
    }

    /// Stops the current session and lets go of it; returns what signals once its reader
    /// has put every line in the ring. The reader ends at end of file, which comes when the
    /// session — and with it the writer's descriptor — is released, i.e. when this
    /// function's reference goes out of scope; so callers wait only after it returns.
    private func retireCurrent() -> DispatchSemaphore? {
        guard let old = current.withLock({ running -> Running? in defer { running = nil }; return running }) else { return nil }
        _ = old.session.stop()
        return old.readerDone
    }

    private static func readLines(from fd: Int32, into ring: SampleRing) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: chunk[0..<n])
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                if newline > start { ring.append(line: pending[start..<newline]) }
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { ring.append(line: pending) }
    }
}
