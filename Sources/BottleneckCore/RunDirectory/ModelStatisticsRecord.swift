/// `model-statistics.json`: what a KServe v2 / Triton server said it spent per inference in each
/// step (its cumulative model statistics read as each step started and after the last), by phase:
/// queue, compute_input (preparing the input tensors), compute_infer (the model), compute_output.
public struct ModelStatisticsRecord: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public var index: Int
        /// Successful inferences the server counted between this step's start and the next's.
        public var inferences: UInt64
        /// Mean milliseconds per inference in each phase.
        public var queueMs: Double
        public var computeInputMs: Double
        public var computeInferMs: Double
        public var computeOutputMs: Double

        public init(index: Int, inferences: UInt64, queueMs: Double, computeInputMs: Double, computeInferMs: Double, computeOutputMs: Double) {
            self.index = index
            self.inferences = inferences
            self.queueMs = queueMs
            self.computeInputMs = computeInputMs
            self.computeInferMs = computeInferMs
            self.computeOutputMs = computeOutputMs
        }
    }

    /// Where they came from: "gRPC ModelStatistics of NAME" or "GET /v2/models/NAME/stats".
    public var source: String
    public var model: String
    public var steps: [Step]

    public init(source: String, model: String, steps: [Step]) {
        self.source = source
        self.model = model
        self.steps = steps
    }
}
