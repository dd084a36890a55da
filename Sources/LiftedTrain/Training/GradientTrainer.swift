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
