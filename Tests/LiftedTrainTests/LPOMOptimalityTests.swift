import XCTest
@testable import LiftedTrain

/// The optimality conditions LPOM's block updates must reach (Li, Fang, Lin, AAAI 2019), checked
/// by loops written here rather than through the trainer's own diagnostics:
/// - the W-block: the gradient of 1ᵀg̃(X̃W̃ᵀ)1 − ⟨X⁺, X̃W̃ᵀ⟩, i.e. (φ(X̃W̃ᵀ) − X⁺)ᵀX̃ (no φ′: that is
///   LPOM's point), vanishes after a W-update run to convergence;
/// - the X-phase: the returned activations satisfy the unrelaxed fixed-point equation to the
///   tolerance, however small the relaxation θ;
/// - `mse` on class labels is the squared error in every part of LPOM.
final class LPOMOptimalityTests: LPOMTestCase {
    /// ‖(φ(X W̃ᵀ + 1bᵀ) − X⁺)ᵀ [X, 1]‖_F for layer k of `t`, by plain loops.
    func firstOrderResidual(_ t: LPOMTrainer<Double>, layer k: Int) -> Double {
        let x = t.levels[k].x, target = t.levels[k + 1].x, w = t.layers[k].W, bias = t.layers[k].bias
        let b = x.rows, d = x.cols, m = w.rows
        var r = [Double](repeating: 0, count: b * m)
        for s in 0..<b {
            for o in 0..<m {
                var z = bias.data[o]
                for i in 0..<d { z += x[s, i] * w[o, i] }
                r[s * m + o] = z
            }
        }
        r.withUnsafeMutableBufferPointer { t.applyPhi(level: k + 1, $0) }
        var total = 0.0
        for o in 0..<m {
            for i in 0...d {
                var g = 0.0
                for s in 0..<b { g += (r[s * m + o] - target.data[s * m + o]) * (i < d ? x[s, i] : 1) }
                total += g * g
            }
        }
        return total.squareRoot()
    }

    /// 500 FISTA steps with a ridge of 1e-6 (relative) solve the W-subproblem of a ReLU and of a
    /// sigmoid layer: the residual falls below 1e-6 of its start, on the feature Gram system
    /// (b = 12 > d+1 = 4, a least-squares-like optimum) and in the batch space (b = 6 < d+1 = 21,
    /// an interpolating optimum). A W-update that does nothing, or that fits the targets linearly
    /// (X̃W̃ᵀ ≈ X⁺ instead of φ(X̃W̃ᵀ) ≈ X⁺), leaves it at the same order as its start.
    func testWeightUpdateReachesTheFirstOrderCondition() throws {
        for kind in [ActivationKind.relu, .sigmoid] {
            for (d, m, batch) in [(3, 4, 12), (20, 5, 6)] {
                let t = try makeTrainer(sizes: [d, m], activation: .relu, output: kind, batch: batch) {
                    $0.apgIterations = 500; $0.ridge = 1e-6
                }
                perturbWeights(t, std: 0.5)
                // Targets in φ's range that no layer reproduces exactly.
                var rng = SplitMix64(seed: 21)
                var target = Tensor<Double>.randomNormal(shape: [batch, m], std: 2, using: &rng)
                t.applyPhi(level: 1, &target)
                t.levels[1].x = target
                let before = firstOrderResidual(t, layer: 0)
                t.updateWeights(layer: 0)
                XCTAssertNil(t.layers[0].error)
                XCTAssertEqual(t.usesBatchSpace(layer: 0), batch < d + 1, "\(kind) d = \(d)")
                let after = firstOrderResidual(t, layer: 0)
                XCTAssertGreaterThan(before, 0.1, "\(kind) d = \(d): the start must not be optimal")
                XCTAssertLessThan(after, 1e-6 * before, "\(kind) d = \(d): residual \(before) → \(after)")
            }
        }
    }

