import Foundation

/// Lifted Proximal Operator Machines (Li, Fang, Lin, AAAI 2019) for fully connected networks.
///
/// Notation (the paper's, with samples as *rows* here, as everywhere in LiftedTrain): level 0 is
/// the input X¹, level k = 1 … L is the output of dense layer k−1 (`layers.K`), level L is the
/// network output Xⁿ. The trainer minimises, per mini-batch,
///
///     F(W, X) = ℓ(X^L) + Σ_{k=1..L} μ_k Σ B_k(X^k, Z^k),   Z^k = X^{k−1} W_{k−1}ᵀ + 1 b_{k−1}ᵀ,
///     B(x, z) = f(x) + g(z) + ½(x − z)²   (see `LPOMPenalty`),
///
/// where ℓ is the loss *summed* over the batch (so μ is per sample and does not depend on the
/// batch size). Each step: a forward pass initialises X; then `alternations` times an X-phase
/// (fixed-point sweeps over all levels) and a W-phase (APG on every layer, in parallel).
/// The updates evaluate φ only — never φ⁻¹, φ′, f or g. Between steps the trainer keeps only
/// the power-iteration warm start of ‖W‖₂² (`exportState`, `TrainerState.swift`).
public final class LPOMTrainer<Scalar: NNScalar>: Trainer {
    public let network: Network<Scalar>
    /// The loss ℓ (summed over the batch inside the objective).
    public let loss: LossKind
    /// The settings.
    public let configuration: LPOMConfiguration
    public var method: String { "lpom" }
    public var hyperparameters: [String: Double] { configuration.hyperparameters }

    /// Number of dense layers L.
    public let depth: Int
    /// Widths of the levels 0 … L.
    public let sizes: [Int]
    let preprocess: [any Layer<Scalar>]
    let names: [String]
    let weightSlots: [Int]
    let biasSlots: [Int]
    let kinds: [ActivationKind]      // per level 1 … L (index 0 unused: identity)
    let alphas: [Double]
    let betas: [Double]              // Lipschitz constants per level
    let mus: [Double]                // per level 1 … L (index 0 unused)

    var layers: [LPOMLayerState<Scalar>] = []
    var levels: [LPOMLevel<Scalar>] = []
    var labels: [Int32] = []
    var ones: [Scalar] = []
    var batch = 0
    /// True while every `levels[k].z` matches the current X and W (after the forward pass).
    var preactivationsCurrent = false
    /// True from an X-phase until the W-phase moves W₀: `levels[1].z` is X⁰W₀ᵀ + 1b₀ᵀ, which the
    /// first layer's batch-space W-update then takes instead of recomputing it.
    var firstPreactivationCurrent = false

    /// Counters of the last step (for diagnostics and tests).
    var lastChange = 0.0
    var unconverged = 0

    /// Data-parallel training over these ranks (`LPOMDataParallel.swift`); nil: one process.
    public var collective: (any Collective)?
    /// Rows of the global batch of a data-parallel step (the local `batch` is this rank's share).
    var globalBatch = 0
    /// Layer-parallel training: which layers and levels this rank owns (`LPOMLayerParallel.swift`).
    var partition: LPOMPartition?
    /// Per-level flags of the last sweep: the level is not bounded (summed over ranks when sharded).
    var unboundedLevels: [Double] = []

