import Foundation

/// What to buy for a target peak: instances, cores and cost, from the capacity one instance
/// showed at the SLO.
///
/// The arithmetic is trivial; the point of the type is to keep it next to the assumptions it
/// rests on. A plan without them invites reading "11 instances" as a guarantee, so every
/// plan carries `assumptions` (what must hold for the number to be right) and `unknowns`
/// (what the measurement could not tell), and reports print both beside the figures.
public struct CapacityPlan: Sendable, Codable, Equatable {
    /// Requests per second one instance sustained while meeting the SLO.
    public var capacityPerInstance: Double
    public var coresPerInstance: Double
    /// The peak rate production must absorb, in req/s.
    public var peakRate: Double
    /// Share of each instance's capacity kept free (0.3 = plan to run at 70 %), for bursts,
    /// a lost instance, and drift between the test and production.
    public var headroom: Double
    /// Price of one core for one hour; nil when unknown, and then there are no costs.
    public var coreHourPrice: Double?

    /// ceil(peak / (capacity × (1 − headroom))), never less than 1.
    public var instances: Int
    public var totalCores: Double
    /// Requests per second per core at the SLO: the figure that compares machine types.
    public var capacityPerCore: Double
    /// The load each instance carries at peak, as a share of its measured capacity.
    public var utilisationAtPeak: Double
    public var costPerHour: Double?
    /// `costPerHour` × 730 hours, the average month.
    public var costPerMonth: Double?
    public var assumptions: [String]
    public var unknowns: [String]

    public static let hoursPerMonth = 730.0

    /// - Throws: `CapacityError.badInput` naming the field when a value is not finite,
    ///   capacity, cores or peak are not positive, headroom is outside 0 ..< 1, or the price is negative.
    public init(capacityPerInstance: Double, coresPerInstance: Double, peakRate: Double, headroom: Double = 0.3,
                coreHourPrice: Double? = nil, unknowns: [String] = []) throws {
        func require(_ ok: Bool, _ message: String) throws {
            if !ok { throw CapacityError(.badInput, message) }
        }
        try require(capacityPerInstance.isFinite && capacityPerInstance > 0,
                    "capacity per instance must be a positive number of req/s, got \(capacityPerInstance)")
        try require(coresPerInstance.isFinite && coresPerInstance > 0,
                    "cores per instance must be a positive number, got \(coresPerInstance)")
        try require(peakRate.isFinite && peakRate > 0, "the peak rate must be a positive number of req/s, got \(peakRate)")
        try require(headroom.isFinite && headroom >= 0 && headroom < 1,
                    "headroom must be a fraction in 0 ..< 1 (e.g. 0.3 for 30 %), got \(headroom)")
        if let price = coreHourPrice {
            try require(price.isFinite && price >= 0, "the core-hour price must be zero or positive, got \(price)")
        }
        self.capacityPerInstance = capacityPerInstance
        self.coresPerInstance = coresPerInstance
        self.peakRate = peakRate
        self.headroom = headroom
        self.coreHourPrice = coreHourPrice

        let usable = capacityPerInstance * (1 - headroom)
        // Round away float noise first, so 1120/112 is 10 instances, not 11.
        let exact = ((peakRate / usable) * 1e9).rounded() / 1e9
        instances = Swift.max(1, Int(exact.rounded(.up)))
        totalCores = Double(instances) * coresPerInstance
        capacityPerCore = capacityPerInstance / coresPerInstance
        utilisationAtPeak = peakRate / (Double(instances) * capacityPerInstance)
        if let price = coreHourPrice {
            let hourly = totalCores * price
            costPerHour = hourly
            costPerMonth = hourly * Self.hoursPerMonth
        } else {
            costPerHour = nil
            costPerMonth = nil
        }
        assumptions = [
            "Production instances have the same hardware, CPU allowance and software versions as the one measured.",
            "Capacity scales linearly with instances behind a load balancer that spreads requests evenly.",
            "Production traffic has the payload mix of the test (sizes, types, batch sizes).",
            "No cache effects: the test neither warmed caches production will not have, nor missed ones it will.",
            "Shared dependencies (databases, feature stores, the network) keep up at \(Self.rate(peakRate)) req/s in total.",
        ]
        self.unknowns = unknowns + (coreHourPrice == nil ? ["The price of a core-hour (pass --core-hour-price to get costs)."] : [])
    }

    private static func rate(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
    }
}
