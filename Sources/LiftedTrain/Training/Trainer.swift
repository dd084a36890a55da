/// What one training step reports.
public struct StepReport: Sendable {
    /// Training loss on the batch (before the update).
    public var loss: Double
    /// Fraction of the batch classified correctly (before the update).
    public var accuracy: Double
    /// Method-specific diagnostics (LPOM objective, residuals …), recorded as metrics.
    public var extra: [String: Double]

    /// A report.
    public init(loss: Double, accuracy: Double, extra: [String: Double] = [:]) {
        self.loss = loss; self.accuracy = accuracy; self.extra = extra
    }
}

/// The trainer seam: gradient training, LPOM and GGN each turn a mini-batch into an update of
/// one network's parameters. One loop (`TrainingLoop`) drives any of them.
public protocol Trainer<Scalar>: AnyObject {
    /// The scalar type.
    associatedtype Scalar: NNScalar
    /// The network being trained.
    var network: Network<Scalar> { get }
    /// The history's method name (`sgd`, `adam`, `lpom`, `ggn`).
    var method: String { get }
    /// Hyperparameters for the history's `training` JSON.
    var hyperparameters: [String: Double] { get }
    /// Trains on one batch: inputs `[b, inputSize]`, labels `[b]`.
    func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport
    /// Trains on one regression batch: inputs `[b, inputSize]`, real targets `[b, outputs]`.
    /// The report's accuracy is NaN (not defined for regression).
    func step(inputs: Tensor<Scalar>, targets: Tensor<Scalar>) throws -> StepReport
    /// Called by the loop before each step with the number of completed steps and the total,
    /// both counted within the current learning-rate schedule segment (`TrainingLoop.scheduleSegments`;
    /// one segment, the whole run, unless the run was extended). Schedules use it.
    func prepare(step: Int, of total: Int)
    /// Everything besides θ and the network's buffers that later steps depend on (optimizer
    /// moments, warm starts), as named flat arrays; what `importState` needs to continue the
    /// run exactly (`TrainerState.swift`). Before the first step: the initial state.
    func exportState() -> [String: [Double]]
    /// Restores a state `exportState` returned (on a trainer built with the same settings on
    /// the same network). Throws `TrainingError` naming a missing or mis-sized array.
    func importState(_ state: [String: [Double]]) throws
}

extension Trainer {
    /// Default: nothing to prepare.
    public func prepare(step: Int, of total: Int) {}

    /// Default: regression is not supported by this method.
    public func step(inputs: Tensor<Scalar>, targets: Tensor<Scalar>) throws -> StepReport {
        throw TrainingError("method \(method) does not train on real-valued regression targets")
    }
}
