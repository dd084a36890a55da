import Foundation

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
    /// Called by the loop before each step with the number of completed steps and the total
    /// (schedules use it; a resumed run starts at its snapshot's step).
    func prepare(step: Int, of total: Int)
}

extension Trainer {
    /// Default: nothing to prepare.
    public func prepare(step: Int, of total: Int) {}

    /// Default: regression is not supported by this method.
    public func step(inputs: Tensor<Scalar>, targets: Tensor<Scalar>) throws -> StepReport {
        throw TrainingError("method \(method) does not train on real-valued regression targets")
    }
}

/// How the learning rate changes over a run: η_t = η · factor(t / T).
public enum LearningRateSchedule: String, CaseIterable, Sendable {
    /// η_t = η.
    case constant
    /// η_t = η · ½(1 + cos(π t/T)) (Loshchilov & Hutter 2017, without restarts).
    case cosine
    /// η_t = η for t/T < ½, η/10 for ½ ≤ t/T < ¾, η/100 from t/T = ¾: stepped down tenfold at
    /// 50% and 75% of the run.
    case step

    /// The factor after `step` of `total` steps.
    public func factor(step: Int, total: Int) -> Double {
        let x = total > 0 ? Double(step) / Double(total) : 0
        switch self {
        case .constant: return 1
        case .cosine: return 0.5 * (1 + Foundation.cos(Double.pi * x))
        case .step: return x < 0.5 ? 1 : (x < 0.75 ? 0.1 : 0.01)
        }
    }
}

/// Backpropagation plus a first-order optimizer.
public final class GradientTrainer<Scalar: NNScalar, Optimizer: GradientOptimizer>: Trainer
where Optimizer.Scalar == Scalar {
    public let network: Network<Scalar>
    /// The loss minimised.
    public let loss: LossKind
    /// The optimizer and its state.
    public var optimizer: Optimizer
    /// The learning-rate schedule applied to the optimizer's initial rate.
    public let schedule: LearningRateSchedule
    private let baseLearningRate: Scalar
    private var dOut = Tensor<Scalar>(zeros: [0])

    /// A trainer for `network` minimising `loss` with `optimizer`, whose learning rate follows
    /// `schedule` over the run.
    public init(network: Network<Scalar>, loss: LossKind, optimizer: Optimizer, schedule: LearningRateSchedule = .constant) {
        self.network = network; self.loss = loss; self.optimizer = optimizer
        self.schedule = schedule
        self.baseLearningRate = optimizer.learningRate
    }

    public var method: String { optimizer.name }
    public var hyperparameters: [String: Double] {
        var h = optimizer.hyperparameters
        h["lr"] = decimal(baseLearningRate)
        return h
    }

    public func prepare(step: Int, of total: Int) {
        optimizer.learningRate = baseLearningRate * Scalar(schedule.factor(step: step, total: total))
    }

    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        let out = network.forward(inputs, training: true)
        let (l, correct) = loss.evaluate(out, labels: labels, gradient: &dOut)
        guard l.isFinite else { return StepReport(loss: l, accuracy: 0) }
        network.backward(dOut)
        optimizer.update(network.parameters)
        return StepReport(loss: l, accuracy: Double(correct) / Double(labels.count))
    }

    /// One step on the square loss L = (1/b) Σ ½‖f(x) − y‖² (any `loss` but cross-entropy).
    public func step(inputs: Tensor<Scalar>, targets: Tensor<Scalar>) throws -> StepReport {
        guard loss != .crossEntropy else {
            throw TrainingError("cross-entropy is not defined on real-valued targets; use the mse loss for regression")
        }
        let out = network.forward(inputs, training: true)
        guard out.shape == targets.shape else {
            throw TrainingError("the network has \(out.cols) outputs but the targets have \(targets.cols) columns")
        }
        let l = loss.evaluate(out, targets: targets, gradient: &dOut)
        guard l.isFinite else { return StepReport(loss: l, accuracy: .nan) }
        network.backward(dOut)
        optimizer.update(network.parameters)
        return StepReport(loss: l, accuracy: .nan)
    }
}

