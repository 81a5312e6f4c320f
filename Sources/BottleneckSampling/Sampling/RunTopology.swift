/// Who serves the target, as found on this host through the listening sockets
/// (``ServiceLocator``): the service itself, or a reverse proxy in front of it.
public struct RunTopology: Sendable, Codable, Equatable {
    /// `service` when the target's listener is the service, `proxy` when it is a reverse proxy,
    /// nil when nothing on this host listens there.
    public var targetServedBy: String?
    /// The lines saying what was found and sampled.
    public var notes: [String]

    public init(targetServedBy: String?, notes: [String]) {
        self.targetServedBy = targetServedBy
        self.notes = notes
    }
}
