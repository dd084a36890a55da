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
    /// Data-parallel training over these ranks (`DataParallel.swift`): each step gets the global
    /// batch and trains on this rank's share; nil or one rank: the whole batch here.
    public var collective: (any Collective)?
    private var shard = DataParallelShard<Scalar>()

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
        if let c = collective, c.size > 1 { return try dataParallelStep(inputs: inputs, labels: labels, collective: c) }
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
        if let c = collective, c.size > 1 { return try dataParallelStep(inputs: inputs, targets: targets, collective: c) }
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

    /// `step(inputs:labels:)` on this rank's share of the global batch (see `DataParallel.swift`).
    private func dataParallelStep(inputs: Tensor<Scalar>, labels: [Int32], collective c: any Collective) throws -> StepReport {
        shard.select(inputs, collective: c)
        shard.labels = Array(labels[shard.rows])
        var local = (loss: 0.0, correct: 0)
        if !shard.rows.isEmpty {
            let out = network.forward(shard.inputs, training: true)
            local = loss.evaluate(out, labels: shard.labels, gradient: &dOut)
        }
        // Every rank takes the same branches from here on: the collectives must match.
        let (l, correct) = c.globalMean(loss: local.loss, correct: local.correct, rows: shard.rows.count, of: shard.global)
        guard l.isFinite else { return StepReport(loss: l, accuracy: 0) }
        backwardShare()
        c.sumGradients(network.parameters)
        optimizer.update(network.parameters)
        return StepReport(loss: l, accuracy: Double(correct) / Double(labels.count))
    }

    /// `step(inputs:targets:)` on this rank's share of the global batch.
    private func dataParallelStep(inputs: Tensor<Scalar>, targets: Tensor<Scalar>, collective c: any Collective) throws -> StepReport {
        shard.select(inputs, collective: c)
        shard.targets.resize([shard.rows.count, targets.cols])
        shard.targets.gatherRows(from: targets, indices: ArraySlice(Array(shard.rows)))
        var local = 0.0
        if !shard.rows.isEmpty {
            let out = network.forward(shard.inputs, training: true)
            guard out.shape == shard.targets.shape else {
                throw TrainingError("the network has \(out.cols) outputs but the targets have \(targets.cols) columns")
            }
            local = loss.evaluate(out, targets: shard.targets, gradient: &dOut)
        }
        let (l, _) = c.globalMean(loss: local, correct: 0, rows: shard.rows.count, of: shard.global)
        guard l.isFinite else { return StepReport(loss: l, accuracy: .nan) }
        backwardShare()
        c.sumGradients(network.parameters)
        optimizer.update(network.parameters)
        return StepReport(loss: l, accuracy: .nan)
    }

    /// Backpropagates this rank's share of the global mean loss (its gradient scaled by b_r/B);
    /// an empty share contributes zero gradients.
    private func backwardShare() {
        if shard.rows.isEmpty {
            for i in network.parameters.grads.indices { network.parameters.grads[i].zero() }
            return
        }
        dOut.scale(by: shard.weight)
        network.backward(dOut)
    }
}
