import LiftedTrain

/// A Gaussian measurement matrix A ∈ ℝ^{m×n} with i.i.d. N(0, 1/m) entries — the scaling of Song,
/// Fan & Lafferty (2019, Thm 3.1) and of Bora et al. (2017), under which E‖Av‖² = ‖v‖², so the
/// objective ½‖A G(x) − A y‖² is on the same scale as plain inversion. One matrix is drawn per
/// run and shared by all trials (our choice: the paper does not say; it makes A Gᵀ one gemm).
public struct MeasurementMatrix<Scalar: NNScalar> {
    /// Measurements m and signal size n.
    public let m: Int, n: Int
    /// The matrix, row-major `[m, n]`.
    public let a: Tensor<Scalar>

    /// A with the given entries (`[m, n]`).
    public init(_ a: Tensor<Scalar>) {
        precondition(a.shape.count == 2, "MeasurementMatrix: \(a.shape) is not [m, n]")
        self.a = a; m = a.shape[0]; n = a.shape[1]
    }

    /// i.i.d. N(0, σ²) entries from `rng`; σ = 1/√m by default (the released compressX.py
    /// draws N(0, 1): `np.random.randn(n, 784, meas)`, one matrix per trial).
    public static func gaussian(m: Int, n: Int, std: Double? = nil, rng: inout SplitMix64) -> MeasurementMatrix {
        MeasurementMatrix(.randomNormal(shape: [m, n], std: std ?? 1 / Double(m).squareRoot(), using: &rng))
    }
}

/// The inversion objective of a batch of trials (one row each):
///
///     f(x_i) = ½‖A G(x_i) − A y_i‖²,   ∇f(x_i) = J_G(x_i)ᵀ Aᵀ (A G(x_i) − A y_i)
///
/// (Song, Fan, Lafferty, NeurIPS 2019, eq. 3.1; A = I for plain inversion). G is evaluated in
/// eval mode (batch norm with the snapshot's running statistics, as the authors' code), and the
/// gradient comes from one backward pass of the network in `inputGradientMode` (no parameter
/// gradients). For the batch X `[b, k]`: R = G(X) Aᵀ − (AY) is one gemm, dG = R A another.
public final class InversionProblem<Scalar: NNScalar> {
    /// The generator (its weights are whatever snapshot was loaded last).
    public let network: Network<Scalar>
    /// A, or nil for A = I.
    public let measurement: MeasurementMatrix<Scalar>?
    /// One A per trial (the released compressX.py), indexed by trial; nil: `measurement` for all.
    /// Rows are then multiplied one at a time (BLAS gemv), since each row has its own A.
    public let perTrialMeasurements: [MeasurementMatrix<Scalar>]?
    private var residual = Tensor<Scalar>(zeros: [0])
    private var dG = Tensor<Scalar>(zeros: [0])

    /// The objective for `network` (put in input-gradient mode) and an optional A whose n must be
    /// the network's output size.
    public init(network: Network<Scalar>, measurement: MeasurementMatrix<Scalar>? = nil,
                perTrial: [MeasurementMatrix<Scalar>]? = nil) {
        precondition(measurement.map { $0.n == network.outputSize } ?? true,
                     "A has \(measurement?.n ?? 0) columns, G outputs \(network.outputSize)")
        precondition(perTrial.map { p in !p.isEmpty && p.allSatisfy { $0.n == network.outputSize && $0.m == p[0].m } } ?? true,
                     "per-trial A: empty, or not all m × \(network.outputSize)")
        precondition(measurement == nil || perTrial == nil, "InversionProblem: one shared A or one A per trial, not both")
        self.network = network
        self.measurement = measurement
        self.perTrialMeasurements = perTrial
        network.inputGradientMode = true
    }

    /// Latent dimension k.
    public var latentSize: Int { network.inputSize }
    /// Signal size n.
    public var signalSize: Int { network.outputSize }
    /// Rows of A (n for A = I).
    public var measurementCount: Int { perTrialMeasurements?[0].m ?? measurement?.m ?? signalSize }

    /// A y for signals `[b, n]` (y itself for A = I): what the objective compares against.
    /// `trials` names the trial of every row (needed with per-trial A; default row i = trial i).
    public func measure(_ y: Tensor<Scalar>, trials: [Int]? = nil) -> Tensor<Scalar> {
        let flat = y.reshaped([y.rows, y.cols])
        if let per = perTrialMeasurements {
            var out = Tensor<Scalar>(zeros: [flat.rows, measurementCount])
            perRow(flat, into: &out, trials: trials, per, transpose: false)
            return out
        }
        guard let A = measurement else { return flat }
        return matmul(flat, A.a, transposeB: true)
    }

