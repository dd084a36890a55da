/// What every full-batch lifted trainer does around its own iteration: capture the training
/// set at the first step (after the memory check), refuse a batch that is not that set, load
/// W̃ from the network and store it back, and report the network's loss and accuracy on the
/// whole set before the update (a forward pass, kept from the end of the previous step).
final class LiftedRun<Scalar: NNScalar> {
    let net: LiftedNetwork<Scalar>
    let configuration: LiftedConfiguration
    private(set) var data: FullBatch<Scalar>?
    /// The network's one-hot squared loss (summed over samples) and correct count on the data
    /// with the current W̃.
    private var current: (loss: Double, correct: Int)?
    private var scratch = [Tensor<Scalar>(zeros: [0]), Tensor<Scalar>(zeros: [0])]

    init(net: LiftedNetwork<Scalar>, configuration: LiftedConfiguration) {
        self.net = net
        self.configuration = configuration
    }

    /// Samples N of the captured set (0 before the first step).
    var samples: Int { data?.labels.count ?? 0 }

    /// Called at the start of every step. The first call checks that the variables of
    /// `bytesPerSample` · N bytes fit the budget, captures the set and loads W̃; it returns true
    /// then (the trainer allocates and initialises its variables). Later calls check the batch.
    func begin(inputs: Tensor<Scalar>, labels: [Int32], bytesPerSample: Double, what: String) throws -> Bool {
        if let data {
            guard data.matches(inputs: inputs, labels: labels) else {
                throw TrainingError("--method \(net.method) is full-batch: every step must get the whole training set of \(data.labels.count) samples (got \(inputs.rows)); its batch size is the training set's size")
            }
            return false
        }
        let n = inputs.rows
        guard n > 0 else { throw TrainingError("\(net.method): empty batch") }
        try LiftedMemory.check(bytes: bytesPerSample * Double(n), budget: configuration.memoryBudget, method: net.method,
                               samples: n, what: what)
        data = try FullBatch(inputs: net.prepared(inputs), labels: labels, classes: net.sizes[net.depth])
        net.load()
        return true
    }

    /// The report of this step: the network's loss per sample and accuracy before the update.
    func reportBeforeUpdate() -> (loss: Double, accuracy: Double) {
        let c = current ?? evaluate()
        let n = Double(max(samples, 1))
        return (c.loss / n, Double(c.correct) / n)
    }

    /// Stores W̃ into the network and evaluates it for the next report; throws when W̃ is not finite.
    func finish() throws {
        for (k, w) in net.weights.enumerated() where !w.isFinite {
            throw TrainingError("\(net.method) diverged: the weights of \(net.names[k]) are not finite")
        }
        net.store()
        current = evaluate()
    }

    /// The network's summed one-hot squared loss ½‖f(X) − Y‖² and correct count on the data.
    private func evaluate() -> (loss: Double, correct: Int) {
        guard let data else { return (.nan, 0) }
        var src = 0
        for k in 0..<net.depth {
            let input = k == 0 ? data.inputs : scratch[src]
            net.affine(input, layer: k, into: &scratch[1 - src])
            if k + 1 < net.depth { net.phi(&scratch[1 - src]) }
            src = 1 - src
        }
        let (mean, correct) = LossKind.squaredError.evaluate(scratch[src], labels: data.labels)
        return (mean * Double(samples), correct)
    }

    /// The common diagnostics: constraint residuals ‖T_k − Ã_{k−1} W̃_kᵀ‖_F / ‖T_k‖_F per layer,
    /// recorded as `residual.layers.K`.
    func residualMetrics(targets: [Tensor<Scalar>], inputs: [Tensor<Scalar>], into extra: inout [String: Double]) {
        for k in 0..<net.depth {
            net.affine(inputs[k], layer: k, into: &scratch[0])
            let r = LiftedBLAS.squaredDistance(targets[k], scratch[0], scratch: &scratch[1])
            extra["residual.\(net.names[k])"] = (r / max(LiftedBLAS.squaredNorm(targets[k]), 1e-30)).squareRoot()
        }
    }

    /// A refusal to resume: the per-sample variables are not stored in the history.
    func refuseResume(_ state: [String: [Double]]) throws {
        throw TrainingError("--method \(net.method) cannot resume: its per-sample variables are not stored in the history; start a new run")
    }
}
