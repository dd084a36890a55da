/// How the activation blocks X² … Xⁿ are swept in one fixed-point iteration of LPOM's X-phase.
public enum LPOMSweep: String, Codable, CaseIterable, Sendable {
    /// Every level is updated from the previous sweep's neighbours, all levels in parallel
    /// (the paper's "parallel update").
    case jacobi
    /// Levels are updated one after another from the output down to the first hidden level,
    /// each using the latest value of the level above. Output-first order carries the label
    /// information through the whole network in a single sweep (input-first order would need
    /// one sweep per layer: on a forward pass every hidden equation already holds).
    case gaussSeidel = "gauss-seidel"
}

/// Which Gram matrix the regularised pseudo-inverse (X)^† = Xᵀ(X Xᵀ + εI)⁻¹ = (XᵀX + εI)⁻¹Xᵀ
/// of a layer input is computed through. Both give the same matrix; the cheaper one is the
/// smaller of b × b (batch) and (d+1) × (d+1) (features, with the bias column).
public enum LPOMGramSystem: String, Codable, CaseIterable, Sendable {
    /// The smaller of the two systems.
    case auto
    /// (X̃ X̃ᵀ + εI)⁻¹ X̃, a b × b Cholesky solve with d+1 right-hand sides.
    case batch
    /// X̃ (X̃ᵀX̃ + εI)⁻¹, a (d+1) × (d+1) Cholesky solve with b right-hand sides.
    case features
}

/// The metric of the W-update's APG steps.
public enum LPOMWeightStep: String, Codable, CaseIterable, Sendable {
    /// The paper's step W ← Y − (1/β)(φ(Y X̃) − X⁺) X̃^† with the regularised pseudo-inverse.
    case pseudoInverse = "pseudo-inverse"
    /// Plain FISTA: W ← Y − (1/(β‖X̃‖₂²)) (φ(Y X̃) − X⁺) X̃ᵀ, no linear solve (‖X̃‖₂ by power iteration).
    case gradient
}

/// Settings of `LPOMTrainer` (Li, Fang, Lin, "Lifted Proximal Operator Machines", AAAI 2019).
///
/// The paper fixes the objective and the three block updates; everything below that it leaves
/// open is a field here, with the default we measured to work (notes/lpom-experiments.md).
public struct LPOMConfiguration: Codable, Equatable, Sendable {
    /// Penalties μ, one per dense layer: `mu[k]` weighs the penalty tying the output of
    /// `layers.K` (the paper's level k+2) to its input. One value is used for every layer.
    /// Larger μ keeps the activations closer to a forward pass; μ of the output layer acts as
    /// an inverse step size (the output moves 1/(1+μ) of the way to a squared-loss target), and
    /// the ratios μ_{i+1}/μ_i set the contraction of the hidden fixed points.
    public var mu: [Double] = [5]
    /// Sweep order of the X-phase fixed-point iteration.
    public var sweep: LPOMSweep = .gaussSeidel
    /// Cap on the fixed-point sweeps of one X-phase (and on the inner iterations of the
    /// output-level fixed point).
    public var fixedPointIterations: Int = 20
    /// An X-phase stops when the largest relative fixed-point residual ‖C(Xᵗ) − Xᵗ‖_F/‖Xᵗ‖_F of a
    /// sweep (C the unrelaxed map, φ(…) of the update equations) is below this. Measured
    /// before the relaxation, so the tolerance means the same at every θ.
    public var fixedPointTolerance: Double = 1e-3
    /// Relaxation θ of the fixed-point step X ← X + θ(φ(…) − X). 1 is the paper's plain
    /// iteration, guaranteed to converge only when the contraction ρ = (μ_{i+1}/μ_i)·β²‖W^i‖₂² < 1
    /// (it is the proximal-gradient step with step 1 on a block of smoothness 1 + ρ).
    /// 0 (default) chooses θ = 2/(2 + ρ) per level (Gauss–Seidel; 1/(1 + ρ) for Jacobi) from a
    /// warm-started power-iteration estimate of ‖W^i‖₂: the Jacobian of the map has real
    /// eigenvalues in [−ρ, 0], so this θ contracts for every ρ. (Starting with θ = 1 and
    /// falling back only when a level stops contracting was measured too: faster on 784-300-10,
    /// but it let 784-300-100-10 with cross-entropy blow up within the first epoch.)
    public var relaxation: Double = 0
    /// Accelerated proximal-gradient (FISTA) steps of each W-update; the cap when `apgTolerance`
    /// is set. 10, chosen on MNIST validation accuracy (the last 10,000 training images, seed 101,
    /// 784-300-100-10 and 784-400-200-100-50-10, 4 epochs: 97.17% and 96.32% against 96.84% and
    /// 96.17% with 3 steps, the earlier default; `scripts/lpom_validation.sh screen`).
    public var apgIterations: Int = 10
    /// Stop a layer's FISTA steps once the step is small: ‖W̃ᵏ⁺¹ − W̃ᵏ‖_F ≤ τ ‖W̃⁰‖_F, with W̃⁰ = [W, b]
    /// when the W-update starts (a fixed scale, so the batch-space update needs no extra
    /// product). 0 (default) runs exactly `apgIterations` steps. A small τ with a small ridge
    /// solves the W-subproblem to convergence: the paper's pseudo-inverse step, not damped and
    /// not stopped early.
    public var apgTolerance: Double = 0
    /// Run a layer's APG steps in the batch space (W̃ = W̃₀ + AᵀP, A of size b × m) when that
    /// takes fewer flops than the full-space steps — same iterates up to rounding, see
    /// `updateWeightsInBatchSpace`. Off: always the full-space steps (for comparison).
    public var batchSpaceAPG: Bool = true
    /// Restart the APG momentum when it points against the last step (O'Donoghue & Candès 2015,
    /// gradient scheme); keeps the W-updates nearly monotone.
    public var apgRestart: Bool = true
    /// Ridge of the pseudo-inverse (X̃ᵀX̃ + εI)⁻¹: damps the preconditioned W step. ε → 0 is
    /// a Gauss–Newton/Kaczmarz step that fits the mini-batch exactly (and amplifies the batch's
    /// weak directions into weight noise); large ε is a gradient step with rate 1/(βε).
    /// With `relativeRidge` (default) ε = ridge · mean‖x̃‖² over the batch rows of the layer
    /// input, so the damping follows the scale of each layer's activations.
    public var ridge: Double = 1
    /// Scale the ridge by the mean squared row norm of each layer input (see `ridge`). Without
    /// it, ε = ridge for every layer — and a hidden layer whose activations grow sees a ridge
    /// that shrinks relative to its Gram matrix, which feeds the growth (measured:
    /// notes/lpom-experiments.md).
    public var relativeRidge: Bool = true
    /// Metric of the W-update (the pseudo-inverse of the paper, or a plain gradient step).
    public var weightStep: LPOMWeightStep = .pseudoInverse
    /// Which Gram system computes the pseudo-inverse.
    public var gramSystem: LPOMGramSystem = .auto
    /// X-phase / W-phase alternations per mini-batch.
    public var alternations: Int = 1
    /// Run independent per-layer work (all W-updates; Jacobi sweeps) concurrently, one BLAS
    /// thread per task.
    public var parallel: Bool = true
    /// Compute the LPOM objective and the optimality residuals after every step (costs about
    /// one forward and one backward pass).
    public var diagnostics: Bool = true

