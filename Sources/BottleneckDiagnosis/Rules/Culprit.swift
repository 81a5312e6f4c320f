/// The part of the system a verdict blames.
///
/// A closed set on purpose: reports group verdicts by culprit and the run is marked
/// invalid when the culprit is the load generator, so a rules file cannot invent a new one.
public enum Culprit: String, Sendable, Codable, CaseIterable, Hashable {
    case model
    case preprocessing
    case server
    case proxy
    case network
    /// The client itself: its verdicts make every other number of the run untrustworthy.
    case loadGenerator = "load-generator"
}
