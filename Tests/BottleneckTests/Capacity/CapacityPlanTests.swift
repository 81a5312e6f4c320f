@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Testing

@Suite("CapacityPlan")
struct CapacityPlanTests {
    @Test func workedExample() throws {
        // 1200 / (160 × 0.7) = 10.7 → 11 instances of 2 cores.
        let plan = try CapacityPlan(capacityPerInstance: 160, coresPerInstance: 2, peakRate: 1_200, headroom: 0.3,
                                    coreHourPrice: 0.04)
        #expect(plan.instances == 11)
        #expect(plan.totalCores == 22)
        #expect(plan.capacityPerCore == 80)
        #expect(abs(plan.costPerHour! - 0.88) < 1e-12)
        #expect(abs(plan.costPerMonth! - 642.40) < 1e-9)
        #expect(abs(plan.utilisationAtPeak - 1_200.0 / 1_760) < 1e-12)
        #expect(plan.assumptions.contains { $0.contains("same hardware") })
        #expect(plan.assumptions.contains { $0.contains("linearly") })
        #expect(plan.assumptions.contains { $0.contains("payload mix") })
        #expect(plan.assumptions.contains { $0.contains("cache") })
        #expect(plan.unknowns.isEmpty)
    }

    @Test func exactFitDoesNotRoundUpFromFloatNoise() throws {
        // 1120 / (160 × 0.7) is exactly 10, though 160 × 0.7 is 111.99999999999999 in binary.
        let plan = try CapacityPlan(capacityPerInstance: 160, coresPerInstance: 2, peakRate: 1_120, headroom: 0.3)
        #expect(plan.instances == 10)
        #expect(plan.costPerHour == nil && plan.costPerMonth == nil)
        #expect(plan.unknowns.contains { $0.contains("--core-hour-price") })
    }

    @Test func smallPeakStillNeedsOneInstance() throws {
        let plan = try CapacityPlan(capacityPerInstance: 500, coresPerInstance: 4, peakRate: 3, headroom: 0,
                                    coreHourPrice: 0, unknowns: ["Traffic growth next quarter."])
        #expect(plan.instances == 1 && plan.totalCores == 4 && plan.costPerMonth == 0)
        #expect(plan.unknowns == ["Traffic growth next quarter."])
    }

    @Test("rejects input it cannot plan with", arguments: [
        (0.0, 2.0, 100.0, 0.3, nil as Double?), (160, 0, 100, 0.3, nil), (160, 2, -1, 0.3, nil),
        (160, 2, 100, 1, nil), (160, 2, 100, -0.1, nil), (.nan, 2, 100, 0.3, nil), (160, 2, 100, 0.3, -0.04),
    ])
    func rejects(_ input: (Double, Double, Double, Double, Double?)) {
        #expect(throws: CapacityError.self) {
            try CapacityPlan(capacityPerInstance: input.0, coresPerInstance: input.1, peakRate: input.2,
                             headroom: input.3, coreHourPrice: input.4)
        }
    }
}
