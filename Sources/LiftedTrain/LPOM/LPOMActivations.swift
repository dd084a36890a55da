import Foundation

// The X-phase of LPOM: with every W fixed, the activation levels 1 … L are moved to a joint
// fixed point of the paper's equations (Li, Fang, Lin 2019, "Updating X"):
//
//   hidden, 1 ≤ i < L:  X^i = φ( Z^i − (μ_{i+1}/μ_i) (φ(Z^{i+1}) − X^{i+1}) W_i ),
//   output, i = L:      X^L = φ( Z^L − (1/μ_L) ∂ℓ(X^L)/∂X^L ),
//
// with Z^k = X^{k−1} W_{k−1}ᵀ + 1 b_{k−1}ᵀ (rows are samples, so the paper's (W^i)ᵀ(·) is (·) W_i).
// Each is the proximal-gradient step with step 1 on the convex block problem of X^i (φ is the
// proximal map of f); it contracts only when ρ_i = (μ_{i+1}/μ_i) β² ‖W_i‖₂² < 1, which is why
// the step is relaxed: X ← X + θ(φ(…) − X) with θ = 2/(2 + ρ_i) (see `LPOMConfiguration.relaxation`).
extension LPOMTrainer {
    /// One X-phase: fixed-point sweeps until the largest relative change is below the tolerance
    /// or the sweep cap is reached. Returns the number of sweeps. Throws when the iteration
    /// becomes non-finite or clearly grows.
    func activationPhase() throws -> Int {
        let cap = configuration.fixedPointIterations
        let tol = configuration.fixedPointTolerance
        var smallest = Double.infinity
        for sweep in 1...cap {
            // Z¹ depends only on the fixed input; right after the forward pass every Z is current.
            if !(sweep == 1 && preactivationsCurrent) {
                computePreactivations(levels: Array((sweep == 1 ? 1 : 2)...depth))
            }
            preactivationsCurrent = false
            // Z¹ = X⁰W₀ᵀ + b₀ now, and stays so until the W-phase moves W₀ (X⁰ is the data).
            firstPreactivationCurrent = partition == nil
            switch configuration.sweep {
            case .jacobi:
                perform(levels: Array(1...depth)) { self.candidate(level: $0) }
                for i in 1...depth { commit(level: i) }
            case .gaussSeidel:
                for i in stride(from: depth, through: 1, by: -1) {
                    candidate(level: i)
                    commit(level: i)
                }
            }
            shareChanges(levels: 1...depth)
            if let done = try sweepOutcome(sweep: sweep, cap: cap, tolerance: tol, smallest: &smallest) { return done }
        }
        return cap
    }

    /// The stopping test after a sweep (or an async round) on the changes every rank now shares:
    /// the sweep count when done, nil to go on; throws on divergence.
    func sweepOutcome(sweep: Int, cap: Int, tolerance tol: Double, smallest: inout Double) throws -> Int? {
        var worst = 0.0, worstLevel = depth
        for i in 1...depth where !(levels[i].change <= worst) { worst = levels[i].change; worstLevel = i }
        lastChange = worst
        if !worst.isFinite || unboundedLevels[worstLevel] > 0 {
            throw divergence(level: worstLevel, sweeps: sweep, what: "not finite")
        }
        if worst <= tol { return sweep }
        smallest = min(smallest, worst)
        if sweep == cap {
            if worst > 0.5 && worst > 10 * smallest {
                throw divergence(level: worstLevel, sweeps: sweep,
                                 what: String(format: "growing (relative change %.3g, smallest %.3g)", worst, smallest))
            }
            unconverged += 1
            return cap
        }
        return nil
    }


    /// Solves the block problem of one level alone (all other blocks fixed) to `tolerance`:
    /// the exact block-coordinate update of the paper.
    func solveLevel(_ i: Int, tolerance: Double, maxIterations: Int) throws {
        for it in 1...maxIterations {
            preactivation(level: i)
            if i < depth { preactivation(level: i + 1) }
            candidate(level: i)
            commit(level: i)
            if !levels[i].change.isFinite { throw divergence(level: i, sweeps: it, what: "not finite") }
            if levels[i].change <= tolerance { return }
        }
    }

    /// Z^k for the given levels (concurrently when allowed and when at least two of the
    /// products are large enough to repay the hand-off between threads).
    func computePreactivations(levels ks: [Int]) {
        let sizes = ks.map { batch * self.sizes[$0 - 1] * self.sizes[$0] }.sorted(by: >)
        if sizes.count > 1 && sizes[1] >= 1_000_000 {
            perform(levels: ks) { self.preactivation(level: $0) }
        } else {
            for k in ks { preactivation(level: k) }
        }
    }

    /// Runs `body` for every level, concurrently with one BLAS thread each when `parallel`.
    /// Data-parallel steps call MPI inside the bodies (sums over samples), so they run serially.
    func perform(levels ks: [Int], _ body: @escaping (Int) -> Void) {
        if configuration.parallel && ks.count > 1 && !sharded {
            let saved = BLASThreads.current
            BLASThreads.set(1)
            DispatchQueue.concurrentPerform(iterations: ks.count) { body(ks[$0]) }
            BLASThreads.set(saved)
        } else {
            for k in ks { body(k) }
        }
    }

