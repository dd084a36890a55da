/// The quadratic-penalty method of auxiliary coordinates, MAC (Carreira-Perpiñán & Wang,
/// "Distributed optimization of deeply nested systems", AISTATS 2014), for networks with any
/// differentiable (or piecewise-linear) hidden activation and a linear output layer.
///
/// Each hidden layer's output gets an auxiliary coordinate Z_k (samples are rows; Z_0 = the
/// data), and the nested objective is replaced by the quadratic penalty
///
///     E_Q(W, Z; μ) = ½‖Y − Z̃_{L−1} W̃_{L−1}ᵀ‖² + (μ/2) Σ_{k=1..L−1} ‖Z_k − σ(Z̃_{k−1} W̃_{k−1}ᵀ)‖²,
///
/// minimised alternately over W (every layer independently: a single-layer fit of its
/// coordinates) and over Z (the coordinates, given W), while μ increases along a schedule
/// μ_k = μ₀ aᵏ, so that the minimisers approach those of the nested problem.
///
/// Choices the paper leaves open (README): one alternation per step on the whole set (full
/// batch; the paper's Z-step is separable over samples, its W-step over units); the output
/// layer's W-step is the exact ridge least squares; a hidden layer's W-step is `penaltySteps`
/// Gauss–Newton-preconditioned gradient steps W̃ ← W̃ − (1/β²) Dᵀ Z̃ (Z̃ᵀZ̃ + εI)⁻¹,
/// D = (σ(Z̃W̃ᵀ) − Z_{k+1}) ⊙ σ′, β the Lipschitz constant of σ, halved until the layer's
/// penalty decreases (these steps use σ′, as the paper's do); the Z-step goes over the levels
/// from the input up: the last hidden level in closed form (its upper term is linear), the
/// others by `penaltySteps` gradient steps of size 1/(μ(1 + β²‖W‖₂²)), halved until the
/// level's terms decrease; μ ← μ·`penaltyGrowth` after every step; Z starts from a forward pass.
/// At fixed μ no block increases E_Q.
public final class PenaltyTrainer<Scalar: NNScalar>: Trainer {
    public let network: Network<Scalar>
    public let configuration: LiftedConfiguration
    public var method: String { "penalty" }
    public var hyperparameters: [String: Double] { configuration.hyperparameters(.penalty) }

    let run: LiftedRun<Scalar>
    var net: LiftedNetwork<Scalar> { run.net }
    let lipschitz: Double
    /// Z_k, k = 0 … L−1 (Z_0 the data).
    var z: [Tensor<Scalar>] = []
    var systems: [AugmentedSystem<Scalar>] = []
    /// The current penalty weight μ.
    public private(set) var mu: Double
    var pre = Tensor<Scalar>(zeros: [0]), act = Tensor<Scalar>(zeros: [0]), delta = Tensor<Scalar>(zeros: [0])
    var scratch = Tensor<Scalar>(zeros: [0]), trial = Tensor<Scalar>(zeros: [0]), gradient = Tensor<Scalar>(zeros: [0])
    var gram = Tensor<Scalar>(zeros: [0]), saved = Tensor<Scalar>(zeros: [0])
    var iterations = 0
    /// Halvings of the last step (all blocks).
    var halvings = 0

    /// A MAC trainer; any hidden activation with a Lipschitz constant.
    public init(network: Network<Scalar>, configuration: LiftedConfiguration = LiftedConfiguration()) throws {
        try configuration.validate()
        self.network = network
        self.configuration = configuration
        let net = try LiftedNetwork<Scalar>(network: network, method: "penalty", allowed: Set(ActivationKind.allCases))
        run = LiftedRun(net: net, configuration: configuration)
        lipschitz = net.hidden.lipschitz(alpha: net.alpha)
        mu = configuration.penaltyMu
    }

