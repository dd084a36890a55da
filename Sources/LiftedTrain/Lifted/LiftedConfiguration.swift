/// The lifted methods beside LPOM (see this room's README).
public enum LiftedMethod: String, Codable, CaseIterable, Sendable {
    /// Taylor, Burmeister, Xu, Singh, Patel, Goldstein 2016: ADMM without gradients.
    case admm
    /// Zeng, Lau, Lin, Yao 2019: three-splitting block coordinate descent.
    case bcd
    /// Carreira-Perpiñán & Wang 2014: quadratic penalty, method of auxiliary coordinates.
    case penalty
    /// Askari, Negiar, Sambharya, El Ghaoui 2018: lifted neural networks.
    case askari
}

/// Settings of the lifted trainers. Each method reads its own fields; the shared ones are
/// at the top. Defaults and where they come from are documented per field; every choice
/// the papers leave open is listed in this room's README.
public struct LiftedConfiguration: Codable, Equatable, Sendable {
    /// Ridge ε of the weight least squares, relative to the layer input's scale
    /// (ε = ridge · ρ · trace(ÃᵀÃ)/(d+1)). Taylor et al.'s W ← z a^† has none; with MNIST's
    /// always-zero border pixels ÃᵀÃ is singular, so a small ridge makes the pseudo-inverse
    /// that of the regularised system. Askari et al.'s ridge ρ_l‖W_l‖² is `askariWeightRidge`.
    public var ridge: Double = 1e-4
    /// Bytes the per-sample variables may take (0: no check). The command line passes the
    /// machine's available memory; the check comes before any allocation.
    public var memoryBudget: Double = 0
    /// Compute the method's objective and residuals after every step (one more pass).
    public var diagnostics: Bool = true

    // MARK: ADMM (Taylor et al. 2016)

    /// β_l, the weight of ‖z_l − W_l a_{l−1}‖² (one value for every layer).
    public var admmBeta: Double = 1
    /// γ_l, the weight of ‖a_l − h(z_l)‖².
    public var admmGamma: Double = 10
    /// Iterations at the start without the Lagrange multiplier update ("warm start": the
    /// alternating minimisation alone, before the Bregman iterations begin). 10, chosen on MNIST
    /// validation (784-300-10, seed 101, 20 iterations: 88.09% against 50.26% with none and 86.96%
    /// with no multiplier update at all; notebooks-md/05-lifted-methods.md).
    public var admmWarmStart: Int = 10

    // MARK: BCD (Zeng et al. 2019)

    /// γ, the weight of ‖V_i − σ(U_i)‖²/2 (the authors' MNIST code: 1).
    public var bcdGamma: Double = 1
    /// ρ, the weight of ‖U_i − W_i V_{i−1} − b_i‖²/2 (the authors' code: 1).
    public var bcdRho: Double = 1
    /// α, the proximal weight of the W, U and output-V updates. The authors' code uses 5; 1 was
    /// chosen on MNIST validation (784-300-10, seed 101, 20 iterations: 85.92% against 84.88%).
    public var bcdAlpha: Double = 1

    // MARK: Quadratic penalty / MAC (Carreira-Perpiñán & Wang 2014)

    /// μ at the first iteration.
    public var penaltyMu: Double = 1
    /// μ ← μ · growth after every iteration (the paper's increasing schedule μ_k = μ₀ aᵏ).
    public var penaltyGrowth: Double = 1.1
    /// Gradient steps per Z-block and per hidden W-block in one iteration.
    public var penaltySteps: Int = 3

    // MARK: Askari et al. 2018

    /// λ_l, the weight of ‖X_{l+1} − W_l X_l‖²/2 (one value for every layer). 3, chosen on MNIST
    /// validation (784-300-10, seed 101, 10 iterations: 87.04% against 86.86% with 1, 86.83% with 0.3).
    public var askariLambda: Double = 3
    /// ρ of the ridge ρ‖W̃‖² of every weight update, relative to the input scale like `ridge`.
    public var askariWeightRidge: Double = 1e-3
    /// Projected accelerated-gradient steps of each non-negative least-squares X-update.
    public var askariSteps: Int = 10

    /// The defaults.
    public init() {}

    /// Checks the settings; the error names the option.
    public func validate() throws {
        func positive(_ v: Double, _ name: String) throws {
            guard v > 0, v.isFinite else { throw TrainingError("\(name) must be a positive number, got \(v)") }
        }
        func nonNegative(_ v: Double, _ name: String) throws {
            guard v >= 0, v.isFinite else { throw TrainingError("\(name) must be ≥ 0, got \(v)") }
        }
        try nonNegative(ridge, "--lifted-ridge")
        try nonNegative(memoryBudget, "--lifted-memory")
        try positive(admmBeta, "--admm-beta"); try positive(admmGamma, "--admm-gamma")
        guard admmWarmStart >= 0 else { throw TrainingError("--admm-warm-start must be ≥ 0, got \(admmWarmStart)") }
        try positive(bcdGamma, "--bcd-gamma"); try positive(bcdRho, "--bcd-rho"); try nonNegative(bcdAlpha, "--bcd-alpha")
        try positive(penaltyMu, "--penalty-mu")
        guard penaltyGrowth >= 1, penaltyGrowth.isFinite else { throw TrainingError("--penalty-growth must be ≥ 1, got \(penaltyGrowth)") }
        guard penaltySteps >= 1 else { throw TrainingError("--penalty-steps must be at least 1, got \(penaltySteps)") }
        try positive(askariLambda, "--askari-lambda"); try nonNegative(askariWeightRidge, "--askari-ridge")
        guard askariSteps >= 1 else { throw TrainingError("--askari-steps must be at least 1, got \(askariSteps)") }
    }

    /// The settings `method` reads, as numbers for a history's `training` JSON.
    public func hyperparameters(_ method: LiftedMethod) -> [String: Double] {
        var h: [String: Double] = ["ridge": ridge, "full_batch": 1]
        switch method {
        case .admm: h["beta"] = admmBeta; h["gamma"] = admmGamma; h["warm_start"] = Double(admmWarmStart)
        case .bcd: h["gamma"] = bcdGamma; h["rho"] = bcdRho; h["alpha"] = bcdAlpha
        case .penalty: h["mu"] = penaltyMu; h["growth"] = penaltyGrowth; h["steps"] = Double(penaltySteps)
        case .askari: h["lambda"] = askariLambda; h["weight_ridge"] = askariWeightRidge; h["steps"] = Double(askariSteps)
        }
        return h
    }
}
