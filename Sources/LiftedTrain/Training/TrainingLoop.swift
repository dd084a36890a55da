/// Mini-batches of a training set driving any `Trainer` — classifier, regression or generative —
/// for a number of epochs or of steps.
///
/// - Epochs (`init(epochs:…)`, classifiers and regression): one batch per step; epoch e is the
///   permutation drawn from `SplitMix64.stream(seed, e)`, its last batch possibly smaller. After
///   every epoch the validation and test sets are evaluated (loss and accuracy).
/// - Steps (`init(steps:…)`, generative training, whose steps count generator updates): full
///   batches only, pass p from `SplitMix64.stream(seed, p + 1)`, a step taking the next
///   `StepInput.images(batches:)` batches across passes (a GAN's critic updates). No epochs and
///   no evaluation: a generative trainer reports its own losses every step.
///
/// Either way batch j is fixed by the seed (`BatchOrder`), so a run resumed at step s continues
/// exactly the batches it would have seen. Snapshot 0 is the initialisation, then one every
/// `snapshotEvery` steps and the final θ. The loop stops with `TrainingError` when a loss of a
/// step or a parameter due for a snapshot is not finite (the history never stores one).
public struct TrainingLoop<Scalar: NNScalar> {
    /// Passes over the training set (a run counted in epochs).
    public var epochs: Int
    /// The number of steps of a run counted in steps (then `epochs` is unused); nil: epochs.
    public var steps: Int?
    /// Samples per batch (the last batch of an epoch may be smaller).
    public var batchSize: Int
    /// Seed of the shuffling streams.
    public var seed: UInt64
    /// A snapshot every this many steps (0: only θ_0 and the final θ).
    public var snapshotEvery: Int
    /// Other spacings (`SnapshotSpacing`: per epoch, log-spaced); when set it replaces `snapshotEvery`.
    public var spacing: SnapshotSpacing? = nil
    /// Evaluate after every epoch: the test set, or, when `run` is given a validation set, the
    /// validation set after every epoch and the test set once, after the last one.
    public var evaluateEachEpoch = true
    /// Loss used for validation- and test-set evaluation.
    public var evaluationLoss: LossKind = .crossEntropy
    /// First step of each learning-rate schedule segment, increasing from 0: `[0]` runs one
    /// schedule over the whole run; a run extended at step s (`TrainingRecord.Extension`) has
    /// `[0, s]`, and its steps before s see exactly the schedule of the run before the extension.
    /// Each segment ends where the next starts (the last at the end of the run), and the trainer's
    /// `prepare(step:of:)` gets the step within the segment and the segment's length.
    public var scheduleSegments: [Int] = [0]

    /// A run of `epochs` passes over the training set.
    public init(epochs: Int, batchSize: Int, seed: UInt64, snapshotEvery: Int) {
        self.epochs = epochs; self.batchSize = batchSize; self.seed = seed; self.snapshotEvery = snapshotEvery
    }

    /// A run of `steps` steps of full batches (generative training).
    public init(steps: Int, batchSize: Int, seed: UInt64, snapshotEvery: Int) {
        self.init(epochs: 0, batchSize: batchSize, seed: seed, snapshotEvery: snapshotEvery)
        self.steps = steps
    }

    /// The schedule segment (`scheduleSegments`) that `step` lies in, of a run of `total` steps.
    public func scheduleSegment(containing step: Int, total: Int) -> Range<Int> {
        let start = scheduleSegments.last { $0 <= step } ?? 0
        let end = scheduleSegments.first { $0 > step } ?? total
        return start..<max(end, start)
    }

    /// Steps in one epoch for `n` samples.
    public func stepsPerEpoch(samples n: Int) -> Int { (n + batchSize - 1) / batchSize }

    /// Steps of the whole run on `n` samples.
    public func totalSteps(samples n: Int) -> Int { steps ?? stepsPerEpoch(samples: n) * epochs }

    /// Which samples form each batch of a run on `n` samples.
    public func batchOrder(samples n: Int) -> BatchOrder {
        BatchOrder(samples: n, batchSize: batchSize, seed: seed, firstStream: steps == nil ? 0 : 1, fullBatchesOnly: steps != nil)
    }