    /// Bytes per sample: Z per hidden level, Y, the input copy and the step buffers.
    public var bytesPerSample: Double {
        net.bytesPerSample(hidden: 1, output: 1, scratch: 8)
    }

    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        if try run.begin(inputs: inputs, labels: labels, bytesPerSample: bytesPerSample, what: "Z per layer") {
            guard let data = run.data else { return StepReport(loss: .nan, accuracy: 0) }
            z = Array(net.forward(data.inputs).a.prefix(net.depth))
            systems = Array(repeating: AugmentedSystem(), count: net.depth)
            iterations = 0
            mu = configuration.penaltyMu
        }
        let before = run.reportBeforeUpdate()
        halvings = 0
        try iterate()
        try run.finish()
        var extra: [String: Double] = ["penalty_iteration": Double(iterations), "penalty_halvings": Double(halvings)]
        if configuration.diagnostics {
            extra["penalty_mu"] = mu
            extra["penalty_objective"] = objective() / Double(run.samples)
            for k in 0..<net.depth {
                // ‖T_k − σ(Z̃_k W̃_kᵀ)‖_F / ‖T_k‖_F: how far each coordinate is from its layer's output.
                let t = k + 1 < net.depth ? z[k + 1] : run.data!.targets
                extra["residual.\(net.names[k])"] = (2 * layerPenalty(k) / max(LiftedBLAS.squaredNorm(t), 1e-30)).squareRoot()
            }
        }
        mu *= configuration.penaltyGrowth
        return StepReport(loss: before.loss, accuracy: before.accuracy, extra: extra)
    }

    public func importState(_ state: [String: [Double]]) throws { try run.refuseResume(state) }

    /// One alternation at the current μ: the W-step on every layer, then the Z-step.
    func iterate() throws {
        let L = net.depth
        for k in 0..<L { try updateWeights(layer: k) }
        for level in stride(from: 1, to: L, by: 1) { try updateCoordinates(level: level) }
        iterations += 1
    }

    /// The penalty of layer k's fit: ½‖T − σ(Z̃_k W̃_kᵀ)‖² (σ = identity and T = Y at the output).
    func layerPenalty(_ k: Int) -> Double {
        net.affine(z[k], layer: k, into: &pre)
        if k + 1 < net.depth { net.phi(&pre) }
        let t = k + 1 < net.depth ? z[k + 1] : run.data!.targets
        return 0.5 * LiftedBLAS.squaredDistance(t, pre, scratch: &scratch)
    }

    /// The W-step of layer k.
    func updateWeights(layer k: Int) throws {
        let ones = net.ones(z[k].rows)
        if !(k == 0 && systems[0].valid) {
            try systems[k].factorize(z[k], ones: ones, rho: 1, alpha: 0, ridge: configuration.ridge, relativeRidge: true,
                                     method: "penalty", layer: net.names[k])
        }
        if k + 1 == net.depth {
            systems[k].solve(target: run.data!.targets, input: z[k], ones: ones, rho: 1, alpha: 0, weights: &net.weights[k])
            return
        }
        for _ in 0..<configuration.penaltySteps {
            let start = layerPenalty(k)
            // D = (σ(P) − Z_{k+1}) ⊙ σ′(P), P = Z̃_k W̃_kᵀ; the preconditioned gradient Dᵀ Z̃ (Z̃ᵀZ̃ + εI)⁻¹.
            residualTimesSlope(input: z[k], layer: k, target: z[k + 1], into: &delta)
            var direction = Tensor<Scalar>(zeros: net.weights[k].shape)
            systems[k].solve(target: delta, input: z[k], ones: ones, rho: 1, alpha: 0, weights: &direction)
            saved.assign(net.weights[k])
            var scale = 1 / (lipschitz * lipschitz)
            var accepted = false
            for _ in 0..<20 {
                net.weights[k].assign(saved)
                net.weights[k].add(direction, scaledBy: Scalar(-scale))
                if layerPenalty(k) <= start { accepted = true; break }
                scale /= 2; halvings += 1
            }
            if !accepted { net.weights[k].assign(saved); break }
        }
    }

    /// out ← (σ(P) − T) ⊙ σ′(P) for P = Z̃ W̃_kᵀ of `input` (the residual of a hidden layer's fit
    /// times its slope); `act` keeps σ(P).
    func residualTimesSlope(input: Tensor<Scalar>, layer k: Int, target t: Tensor<Scalar>, into out: inout Tensor<Scalar>) {
        net.affine(input, layer: k, into: &pre)
        act.assign(pre); net.phi(&act)
        out.assign(act); out.add(t, scaledBy: -1)
        let kind = net.hidden, a = Scalar(net.alpha)
        pre.data.withUnsafeBufferPointer { pz in
            act.data.withUnsafeBufferPointer { py in
                out.data.withUnsafeMutableBufferPointer { Scalar.activationBackward(kind, alpha: a, z: pz, y: py, dy: $0) }
            }
        }
    }

    /// The terms of E_Q that hold Z_l: (μ/2)‖Z_l − σ(Z̃_{l−1}W̃_{l−1}ᵀ)‖² plus the layer above's.
    func levelTerms(_ l: Int, _ candidate: Tensor<Scalar>, below: Tensor<Scalar>) -> Double {
        let saved = z[l]
        z[l] = candidate
        let upper = layerPenalty(l) * (l + 1 < net.depth ? mu : 1)
        z[l] = saved
        return mu / 2 * LiftedBLAS.squaredDistance(candidate, below, scratch: &scratch) + upper
    }

    /// The Z-step of hidden level l.
    func updateCoordinates(level l: Int) throws {
        // S = σ(Z̃_{l−1} W̃_{l−1}ᵀ): the level as the layer below predicts it.
        var below = Tensor<Scalar>(zeros: [0])
        net.affine(z[l - 1], layer: l - 1, into: &below)
        net.phi(&below)
        let ones = net.ones(z[l].rows)
        if l + 1 == net.depth {
            // min (μ/2)‖Z − S‖² + ½‖Y − 1bᵀ − Z Wᵀ‖²: Z = (μS + (Y − 1bᵀ)W)(μI + WᵀW)⁻¹.
            LiftedBLAS.backProject(run.data!.targets, packed: net.weights[l], ones: ones, scale: 1, into: &trial)
            trial.add(below, scaledBy: Scalar(mu))
            LiftedBLAS.weightGram(packed: net.weights[l], scale: 1, shift: mu, into: &gram)
            try LiftedBLAS.factor(&gram, method: "penalty", what: "the Z-update of level \(l)")
            LiftedBLAS.solveRight(&trial, factor: gram)
            z[l].assign(trial)
            return
        }
        let w2 = spectralNormSquared(layer: l)
        for _ in 0..<configuration.penaltySteps {
            let start = levelTerms(l, z[l], below: below)
            // ∇ = μ(Z − S) + μ D W_l, D = (σ(Z̃W̃_lᵀ) − Z_{l+1}) ⊙ σ′.
            residualTimesSlope(input: z[l], layer: l, target: z[l + 1], into: &delta)
            let p = net.weights[l].cols, d = p - 1, m = net.weights[l].rows, n = z[l].rows
            gradient.resize([n, d])
            delta.data.withUnsafeBufferPointer { pd in
                net.weights[l].data.withUnsafeBufferPointer { pw in
                    gradient.data.withUnsafeMutableBufferPointer { pg in
                        Scalar.gemm(transA: false, transB: false, m: n, n: d, k: m, alpha: 1, a: pd.baseAddress!, lda: m,
                                    b: pw.baseAddress!, ldb: p, beta: 0, c: pg.baseAddress!, ldc: d)
                    }
                }
            }
            gradient.add(z[l])
            gradient.add(below, scaledBy: -1)
            gradient.scale(by: Scalar(mu))
            var size = 1 / (mu * (1 + lipschitz * lipschitz * w2))
            var accepted = false
            for _ in 0..<20 {
                trial.assign(z[l]); trial.add(gradient, scaledBy: Scalar(-size))
                if levelTerms(l, trial, below: below) <= start { accepted = true; break }
                size /= 2; halvings += 1
            }
            guard accepted else { break }
            z[l].assign(trial)
        }
    }

    /// ‖W_l‖₂² by power iteration on WᵀW (an estimate; the backtracking guards the step).
    func spectralNormSquared(layer l: Int) -> Double {
        LiftedBLAS.weightGram(packed: net.weights[l], scale: 1, shift: 0, into: &gram)
        return LiftedBLAS.powerIteration(gram)
    }

    /// E_Q at the current μ, summed over samples.
    func objective() -> Double {
        guard run.data != nil else { return .nan }
        var e = 0.0
        for k in 0..<net.depth { e += layerPenalty(k) * (k + 1 < net.depth ? mu : 1) }
        return e
    }
}
