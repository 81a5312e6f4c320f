#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated POSIX thread plus the mutex/condition pair used to wake it.
///
/// Sampling does blocking file I/O on a fixed cadence; on the Swift concurrency pool it
/// would steal a cooperative thread from the load engine and drift with the pool's load.
/// `@unchecked Sendable`: every mutable field is guarded by `mutex`.
final class SamplerThread: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var thread: pthread_t?
    /// Kernel thread id of the sampler (for `/proc/self/task/TID/stat`), 0 until it runs.
    private var kernelThreadID: Int32 = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Wakes the thread if it is waiting.
    func signal() {
        pthread_mutex_lock(&mutex)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Waits (with the lock held by the caller's `withLock`) until `deadline` (CLOCK_MONOTONIC ns) or a signal.
    func waitLocked(until deadline: UInt64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        _ = pthread_cond_timedwait(&condition, &mutex, &ts)
    }

    var threadID: Int32 { withLock { kernelThreadID } }

    func start(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body, owner: self)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            let tid = SamplerThread.currentKernelThreadID()
            body.owner.withLock { body.owner.kernelThreadID = tid }
            body.run()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        withLock { thread = handle }
    }

    func join() {
        guard let handle = withLock({ thread }) else { return }
        pthread_join(handle, nil)
        withLock { thread = nil }
    }

    /// The calling thread's kernel id, from the `/proc/thread-self` link (`PID/task/TID`):
    /// Glibc's `gettid()` is not imported into Swift and `syscall` is variadic.
    static func currentKernelThreadID() -> Int32 {
        guard let link = ProcFileReader(initialCapacity: 64).readLink("/proc/thread-self"),
              let slash = link.lastIndex(of: "/"), let tid = Int32(link[link.index(after: slash)...]) else { return 0 }
        return tid
    }

    private final class Body {
        let run: @Sendable () -> Void
        let owner: SamplerThread
        init(_ run: @escaping @Sendable () -> Void, owner: SamplerThread) {
            self.run = run
            self.owner = owner
        }
    }
}
