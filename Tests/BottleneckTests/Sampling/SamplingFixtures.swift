import Foundation
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// Paths of the captured fixture trees (Tests/BottleneckTests/Fixtures, copied as a resource).
enum SamplingFixtures {
    static var root: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    }
    /// `/proc` captured on this machine (Linux 6.18, hybrid cgroups): PID 8322 is a python
    /// server listening on 127.0.0.1:18080 and [::1]:18080 with 3 + 2 unaccepted
    /// connections, PID 8380 its child burning CPU.
    static var hybridProc: String { root + "/proc/linux-6.18-hybrid" }
    static var hybridCgroup: String { root + "/cgroup/v1-hybrid" }
    static var v2Cgroup: String { root + "/cgroup/v2-documented" }
    static let serverPID: Int32 = 8322
    static let childPID: Int32 = 8380

    static func text(_ relative: String) throws -> Substring {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)[...]
    }
}
