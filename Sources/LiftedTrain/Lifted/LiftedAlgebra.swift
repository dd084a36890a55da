/// The least-squares weight update every lifted method shares, and the small BLAS helpers
/// around it. Samples are rows; Ã = [A, 1] is a layer input with a column of ones, never
/// formed: its Gram matrix and cross products are assembled block by block with BLAS.
///
/// The weight update of a layer with input A (`[N, d]`) and target T (`[N, m]`):
///
///     W̃ = argmin (ρ/2)‖T − Ã W̃ᵀ‖² + (α/2)‖W̃ − W̃₀‖² + (ε/2)‖W̃‖²
///       ⇔  W̃ (ρ ÃᵀÃ + (α + ε) I) = ρ Tᵀ Ã + α W̃₀          (the normal equations),
///
/// solved by a Cholesky factorisation (LAPACKE) of the (d+1) × (d+1) system and two triangular
/// solves from the right (BLAS trsm). α = 0, ε → 0 is Taylor et al.'s W ← z a^†; α > 0 is
/// Zeng et al.'s proximal W-update; ε > 0 alone is Askari et al.'s ridge regression.
struct AugmentedSystem<Scalar: NNScalar> {
    /// The Cholesky factor L of ρÃᵀÃ + (α + ε)I (lower triangle), `[d+1, d+1]`.
    var factor = Tensor<Scalar>(zeros: [0])
    /// The ε used (absolute).
    var ridge = 0.0
    /// Whether `factor` belongs to the current input (the data's system is factored once).
    var valid = false

    /// Factors ρÃᵀÃ + (α + ε)I for A; with `relativeRidge` ε = ridge · trace(ÃᵀÃ)/(d+1), so the
    /// ridge follows the scale of the input (ε = ridge · ρ · trace(ÃᵀÃ)/(d+1)). Throws when the system is not positive definite.
    mutating func factorize(_ a: Tensor<Scalar>, ones: [Scalar], rho: Double, alpha: Double, ridge r: Double,
                            relativeRidge: Bool, method: String, layer: String) throws {
        let n = a.rows, d = a.cols, p = d + 1
        factor.resize([p, p])
        a.data.withUnsafeBufferPointer { pa in
            ones.withUnsafeBufferPointer { po in
                factor.data.withUnsafeMutableBufferPointer { pg in
                    let g = pg.baseAddress!
                    // [AᵀA, Aᵀ1; 1ᵀA, N]: the blocks written in place through the leading dimension p.
                    Scalar.gemm(transA: true, transB: false, m: d, n: d, k: n, alpha: 1, a: pa.baseAddress!, lda: d,
                                b: pa.baseAddress!, ldb: d, beta: 0, c: g, ldc: p)
                    Scalar.gemm(transA: true, transB: false, m: d, n: 1, k: n, alpha: 1, a: pa.baseAddress!, lda: d,
                                b: po.baseAddress!, ldb: 1, beta: 0, c: g + d, ldc: p)
                    for j in 0..<d { g[d * p + j] = g[j * p + d] }
                    g[d * p + d] = Scalar(n)
                }
            }
        }
        var trace = 0.0
        for i in 0..<p { trace += Double(factor.data[i * p + i]) }
        ridge = relativeRidge ? r * rho * trace / Double(p) : r
        let shift = Scalar(alpha + ridge), scale = Scalar(rho)
        factor.data.withUnsafeMutableBufferPointer { pg in
            Scalar.scal(n: p * p, alpha: scale, x: pg.baseAddress!)
            for i in 0..<p { pg[i * p + i] += shift }
        }
        let info = factor.data.withUnsafeMutableBufferPointer { Scalar.choleskyFactor(n: p, a: $0.baseAddress!) }
        guard info == 0 else {
            valid = false
            throw TrainingError("\(method): the weight system of \(layer) is not positive definite (LAPACK info \(info)); raise --lifted-ridge")
        }
        valid = true
    }

    /// W̃ ← (ρ Tᵀ Ã + α W̃₀) (ρÃᵀÃ + (α + ε)I)⁻¹ into `w` (`[m, d+1]`), W̃₀ = `w` on entry.
    func solve(target t: Tensor<Scalar>, input a: Tensor<Scalar>, ones: [Scalar], rho: Double, alpha: Double,
               weights w: inout Tensor<Scalar>) {
        let n = a.rows, d = a.cols, p = d + 1, m = t.cols
        precondition(t.rows == n && w.rows == m && w.cols == p, "AugmentedSystem: shapes \(t.shape), \(a.shape), \(w.shape)")
        let r = Scalar(rho), beta = Scalar(alpha)
        t.data.withUnsafeBufferPointer { pt in
            a.data.withUnsafeBufferPointer { pa in
                ones.withUnsafeBufferPointer { po in
                    factor.data.withUnsafeBufferPointer { pl in
                        w.data.withUnsafeMutableBufferPointer { pw in
                            let c = pw.baseAddress!
                            if alpha == 0 { Scalar.fill(pw, with: 0) }
                            // ρ [TᵀA, Tᵀ1] + α W̃₀, in place over W̃₀.
                            Scalar.gemm(transA: true, transB: false, m: m, n: d, k: n, alpha: r, a: pt.baseAddress!, lda: m,
                                        b: pa.baseAddress!, ldb: d, beta: beta, c: c, ldc: p)
                            Scalar.gemm(transA: true, transB: false, m: m, n: 1, k: n, alpha: r, a: pt.baseAddress!, lda: m,
                                        b: po.baseAddress!, ldb: 1, beta: beta, c: c + d, ldc: p)
                            Scalar.solveRight(n: p, rows: m, factor: pl.baseAddress!, b: c)
                        }
                    }
                }
            }
        }
    }
}