    /// A trainer for `network`, which must be a multilayer perceptron: optional leading
    /// `normalize` layers, then dense layers separated by one hidden activation kind, optionally
    /// followed by an output activation.
    public init(network: Network<Scalar>, loss: LossKind, configuration: LPOMConfiguration = LPOMConfiguration()) throws {
        self.network = network
        self.loss = loss
        self.configuration = configuration
        var pre: [any Layer<Scalar>] = []
        var dense: [(name: String, in: Int, out: Int)] = []
        var acts: [(ActivationKind, Double)] = []   // activation after each dense layer
        for (i, l) in network.spec.layers.enumerated() {
            switch l.type {
            case "normalize":
                guard dense.isEmpty else { throw ModelError("LPOM: a normalize layer after a dense layer is not supported") }
                pre.append(network.layers[i])
            case "dense":
                guard let n = l.name, let a = l.in, let b = l.out else { throw ModelError("LPOM: dense layer \(i) lacks name or sizes") }
                if dense.count > acts.count { acts.append((.identity, 0)) }
                dense.append((n, a, b))
            default:
                guard let k = ActivationKind(rawValue: l.type) else {
                    throw ModelError("LPOM trains dense networks only; layer \(i) has type '\(l.type)'")
                }
                guard dense.count == acts.count + 1 else {
                    throw ModelError("LPOM: layer \(i) is a second activation in a row")
                }
                acts.append((k, l.alpha ?? k.defaultAlpha))
            }
        }
        guard !dense.isEmpty else { throw ModelError("LPOM: the network has no dense layer") }
        if acts.count < dense.count { acts.append((.identity, 0)) }
        let hiddenKinds = Set(acts.dropLast().map { $0.0.rawValue })
        guard hiddenKinds.count <= 1 else {
            throw ModelError("LPOM: hidden layers must share one activation, found \(hiddenKinds.sorted())")
        }
        depth = dense.count
        try configuration.validate(layers: depth)
        preprocess = pre
        names = dense.map(\.name)
        sizes = [dense[0].in] + dense.map(\.out)
        weightSlots = try dense.map { d in
            guard let s = network.parameters.slot(of: d.name + ".weight") else { throw ModelError("LPOM: no parameter \(d.name).weight") }
            return s
        }
        biasSlots = try dense.map { d in
            guard let s = network.parameters.slot(of: d.name + ".bias") else { throw ModelError("LPOM: no parameter \(d.name).bias") }
            return s
        }
        kinds = [.identity] + acts.map(\.0)
        alphas = [0] + acts.map(\.1)
        betas = [1] + acts.map { $0.0.lipschitz(alpha: $0.1) }
        mus = [0] + (0..<dense.count).map { configuration.mu(layer: $0) }
        for k in 0..<depth {
            layers.append(LPOMLayerState(name: names[k], inputs: sizes[k], outputs: sizes[k + 1]))
        }
        for k in 0...depth { levels.append(LPOMLevel(width: sizes[k])) }
    }

    // MARK: - The step