/// A labelled data set held as one `[N, features]` tensor: class labels for classification,
/// or real-valued `targets` `[N, outputs]` for regression.
public struct TensorDataset<Scalar: NNScalar>: Sendable {
    /// Inputs, one sample per row.
    public var inputs: Tensor<Scalar>
    /// Class labels (may be empty for a regression set).
    public var labels: [Int32]
    /// Regression targets `[N, outputs]`, one row per sample; nil for a classification set.
    /// When present, training and evaluation use the square loss against them.
    public var targets: Tensor<Scalar>? = nil
    /// Number of samples.
    public var count: Int { inputs.rows }

    /// A data set from its parts (rows of `inputs` match `labels`).
    public init(inputs: Tensor<Scalar>, labels: [Int32]) {
        precondition(inputs.rows == labels.count, "TensorDataset: \(inputs.rows) rows, \(labels.count) labels")
        self.inputs = inputs; self.labels = labels
    }

    /// A regression set: inputs `[N, features]`, targets `[N, outputs]`, and optionally the class
    /// labels the samples came with (empty or N of them).
    public init(inputs: Tensor<Scalar>, targets: Tensor<Scalar>, labels: [Int32] = []) {
        precondition(inputs.rows == targets.rows, "TensorDataset: \(inputs.rows) rows, \(targets.rows) targets")
        precondition(labels.isEmpty || labels.count == inputs.rows, "TensorDataset: \(inputs.rows) rows, \(labels.count) labels")
        self.inputs = inputs; self.labels = labels; self.targets = targets
    }

    /// Pixel bytes (N × features) scaled by 1/255, with byte labels.
    public init(pixels: [UInt8], labels: [UInt8], count: Int, features: Int) {
        var x = Tensor<Scalar>(zeros: [count, features])
        pixels.withUnsafeBufferPointer { pb in
            x.data.withUnsafeMutableBufferPointer { Scalar.fromBytes(UnsafeBufferPointer(rebasing: pb[0..<(count * features)]), scale: Scalar(1) / 255, into: $0) }
        }
        self.inputs = x
        self.labels = labels.prefix(count).map { Int32($0) }
    }

    /// The first `n` samples.
    public func prefix(_ n: Int) -> TensorDataset {
        let k = min(n, count)
        let f = inputs.cols
        let x = Tensor(shape: [k, f], data: Array(inputs.data[0..<(k * f)]))
        if let t = targets {
            return TensorDataset(inputs: x, targets: Tensor(shape: [k, t.cols], data: Array(t.data[0..<(k * t.cols)])),
                                 labels: Array(labels.prefix(k)))
        }
        return TensorDataset(inputs: x, labels: Array(labels[0..<k]))
    }
}

/// Loss and accuracy of `network` on a whole data set, in batches, without training caches.
/// On a regression set (with `targets`) the loss is the square loss ½‖f − y‖² averaged over the
/// samples, whatever `loss` says, and the accuracy is NaN.
public func evaluate<S: NNScalar>(_ network: Network<S>, on data: TensorDataset<S>, loss: LossKind,
                                  batchSize: Int = 1000) -> (loss: Double, accuracy: Double) {
    var total = 0.0
    var correct = 0
    let f = data.inputs.cols
    var start = 0
    var batch = Tensor<S>(zeros: [0])
    while start < data.count {
        let n = min(batchSize, data.count - start)
        batch.resize([n, f])
        batch.gatherRows(from: data.inputs, indices: (start..<(start + n)).map { $0 }[...])
        let out = network.forward(batch)
        if let t = data.targets {
            var y = Tensor<S>(zeros: [n, t.cols])
            y.gatherRows(from: t, indices: (start..<(start + n)).map { $0 }[...])
            total += loss.evaluate(out, targets: y) * Double(n)
        } else {
            let (l, c) = loss.evaluate(out, labels: Array(data.labels[start..<(start + n)]))
            total += l * Double(n)
            correct += c
        }
        start += n
    }
    let accuracy = data.targets == nil ? Double(correct) / Double(max(1, data.count)) : .nan
    return (total / Double(max(1, data.count)), accuracy)
}
