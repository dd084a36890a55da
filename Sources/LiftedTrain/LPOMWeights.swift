import Foundation

// The W-phase of LPOM (Li, Fang, Lin 2019, "Updating W"): with the activations fixed, each
// layer solves, independently of the others,
//
//   min_{W̃}  1ᵀ g̃(X̃ W̃ᵀ) 1 − ⟨X⁺, X̃ W̃ᵀ⟩,     g̃ = ∫φ (β-smooth when φ is β-Lipschitz),
//
// where X̃ = [X, 1] is the layer input with a column of ones (so the bias is the last column of
// W̃ = [W, b] and is updated by the same step), and X⁺ the level above. Accelerated proximal
// gradient (FISTA, Beck & Teboulle 2009) with extrapolation Y:
//
//   W̃ ← Y − (1/β) (φ(X̃ Yᵀ) − X⁺)ᵀ X̃ (X̃ᵀX̃ + εI)⁻¹        (row form of Y − (1/β)(φ(YX) − X⁺)X^†)
//
// The preconditioner (X̃ᵀX̃ + εI)⁻¹ makes each step the minimiser of the quadratic upper bound
// (β/2)‖X̃ Δᵀ‖² + (βε/2)‖Δ‖², so without momentum every step decreases the objective; ε > 0 also
// keeps the step defined when the mini-batch is narrower than the layer. The pseudo-inverse
// P = X̃ (X̃ᵀX̃ + εI)⁻¹ = (X̃X̃ᵀ + εI)⁻¹ X̃ is formed once per W-phase through the smaller Gram
// system (Cholesky, LAPACKE) and reused by every APG step, which then costs two gemms.
extension LPOMTrainer {
    /// Updates every layer's weights, concurrently when `parallel` (one BLAS thread per layer).
    func weightPhase() throws {
        perform(levels: Array(0..<depth)) { self.updateWeights(layer: $0) }
        for l in layers {
            if let e = l.error { l.error = nil; throw e }
        }
    }

    /// The APG W-update of one layer; errors are left in `layers[k].error` (this runs on
    /// concurrent tasks).
    func updateWeights(layer k: Int) {
        let st = layers[k]
        let d = st.inputs, m = st.outputs, n = d + 1
        let target = levels[k + 1].x
        // The input of layer 0 is the data: its pseudo-inverse is valid for the whole step.
        if !(k == 0 && st.pinvValid) {
            if let e = pseudoInverse(layer: k) { st.error = e; return }
            st.pinvValid = true
        }
        // W̃ = [W, b]
        var Wt = Tensor<Scalar>(zeros: [m, n])
        st.W.data.withUnsafeBufferPointer { pw in
            Wt.data.withUnsafeMutableBufferPointer { pt in
                for r in 0..<m {
                    (pt.baseAddress! + r * n).update(from: pw.baseAddress! + r * d, count: d)
                    pt[r * n + d] = st.bias.data[r]
                }
            }
        }
        let invBeta = Scalar(1 / betas[k + 1])
        var prev = Wt
        var Y = Wt
        var t = 1.0
        for it in 0..<configuration.apgIterations {
            // R = φ(X̃ Yᵀ) − X⁺ ;  Δ = Rᵀ P
            gemm(st.augmented, Y, transposeB: true, into: &st.residual)
            applyPhi(level: k + 1, &st.residual)
            st.residual.add(target, scaledBy: -1)
            gemm(st.residual, st.pinv, transposeA: true, transposeB: st.pinvTransposed, into: &st.work)
            var next = Y
            next.add(st.work, scaledBy: -invBeta)
            var tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
            var momentum = (t - 1) / tNext
            var step = next
            step.add(prev, scaledBy: -1)
            // Restart when the momentum points against the gradient-mapping step:
            // ⟨Y − W⁺, W⁺ − W⟩ > 0, with Y − W⁺ = Δ/β.
            if configuration.apgRestart && it > 0 && dot(st.work, step) > 0 {
                momentum = 0
                tNext = 1
            }
            Y = next
            if momentum != 0 { Y.add(step, scaledBy: Scalar(momentum)) }
            prev = next
            t = tNext
        }
        guard prev.isFinite else {
            st.error = TrainingError("LPOM diverged: the W-update of \(st.name) is not finite; increase --ridge or --mu")
            return
        }
        prev.data.withUnsafeBufferPointer { pt in
            st.W.data.withUnsafeMutableBufferPointer { pw in
                for r in 0..<m {
                    (pw.baseAddress! + r * d).update(from: pt.baseAddress! + r * n, count: d)
                }
            }
            for r in 0..<m { st.bias.data[r] = pt[r * n + d] }
        }
    }