    /// One LPOM step on a mini-batch. The report's loss and accuracy are those of the forward
    /// pass *before* the update; `extra` holds
    /// - `fixed_point_iterations`: X-phase sweeps used (summed over alternations),
    /// - `fixed_point_change`: the largest relative change of the last sweep,
    /// - `fixed_point_unconverged`: X-phases that hit the sweep cap,
    /// - with an `apgTolerance`, `apg_iterations.layers.K`: the APG steps of layer K (summed over
    ///   alternations),
    /// and with `diagnostics`, for the updated W and X:
    /// - `lpom_objective`: F(W, X) per sample,
    /// - `residual.layers.K`: ‖(φ(W X̃) − X⁺) X̃ᵀ‖_F / b of layer K (its W-optimality residual),
    /// - `contraction.layers.K`: ρ = (μ_{K+1}/μ_K) β² ‖W_K‖₂² of the hidden level feeding layer K.
    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        if partition != nil { return try layerParallelStep(inputs: inputs, labels: labels) }
        if sharded {
            let (x, y) = try shard(inputs: inputs, labels: labels)
            try prepare(inputs: x, labels: y)
        } else {
            try prepare(inputs: inputs, labels: labels)
        }
        unconverged = 0
        let (l0, correct) = globalLoss()
        guard l0.isFinite else { return StepReport(loss: l0, accuracy: 0) }
        var sweeps = 0
        var apgSteps = [Int](repeating: 0, count: depth)
        for _ in 0..<configuration.alternations {
            estimateNorms()
            sweeps += try activationPhase()
            try weightPhase()
            for k in 0..<depth { apgSteps[k] += layers[k].apgSteps }
        }
        storeWeights()
        var extra = sweepMetrics(sweeps: sweeps, apgSteps: apgSteps)
        if configuration.diagnostics { addDiagnostics(to: &extra, diagnostics) }
        return StepReport(loss: l0, accuracy: Double(correct) / Double(labels.count), extra: extra)
    }

    /// The objective, residuals (from `compute`) and contractions of the updated W and X.
    func addDiagnostics(to extra: inout [String: Double], _ compute: () -> (objective: Double, residuals: [Double])) {
        // The contraction of the updated W needs fresh norm estimates; they must not advance the
        // warm-started power iteration that sets the next step's θ, or recording diagnostics
        // would change the training trajectory.
        let saved = layers.map { ($0.power, $0.powerSteps, $0.normSquared) }
        estimateNorms()
        let d = compute()
        extra["lpom_objective"] = d.objective
        for k in 0..<depth { extra["residual.\(names[k])"] = d.residuals[k] }
        for i in 1..<max(1, depth) { extra["contraction.\(names[i])"] = contraction(level: i) }
        for (l, s) in zip(layers, saved) { (l.power, l.powerSteps, l.normSquared) = s }
    }

    /// The extra metrics of a step: sweeps, the last change, unconverged X-phases, APG steps.
    func sweepMetrics(sweeps: Int, apgSteps: [Int]) -> [String: Double] {
        var extra: [String: Double] = ["fixed_point_iterations": Double(sweeps),
                                       "fixed_point_change": lastChange,
                                       "fixed_point_unconverged": Double(unconverged)]
        if configuration.apgTolerance > 0 {
            for k in 0..<depth { extra["apg_iterations.\(names[k])"] = Double(apgSteps[k]) }
        }
        return extra
    }

    /// Loads W from the network and initialises every level by a forward pass.
    func prepare(inputs: Tensor<Scalar>, labels: [Int32]) throws {
        precondition(inputs.cols == sizes[0], "LPOM: inputs have \(inputs.cols) features, the network takes \(sizes[0])")
        batch = inputs.rows
        self.labels = labels
        if ones.count != batch { ones = Scalar.filledArray(1, count: batch) }
        for k in 0..<depth {
            // Copies, not shared storage: the W-update then writes into the trainer's own buffers.
            layers[k].W.assign(network.parameters.values[weightSlots[k]])
            layers[k].bias.assign(network.parameters.values[biasSlots[k]])
            layers[k].pinvValid = false
        }
        var x = inputs
        for p in preprocess { x = p.forward(x, training: false) }
        levels[0].x = x
        firstPreactivationCurrent = false
        for k in 1...depth {
            preactivation(level: k)
            levels[k].x = levels[k].z
            applyPhi(level: k, &levels[k].x)
        }
        preactivationsCurrent = true
    }

    /// Writes the trainer's weights back into the network's parameter store.
    func storeWeights() {
        for k in 0..<depth {
            network.parameters.values[weightSlots[k]].assign(layers[k].W)
            network.parameters.values[biasSlots[k]].assign(layers[k].bias)
        }
    }

    // MARK: - Building blocks

    /// Z^k ← X^{k−1} W_{k−1}ᵀ + 1 b_{k−1}ᵀ into `levels[k].z`.
    func preactivation(level k: Int) {
        affine(levels[k - 1].x, layers[k - 1], into: &levels[k].z)
    }

    /// out ← x Wᵀ + 1 bᵀ.
    func affine(_ x: Tensor<Scalar>, _ layer: LPOMLayerState<Scalar>, into out: inout Tensor<Scalar>) {
        LiftedTrain.affine(x, weight: layer.W, bias: layer.bias, ones: ones, into: &out)
    }

    func applyPhi(level k: Int, _ t: inout Tensor<Scalar>) {
        t.data.withUnsafeMutableBufferPointer { applyPhi(level: k, $0) }
    }

    func applyPhi(level k: Int, _ x: UnsafeMutableBufferPointer<Scalar>) {
        Scalar.activationForward(kinds[k], alpha: Scalar(alphas[k]), x)
    }

    /// ∂ℓ/∂X^L of the summed loss, into `g`.
    func lossGradient(_ x: Tensor<Scalar>, into g: inout Tensor<Scalar>) {
        let c = x.cols
        switch loss {
        case .squaredError, .mse:  // .mse on class labels is the one-hot squared error
            g.assign(x)
            for r in 0..<labels.count { g.data[r * c + Int(labels[r])] -= 1 }
        case .crossEntropy:
            g.resize(x.shape)
            _ = x.data.withUnsafeBufferPointer { px in
                labels.withUnsafeBufferPointer { pl in
                    g.data.withUnsafeMutableBufferPointer { pg in
                        Scalar.softmaxCrossEntropy(logits: px, labels: pl, classes: c, grad: pg, scale: 1)
                    }
                }
            }
        }
    }

    /// True for the one-hot squared error (`squared-error`, and `mse`, which on class labels is
    /// the same loss): curvature 1 and the closed-form output block.
    var squaredLoss: Bool { loss == .squaredError || loss == .mse }

    /// ρ_i = (μ_{i+1}/μ_i) β_i β_{i+1} ‖W_i‖₂²: the bound on the Jacobian of the level-i
    /// fixed-point map X ↦ φ(Z − (μ_{i+1}/μ_i) W_iᵀ(φ(W_i X) − X^{i+1})).
    func contraction(level i: Int) -> Double {
        mus[i + 1] / mus[i] * betas[i] * betas[i + 1] * layers[i].normSquared
    }

    /// Refreshes the power-iteration estimates of ‖W_k‖₂² (warm-started across steps).
    func estimateNorms() {
        for k in 1..<max(1, depth) { layers[k].estimateNorm() }
    }

    /// θ of level i's fixed-point step: the configured value, or in automatic mode the safe one.
    func relaxation(level i: Int) -> Double {
        configuration.relaxation > 0 ? configuration.relaxation : safeRelaxation(level: i)
    }

    /// The θ that contracts for every Jacobian the bound allows.
    func safeRelaxation(level i: Int) -> Double {
        if i == depth {
            // Output: the Jacobian of X ↦ φ(Z − ∇ℓ(X)/μ) has eigenvalues in [−κ, 0] with
            // κ = β ‖∇²ℓ‖/μ, ‖∇²ℓ‖ = 1 (squared) or ½ (softmax cross-entropy).
            let kappa = betas[i] * (squaredLoss ? 1 : 0.5) / mus[i]
            return 2 / (2 + kappa)
        }
        // A Jacobi sweep moves all levels at once: the coupling blocks between neighbouring
        // levels double the spread of the joint Jacobian (a block-tridiagonal A satisfies
        // A ≺ 2·blockdiag(A)), so the step is halved to θ = 1/(1 + ρ).
        if configuration.sweep == .jacobi { return 1 / (1 + contraction(level: i)) }
        return 2 / (2 + contraction(level: i))
    }
}

