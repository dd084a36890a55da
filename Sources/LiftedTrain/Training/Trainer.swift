/// What one training step reports.
public struct StepReport: Sendable {
    /// The step's losses on its batch (before the update), by the names the history records:
    /// `loss` for classifiers and regression; a GAN's `d_loss`, `g_loss` (and its critic's
    /// terms), a VAE's `loss`, `recon`, `kl`. The loop stops when one of them is not finite.
    public var losses: [String: Double]
    /// Fraction of the batch classified correctly (before the update); NaN for regression.
    /// Generative steps have none and record none.
    public var accuracy: Double
    /// Method-specific diagnostics (LPOM objective, residuals …), recorded as metrics.
    public var extra: [String: Double]
    /// Whether `accuracy` belongs in the history row (every step that trains on labels or targets).
    private var recordsAccuracy = true

    /// A report of a step on labels or regression targets.
    public init(loss: Double, accuracy: Double, extra: [String: Double] = [:]) {
        self.losses = ["loss": loss]; self.accuracy = accuracy; self.extra = extra
    }

    /// A report of a generative step: its named losses and diagnostics, no accuracy.
    public init(losses: [String: Double]) {
        self.losses = losses; self.accuracy = .nan; self.extra = [:]; recordsAccuracy = false
    }

    /// The training loss `losses["loss"]` (NaN if the step names its losses otherwise, as a GAN's).
    public var loss: Double {
        get { losses["loss"] ?? .nan }
        set { losses["loss"] = newValue }
    }

    /// The step's row of the history: `extra`, the losses, and the accuracy unless generative.
    public var metrics: [String: Double] {
        var m = extra.merging(losses) { $1 }
        if recordsAccuracy { m["accuracy"] = accuracy }
        return m
    }
}

/// What one step of a trainer consumes, which decides the `Batch` the loop hands it.
public enum StepInput: Equatable, Sendable {
    /// One mini-batch with its samples' class labels or regression targets (whichever the data
    /// set has): `Batch.labels` or `Batch.targets`.
    case supervised
    /// `batches` full mini-batches of inputs alone, `Batch.images`: a generative step (a GAN
    /// draws one batch of real images per critic update).
    case images(batches: Int)
}

/// A mini-batch as a step receives it. Rows of `inputs` are samples.
public enum Batch<Scalar: NNScalar> {
    /// Inputs `[b, features]` and their class labels `[b]`.
    case labels(inputs: Tensor<Scalar>, labels: [Int32])
    /// Inputs `[b, features]` and real-valued targets `[b, outputs]`.
    case targets(inputs: Tensor<Scalar>, targets: Tensor<Scalar>)
    /// Unlabelled batches of inputs `[b, features]`, as many as the trainer's `StepInput` asks.
    case images([Tensor<Scalar>])
}

/// The trainer seam: gradient training, LPOM, GGN and the generative trainers each turn a batch
/// into an update of their parameters. One loop (`TrainingLoop`) drives any of them through
/// `step(_:)`; the supervised trainers implement the two typed steps it dispatches to.
public protocol Trainer<Scalar>: AnyObject {
    /// The scalar type.
    associatedtype Scalar: NNScalar
    /// The network whose parameters the history stores (a generative trainer's generator).
    var network: Network<Scalar> { get }
    /// The history's method name (`sgd`, `adam`, `lpom`, `ggn`; `vae`, `gan`, `wgan`, `wgan-gp`).
    var method: String { get }
    /// Hyperparameters for the history's `training` JSON.
    var hyperparameters: [String: Double] { get }
    /// What one step consumes (default `.supervised`).
    var stepInput: StepInput { get }
    /// Trains on one batch of the kind `stepInput` names. The default dispatches labels and
    /// targets to the typed steps below and refuses image-only batches.
    func step(_ batch: Batch<Scalar>) throws -> StepReport
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
    /// `exportState` for a snapshot, with Float arrays handed over unconverted (`SnapshotState`).
    func exportSnapshotState() -> SnapshotState
    /// Restores a state `exportState` returned (on a trainer built with the same settings on
    /// the same network). Throws `TrainingError` naming a missing or mis-sized array.
    func importState(_ state: [String: [Double]]) throws
}

extension Trainer {
    /// Default: nothing to prepare.
    public func prepare(step: Int, of total: Int) {}

    /// Default: one batch with labels or targets.
    public var stepInput: StepInput { .supervised }

    /// Default: labels and targets to the typed steps; image-only batches are refused.
    public func step(_ batch: Batch<Scalar>) throws -> StepReport {
        switch batch {
        case .labels(let inputs, let labels): return try step(inputs: inputs, labels: labels)
        case .targets(let inputs, let targets): return try step(inputs: inputs, targets: targets)
        case .images: throw TrainingError("method \(method) trains on labels or targets, not on images alone")
        }
    }

    /// Default: classification is not supported by this method.
    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        throw TrainingError("method \(method) does not train on class labels")
    }

    /// Default: regression is not supported by this method.
    public func step(inputs: Tensor<Scalar>, targets: Tensor<Scalar>) throws -> StepReport {
        throw TrainingError("method \(method) does not train on real-valued regression targets")
    }
}

extension Batch {
    /// The image batches of a generative step, checked against the `count` its trainer asks for.
    public func images(count: Int, method: String) throws -> [Tensor<Scalar>] {
        guard case .images(let batches) = self else {
            throw TrainingError("method \(method) trains on images alone, not on labels or targets")
        }
        guard batches.count == count else {
            throw TrainingError("method \(method) takes \(count) batches per step, got \(batches.count)")
        }
        return batches
    }
}
