/// The tool's version, written into every run directory and the User-Agent.
public enum BottleneckVersion: Sendable {
    public static let current = "0.1.0"
}
