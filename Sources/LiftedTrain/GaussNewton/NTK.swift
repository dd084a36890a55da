import Foundation

/// Gram matrices of the neural tangent kernel view (Du, Zhai, Poczós, Singh 2018, "Gradient
/// Descent Provably Optimizes Over-parameterized Neural Networks"; Jacot et al. 2018) for
/// f(W, a, x) = m^{-1/2} Σ_r a_r relu(w_rᵀx):
///
///     H_ij(W) = (1/m) Σ_r x_iᵀx_j 1[w_rᵀx_i ≥ 0, w_rᵀx_j ≥ 0]
///     H^∞_ij  = E_{w ~ N(0, I)} x_iᵀx_j 1[wᵀx_i ≥ 0, wᵀx_j ≥ 0] = x_iᵀx_j (π − θ_ij) / 2π,
///
/// θ_ij the angle between x_i and x_j (for unit x, θ_ij = arccos x_iᵀx_j), λ₀ = λ_min(H^∞).
/// The general empirical tangent kernel J Jᵀ of any dense network is `BatchJacobian.kernel`.
public enum NTKGram {
    /// Du et al.'s H(W) `[n, n]` for first-layer weights W `[m, d]` (optionally with biases
    /// `[m]`, entering the indicator as 1[w_rᵀx + b_r > 0]) and inputs X `[n, d]`:
    /// H = (X Xᵀ) ⊙ (S Sᵀ) / m with S = 1[X Wᵀ + 1bᵀ > 0] — two BLAS gemms and the
    /// element-wise product kernel. (The indicator's value at exactly 0 has probability 0.)
    public static func relu<S: NNScalar>(weights w: Tensor<S>, bias: Tensor<S>? = nil, inputs x: Tensor<S>) -> Tensor<S> {
        let (n, m) = (x.rows, w.rows)
        var z = Tensor<S>(zeros: [n, m])
        if let bias {
            let ones = S.filledArray(1, count: n)
            ones.withUnsafeBufferPointer { po in
                bias.data.withUnsafeBufferPointer { pb in
                    z.data.withUnsafeMutableBufferPointer { pz in
                        S.ger(m: n, n: m, alpha: 1, x: po.baseAddress!, y: pb.baseAddress!, a: pz.baseAddress!, lda: m)
                    }
                }
            }
        }
        gemm(x, w, transposeB: true, into: &z, beta: 1)
        // S = 1[z > 0]: the ReLU derivative applied to a matrix of ones.
        var s = Tensor<S>(repeating: 1, shape: [n, m])
        z.data.withUnsafeBufferPointer { pz in
            s.data.withUnsafeMutableBufferPointer { ps in
                S.activationBackward(.relu, alpha: 0, z: pz, y: pz, dy: ps)
            }
        }
        var h = Tensor<S>(zeros: [n, n])
        gemm(s, s, transposeB: true, into: &h, alpha: S(1) / S(m))
        let g = matmul(x, x, transposeB: true)
        h.data.withUnsafeMutableBufferPointer { ph in
            g.data.withUnsafeBufferPointer { pg in S.multiply(UnsafeBufferPointer(ph), pg, into: ph) }
        }
        return h
    }

    /// The closed-form H^∞ `[n, n]` on inputs X `[n, d]` (any nonzero norms).
    public static func infiniteWidth(inputs x: Tensor<Double>) -> Tensor<Double> {
        let n = x.rows
        var g = matmul(x, x, transposeB: true)
        let norms = (0..<n).map { g[$0, $0].squareRoot() }
        for i in 0..<n {
            for j in 0..<n {
                let dot = g[i, j]
                let c = max(-1, min(1, dot / max(norms[i] * norms[j], .leastNormalMagnitude)))
                g[i, j] = dot * (Double.pi - acos(c)) / (2 * Double.pi)
            }
        }
        return g
    }

    /// Eigenvalues (ascending) of a symmetric matrix, by LAPACKE `?syevd` on a copy.
    public static func eigenvalues<S: NNScalar>(_ a: Tensor<S>) throws -> [S] {
        let n = a.rows
        precondition(a.cols == n, "eigenvalues: \(a.shape) is not square")
        var copy = a
        var w = S.filledArray(0, count: n)
        let info = copy.data.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { S.symmetricEigenvalues(n: n, a: pa.baseAddress!, w: $0.baseAddress!) }
        }
        guard info == 0 else { throw TrainingError("symmetric eigenvalue solver failed (info \(info)); is the matrix finite?") }
        return w
    }

    /// Smallest eigenvalue of a symmetric matrix.
    public static func smallestEigenvalue<S: NNScalar>(_ a: Tensor<S>) throws -> S {
        try eigenvalues(a).first ?? 0
    }

    /// Spectral norm ‖A − B‖₂ of the difference of two symmetric matrices.
    public static func spectralDistance<S: NNScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> S {
        var d = a
        d.add(b, scaledBy: -1)
        let e = try eigenvalues(d)
        return max(abs(e.first ?? 0), abs(e.last ?? 0))
    }
}