// MARK: - Per-layer and per-level state

/// One dense layer's weights and the work buffers of its W-update. One object per layer, so
/// that concurrent per-layer tasks never write the same object.
final class LPOMLayerState<Scalar: NNScalar> {
    let name: String
    let inputs: Int
    let outputs: Int
    var W = Tensor<Scalar>(zeros: [0])
    var bias = Tensor<Scalar>(zeros: [0])
    /// APG steps of the last W-update (fewer than `apgIterations` when `apgTolerance` stopped it).
    var apgSteps = 0
    /// Power-iteration vector and the estimate ‖W‖₂².
    var power: Tensor<Scalar>
    var powerSteps = 0
    var normSquared = 0.0
    /// [X, 1] of the last W-update and its regularised pseudo-inverse.
    var augmented = Tensor<Scalar>(zeros: [0])
    var pinv = Tensor<Scalar>(zeros: [0])
    var pinvTransposed = false
    var pinvValid = false
    var gram = Tensor<Scalar>(zeros: [0])
    /// APG buffers: W̃ = [W, b] (the last gradient-mapping point), the extrapolation Y, and Δ.
    var packed = Tensor<Scalar>(zeros: [0])
    var extrapolated = Tensor<Scalar>(zeros: [0])
    var work = Tensor<Scalar>(zeros: [0])
    var residual = Tensor<Scalar>(zeros: [0])
    /// The APG W-update in the batch space (`updateWeightsInBatchSpace`): K = X̃Pᵀ and Q = PPᵀ
    /// (b × b, valid with `pinv`), the coefficients A of W̃ − W̃₀ = AᵀP and of the last step, the
    /// pre-activations Z = X̃W̃ᵀ of the point and of the step, and a scratch matrix (all b × m).
    var batchK = Tensor<Scalar>(zeros: [0]), batchQ = Tensor<Scalar>(zeros: [0])
    var batchSpaceValid = false
    var coefficients = Tensor<Scalar>(zeros: [0]), stepCoefficients = Tensor<Scalar>(zeros: [0])
    var preactivation = Tensor<Scalar>(zeros: [0]), stepPreactivation = Tensor<Scalar>(zeros: [0])
    var scratch = Tensor<Scalar>(zeros: [0])
    /// Rᵀ X of the diagnostics (the W-optimality residual without its bias row).
    var residualGradient = Tensor<Scalar>(zeros: [0])
    var error: TrainingError?