    /// out_i = A_{t(i)} v_i (or A_{t(i)}ᵀ v_i), one gemv a row.
    private func perRow(_ v: Tensor<Scalar>, into out: inout Tensor<Scalar>, trials: [Int]?, _ per: [MeasurementMatrix<Scalar>],
                        transpose: Bool, beta: Scalar = 0) {
        let (vc, oc) = (v.cols, out.cols)
        v.data.withUnsafeBufferPointer { pv in
            out.data.withUnsafeMutableBufferPointer { po in
                for i in 0..<v.rows {
                    let a = per[trials?[i] ?? i]
                    a.a.data.withUnsafeBufferPointer { pa in
                        Scalar.gemv(trans: transpose, m: a.m, n: a.n, alpha: 1, a: pa.baseAddress!, lda: a.n,
                                    x: pv.baseAddress! + i * vc, beta: beta, y: po.baseAddress! + i * oc)
                    }
                }
            }
        }
    }

    /// G(x) for a batch `[b, k]` in eval mode, as `[b, n]`.
    public func generate(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let g = network.forward(x, training: false)
        return g.reshaped([g.rows, g.cols])
    }

    /// f(x_i) for every row (forward only).
    public func values(_ x: Tensor<Scalar>, measuredTargets ay: Tensor<Scalar>, trials: [Int]? = nil) -> [Double] {
        values(generated: generate(x), measuredTargets: ay, trials: trials)
    }

    /// f(x_i) for every row from G(x) as `generate` returned it.
    public func values(generated g: Tensor<Scalar>, measuredTargets ay: Tensor<Scalar>, trials: [Int]? = nil) -> [Double] {
        formResidual(g, ay, trials: trials)
        return rowSquaredNorms(residual).map { $0 / 2 }
    }

    /// f(x_i) for every row, and ∇f(x_i) written into `gradient` (`[b, k]`).
    public func valuesAndGradients(_ x: Tensor<Scalar>, measuredTargets ay: Tensor<Scalar>,
                                   gradient: inout Tensor<Scalar>, trials: [Int]? = nil) -> [Double] {
        precondition(x.rows == ay.rows, "InversionProblem: \(x.rows) latents for \(ay.rows) targets")
        let out = network.forward(x, training: true)
        formResidual(out.reshaped([out.rows, out.cols]), ay, trials: trials)
        let f = rowSquaredNorms(residual).map { $0 / 2 }
        let dy: Tensor<Scalar>
        if let per = perTrialMeasurements {
            dG = Tensor(zeros: [x.rows, signalSize])
            perRow(residual, into: &dG, trials: trials, per, transpose: true)   // dG_i = A_iᵀ r_i
            dy = dG.reshaped(out.shape)
        } else if let A = measurement {
            gemm(residual, A.a, into: &dG)              // dG = R A  [b, n]
            dy = dG.reshaped(out.shape)
        } else {
            dy = residual.reshaped(out.shape)
        }
        gradient = network.backward(dy, needInputGradient: true)!.reshaped([x.rows, latentSize])
        return f
    }

    /// residual ← G Aᵀ − AY (or G − Y).
    private func formResidual(_ g: Tensor<Scalar>, _ ay: Tensor<Scalar>, trials: [Int]?) {
        precondition(ay.rows == g.rows && ay.cols == measurementCount,
                     "InversionProblem: targets \(ay.shape), expected [\(g.rows), \(measurementCount)]")
        precondition(trials.map { $0.count == g.rows } ?? true, "InversionProblem: trials for \(trials?.count ?? 0) of \(g.rows) rows")
        residual = ay.reshaped([ay.rows, ay.cols])
        if let per = perTrialMeasurements {
            residual.scale(by: -1)
            perRow(g, into: &residual, trials: trials, per, transpose: false, beta: 1)   // A_i G_i − A_i y_i
        } else if let A = measurement {
            gemm(g, A.a, transposeB: true, into: &residual, alpha: 1, beta: -1)
        } else {
            residual.scale(by: -1)
            residual.add(g)
        }
    }
}

/// ‖r_i‖² of every row of a 2-D tensor (one BLAS dot a row).
func rowSquaredNorms<Scalar: NNScalar>(_ r: Tensor<Scalar>) -> [Double] {
    let (b, c) = (r.rows, r.cols)
    guard c > 0 else { return [Double](repeating: 0, count: b) }
    return r.data.withUnsafeBufferPointer { p in
        (0..<b).map { i in Double(Scalar.dot(n: c, x: p.baseAddress! + i * c, y: p.baseAddress! + i * c)) }
    }
}

/// ‖x_i − y_i‖ of every row.
func rowDistances<Scalar: NNScalar>(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) -> [Double] {
    var d = x
    d.add(y, scaledBy: -1)
    return rowSquaredNorms(d).map { $0.squareRoot() }
}