/// One row of an NTK analysis of a training history.
public struct NTKSnapshot: Sendable {
    /// Training step of the snapshot.
    public var step: Int
    /// Square loss (1/n) Σ ½‖f(x_i) − y_i‖² on the analysed inputs (regression), or the
    /// history's loss on them (classification).
    public var loss: Double
    /// λ_min(H(t)) of Du et al.'s Gram (one-hidden-layer ReLU networks; NaN otherwise).
    public var lambdaMinH: Double
    /// ‖H(t) − H(0)‖₂.
    public var distanceH: Double
    /// λ_min of the empirical tangent kernel J Jᵀ over all parameters.
    public var lambdaMinKernel: Double
    /// ‖K(t) − K(0)‖₂ of the empirical tangent kernel.
    public var distanceKernel: Double
    /// ‖W(t) − W(0)‖_F / ‖W(0)‖_F of the first layer's weight.
    public var weightMovement: Double
    /// ‖θ(t) − θ(0)‖ / ‖θ(0)‖ over all parameters.
    public var parameterMovement: Double
}

/// Walks the snapshots of a run (networks given one by one, θ_0 first) and measures the NTK
/// quantities on fixed inputs. Numerics only: the caller reads the history.
public final class NTKAnalysis {
    /// The inputs `[n, d]` the Gram matrices are taken on.
    public let inputs: Tensor<Double>
    /// Regression targets `[n, c]`, or nil with `labels`.
    public let targets: Tensor<Double>?
    /// Class labels when there are no targets.
    public let labels: [Int32]
    /// The loss for classification histories.
    public let loss: LossKind
    /// Closed-form H^∞ on the inputs.
    public let hInfinity: Tensor<Double>
    /// λ₀ = λ_min(H^∞).
    public let lambda0: Double
    /// Whether Du et al.'s H is computed (a one-hidden-layer ReLU network).
    public private(set) var isOneHiddenReLU = false
    /// ‖H(0) − H^∞‖₂ (after the first snapshot).
    public private(set) var distanceH0FromInfinity = Double.nan
    /// The rows so far.
    public private(set) var rows: [NTKSnapshot] = []
    private var h0: Tensor<Double>?
    private var k0: Tensor<Double>?
    private var w0: [Double] = []
    private var theta0: [Double] = []

    /// An analysis on `inputs` with regression `targets` or class `labels`.
    public init(inputs: Tensor<Double>, targets: Tensor<Double>?, labels: [Int32] = [], loss: LossKind = .mse) throws {
        self.inputs = inputs; self.targets = targets; self.labels = labels; self.loss = loss
        hInfinity = NTKGram.infiniteWidth(inputs: inputs)
        lambda0 = try NTKGram.smallestEigenvalue(hInfinity)
    }

    /// Whether `spec` is dense → relu → dense (→ an optional output scale): Du et al.'s model.
    public static func isOneHiddenReLU(_ spec: ModelSpec) -> Bool {
        let types = spec.layers.map(\.type)
        return types == ["dense", "relu", "dense"] || types == ["dense", "relu", "dense", "normalize"]
    }

    /// Measures the next snapshot (the first call is θ_0).
    @discardableResult
    public func add(step: Int, network: Network<Double>) throws -> NTKSnapshot {
        let (k, f) = BatchJacobian(network: network).kernel(inputs)
        let lossValue: Double
        if let targets { lossValue = LossKind.mse.evaluate(f, targets: targets) } else {
            lossValue = loss.evaluate(f, labels: labels).loss
        }
        let params = network.parameters
        let theta = params.flattened()
        let w = params.values[0].data
        if rows.isEmpty {
            isOneHiddenReLU = NTKAnalysis.isOneHiddenReLU(network.spec)
            k0 = k; w0 = w; theta0 = theta
        }
        var lambdaH = Double.nan, distH = Double.nan
        if isOneHiddenReLU {
            let h = NTKGram.relu(weights: params.values[0], bias: params.values[1], inputs: inputs)
            if h0 == nil {
                h0 = h
                distanceH0FromInfinity = try NTKGram.spectralDistance(h, hInfinity)
            }
            lambdaH = try NTKGram.smallestEigenvalue(h)
            distH = try NTKGram.spectralDistance(h, h0!)
        }
        func relative(_ a: [Double], _ b: [Double]) -> Double {
            var d = a, nb = 0.0
            b.withUnsafeBufferPointer { pb in
                d.withUnsafeMutableBufferPointer { pd in
                    Double.axpy(n: a.count, alpha: -1, x: pb.baseAddress!, y: pd.baseAddress!)
                    nb = Double.dot(n: b.count, x: pb.baseAddress!, y: pb.baseAddress!)
                }
            }
            let nd = d.withUnsafeBufferPointer { Double.dot(n: d.count, x: $0.baseAddress!, y: $0.baseAddress!) }
            return nb > 0 ? (nd / nb).squareRoot() : nd.squareRoot()
        }
        let row = NTKSnapshot(step: step, loss: lossValue, lambdaMinH: lambdaH, distanceH: distH,
                              lambdaMinKernel: try NTKGram.smallestEigenvalue(k),
                              distanceKernel: try NTKGram.spectralDistance(k, k0!),
                              weightMovement: relative(w, w0), parameterMovement: relative(theta, theta0))
        rows.append(row)
        return row
    }
}
