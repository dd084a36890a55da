/// Why training stopped early.
public struct TrainingError: Error, CustomStringConvertible {
    /// One line naming the problem.
    public let description: String
    /// An error with its message.
    public init(_ description: String) { self.description = description }
    /// The settings the message tells the caller to change (see `TrainingQuantity`).
    public internal(set) var quantities: [TrainingQuantity] = []
}

/// What the loop tells its observer. Observers do the I/O (history files, progress bars);
/// the loop and the trainers never open files.
public protocol TrainingObserver: AnyObject {
    /// After every step: `step` counts completed steps (1-based).
    func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws
    /// A snapshot of θ is due after `step` completed steps (0 = initialisation).
    func snapshotDue(step: Int) throws
    /// After each epoch, with the test-set evaluation if a test set was given (with a
    /// validation set: after the last epoch only).
    func didFinishEpoch(_ epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?) throws
    /// After each epoch of a run with a validation set, just before `didFinishEpoch`.
    func didEvaluateValidation(_ epoch: Int, step: Int, validation: (loss: Double, accuracy: Double)) throws
}

extension TrainingObserver {
    /// Observers that show no validation curve need not implement it.
    public func didEvaluateValidation(_ epoch: Int, step: Int, validation: (loss: Double, accuracy: Double)) throws {}
}

/// Epochs of shuffled mini-batches driving any `Trainer`.
///
/// The order of epoch e is the permutation drawn from `SplitMix64.stream(seed, e)`, so a run
/// resumed at step s continues exactly the batches it would have seen.
public struct TrainingLoop<Scalar: NNScalar> {
    /// Passes over the training set.
    public var epochs: Int
    /// Samples per step (the last batch of an epoch may be smaller).
    public var batchSize: Int
    /// Seed of the shuffling streams.
    public var seed: UInt64
    /// A snapshot every this many steps (0: only θ_0 and the final θ).
    public var snapshotEvery: Int
    /// Evaluate after every epoch: the test set, or, when `run` is given a validation set, the
    /// validation set after every epoch and the test set once, after the last one.
    public var evaluateEachEpoch = true
    /// Loss used for validation- and test-set evaluation.
    public var evaluationLoss: LossKind = .crossEntropy

    /// A loop.
    public init(epochs: Int, batchSize: Int, seed: UInt64, snapshotEvery: Int) {
        self.epochs = epochs; self.batchSize = batchSize; self.seed = seed; self.snapshotEvery = snapshotEvery
    }

    /// Steps in one epoch for `n` samples.
    public func stepsPerEpoch(samples n: Int) -> Int { (n + batchSize - 1) / batchSize }

    /// Runs from `startStep` (0 for a new run; the last snapshot's step when resuming) to the end.
    /// Throws `TrainingError` when the loss or the parameters stop being finite.
    public func run<T: Trainer>(_ trainer: T, train: TensorDataset<Scalar>, validation: TensorDataset<Scalar>? = nil,
                                test: TensorDataset<Scalar>?,
                                startStep: Int = 0, observer: TrainingObserver?) throws where T.Scalar == Scalar {
        let n = train.count
        guard n > 0 else { throw TrainingError("the training set is empty") }
        let spe = stepsPerEpoch(samples: n)
        let total = spe * epochs
        let f = train.inputs.cols
        var batch = Tensor<Scalar>(zeros: [0])
        var labels: [Int32] = []
        var targets = Tensor<Scalar>(zeros: [0])
        if startStep == 0 { try observer?.snapshotDue(step: 0) }
        var step = startStep
        while step < total {
            let epoch = step / spe
            var rng = SplitMix64.stream(seed: seed, UInt64(epoch))
            let order = randomPermutation(n, using: &rng)
            var pos = step % spe
            while pos < spe {
                let lo = pos * batchSize
                let hi = min(n, lo + batchSize)
                batch.resize([hi - lo, f])
                batch.gatherRows(from: train.inputs, indices: order[lo..<hi])
                trainer.prepare(step: step, of: total)
                let report: StepReport
                if let t = train.targets {
                    targets.resize([hi - lo, t.cols])
                    targets.gatherRows(from: t, indices: order[lo..<hi])
                    report = try trainer.step(inputs: batch, targets: targets)
                } else {
                    labels.removeAll(keepingCapacity: true)
                    for i in order[lo..<hi] { labels.append(train.labels[i]) }
                    report = try trainer.step(inputs: batch, labels: labels)
                }
                step += 1
                pos += 1
                guard report.loss.isFinite else {
                    throw TrainingError("training diverged: the loss is \(report.loss) at step \(step) (epoch \(epoch + 1)); try a smaller learning rate")
                }
                try observer?.didStep(step, of: total, epoch: epoch, report: report)
                if step == total || (snapshotEvery > 0 && step % snapshotEvery == 0) {
                    if let bad = trainer.network.parameters.firstNonFinite() {
                        throw TrainingError("training diverged: parameter '\(bad)' is not finite at step \(step); try a smaller learning rate")
                    }
                    try observer?.snapshotDue(step: step)
                }
            }
            if evaluateEachEpoch, let v = validation {
                try observer?.didEvaluateValidation(epoch + 1, step: step, validation: evaluate(trainer.network, on: v, loss: evaluationLoss))
            }
            // Choices are made on the validation set; the test set is then evaluated once, at the end.
            let testNow = evaluateEachEpoch && (validation == nil || step == total)
            let eval = (testNow ? test : nil).map { evaluate(trainer.network, on: $0, loss: evaluationLoss) }
            try observer?.didFinishEpoch(epoch + 1, step: step, test: eval)
        }
    }
}