    /// The defaults.
    public init() {}

    /// μ of dense layer `k` of `layers`.
    public func mu(layer k: Int) -> Double { mu.count == 1 ? mu[0] : mu[k] }

    /// Checks the settings for a network of `layers` dense layers; the error says what is wrong.
    public func validate(layers: Int) throws {
        guard mu.count == 1 || mu.count == layers else {
            throw TrainingError("LPOM: \(mu.count) values of μ for \(layers) dense layers (give one value or one per layer)",
                                remedy: [.mu])
        }
        for (k, m) in mu.enumerated() where !(m > 0 && m.isFinite) {
            throw TrainingError("LPOM: μ[\(k)] = \(m); every μ must be positive and finite", remedy: [.mu])
        }
        guard fixedPointIterations >= 1 else { throw TrainingError("LPOM: fixedPointIterations must be at least 1") }
        guard fixedPointTolerance >= 0, fixedPointTolerance.isFinite else { throw TrainingError("LPOM: fixedPointTolerance must be ≥ 0") }
        guard relaxation >= 0, relaxation < 2 else {
            throw TrainingError("LPOM: the relaxation θ = \(relaxation) is outside [0, 2) (0 = automatic, 1 = plain fixed point)",
                                remedy: [.relaxation])
        }
        guard apgIterations >= 1 else { throw TrainingError("LPOM: apgIterations must be at least 1") }
        guard apgTolerance >= 0, apgTolerance.isFinite else { throw TrainingError("LPOM: the APG tolerance τ must be ≥ 0 (0 = a fixed number of steps), got \(apgTolerance)") }
        guard ridge >= 0, ridge.isFinite else { throw TrainingError("LPOM: the ridge ε must be ≥ 0, got \(ridge)", remedy: [.ridge]) }
        guard alternations >= 1 else { throw TrainingError("LPOM: alternations must be at least 1") }
    }

    /// The settings as numbers for a history's `training` JSON.
    public var hyperparameters: [String: Double] {
        var h: [String: Double] = [
            "sweep_gauss_seidel": sweep == .gaussSeidel ? 1 : 0,
            "fixed_point_iterations": Double(fixedPointIterations),
            "fixed_point_tolerance": fixedPointTolerance,
            "relaxation": relaxation,
            "apg_iterations": Double(apgIterations),
            "apg_restart": apgRestart ? 1 : 0,
            "apg_tolerance": apgTolerance,
            "ridge": ridge,
            "relative_ridge": relativeRidge ? 1 : 0,
            "gradient_weight_step": weightStep == .gradient ? 1 : 0,
            "alternations": Double(alternations),
        ]
        for (k, m) in mu.enumerated() { h[mu.count == 1 ? "mu" : "mu.\(k)"] = m }
        return h
    }
}
