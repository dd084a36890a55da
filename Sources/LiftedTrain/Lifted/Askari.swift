/// Lifted neural networks (Askari, Negiar, Sambharya, El Ghaoui, "Lifted Neural Networks",
/// arXiv:1805.01532, 2018) for ReLU networks with a linear output layer.
///
/// ReLU is the solution of a non-negativity-constrained quadratic, max(0, u) = argmin_{x ≥ 0}
/// ‖x − u‖², and the lifted training problem penalises the layers' versions of it
/// (samples are rows here; X_0 the data, X̃ = [X, 1]):
///
///     G = ½‖Y − X̃_{L−1} W̃_{L−1}ᵀ‖² + Σ_{l=1..L−1} (λ/2)‖X_l − X̃_{l−1} W̃_{l−1}ᵀ‖² + Σ_l (ε_l/2)‖W̃_l‖²,
///     subject to X_l ≥ 0,
///
/// minimised by block-coordinate descent, every block a problem without hidden layers:
/// - X_l (l = 1 … L−1): the non-negative least squares
///   min_{X ≥ 0} (λ/2)‖X − X̃_{l−1}W̃_{l−1}ᵀ‖² + (c/2)‖T − 1b_lᵀ − X W_lᵀ‖², T = X_{l+1}, c = λ
///   (T = Y, c = 1 for the last hidden level), separable over samples;
/// - W̃_l: ridge regression of the level above on X̃_l (closed form, all layers independent).
///
/// Choices the paper leaves open (README): the loss is the one-hot squared error, so the
/// output layer's block is also a ridge regression; the NNLS blocks are solved by projected
/// accelerated gradient (FISTA with gradient restart, `askariSteps` steps from the current X,
/// step 1/‖H‖₂), keeping the previous X if the steps did not lower the block's objective, so G
/// never increases; the sweep is the X-blocks from the input up, then every W̃; X starts from a
/// forward pass of the initialised network; full batch; the trained network is evaluated as
/// the ordinary feed-forward ReLU network (what `eval` does), not by solving the lifted problem
/// for each test point.
public final class AskariTrainer<Scalar: NNScalar>: Trainer {
    public let network: Network<Scalar>
    public let configuration: LiftedConfiguration
    public var method: String { "askari" }
    public var hyperparameters: [String: Double] { configuration.hyperparameters(.askari) }

    let run: LiftedRun<Scalar>
    var net: LiftedNetwork<Scalar> { run.net }
    /// X_l, l = 0 … L−1 (X_0 the data).
    var x: [Tensor<Scalar>] = []
    var systems: [AugmentedSystem<Scalar>] = []
    var target = Tensor<Scalar>(zeros: [0]), previous = Tensor<Scalar>(zeros: [0])
    var extrapolated = Tensor<Scalar>(zeros: [0]), gradient = Tensor<Scalar>(zeros: [0])
    var product = Tensor<Scalar>(zeros: [0]), scratch = Tensor<Scalar>(zeros: [0])
    var hessian = Tensor<Scalar>(zeros: [0])
    var iterations = 0
    /// Sweeps whose projected-gradient steps were rejected (the block kept its previous X).
    var rejected = 0

    /// An Askari trainer; the network's hidden units must be ReLU.
    public init(network: Network<Scalar>, configuration: LiftedConfiguration = LiftedConfiguration()) throws {
        try configuration.validate()
        self.network = network
        self.configuration = configuration
        run = LiftedRun(net: try LiftedNetwork(network: network, method: "askari", allowed: [.relu]), configuration: configuration)
    }

