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
    /// Updates the weights of `ks` (default every layer; layer-parallel: this rank's), concurrently
    /// when `parallel` (one BLAS thread per layer).
    func weightPhase(layers ks: [Int]? = nil) throws {
        let ks = ks ?? Array(0..<depth)
        // A layer split over concurrent tasks runs them with one BLAS thread each, too.
        let split = ks.contains { apgParts(layer: $0) > 1 }
        let saved = BLASThreads.current
        if split { BLASThreads.set(1) }
        perform(levels: ks) { self.updateWeights(layer: $0) }
        if split { BLASThreads.set(saved) }
        if ks.contains(0) { firstPreactivationCurrent = false }
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
            st.batchSpaceValid = false
        }
        if usesBatchSpace(layer: k) { updateWeightsInBatchSpace(layer: k); return }
        // W̃ = [W, b]
        packWeights(layer: k)
        // In place: `packed` holds the last point W⁺ (initially W̃), `extrapolated` the point Y,
        // and `work` first Δ, then the step W⁺ − W. The rows of W̃ (output units) are coupled
        // only through the restart test, so a large layer splits them over `parts` concurrent
        // tasks that meet once per APG step to add up ⟨Δ, step⟩.
        st.extrapolated.resize([m, n])
        st.work.resize([m, n])
        st.residual.resize([batch, m])
        let parts = apgParts(layer: k)
        let bounds = (0...parts).map { $0 * m / parts }
        let invBeta = Scalar(1 / betas[k + 1])
        let iterations = configuration.apgIterations
        let restart = configuration.apgRestart
        let tolerance = configuration.apgTolerance
        let startNorm = tolerance > 0 ? Double(st.packed.squaredNorm).squareRoot() : 0
        // Per part: ⟨Δ, step⟩ in [0, parts), ‖step‖² in [parts, 2·parts) (with a tolerance only).
        var along = [Double](repeating: 0, count: 2 * parts)
        var steps = 0
        st.augmented.data.withUnsafeBufferPointer { pa in
            st.pinv.data.withUnsafeBufferPointer { pp in
                target.data.withUnsafeBufferPointer { px in
                    st.packed.data.withUnsafeMutableBufferPointer { pw in
                        st.extrapolated.data.withUnsafeMutableBufferPointer { py in
                            st.work.data.withUnsafeMutableBufferPointer { pd in
                                st.residual.data.withUnsafeMutableBufferPointer { pr in
                                    along.withUnsafeMutableBufferPointer { pdot in
                                        let buffers = APGBuffers(augmented: pa.baseAddress!, pinv: pp.baseAddress!, target: px.baseAddress!,
                                                                 packed: pw.baseAddress!, extrapolated: py.baseAddress!,
                                                                 work: pd.baseAddress!, residual: pr.baseAddress!)
                                        var t = 1.0, momentum = 0.0
                                        for it in 0..<iterations {
                                            let mom = Scalar(momentum)
                                            if parts == 1 {
                                                (pdot[0], pdot[1]) = apgStep(layer: k, rows: 0..<m, buffers, momentum: mom, invBeta: invBeta,
                                                                             measure: tolerance > 0)
                                            } else {
                                                DispatchQueue.concurrentPerform(iterations: parts) { h in
                                                    (pdot[h], pdot[parts + h]) = self.apgStep(layer: k, rows: bounds[h]..<bounds[h + 1], buffers,
                                                                                              momentum: mom, invBeta: invBeta, measure: tolerance > 0)
                                                }
                                            }
                                            steps += 1
                                            var tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
                                            momentum = (t - 1) / tNext
                                            // Restart when the momentum points against the gradient-mapping step:
                                            // ⟨Y − W⁺, W⁺ − W⟩ > 0, with Y − W⁺ = Δ/β.
                                            if restart && it > 0 && pdot[0..<parts].reduce(0, +) > 0 {
                                                momentum = 0
                                                tNext = 1
                                            }
                                            t = tNext
                                            if tolerance > 0 && pdot[parts...].reduce(0, +).squareRoot() <= tolerance * startNorm { break }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        st.apgSteps = steps
        unpackWeights(layer: k)
    }

    /// W̃ = [W, b] into `packed` ([m, d+1]).
    func packWeights(layer k: Int) {
        let st = layers[k]
        let d = st.inputs, m = st.outputs, n = d + 1
        st.packed.resize([m, n])
        st.W.data.withUnsafeBufferPointer { pw in
            st.bias.data.withUnsafeBufferPointer { pb in
                st.packed.data.withUnsafeMutableBufferPointer { pt in
                    for r in 0..<m {
                        UnsafeMutableRawPointer(pt.baseAddress! + r * n)
                            .copyMemory(from: pw.baseAddress! + r * d, byteCount: d * MemoryLayout<Scalar>.stride)
                        pt[r * n + d] = pb[r]
                    }
                }
            }
        }
    }

    /// W and b from `packed`, or the layer's error when it is not finite.
    func unpackWeights(layer k: Int) {
        let st = layers[k]
        let d = st.inputs, m = st.outputs, n = d + 1
        guard st.packed.isFinite else {
            st.error = TrainingError("LPOM diverged: the W-update of \(st.name) is not finite; increase the ridge ε or μ",
                                     remedy: [.ridge, .mu])
            return
        }
        st.packed.data.withUnsafeBufferPointer { pt in
            st.W.data.withUnsafeMutableBufferPointer { pw in
                for r in 0..<m {
                    UnsafeMutableRawPointer(pw.baseAddress! + r * d)
                        .copyMemory(from: pt.baseAddress! + r * n, byteCount: d * MemoryLayout<Scalar>.stride)
                }
            }
            st.bias.data.withUnsafeMutableBufferPointer { pb in
                for r in 0..<m { pb[r] = pt[r * n + d] }
            }
        }
    }

    /// Whether layer k's APG runs in the batch space: P is [b, d+1] (the b × b Gram system or the
    /// plain gradient step) and the flops of `iterations` full-space steps (two b·m·(d+1)
    /// products each) exceed those of the batch-space version (X̃W̃₀ᵀ and the final W̃, two
    /// b·m·(d+1) products; K and Q, two b·b·(d+1) products, once per pseudo-inverse; two b·b·m
    /// products per step).
    func usesBatchSpace(layer k: Int) -> Bool {
        let st = layers[k]
        guard configuration.batchSpaceAPG, !st.pinvTransposed, !sharded else { return false }
        let b = Double(batch), m = Double(st.outputs), n = Double(st.inputs + 1), it = Double(configuration.apgIterations)
        let full = it * 2 * b * m * n
        let reduced = 2 * b * m * n + (st.batchSpaceValid ? 0 : 2 * b * b * n) + it * 2 * b * b * m
        return reduced < full
    }

    /// The APG W-update of `updateWeights` computed in the batch space: every iterate is
    /// W̃ = W̃₀ + AᵀP with A [b, m], because each step adds −(1/β)RᵀP to an affine combination of
    /// earlier iterates. So X̃W̃ᵀ = Z₀ + K A with K = X̃Pᵀ, the step's ⟨Δ, W̃⁺ − W̃⟩ = ⟨R, Q S⟩
    /// with Q = PPᵀ and S the step's coefficients, and W̃ is formed once at the end. The iterates
    /// are those of the full-space update (up to rounding; tested); the cost per APG step drops
    /// from two b·m·(d+1) products to two b·b·m ones, which pays when b is well below d+1 — the
    /// first layer on MNIST (b = 100, d + 1 = 785).
    func updateWeightsInBatchSpace(layer k: Int) {
        let st = layers[k]
        let m = st.outputs, b = batch
        let target = levels[k + 1].x
        if !st.batchSpaceValid {
            gemm(st.augmented, st.pinv, transposeB: true, into: &st.batchK)
            gemm(st.pinv, st.pinv, transposeB: true, into: &st.batchQ)
            st.batchSpaceValid = true
        }
        // Z = X̃ W̃₀ᵀ = X Wᵀ + 1 bᵀ. For the first layer that is Z¹ itself after an X-phase: its input
        // X⁰ is the data and W₀ has not moved since (`firstPreactivationCurrent`).
        if k == 0 && firstPreactivationCurrent {
            st.preactivation.assign(levels[1].z)
        } else {
            affine(levels[k].x, st, into: &st.preactivation)
        }
        for t in [\LPOMLayerState<Scalar>.coefficients, \.stepCoefficients, \.stepPreactivation] {
            if st[keyPath: t].shape != [b, m] { st[keyPath: t] = Tensor(zeros: [b, m]) } else { st[keyPath: t].zero() }
        }
        st.residual.resize([b, m])
        let invBeta = Scalar(1 / betas[k + 1])
        let restart = configuration.apgRestart
        let tolerance = configuration.apgTolerance
        let startNorm = tolerance > 0 ? (Double(st.W.squaredNorm) + Double(st.bias.squaredNorm)).squareRoot() : 0
        var t = 1.0, momentum = 0.0
        st.apgSteps = 0
        for it in 0..<configuration.apgIterations {
            // Y = W⁺ + momentum · step (coefficients and pre-activations alike)
            if momentum != 0 {
                st.coefficients.add(st.stepCoefficients, scaledBy: Scalar(momentum))
                st.preactivation.add(st.stepPreactivation, scaledBy: Scalar(momentum))
            }
            // Now `coefficients`/`preactivation` hold Y; the step is measured from W⁺ = Y − momentum · step.
            st.residual.assign(st.preactivation)
            applyPhi(level: k + 1, &st.residual)
            st.residual.add(target, scaledBy: -1)
            // W⁺new = Y − (1/β) RᵀP: coefficients −= R/β, pre-activations −= K R/β.
            // step = W⁺new − W⁺ = momentum · step − R/β. −K R/β is formed once (in `scratch`) for both.
            st.stepCoefficients.scale(by: Scalar(momentum))
            st.stepCoefficients.add(st.residual, scaledBy: -invBeta)
            gemm(st.batchK, st.residual, into: &st.scratch, alpha: -invBeta)
            st.stepPreactivation.scale(by: Scalar(momentum))
            st.stepPreactivation.add(st.scratch)
            st.coefficients.add(st.residual, scaledBy: -invBeta)
            st.preactivation.add(st.scratch)
            st.apgSteps += 1
            var tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
            momentum = (t - 1) / tNext
            if (restart && it > 0) || tolerance > 0 { gemm(st.batchQ, st.stepCoefficients, into: &st.scratch) }
            if restart && it > 0 && dot(st.residual, st.scratch) > 0 { momentum = 0; tNext = 1 }
            t = tNext
            // ‖W̃ step‖² = ‖SᵀP‖² = ⟨S, Q S⟩
            if tolerance > 0 && max(0, dot(st.stepCoefficients, st.scratch)).squareRoot() <= tolerance * startNorm { break }
        }
        // W̃ = W̃₀ + AᵀP
        packWeights(layer: k)
        gemm(st.coefficients, st.pinv, transposeA: true, into: &st.packed, beta: 1)
        unpackWeights(layer: k)
    }

    /// How many concurrent tasks share the APG rows of layer k: two for a large layer when
    /// `parallel` (each with one BLAS thread), else one.
    func apgParts(layer k: Int) -> Int {
        let st = layers[k]
        return configuration.parallel && !sharded && batch * (st.inputs + 1) * st.outputs >= 4_000_000 && st.outputs >= 16 ? 2 : 1
    }

    /// One APG step on the rows `rows` of W̃ (all buffers row-major, see `updateWeights`):
    /// Y ← W⁺ + momentum·step, R = φ(X̃ Yᵀ) − X⁺ (into this part's block of `residual`),
    /// Δ = Rᵀ P, then the gradient-mapping step. Returns this part's ⟨Δ, step⟩ and, when
    /// `measure`, its ‖step‖² (else 0).
    func apgStep(layer k: Int, rows: Range<Int>, _ p: APGBuffers<Scalar>, momentum: Scalar, invBeta: Scalar,
                 measure: Bool) -> (along: Double, stepSquared: Double) {
        let st = layers[k]
        let b = batch, m = st.outputs, n = st.inputs + 1, r0 = rows.lowerBound, mh = rows.count
        guard mh > 0 else { return (0, 0) }
        let w = p.packed + r0 * n, y = p.extrapolated + r0 * n, delta = p.work + r0 * n
        let res = p.residual + b * r0   // this part's [b, mh] block
        UnsafeMutableRawPointer(y).copyMemory(from: w, byteCount: mh * n * MemoryLayout<Scalar>.stride)
        if momentum != 0 { Scalar.axpy(n: mh * n, alpha: momentum, x: delta, y: y) }
        Scalar.gemm(transA: false, transB: true, m: b, n: mh, k: n, alpha: 1, a: p.augmented, lda: n, b: y, ldb: n,
                    beta: 0, c: res, ldc: mh)
        applyPhi(level: k + 1, UnsafeMutableBufferPointer(start: res, count: b * mh))
        if mh == m {
            Scalar.axpy(n: b * m, alpha: -1, x: p.target, y: res)
        } else {
            for i in 0..<b { Scalar.axpy(n: mh, alpha: -1, x: p.target + i * m + r0, y: res + i * mh) }
        }
        Scalar.gemm(transA: true, transB: st.pinvTransposed, m: mh, n: n, k: b, alpha: 1, a: res, lda: mh,
                    b: p.pinv, ldb: st.pinvTransposed ? b : n, beta: 0, c: delta, ldc: n)
        // Data-parallel: Δ = Rᵀ P is a sum over samples; every rank adds its share's.
        if sharded { collective!.sum(UnsafeMutableBufferPointer(start: delta, count: mh * n)) }
        let along = Scalar.gradientMappingStep(y: y, delta: delta, prev: w, scale: invBeta, count: mh * n)
        // `delta` now holds the step W⁺ − W.
        return (along, measure ? Double(Scalar.dot(n: mh * n, x: delta, y: delta)) : 0)
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
                    UnsafeMutableRawPointer(pa.baseAddress! + r * n)
                        .copyMemory(from: px.baseAddress! + r * d, byteCount: d * MemoryLayout<Scalar>.stride)
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
            st.pinv.assign(st.augmented)
            st.pinv.scale(by: Scalar(1 / s))
            st.pinvTransposed = false
            return nil
        }
        var useBatch: Bool
        switch configuration.gramSystem {
        case .auto: useBatch = b <= n
        case .batch: useBatch = true
        case .features: useBatch = false
        }
        // Data-parallel: only the feature system is a sum over samples (the batch system couples
        // the ranks' rows); the ridge scale is the global mean row norm.
        if sharded { useBatch = false }
        var epsilon = configuration.ridge
        if configuration.relativeRidge {
            var sums = [Double(st.augmented.squaredNorm), Double(b)]
            if sharded { collective!.sum(&sums) }
            epsilon *= sums[0] / max(1, sums[1])
        }
        let eps = Scalar(epsilon)
        let info: Int32
        if useBatch {
            // (X̃X̃ᵀ + εI) P = X̃, b × b
            gemm(st.augmented, st.augmented, transposeB: true, into: &st.gram)
            for i in 0..<b { st.gram.data[i * b + i] += eps }
            st.pinv.assign(st.augmented)
            st.pinvTransposed = false
            info = st.gram.data.withUnsafeMutableBufferPointer { pg in
                st.pinv.data.withUnsafeMutableBufferPointer { pp in
                    Scalar.choleskySolve(n: b, nrhs: n, a: pg.baseAddress!, b: pp.baseAddress!)
                }
            }
        } else {
            // (X̃ᵀX̃ + εI) Pᵀ = X̃ᵀ, (d+1) × (d+1)
            gemm(st.augmented, st.augmented, transposeA: true, into: &st.gram)
            if sharded { collective!.sum(&st.gram) }
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
            return TrainingError("LPOM: the Gram matrix of the input of \(st.name) is not positive definite (LAPACK info \(info)); use a positive ridge ε",
                                 remedy: [.ridge])
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
        var b = Double(batch)
        var objective = loss.evaluate(levels[depth].x, labels: labels).loss * b
        for k in 1...depth {
            objective += mus[k] * LPOMPenalty.sumGap(kinds[k], alpha: alphas[k], x: levels[k].x, z: levels[k].z)
        }
        if sharded {
            var sums = [objective, b]
            collective!.sum(&sums)
            (objective, b) = (sums[0], sums[1])
        }
        var residuals: [Double] = []
        for k in 0..<depth {
            let up = levels[k + 1], st = layers[k]
            up.scratch.assign(up.z)
            applyPhi(level: k + 1, &up.scratch)
            up.scratch.add(up.x, scaledBy: -1)
            let r = up.scratch
            gemm(r, levels[k].x, transposeA: true, into: &st.residualGradient)
            // Column sums (the bias row of the residual) as rᵀ1 through BLAS.
            var colSum = Scalar.filledArray(0, count: r.cols)
            r.data.withUnsafeBufferPointer { pr in
                ones.withUnsafeBufferPointer { po in
                    colSum.withUnsafeMutableBufferPointer { pc in
                        Scalar.gemv(trans: true, m: r.rows, n: r.cols, alpha: 1, a: pr.baseAddress!, lda: r.cols,
                                    x: po.baseAddress!, beta: 0, y: pc.baseAddress!)
                    }
                }
            }
            if sharded { collective!.sum(&st.residualGradient); collective!.sum(&colSum) }
            let sums = Tensor(shape: [r.cols], data: colSum)
            residuals.append((Double(st.residualGradient.squaredNorm) + Double(sums.squaredNorm)).squareRoot() / b)
        }
        return (objective / b, residuals)
    }

    /// The LPOM objective per sample for the current W and X (tests and diagnostics).
    func objective() -> Double { diagnostics().objective }
}

/// Base addresses of one layer's APG buffers, shared by the concurrent parts of a step.
struct APGBuffers<Scalar: NNScalar>: @unchecked Sendable {
    let augmented: UnsafePointer<Scalar>, pinv: UnsafePointer<Scalar>, target: UnsafePointer<Scalar>
    let packed: UnsafeMutablePointer<Scalar>, extrapolated: UnsafeMutablePointer<Scalar>
    let work: UnsafeMutablePointer<Scalar>, residual: UnsafeMutablePointer<Scalar>
}