    /// Writes the relaxed fixed-point step of level i into `levels[i].candidate` and its
    /// relative change into `levels[i].change`. Reads only levels i and i+1 and layer i, so
    /// the levels of a Jacobi sweep can run concurrently.
    func candidate(level i: Int) {
        let L = levels[i]
        let theta = relaxation(level: i)
        if i == depth {
            outputCandidate(theta: theta)
        } else {
            let up = levels[i + 1]
            let r = mus[i + 1] / mus[i]
            // R = φ(Z^{i+1}) − X^{i+1};  U = Z^i − r R W_i;  C = φ(U)
            L.scratch.assign(up.z)
            applyPhi(level: i + 1, &L.scratch)
            L.scratch.add(up.x, scaledBy: -1)
            L.back.assign(L.z)
            gemm(L.scratch, layers[i].W, into: &L.back, alpha: Scalar(-r), beta: 1)
            applyPhi(level: i, &L.back)
            relax(L, toward: theta)
        }
    }

    /// candidate ← X + θ(C − X) with C in `back`; change = ‖C − X‖/‖X‖, the fixed-point residual
    /// itself, not the relaxed step θ‖C − X‖/‖X‖: a tolerance then means the same whatever θ
    /// is (scaled by θ, a small θ at large ρ stopped the sweeps at a residual tol/θ).
    func relax(_ L: LPOMLevel<Scalar>, toward theta: Double) {
        L.candidate.resize(L.x.shape)
        let (dc, _, xx) = L.x.data.withUnsafeBufferPointer { px in
            L.back.data.withUnsafeBufferPointer { pc in
                L.candidate.data.withUnsafeMutableBufferPointer { po in
                    Scalar.relax(px.baseAddress!, toward: pc.baseAddress!, theta: Scalar(theta), into: po.baseAddress!, count: po.count)
                }
            }
        }
        L.change = relative(dc, xSquared: xx, count: L.x.count)
        (L.diffSquared, L.normSquared) = (dc, xx)
    }

    func relative(_ diffSquared: Double, to x: Tensor<Scalar>) -> Double {
        relative(diffSquared, xSquared: Double(x.squaredNorm), count: x.count)
    }

    func relative(_ diffSquared: Double, xSquared n: Double, count: Int) -> Double {
        (diffSquared / max(n, 1e-24 * Double(max(1, count)))).squareRoot()
    }

    /// The output level. Squared loss with identity output has the closed form
    /// X = (μ Z + Y)/(1 + μ) (minimiser of ½‖X − Y‖² + (μ/2)‖X − Z‖²). Otherwise the fixed point
    /// X = φ(Z − ∇ℓ(X)/μ) — for softmax cross-entropy with identity output that is the prox of
    /// the cross-entropy, X = Z − (softmax(X) − Y)/μ — is iterated to convergence here, with the
    /// same relaxation rule (the block is b × c, so running it out costs little).
    func outputCandidate(theta: Double) {
        let L = levels[depth]
        let mu = mus[depth]
        let c = sizes[depth]
        if squaredLoss && kinds[depth] == .identity {
            L.candidate.assign(L.z)
            L.candidate.scale(by: Scalar(mu))
            for r in 0..<labels.count { L.candidate.data[r * c + Int(labels[r])] += 1 }
            L.candidate.scale(by: Scalar(1 / (1 + mu)))
        } else {
            // The iterate lives in `candidate` and is relaxed in place.
            L.candidate.assign(L.x)
            let cap = configuration.fixedPointIterations * 5
            let tol = configuration.fixedPointTolerance * 0.1
            for _ in 0..<cap {
                lossGradient(L.candidate, into: &L.scratch)
                L.back.assign(L.z)
                L.back.add(L.scratch, scaledBy: Scalar(-1 / mu))
                applyPhi(level: depth, &L.back)
                let (residual, _, xx) = L.back.data.withUnsafeBufferPointer { pc in
                    L.candidate.data.withUnsafeMutableBufferPointer { po in
                        Scalar.relax(UnsafePointer(po.baseAddress!), toward: pc.baseAddress!, theta: Scalar(theta),
                                     into: po.baseAddress!, count: po.count)
                    }
                }
                // The unrelaxed residual ‖C − X‖/‖X‖, as for the hidden levels (over the global batch).
                var sums = [residual, xx]
                if sharded { collective!.sum(&sums) }
                let ch = relative(sums[0], xSquared: sums[1], count: L.candidate.count)
                if !(ch > tol) { break }
            }
        }
        L.back.assign(L.candidate)
        L.back.add(L.x, scaledBy: -1)
        L.change = relative(Double(L.back.squaredNorm), to: L.x)
        (L.diffSquared, L.normSquared) = (Double(L.back.squaredNorm), Double(L.x.squaredNorm))
    }

    func commit(level i: Int) {
        swap(&levels[i].x, &levels[i].candidate)
    }

    func isBounded(_ x: Tensor<Scalar>) -> Bool {
        x.data.withUnsafeBufferPointer { Double(Scalar.maxAbs($0)) < 1e8 }
    }

    /// The error that names the level, the contraction and what to change.
    func divergence(level i: Int, sweeps: Int, what: String) -> TrainingError {
        let produced = names[i - 1]
        if i == depth {
            return TrainingError("LPOM diverged: the output fixed point of \(produced) is \(what) after \(sweeps) sweeps (μ = \(mus[i]), θ = \(fmt(relaxation(level: i)))); increase μ",
                                 remedy: [.mu])
        }
        let rho = contraction(level: i)
        let cond = rho >= 1 ? "≥ 1" : "< 1"
        return TrainingError("LPOM diverged: the hidden fixed point of the output of \(produced) is \(what) after \(sweeps) sweeps "
            + "(contraction μ[\(i)]/μ[\(i - 1)]·β²‖W(\(names[i]))‖₂² = \(fmt(rho)) \(cond), θ = \(fmt(relaxation(level: i)))); "
            + "increase μ[\(i - 1)] relative to μ[\(i)], or set the relaxation θ to 0 (automatic)", remedy: [.mu, .relaxation])
    }

    func fmt(_ x: Double) -> String { String(format: "%.3g", x) }
}