/// Small BLAS-backed helpers of the lifted trainers.
enum LiftedBLAS {
    /// ‖x‖²_F.
    static func squaredNorm<S: NNScalar>(_ x: Tensor<S>) -> Double { Double(x.squaredNorm) }

    /// ‖x − y‖²_F (through a scratch buffer).
    static func squaredDistance<S: NNScalar>(_ x: Tensor<S>, _ y: Tensor<S>, scratch: inout Tensor<S>) -> Double {
        precondition(x.count == y.count, "squaredDistance: \(x.shape) vs \(y.shape)")
        scratch.assign(x)
        scratch.add(y, scaledBy: -1)
        return Double(scratch.squaredNorm)
    }

    /// ⟨x, y⟩.
    static func inner<S: NNScalar>(_ x: Tensor<S>, _ y: Tensor<S>) -> Double {
        precondition(x.count == y.count, "inner: \(x.shape) vs \(y.shape)")
        return x.data.withUnsafeBufferPointer { px in
            y.data.withUnsafeBufferPointer { py in Double(S.dot(n: x.count, x: px.baseAddress!, y: py.baseAddress!)) }
        }
    }

    /// out ← (T − 1 b_kᵀ) W_k for the packed W̃_k = [W_k, b_k] (`[m, d+1]`) and T `[N, m]`:
    /// the back-projection of a target through layer k (`[N, d]`), by BLAS.
    static func backProject<S: NNScalar>(_ t: Tensor<S>, packed w: Tensor<S>, ones: [S], scale: S, into out: inout Tensor<S>) {
        let n = t.rows, m = w.rows, p = w.cols, d = p - 1
        out.resize([n, d])
        t.data.withUnsafeBufferPointer { pt in
            w.data.withUnsafeBufferPointer { pw in
                ones.withUnsafeBufferPointer { po in
                    out.data.withUnsafeMutableBufferPointer { pout in
                        S.gemm(transA: false, transB: false, m: n, n: d, k: m, alpha: scale, a: pt.baseAddress!, lda: m,
                               b: pw.baseAddress!, ldb: p, beta: 0, c: pout.baseAddress!, ldc: d)
                        // − 1 (b_kᵀ W_k): a rank-1 correction, (bᵀW) first as a 1 × d product.
                        var bw = [S](repeating: 0, count: d)
                        bw.withUnsafeMutableBufferPointer { pbw in
                            S.gemm(transA: true, transB: false, m: 1, n: d, k: m, alpha: 1, a: pw.baseAddress! + d, lda: p,
                                   b: pw.baseAddress!, ldb: p, beta: 0, c: pbw.baseAddress!, ldc: d)
                            S.ger(m: n, n: d, alpha: -scale, x: po.baseAddress!, y: pbw.baseAddress!, a: pout.baseAddress!, lda: d)
                        }
                    }
                }
            }
        }
    }

    /// H ← s W_kᵀ W_k + c I (`[d, d]`) for the packed W̃_k (the weights without the bias column).
    static func weightGram<S: NNScalar>(packed w: Tensor<S>, scale s: Double, shift c: Double, into h: inout Tensor<S>) {
        let m = w.rows, p = w.cols, d = p - 1
        h.resize([d, d])
        w.data.withUnsafeBufferPointer { pw in
            h.data.withUnsafeMutableBufferPointer { ph in
                S.gemm(transA: true, transB: false, m: d, n: d, k: m, alpha: S(s), a: pw.baseAddress!, lda: p,
                       b: pw.baseAddress!, ldb: p, beta: 0, c: ph.baseAddress!, ldc: d)
                for i in 0..<d { ph[i * d + i] += S(c) }
            }
        }
    }

    /// The Rayleigh quotient of 30 power-iteration steps on the symmetric positive semidefinite
    /// `h` (from the all-ones vector): an estimate of λ_max from below.
    static func powerIteration<S: NNScalar>(_ h: Tensor<S>) -> Double {
        let n = h.rows
        var v = Tensor<S>(repeating: 1, shape: [n, 1]), w = Tensor<S>(zeros: [n, 1])
        var estimate = 0.0
        for _ in 0..<30 {
            gemm(h, v, into: &w)
            let norm = Double(w.squaredNorm).squareRoot()
            guard norm > 0, norm.isFinite else { break }
            estimate = inner(v, w) / max(Double(v.squaredNorm), 1e-300)
            v.assign(w)
            v.scale(by: S(1 / norm))
        }
        return estimate
    }

    /// Factors the symmetric positive definite `h` in place; throws a `TrainingError` naming `what`.
    static func factor<S: NNScalar>(_ h: inout Tensor<S>, method: String, what: String) throws {
        let n = h.rows
        let info = h.data.withUnsafeMutableBufferPointer { S.choleskyFactor(n: n, a: $0.baseAddress!) }
        guard info == 0 else { throw TrainingError("\(method): the system of \(what) is not positive definite (LAPACK info \(info))") }
    }

    /// x ← x H⁻¹ for the factored H (`factor`).
    static func solveRight<S: NNScalar>(_ x: inout Tensor<S>, factor h: Tensor<S>) {
        let n = h.rows, rows = x.rows
        precondition(x.cols == n, "solveRight: \(x.shape) against \(h.shape)")
        h.data.withUnsafeBufferPointer { ph in
            x.data.withUnsafeMutableBufferPointer { S.solveRight(n: n, rows: rows, factor: ph.baseAddress!, b: $0.baseAddress!) }
        }
    }
}
