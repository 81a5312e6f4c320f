// The overhead benchmark of the samplers (issue part 5): `swift run -c release SamplingOverhead [N] [HZ] [SECONDS]`.
import BottleneckSampling
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let processes = arguments.count > 0 ? arguments[0] : 50
let hz = arguments.count > 1 ? arguments[1] : 4
let seconds = arguments.count > 2 ? arguments[2] : 60
let result = try runSamplingOverheadBenchmark(processes: processes, hz: hz, seconds: seconds)
let percent = result.fractionOfOneCore * 100
print("sampled \(processes) processes at \(hz) Hz for \(seconds) s: sampler thread used \(result.cpuSecondsOfSamplerThread) s of CPU = \(percent)% of one core (budget 1%)")
if result.fractionOfOneCore >= 0.01 { exit(1) }
