/// Gram–Gauss–Newton (Cai, Gao, Hou, Chen, Wang, He, Zhang, Wang 2019, "Gram-Gauss-Newton
/// Method: Learning Overparameterized Neural Networks for Regression Problems") for the square
/// loss. Per mini-batch B with Jacobian J_B (`BatchJacobian`, (b·c) × P):
///
///     w ← w − η J_Bᵀ (J_B J_Bᵀ + λI)⁻¹ (f_B(w) − y_B).
///
/// Only the (b·c) × (b·c) Gram system is solved (LAPACKE Cholesky), never a P × P one, and J_B
/// itself is never formed: J Jᵀ and Jᵀα come from its per-layer factors (`BatchJacobian.gram`,
/// `transposeProduct`), so a step costs a few batched gemms of the layers' own sizes. With
/// η = 1 and λ → 0 one step solves the linearised problem f(w) + J(w' − w) = y exactly with the
/// smallest ‖w' − w‖ (the minimum-norm least-squares step).
///
/// Singular Gram systems (duplicate inputs, fewer parameters than rows, λ = 0): the system is
/// declared numerically singular when the Cholesky factorisation fails or its smallest pivot is
/// below √(n·ε)·(largest pivot), i.e. cond(J Jᵀ + λI) ≳ 1/(n ε). The step then retries with
/// damping λ' = max(10λ, √ε · tr(J Jᵀ)/n), ten times larger on each further failure (up to
/// `maxDampingRetries`), and reports the damping actually used as the `ggn_damping` metric.
/// If every retry fails (a non-finite Gram) the step throws a `TrainingError` saying so.
/// No state is carried between steps (each starts from the configured λ), so a resumed run
/// needs nothing but θ (`TrainerState.swift`).
public final class GGNTrainer<Scalar: NNScalar>: Trainer {
    public let network: Network<Scalar>
    /// Damping λ added to the Gram diagonal.
    public var damping: Double
    /// Step size η.
    public var stepSize: Double
    /// How many times the damping is raised before a step gives up.
    public var maxDampingRetries = 8
    private let jacobianEvaluator: BatchJacobian<Scalar>

    /// A GGN trainer with damping λ ≥ 0 and step size η > 0.
    public init(network: Network<Scalar>, damping: Double = 0, stepSize: Double = 1) {
        self.network = network
        self.damping = damping
        self.stepSize = stepSize
        jacobianEvaluator = BatchJacobian(network: network)
    }

    public var method: String { "ggn" }
    public var hyperparameters: [String: Double] { ["damping": damping, "ggn_step": stepSize] }

    /// GGN on class labels: the square loss against one-hot targets (the `squared-error` loss).
    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        let c = network.outputSize
        var y = Tensor<Scalar>(zeros: [labels.count, c])
        for (i, l) in labels.enumerated() {
            guard l >= 0 && Int(l) < c else { throw TrainingError("label \(l) is outside 0..<\(c)") }
            y.data[i * c + Int(l)] = 1
        }
        let (correct, report) = try update(inputs: inputs, targets: y, labels: labels)
        var r = report
        r.accuracy = Double(correct) / Double(max(1, labels.count))
        return r
    }

    public func step(inputs: Tensor<Scalar>, targets: Tensor<Scalar>) throws -> StepReport {
        try update(inputs: inputs, targets: targets, labels: nil).report
    }

    private func update(inputs: Tensor<Scalar>, targets: Tensor<Scalar>, labels: [Int32]?) throws -> (correct: Int, report: StepReport) {
        let (f, layers) = jacobianEvaluator.factors(inputs)
        guard f.shape == targets.shape else {
            throw TrainingError("the network has \(f.cols) outputs but the targets have \(targets.cols) columns")
        }
        var correct = 0
        if let labels { correct = LossKind.squaredError.evaluate(f, labels: labels).correct }
        // r = f − y, L = ½‖r‖²/b.
        var r = f
        r.add(targets, scaledBy: -1)
        let loss = Double(r.squaredNorm) / (2 * Double(max(1, f.rows)))
        guard loss.isFinite else { return (correct, StepReport(loss: loss, accuracy: .nan)) }
        // J Jᵀ and Jᵀ α from the per-layer factors of J, which is never formed.
        let gram = BatchJacobian<Scalar>.gram(layers)
        let (alpha, used) = try solveGram(gram, r.data, damping: damping, maxRetries: maxDampingRetries)
        let step = jacobianEvaluator.transposeProduct(layers, alpha)
        // w ← w − η Jᵀ α, parameter by parameter (BLAS axpy).
        let params = network.parameters
        step.withUnsafeBufferPointer { ps in
            for k in params.values.indices {
                let count = params.values[k].count
                params.values[k].data.withUnsafeMutableBufferPointer { pv in
                    Scalar.axpy(n: count, alpha: Scalar(-stepSize), x: ps.baseAddress! + jacobianEvaluator.offsets[k],
                                y: pv.baseAddress!)
                }
            }
        }
        return (correct, StepReport(loss: loss, accuracy: .nan, extra: ["ggn_damping": used]))
    }
}

/// Solves (G + λI) α = r for a symmetric positive semidefinite G `[n, n]` (only its lower
/// triangle is read) by LAPACKE Cholesky,
/// raising λ when the system is numerically singular (see `GGNTrainer`). Returns α and the λ used.
/// Throws `TrainingError` when no damping up to `maxRetries` raises makes the system solvable.
public func solveGram<S: NNScalar>(_ gram: Tensor<S>, _ r: [S], damping: Double,
                                   maxRetries: Int = 8) throws -> (solution: [S], damping: Double) {
    let n = gram.rows
    precondition(gram.cols == n && r.count == n, "solveGram: Gram \(gram.shape), right-hand side \(r.count)")
    guard n > 0 else { return ([], damping) }
    let eps = Double(S.ulpOfOne)
    // O(n) diagonal reads and writes; the O(n²P) products around this are the cost.
    var trace = 0.0
    for i in 0..<n { trace += Double(gram.data[i * n + i]) }
    guard trace.isFinite else {
        throw TrainingError("GGN: the Gram matrix J Jᵀ is not finite (the network's outputs or Jacobian overflowed); try a smaller step size η",
                            remedy: [.ggnStep])
    }
    var lambda = damping
    for attempt in 0...maxRetries {
        var a = gram
        for i in 0..<n { a.data[i * n + i] += S(lambda) }
        var x = r
        let info = a.data.withUnsafeMutableBufferPointer { pa in
            x.withUnsafeMutableBufferPointer { px in S.choleskySolve(n: n, nrhs: 1, a: pa.baseAddress!, b: px.baseAddress!) }
        }
        if info == 0 {
            var lo = Double.infinity, hi = 0.0
            for i in 0..<n { let p = abs(Double(a.data[i * n + i])); lo = min(lo, p); hi = max(hi, p) }
            let finite = x.withUnsafeBufferPointer { S.maxAbs($0).isFinite }
            if finite && lo > (Double(n) * eps).squareRoot() * hi { return (x, lambda) }
        }
        if attempt == maxRetries { break }
        lambda = max(10 * lambda, eps.squareRoot() * max(trace, .leastNormalMagnitude) / Double(n))
    }
    throw TrainingError("GGN: the Gram system J Jᵀ + λI stays singular up to damping λ = \(lambda) (duplicate inputs with λ = 0?); start from a larger damping λ",
                        remedy: [.damping])
}