    /// Bytes per sample: X per hidden level, Y, the input copy and the NNLS buffers.
    public var bytesPerSample: Double {
        net.bytesPerSample(hidden: 1, output: 1, scratch: 8)
    }

    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        if try run.begin(inputs: inputs, labels: labels, bytesPerSample: bytesPerSample, what: "X per layer") {
            guard let data = run.data else { return StepReport(loss: .nan, accuracy: 0) }
            x = Array(net.forward(data.inputs).a.prefix(net.depth))
            systems = Array(repeating: AugmentedSystem(), count: net.depth)
            iterations = 0
        }
        let before = run.reportBeforeUpdate()
        rejected = 0
        try iterate()
        try run.finish()
        var extra: [String: Double] = ["askari_iteration": Double(iterations), "askari_rejected_blocks": Double(rejected)]
        if configuration.diagnostics {
            extra["askari_objective"] = objective() / Double(run.samples)
            var targets = Array(x.dropFirst())
            if let data = run.data { targets.append(data.targets) }
            run.residualMetrics(targets: targets, inputs: x, into: &extra)
        }
        return StepReport(loss: before.loss, accuracy: before.accuracy, extra: extra)
    }

    public func importState(_ state: [String: [Double]]) throws { try run.refuseResume(state) }

    /// One sweep: every X-block from the input up, then every W̃.
    func iterate() throws {
        for l in 1..<net.depth { try updateActivations(level: l) }
        for k in 0..<net.depth { try updateWeights(layer: k) }
        iterations += 1
    }

    /// The target of layer k (X_{k+1}, or Y for the output layer) and its weight (λ or 1).
    func layerTarget(_ k: Int) -> (Tensor<Scalar>, Double) {
        k + 1 < net.depth ? (x[k + 1], configuration.askariLambda) : (run.data?.targets ?? Tensor(zeros: [0]), 1)
    }

    /// W̃_k ← argmin (c/2)‖T − X̃_k W̃ᵀ‖² + (ε/2)‖W̃‖², ε relative to X̃_k's scale. The data's system is factored once.
    func updateWeights(layer k: Int) throws {
        let (t, c) = layerTarget(k)
        let ones = net.ones(x[k].rows)
        if !(k == 0 && systems[0].valid) {
            try systems[k].factorize(x[k], ones: ones, rho: c, alpha: 0, ridge: configuration.askariWeightRidge, relativeRidge: true,
                                     method: "askari", layer: net.names[k])
        }
        systems[k].solve(target: t, input: x[k], ones: ones, rho: c, alpha: 0, weights: &net.weights[k])
    }

    /// X_l ← argmin_{X ≥ 0} ½ tr(X H Xᵀ) − ⟨C, X⟩ with H = cW_lᵀW_l + λI and
    /// C = λ X̃_{l−1}W̃_{l−1}ᵀ + c(T − 1b_lᵀ)W_l: projected FISTA from the current X_l.
    func updateActivations(level l: Int) throws {
        let lambda = configuration.askariLambda
        let (t, c) = layerTarget(l)
        let ones = net.ones(x[l].rows)
        // C into `target`.
        LiftedBLAS.backProject(t, packed: net.weights[l], ones: ones, scale: Scalar(c), into: &target)
        net.affine(x[l - 1], layer: l - 1, into: &product)
        target.add(product, scaledBy: Scalar(lambda))
        LiftedBLAS.weightGram(packed: net.weights[l], scale: c, shift: lambda, into: &hessian)
        let step = 1 / (1.0001 * largestEigenvalue(hessian))
        let start = blockObjective(x[l])
        previous.assign(x[l])
        extrapolated.assign(x[l])
        var current = x[l]
        var tk = 1.0
        for _ in 0..<configuration.askariSteps {
            // G = Y H − C at the extrapolated point Y; X⁺ = max(0, Y − G/L).
            gemm(extrapolated, hessian, into: &gradient)
            gradient.add(target, scaledBy: -1)
            current.assign(extrapolated)
            current.add(gradient, scaledBy: Scalar(-step))
            current.data.withUnsafeMutableBufferPointer { Scalar.clamp($0, lo: 0, hi: .greatestFiniteMagnitude) }
            let root: Double = (1 + 4 * tk * tk).squareRoot()
            let tNext: Double = (1 + root) / 2
            var momentum: Double = (tk - 1) / tNext
            // Gradient restart (O'Donoghue & Candès 2015): ⟨G, X⁺ − X⟩ > 0.
            scratch.assign(current); scratch.add(previous, scaledBy: -1)
            if LiftedBLAS.inner(gradient, scratch) > 0 { momentum = 0; tk = 1 } else { tk = tNext }
            extrapolated.assign(current)
            extrapolated.add(scratch, scaledBy: Scalar(momentum))
            previous.assign(current)
        }
        if blockObjective(current) <= start {
            x[l] = current
        } else {
            rejected += 1
        }
    }

    /// ½ tr(X H Xᵀ) − ⟨C, X⟩ of the current block (`hessian`, `target`).
    func blockObjective(_ v: Tensor<Scalar>) -> Double {
        gemm(v, hessian, into: &product)
        return 0.5 * LiftedBLAS.inner(v, product) - LiftedBLAS.inner(target, v)
    }

    /// λ_max of the symmetric positive semidefinite `h` by power iteration (an upper estimate:
    /// the iteration approaches it from below, so 30 steps and a 0.01% margin).
    func largestEigenvalue(_ h: Tensor<Scalar>) -> Double {
        let n = h.rows
        let estimate = LiftedBLAS.powerIteration(h)
        // The Rayleigh quotient is below λ_max; the diagonal bound (Gershgorin) is above. Take the
        // quotient with a margin, but never more than the bound.
        var bound = 0.0
        for i in 0..<n {
            var row = 0.0
            for j in 0..<n { row += abs(Double(h.data[i * n + j])) }
            bound = max(bound, row)
        }
        return min(1.05 * estimate, bound)
    }

    /// G with its ridge terms, summed over samples (the quantity no sweep increases).
    func objective() -> Double {
        guard run.data != nil else { return .nan }
        var g = 0.0
        for k in 0..<net.depth {
            let (t, c) = layerTarget(k)
            net.affine(x[k], layer: k, into: &product)
            g += c / 2 * LiftedBLAS.squaredDistance(t, product, scratch: &scratch)
            g += systems[k].ridge / 2 * LiftedBLAS.squaredNorm(net.weights[k])
        }
        return g
    }
}