    /// `apgTolerance` stops FISTA once the step is small: it takes fewer than the cap of steps,
    /// reaches the first-order condition, and the full-space and batch-space updates stop after
    /// the same number of steps.
    func testAPGToleranceStopsAtConvergence() throws {
        for (d, batch) in [(3, 12), (20, 6)] {
            var steps: [Int] = []
            for batchSpace in [false, true] {
                let t = try makeTrainer(sizes: [d, 4], activation: .relu, output: .relu, batch: batch) {
                    $0.apgIterations = 5000; $0.ridge = 1e-6; $0.apgTolerance = 1e-12; $0.batchSpaceAPG = batchSpace
                }
                perturbWeights(t, std: 0.5)
                var rng = SplitMix64(seed: 21)
                var target = Tensor<Double>.randomNormal(shape: [batch, 4], std: 2, using: &rng)
                t.applyPhi(level: 1, &target)
                t.levels[1].x = target
                let before = firstOrderResidual(t, layer: 0)
                t.updateWeights(layer: 0)
                XCTAssertLessThan(firstOrderResidual(t, layer: 0), 1e-8 * before, "d = \(d), batch space \(batchSpace)")
                XCTAssertLessThan(t.layers[0].apgSteps, 5000, "d = \(d): the tolerance must stop the steps")
                steps.append(t.layers[0].apgSteps)
            }
            XCTAssertEqual(steps[0], steps[1], "d = \(d): full-space vs batch-space steps")
        }
    }

    /// At large ρ the automatic θ = 2/(2+ρ) is small; the X-phase must still return activations
    /// whose unrelaxed residual ‖C(X) − X‖/‖X‖ is below the tolerance (measuring the relaxed step
    /// θ‖C(X) − X‖ instead stopped at a residual up to tol/θ).
    func testXPhaseStopsOnTheUnrelaxedResidual() throws {
        let tol = 1e-3
        let t = try makeTrainer(sizes: [4, 8, 3], activation: .relu, weightScale: 3) {
            $0.mu = [1]; $0.fixedPointTolerance = tol; $0.fixedPointIterations = 1000
        }
        perturbWeights(t, std: 0.3)
        let theta = t.relaxation(level: 1)
        XCTAssertLessThan(theta, 0.1, "ρ = \(t.contraction(level: 1)) must be large")
        let sweeps = try t.activationPhase()
        XCTAssertLessThan(sweeps, 1000)
        // C(X¹) = φ(Z¹ − (μ₂/μ₁)(φ(Z²) − X²) W₁) at the returned X.
        for k in 1...2 { t.preactivation(level: k) }
        var r = t.levels[2].z
        t.applyPhi(level: 2, &r)
        r.add(t.levels[2].x, scaledBy: -1)
        var c = t.levels[1].z
        gemm(r, t.layers[1].W, into: &c, alpha: -t.mus[2] / t.mus[1], beta: 1)
        t.applyPhi(level: 1, &c)
        c.add(t.levels[1].x, scaledBy: -1)
        let residual = (Double(c.squaredNorm) / Double(t.levels[1].x.squaredNorm)).squareRoot()
        XCTAssertLessThanOrEqual(residual, tol, "θ = \(theta), \(sweeps) sweeps")
    }

    /// `mse` on class labels is the one-hot squared error: the same step (closed-form output
    /// block, curvature 1 in θ) as `squared-error`, with identity and with ReLU outputs.
    func testMSEIsTheSquaredErrorInLPOM() throws {
        for output in [ActivationKind.identity, .relu] {
            var results: [[Double]] = []
            var reports: [StepReport] = []
            for loss in [LossKind.squaredError, .mse] {
                let t = try makeTrainer(sizes: [3, 5, 4], activation: .tanh, output: output, loss: loss) {
                    $0.mu = [0.5]; $0.fixedPointIterations = 6
                }
                let x = t.levels[0].x, labels = t.labels
                reports.append(try t.step(inputs: x, labels: labels))
                results.append(t.layers.flatMap { $0.W.data + $0.bias.data } + t.levels.flatMap(\.x.data))
            }
            XCTAssertEqual(results[1], results[0], "\(output): mse vs squared-error")
            XCTAssertEqual(reports[1].loss, reports[0].loss)
            XCTAssertEqual(reports[1].extra, reports[0].extra)
        }
    }
}
