import Dispatch
import Foundation

/// Ctrl-C ends the current step early (the run directory stays complete); a second
/// Ctrl-C exits at once.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(_ onInterrupt: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = InterruptCount()
        source.setEventHandler {
            if count.increment() > 1 { Foundation.exit(130) }
            FileHandle.standardError.write("\ninterrupted: finishing the current step and writing the summary (Ctrl-C again to quit now)\n".data(using: .utf8)!)
            onInterrupt()
        }
        source.resume()
        self.source = source
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

private final class InterruptCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
