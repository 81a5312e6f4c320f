/// Something that observes a run from beside the load engine — packet capture, the
/// samplers — started before the first step and stopped after the last, writing its own
/// files into the run directory. Attachments are how modules that the core library may
/// not depend on (capture needs libpcap) join a run.
public protocol RunAttachment: Sendable {
    /// A short name for messages ("capture", "sampling").
    var name: String { get }
    /// Starts observing. Returns notes for the user (e.g. evidence that will be missing);
    /// throwing aborts the run before any load is applied.
    func start(directory: RunDirectory) throws -> [String]
    /// A step is about to start (monotonic ns), so per-step aggregates can be kept.
    func stepStarted(index: Int, name: String, at: UInt64)
    /// The last step has ended: what must be fetched or awaited before `stop` is.
    func finish() async
    /// Stops observing and writes what was gathered. Returns notes for the user.
    func stop(directory: RunDirectory) -> [String]
}

extension RunAttachment {
    public func stepStarted(index: Int, name: String, at: UInt64) {}
    public func finish() async {}
}