    /// Runs from `startStep` (0 for a new run; the last snapshot's step when resuming) to the end.
    /// θ_0 is reported as due only for a new run (`resuming` false): a run resumed at step 0
    /// already holds it.
    /// Throws `TrainingError` when a loss or the parameters stop being finite, or when the data
    /// cannot feed the trainer. `validation` and `test` are evaluated in runs counted in epochs only.
    public func run<T: Trainer>(_ trainer: T, train: TensorDataset<Scalar>, validation: TensorDataset<Scalar>? = nil,
                                test: TensorDataset<Scalar>?,
                                startStep: Int = 0, resuming: Bool = false, observer: TrainingObserver?) throws where T.Scalar == Scalar {
        let n = train.count
        guard n > 0 else { throw TrainingError("the training set is empty") }
        let input = trainer.stepInput
        var perStep = 1
        if case .images(let k) = input { perStep = k }
        guard perStep >= 1 else { throw TrainingError("method \(trainer.method) asks for \(perStep) batches per step") }
        if steps == nil && perStep > 1 {
            throw TrainingError("method \(trainer.method) takes \(perStep) batches per step; run it for a number of steps, not epochs")
        }
        if steps != nil && n < batchSize {
            throw TrainingError("the training set has \(n) samples, fewer than one batch of \(batchSize)")
        }
        var order = batchOrder(samples: n)
        let total = totalSteps(samples: n)
        let spe = stepsPerEpoch(samples: n)
        var buffers = BatchBuffers<Scalar>()
        let due = Set((spacing ?? .every(snapshotEvery)).steps(total: total, perEpoch: spe))
        if startStep == 0 && !resuming { try observer?.snapshotDue(step: 0) }
        var step = startStep
        while step < total {
            let first = step * perStep
            let epoch = order.pass(ofBatch: first)
            let rows = (first..<(first + perStep)).map { order.indices(ofBatch: $0) }
            let segment = scheduleSegment(containing: step, total: total)
            trainer.prepare(step: step - segment.lowerBound, of: segment.count)
            let report = try trainer.step(buffers.batch(input, rows: rows, of: train))
            step += 1
            if let bad = report.losses.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.isFinite }) {
                let at = steps == nil ? "step \(step) (epoch \(epoch + 1))" : "step \(step)"
                throw TrainingError("training diverged: \(bad.key == "loss" ? "the loss" : bad.key) is \(bad.value) at \(at); try a smaller learning rate")
            }
            try observer?.didStep(step, of: total, epoch: epoch, report: report)
            if due.contains(step) {
                if let bad = trainer.network.parameters.firstNonFinite() {
                    throw TrainingError("training diverged: parameter '\(bad)' is not finite at step \(step); try a smaller learning rate")
                }
                try observer?.snapshotDue(step: step)
            }
            if steps == nil && step % spe == 0 {
                try finishEpoch(epoch + 1, step: step, last: step == total, trainer.network,
                                validation: validation, test: test, observer: observer)
            }
        }
    }

    /// The evaluations after an epoch. Choices are made on the validation set; the test set is
    /// then evaluated once, at the end.
    private func finishEpoch(_ epoch: Int, step: Int, last: Bool, _ network: Network<Scalar>, validation: TensorDataset<Scalar>?,
                             test: TensorDataset<Scalar>?, observer: TrainingObserver?) throws {
        if evaluateEachEpoch, let v = validation {
            try observer?.didEvaluateValidation(epoch, step: step, validation: evaluate(network, on: v, loss: evaluationLoss))
        }
        let testNow = evaluateEachEpoch && (validation == nil || last)
        let eval = (testNow ? test : nil).map { evaluate(network, on: $0, loss: evaluationLoss) }
        try observer?.didFinishEpoch(epoch, step: step, test: eval)
    }
}

/// The loop's batch storage, reused from step to step.
private struct BatchBuffers<Scalar: NNScalar> {
    var inputs: [Tensor<Scalar>] = []
    var labels: [Int32] = []
    var targets = Tensor<Scalar>(zeros: [0])

    /// The batch of the samples `rows` (one index list per batch) in the form `input` asks for:
    /// images alone, or one batch with its targets (a regression set) or labels.
    mutating func batch(_ input: StepInput, rows: [ArraySlice<Int>], of data: TensorDataset<Scalar>) -> Batch<Scalar> {
        while inputs.count < rows.count { inputs.append(Tensor(zeros: [0])) }
        for (i, r) in rows.enumerated() {
            inputs[i].resize([r.count, data.inputs.cols])
            inputs[i].gatherRows(from: data.inputs, indices: r)
        }
        if case .images = input { return .images(Array(inputs.prefix(rows.count))) }
        let r = rows[0]
        if let t = data.targets {
            targets.resize([r.count, t.cols])
            targets.gatherRows(from: t, indices: r)
            return .targets(inputs: inputs[0], targets: targets)
        }
        labels.removeAll(keepingCapacity: true)
        for i in r { labels.append(data.labels[i]) }
        return .labels(inputs: inputs[0], labels: labels)
    }
}