    /// X̃ = [X, 1] and P = X̃(X̃ᵀX̃ + εI)⁻¹ (stored transposed, [d+1, b], for the feature system).
    func pseudoInverse(layer k: Int) -> TrainingError? {
        let st = layers[k]
        let d = st.inputs, n = d + 1, b = batch
        let x = levels[k].x
        st.augmented.resize([b, n])
        x.data.withUnsafeBufferPointer { px in
            st.augmented.data.withUnsafeMutableBufferPointer { pa in
                for r in 0..<b {
                    (pa.baseAddress! + r * n).update(from: px.baseAddress! + r * d, count: d)
                    pa[r * n + d] = 1
                }
            }
        }
        if configuration.weightStep == .gradient {
            // P = X̃/‖X̃‖₂²: the APG step becomes a gradient step with the Lipschitz constant
            // β‖X̃‖₂² of W ↦ 1ᵀg̃(X̃Wᵀ)1.
            let s = spectralNormSquared(st.augmented)
            guard s > 0, s.isFinite else {
                return TrainingError("LPOM: the input of \(st.name) has norm \(s); cannot take a gradient step")
            }
            st.pinv = st.augmented
            st.pinv.scale(by: Scalar(1 / s))
            st.pinvTransposed = false
            return nil
        }
        let useBatch: Bool
        switch configuration.gramSystem {
        case .auto: useBatch = b <= n
        case .batch: useBatch = true
        case .features: useBatch = false
        }
        var epsilon = configuration.ridge
        if configuration.relativeRidge { epsilon *= Double(st.augmented.squaredNorm) / Double(max(1, b)) }
        let eps = Scalar(epsilon)
        let info: Int32
        if useBatch {
            // (X̃X̃ᵀ + εI) P = X̃, b × b
            gemm(st.augmented, st.augmented, transposeB: true, into: &st.gram)
            for i in 0..<b { st.gram.data[i * b + i] += eps }
            st.pinv = st.augmented
            st.pinvTransposed = false
            info = st.gram.data.withUnsafeMutableBufferPointer { pg in
                st.pinv.data.withUnsafeMutableBufferPointer { pp in
                    Scalar.choleskySolve(n: b, nrhs: n, a: pg.baseAddress!, b: pp.baseAddress!)
                }
            }
        } else {
            // (X̃ᵀX̃ + εI) Pᵀ = X̃ᵀ, (d+1) × (d+1)
            gemm(st.augmented, st.augmented, transposeA: true, into: &st.gram)
            for i in 0..<n { st.gram.data[i * n + i] += eps }
            st.pinv.resize([n, b])
            st.augmented.data.withUnsafeBufferPointer { pa in
                st.pinv.data.withUnsafeMutableBufferPointer { pp in
                    for r in 0..<b { for c in 0..<n { pp[c * b + r] = pa[r * n + c] } }
                }
            }
            st.pinvTransposed = true
            info = st.gram.data.withUnsafeMutableBufferPointer { pg in
                st.pinv.data.withUnsafeMutableBufferPointer { pp in
                    Scalar.choleskySolve(n: n, nrhs: b, a: pg.baseAddress!, b: pp.baseAddress!)
                }
            }
        }
        if info != 0 {
            return TrainingError("LPOM: the Gram matrix of the input of \(st.name) is not positive definite (LAPACK info \(info)); use a positive --ridge")
        }
        return nil
    }

    /// ‖A‖₂² of a [rows, cols] matrix by power iteration on AᵀA (30 steps from a fixed start,
    /// enlarged by 2% against underestimation).
    func spectralNormSquared(_ a: Tensor<Scalar>) -> Double {
        let m = a.rows, n = a.cols
        var v = [Scalar](repeating: 1, count: n)
        var u = [Scalar](repeating: 0, count: m)
        var lambda = 0.0
        a.data.withUnsafeBufferPointer { pa in
            v.withUnsafeMutableBufferPointer { pv in
                u.withUnsafeMutableBufferPointer { pu in
                    for _ in 0..<30 {
                        let vv = Double(Scalar.dot(n: n, x: pv.baseAddress!, y: pv.baseAddress!))
                        guard vv > 0, vv.isFinite else { return }
                        Scalar.gemv(trans: false, m: m, n: n, alpha: 1, a: pa.baseAddress!, lda: n, x: pv.baseAddress!, beta: 0, y: pu.baseAddress!)
                        lambda = Double(Scalar.dot(n: m, x: pu.baseAddress!, y: pu.baseAddress!)) / vv
                        Scalar.gemv(trans: true, m: m, n: n, alpha: 1, a: pa.baseAddress!, lda: n, x: pu.baseAddress!, beta: 0, y: pv.baseAddress!)
                        let norm = Double(Scalar.dot(n: n, x: pv.baseAddress!, y: pv.baseAddress!)).squareRoot()
                        guard norm > 0, norm.isFinite else { return }
                        Scalar.scal(n: n, alpha: Scalar(1 / norm), x: pv.baseAddress!)
                    }
                }
            }
        }
        return lambda * 1.02
    }

    func dot(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Double {
        precondition(a.count == b.count)
        return a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in Double(Scalar.dot(n: a.count, x: pa.baseAddress!, y: pb.baseAddress!)) }
        }
    }

    // MARK: - Diagnostics

    /// The LPOM objective F(W, X) per sample and the optimality residuals
    /// ‖(φ(W_k X^k) − X^{k+1}) X̃^kᵀ‖_F / b of every layer (row form ‖Rᵀ [X, 1]‖_F / b; zero at a
    /// W-block optimum), for the current W and X. Recomputes every Z^k.
    func diagnostics() -> (objective: Double, residuals: [Double]) {
        for k in 1...depth { preactivation(level: k) }
        let b = Double(batch)
        var objective = loss.evaluate(levels[depth].x, labels: labels).loss * b
        for k in 1...depth {
            objective += mus[k] * LPOMPenalty.sumGap(kinds[k], alpha: alphas[k], x: levels[k].x, z: levels[k].z)
        }
        var residuals: [Double] = []
        for k in 0..<depth {
            let up = levels[k + 1]
            var r = up.z
            applyPhi(level: k + 1, &r)
            r.add(up.x, scaledBy: -1)
            let m = matmul(r, levels[k].x, transposeA: true)
            var colSum = 0.0
            let c = r.cols
            // Column sums (the bias row of the residual) as rᵀ1 through BLAS.
            let sums = matmul(r, Tensor<Scalar>(repeating: 1, shape: [r.rows, 1]), transposeA: true)
            colSum = Double(sums.squaredNorm)
            residuals.append((Double(m.squaredNorm) + colSum).squareRoot() / b)
        }
        return (objective / b, residuals)
    }

    /// The LPOM objective per sample for the current W and X (tests and diagnostics).
    func objective() -> Double { diagnostics().objective }
}