    init(name: String, inputs: Int, outputs: Int) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        var v = Tensor<Scalar>(zeros: [inputs])
        // A fixed, non-degenerate start (1, −1/2, 1/3, …): no random state needed.
        for i in 0..<inputs { v.data[i] = Scalar((i % 2 == 0 ? 1.0 : -1.0) / Double(1 + i % 7)) }
        power = v
    }

    /// Power iteration on WᵀW: many steps the first time, a few warm-started ones afterwards.
    func estimateNorm() {
        let steps = powerSteps == 0 ? 30 : 3
        var u = [Scalar](repeating: 0, count: outputs)
        var lambda = 0.0
        for _ in 0..<steps {
            let vv = Double(power.squaredNorm)
            guard vv > 0, vv.isFinite else { break }
            W.data.withUnsafeBufferPointer { pw in
                power.data.withUnsafeMutableBufferPointer { pv in
                    u.withUnsafeMutableBufferPointer { pu in
                        Scalar.gemv(trans: false, m: outputs, n: inputs, alpha: 1, a: pw.baseAddress!, lda: inputs,
                                    x: pv.baseAddress!, beta: 0, y: pu.baseAddress!)
                        lambda = Double(Scalar.dot(n: outputs, x: pu.baseAddress!, y: pu.baseAddress!)) / vv
                        Scalar.gemv(trans: true, m: outputs, n: inputs, alpha: 1, a: pw.baseAddress!, lda: inputs,
                                    x: pu.baseAddress!, beta: 0, y: pv.baseAddress!)
                    }
                }
            }
            let n = Double(power.squaredNorm).squareRoot()
            guard n > 0, n.isFinite else { break }
            power.scale(by: Scalar(1 / n))
        }
        powerSteps += steps
        normSquared = lambda
    }
}

/// One activation level: X^k, its pre-activation Z^k and scratch space.
final class LPOMLevel<Scalar: NNScalar> {
    let width: Int
    var x = Tensor<Scalar>(zeros: [0])
    var z = Tensor<Scalar>(zeros: [0])
    var candidate = Tensor<Scalar>(zeros: [0])
    var scratch = Tensor<Scalar>(zeros: [0])
    var back = Tensor<Scalar>(zeros: [0])
    var change = 0.0
    /// ‖C − X‖² and ‖X‖² of the last candidate (summed over ranks into `change` when sharded).
    var diffSquared = 0.0, normSquared = 0.0
    init(width: Int) { self.width = width }
}
