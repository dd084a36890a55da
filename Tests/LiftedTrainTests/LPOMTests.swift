import XCTest
@testable import LiftedTrain
import TestSupport

/// Tests that pin LPOM (Li, Fang, Lin, AAAI 2019): the closed forms of the objective, the
/// fixed-point equations, the least-squares limit of the W-update, block-wise descent, the
/// agreement of Jacobi and Gauss–Seidel sweeps, and golden values from the NumPy transcription
/// `scripts/lpom_reference.py` (the independent reference is `LPOMGoldenTests`). All in Double on
/// tiny shapes.
final class LPOMTests: LPOMTestCase {
    // MARK: closed forms

    func testPenaltyIsAFenchelYoungGapForEveryActivation() {
        for kind in ActivationKind.allCases {
            let alpha = kind == .leakyRelu ? 0.1 : 1.0
            for z in stride(from: -3.0, through: 3.0, by: 0.37) {
                var v = [z]
                v.withUnsafeMutableBufferPointer { Double.activationForward(kind, alpha: alpha, $0) }
                let x = v[0]
                XCTAssertEqual(LPOMPenalty.gap(kind, alpha: alpha, x: x, z: z), 0, accuracy: 1e-9, "\(kind) at z = \(z)")
                // g′(z) = φ(z) − z
                let h = 1e-5
                let dg = (LPOMPenalty.g(kind, alpha: alpha, z + h) - LPOMPenalty.g(kind, alpha: alpha, z - h)) / (2 * h)
                XCTAssertEqual(dg, x - z, accuracy: 1e-6, "g′ of \(kind) at \(z)")
                // B ≥ 0 away from x = φ(z), inside φ's range
                for dx in [-0.2, 0.05, 0.3] {
                    var y = [z + 0.5 + dx]
                    y.withUnsafeMutableBufferPointer { Double.activationForward(kind, alpha: alpha, $0) }
                    XCTAssertGreaterThanOrEqual(LPOMPenalty.gap(kind, alpha: alpha, x: y[0], z: z), -1e-12, "\(kind)")
                }
            }
        }
        XCTAssertEqual(LPOMPenalty.dilogarithm(0.5), Double.pi * Double.pi / 12 - 0.5 * log(2) * log(2), accuracy: 1e-14)
        XCTAssertEqual(LPOMPenalty.dilogarithm(-1), -Double.pi * Double.pi / 12, accuracy: 1e-14)
        XCTAssertEqual(LPOMPenalty.dilogarithm(-3), -1.9393754207667089, accuracy: 1e-12)
        XCTAssertEqual(LPOMPenalty.dilogarithm(0.9), 1.2997147230049588, accuracy: 1e-12)
    }

    func testObjectiveOfAForwardPassIsTheSummedLoss() throws {
        for kind in ActivationKind.allCases {
            let t = try makeTrainer(sizes: [3, 4, 3], activation: kind, loss: .crossEntropy)
            let loss = LossKind.crossEntropy.evaluate(t.levels[t.depth].x, labels: t.labels).loss
            XCTAssertEqual(t.objective(), loss, accuracy: 1e-9, "\(kind)")
        }
    }

    // MARK: the X-phase

    func testFixedPointSatisfiesItsEquationsAtConvergence() throws {
        for kind in ActivationKind.allCases {
            for loss in LossKind.allCases {
                let t = try makeTrainer(sizes: [3, 5, 4, 3], activation: kind, loss: loss) {
                    $0.mu = [1, 2, 4]; $0.fixedPointIterations = 2000; $0.fixedPointTolerance = 1e-13
                }
                perturbWeights(t, std: 0.1)
                _ = try t.activationPhase()
                for k in 1...t.depth { t.preactivation(level: k) }
                // hidden: X^i = φ(Z^i − (μ_{i+1}/μ_i)(φ(Z^{i+1}) − X^{i+1}) W_i)
                for i in 1..<t.depth {
                    var r = t.levels[i + 1].z
                    t.applyPhi(level: i + 1, &r)
                    r.add(t.levels[i + 1].x, scaledBy: -1)
                    var u = t.levels[i].z
                    gemm(r, t.layers[i].W, into: &u, alpha: -t.mus[i + 1] / t.mus[i], beta: 1)
                    t.applyPhi(level: i, &u)
                    assertClose(t.levels[i].x.data, u.data, rtol: 1e-8, atol: 1e-9, "\(kind) \(loss) level \(i)")
                }
                // output: X^L = φ(Z^L − ∇ℓ(X^L)/μ_L)
                var g = Tensor<Double>(zeros: [0])
                t.lossGradient(t.levels[t.depth].x, into: &g)
                var u = t.levels[t.depth].z
                u.add(g, scaledBy: -1 / t.mus[t.depth])
                t.applyPhi(level: t.depth, &u)
                assertClose(t.levels[t.depth].x.data, u.data, rtol: 1e-8, atol: 1e-9, "\(kind) \(loss) output")
            }
        }
    }

    func testJacobiAndGaussSeidelReachTheSameFixedPoint() throws {
        for kind in [ActivationKind.relu, .tanh, .sigmoid, .elu] {
            var results: [[[Double]]] = []
            for sweep in LPOMSweep.allCases {
                let t = try makeTrainer(sizes: [3, 5, 4, 3], activation: kind, loss: .crossEntropy) {
                    $0.mu = [1, 1.5, 2]; $0.sweep = sweep; $0.fixedPointIterations = 3000; $0.fixedPointTolerance = 1e-13
                    $0.parallel = sweep == .jacobi
                }
                perturbWeights(t, std: 0.1)
                _ = try t.activationPhase()
                results.append((1...t.depth).map { t.levels[$0].x.data })
            }
            for k in 0..<results[0].count {
                assertClose(results[0][k], results[1][k], rtol: 1e-7, atol: 1e-9, "\(kind) level \(k + 1)")
            }
        }
    }

    func testRelaxedIterationConvergesWhereThePlainOneDiverges() throws {
        // Large weights: the contraction ρ = (μ₂/μ₁)‖W₁‖² is far above 1.
        let t = try makeTrainer(sizes: [3, 6, 6, 3], activation: .relu, weightScale: 4) {
            $0.mu = [1, 1, 1]; $0.fixedPointIterations = 200; $0.fixedPointTolerance = 1e-10
        }
        XCTAssertGreaterThan(t.contraction(level: 1), 1)
        XCTAssertNoThrow(try t.activationPhase())
        let plain = try makeTrainer(sizes: [3, 6, 6, 3], activation: .relu, weightScale: 4) {
            $0.mu = [1, 1, 1]; $0.fixedPointIterations = 200; $0.fixedPointTolerance = 1e-10; $0.relaxation = 1
        }
        XCTAssertThrowsError(try plain.activationPhase()) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("LPOM diverged") && message.contains("contraction"), message)
        }
    }

    // MARK: the W-phase

    func testIdentityWeightUpdateReachesTheLeastSquaresSolution() throws {
        for (system, step) in [(LPOMGramSystem.features, LPOMWeightStep.pseudoInverse), (.batch, .pseudoInverse), (.auto, .gradient)] {
            let t = try makeTrainer(sizes: [3, 2], activation: .relu, batch: 9) {
                $0.apgIterations = step == .gradient ? 3000 : 300; $0.ridge = 0.3; $0.gramSystem = system; $0.weightStep = step
            }
            // Targets that no affine map fits exactly.
            var rng = SplitMix64(seed: 5)
            t.levels[1].x = Tensor<Double>.randomNormal(shape: [9, 2], std: 1, using: &rng)
            t.updateWeights(layer: 0)
            XCTAssertNil(t.layers[0].error)
            // Normal equations [X,1]ᵀ[X,1] W̃ᵀ = [X,1]ᵀ T, solved directly.
            let x = t.levels[0].x, target = t.levels[1].x
            var a = Tensor<Double>(zeros: [9, 4])
            for r in 0..<9 { for c in 0..<3 { a[r, c] = x[r, c] }; a[r, 3] = 1 }
            var g = matmul(a, a, transposeA: true)
            var rhs = matmul(a, target, transposeA: true)
            let info = g.data.withUnsafeMutableBufferPointer { pg in
                rhs.data.withUnsafeMutableBufferPointer { Double.choleskySolve(n: 4, nrhs: 2, a: pg.baseAddress!, b: $0.baseAddress!) }
            }
            XCTAssertEqual(info, 0)
            var expected: [Double] = []
            for o in 0..<2 { for c in 0..<4 { expected.append(rhs[c, o]) } }
            let w = t.layers[0].W, b = t.layers[0].bias
            let got = (0..<2).flatMap { o in [w[o, 0], w[o, 1], w[o, 2], b.data[o]] }
            assertClose(got, expected, rtol: 1e-8, atol: 1e-9, "\(system) \(step)")
        }
    }

    func testBothGramSystemsGiveTheSamePseudoInverse() throws {
        var deltas: [[Double]] = []
        for system in [LPOMGramSystem.features, .batch] {
            let t = try makeTrainer(sizes: [4, 3], activation: .relu, batch: 6) { $0.gramSystem = system; $0.ridge = 0.7 }
            XCTAssertNil(t.pseudoInverse(layer: 0))
            let p = t.layers[0].pinvTransposed ? (0..<6).flatMap { r in (0..<5).map { t.layers[0].pinv[$0, r] } } : t.layers[0].pinv.data
            deltas.append(p)
        }
        assertClose(deltas[0], deltas[1], rtol: 1e-10, atol: 1e-12, "P")
    }

    // MARK: block multi-convexity

    func testEveryBlockUpdateDoesNotIncreaseTheObjective() throws {
        for kind in ActivationKind.allCases {
            for (loss, output) in [(LossKind.squaredError, ActivationKind.identity), (.crossEntropy, .identity), (.squaredError, kind)] {
                let t = try makeTrainer(sizes: [3, 5, 4, 3], activation: kind, output: output, loss: loss) {
                    $0.mu = [0.7, 1.3, 2]; $0.apgIterations = 400; $0.ridge = 0.1; $0.fixedPointTolerance = 1e-12
                }
                perturbWeights(t)
                var f = t.objective()
                XCTAssertTrue(f.isFinite, "\(kind)")
                for i in stride(from: t.depth, through: 1, by: -1) {
                    try t.solveLevel(i, tolerance: 1e-12, maxIterations: 5000)
                    let g = t.objective()
                    XCTAssertLessThanOrEqual(g, f + 1e-9 * max(1, abs(f)), "\(kind) \(loss)/\(output): X block \(i)")
                    f = g
                }
                for k in 0..<t.depth {
                    t.updateWeights(layer: k)
                    XCTAssertNil(t.layers[k].error)
                    let g = t.objective()
                    XCTAssertLessThanOrEqual(g, f + 1e-9 * max(1, abs(f)), "\(kind) \(loss)/\(output): W block \(k)")
                    f = g
                }
            }
        }
    }

    // MARK: golden values

    /// Values printed by `python3 scripts/lpom_reference.py` (one LPOM step: tanh 3-4-3-2,
    /// cross-entropy, μ = (1.5, 2, 3), θ = 0.7, 3 Gauss–Seidel sweeps with 15 inner output
    /// iterations, 4 APG steps with restart, ε = 0.5).
    func testGoldenValuesFromNumPyReference() throws {
        let sizes = [3, 4, 3, 2], b = 5
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: .mlp(input: 3, hidden: [4, 3], output: 2, activation: .tanh), rng: &rng)
        for k in 0..<3 {
            let (rows, cols) = (sizes[k + 1], sizes[k])
            var w = Tensor<Double>(zeros: [rows, cols])
            for i in 0..<rows { for j in 0..<cols { w[i, j] = 0.6 * sin(1.3 * Double(i) + 0.7 * Double(j) + Double(k) + 1) } }
            try net.parameters.set("layers.\(2 * k).weight", w)
            try net.parameters.set("layers.\(2 * k).bias", Tensor(shape: [rows], data: (0..<rows).map { 0.1 * cos(Double($0) + 2 * Double(k)) }))
        }
        var x = Tensor<Double>(zeros: [b, 3])
        for r in 0..<b { for c in 0..<3 { x[r, c] = cos(0.9 * Double(r) + 0.4 * Double(c)) } }
        var config = LPOMConfiguration()
        config.mu = [1.5, 2, 3]; config.relaxation = 0.7; config.fixedPointIterations = 3; config.fixedPointTolerance = 0
        config.apgIterations = 4; config.ridge = 0.5; config.relativeRidge = false; config.sweep = .gaussSeidel; config.parallel = false
        let t = try LPOMTrainer(network: net, loss: .crossEntropy, configuration: config)
        let report = try t.step(inputs: x, labels: [0, 1, 1, 0, 1])

        assertClose(t.levels[1].x.data, [0.8989147738403487, 0.34861743395405226, -0.8444608534820544, -0.7895397312815036, 0.39848646780788205, 0.351702657953029, -0.22045813887750976, -0.42577837871690233, -0.6470271202070825, 0.15048565351016757, 0.6950418955987534, 0.2975056769165987, -0.8442208070612459, -0.10133157753578899, 0.8472863627126974, 0.6081196015710393, -0.7181689090549271, -0.3061915733402444, 0.6367461814624966, 0.6145819903610539], rtol: 1e-9, atol: 1e-12, "X1")
        assertClose(t.levels[3].x.data, [0.33283128164821146, -0.5765186801372992, 0.08239236627994959, 0.1302440069394397, -0.14270191116616995, 0.7212697759000479, 0.025074850415701164, 0.4067285129215478, -0.347872828995971, 0.6598733243021061], rtol: 1e-9, atol: 1e-12, "X3")
        let golden: [(String, [Double])] = [
            ("layers.0.weight", [0.4555308029014195, 0.5892285151207318, 0.4439999687382596, 0.42994158901449797, 0.08284058604339369, -0.3037938430805223, -0.2412073357050276, -0.5480389701818769, -0.5966004822769964, -0.5324837548210065, -0.3721064236105563, -0.034642804922730606]),
            ("layers.0.bias", [0.0679405965232076, 0.05253357026847678, -0.025308835911690128, -0.07869989962348074]),
            ("layers.2.weight", [0.5270263622764515, 0.19147541043159597, -0.20322901323236184, -0.44257369823261783, -0.10237140449596671, -0.476799059882857, -0.6275479068387452, -0.4477281089128673, -0.5930595247097069, -0.48523408566308907, -0.15259645696392615, 0.22798879827623472]),
            ("layers.2.bias", [-0.05421651519920694, -0.09884559893185996, -0.0665258697110211]),
            ("layers.4.weight", [0.1136813206400842, -0.1698007046413506, -0.4045359921465948, -0.582646363215772, -0.7123703705721495, -0.48968303723156137]),
            ("layers.4.bias", [-0.034236724188751295, -0.0034212578071162987]),
        ]
        for (name, values) in golden { assertClose(net.parameters[name]!.data, values, rtol: 1e-9, atol: 1e-11, name) }
        XCTAssertEqual(report.extra["lpom_objective"]!, 0.5703824418632777, accuracy: 1e-10)
        XCTAssertNotNil(report.extra["residual.layers.0"])
        XCTAssertEqual(report.extra["fixed_point_iterations"], 3)
    }

    // MARK: settings (training end to end: LPOMTrainingTests)

    func testConfigurationValidation() throws {
        var c = LPOMConfiguration()
        c.mu = [1, 2]
        XCTAssertThrowsError(try c.validate(layers: 3))
        c.mu = [1, -2, 3]
        XCTAssertThrowsError(try c.validate(layers: 3))
        c.mu = [2]
        XCTAssertNoThrow(try c.validate(layers: 3))
        c.relaxation = 2
        XCTAssertThrowsError(try c.validate(layers: 3))
    }

    /// After an X-phase the first layer's batch-space W-update takes Z¹ = X⁰W₀ᵀ + b₀ from the X-phase
    /// The async X-phase's stopping rounds keep pace with the sweeps: on one rank (rounds complete
    /// at once, no timing involved) a rank sweeps at most once per round plus the one in flight,
    /// so every step's sweeps ≤ rounds + 1. Starting a round only on the pass after the previous
    /// one completed (the bug fixed in 16c64a1) makes every round span two sweeps.
    func testAsyncRoundsKeepPaceWithSweeps() throws {
        let t = try makeTrainer(sizes: [12, 10, 8, 3], activation: .relu, loss: .crossEntropy, batch: 8) {
            $0.sweep = .jacobi; $0.fixedPointIterations = 12; $0.fixedPointTolerance = 1e-12
        }
        try t.distributeLayers(over: SingleProcess(), asynchronous: true)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<4 {
            let x = Tensor<Double>.randomNormal(shape: [8, 12], std: 1, using: &rng)
            let r = try t.step(inputs: x, labels: (0..<8).map { Int32($0 % 3) })
            let sweeps = r.extra["async_sweeps_max"] ?? .nan, rounds = r.extra["fixed_point_iterations"] ?? .nan
            XCTAssertEqual(rounds, 12, "the tolerance is out of reach: every phase runs to the cap")
            XCTAssertLessThanOrEqual(sweeps, rounds + 1, "sweeps \(sweeps), rounds \(rounds)")
            XCTAssertGreaterThanOrEqual(sweeps, rounds - 1)
        }
    }

    /// instead of recomputing it: the same weights, bit for bit; the W-phase then marks Z¹ stale.
    func testFirstLayerWeightUpdateReusesTheXPhaseZ1() throws {
        var results: [[Double]] = []
        for reuse in [false, true] {
            let t = try makeTrainer(sizes: [30, 8, 3], activation: .relu, loss: .crossEntropy, batch: 10) { $0.apgIterations = 4 }
            perturbWeights(t)
            _ = try t.activationPhase()
            XCTAssertTrue(t.firstPreactivationCurrent)
            XCTAssertTrue(t.usesBatchSpace(layer: 0))
            if !reuse { t.firstPreactivationCurrent = false }
            try t.weightPhase()
            XCTAssertFalse(t.firstPreactivationCurrent, "W₀ moved: Z¹ is stale")
            results.append(t.layers.flatMap { $0.W.data + $0.bias.data })
        }
        XCTAssertEqual(results[1], results[0])
    }

    /// A layer large enough to split its APG rows over two concurrent tasks (`apgParts`) gives
    /// the serial W-update (the parts only add up the restart test's inner product separately).
    func testSplitWeightUpdateEqualsSerial() throws {
        var results: [[Double]] = []
        for parallel in [false, true] {
            let t = try makeTrainer(sizes: [200, 210, 3], activation: .relu, loss: .crossEntropy, batch: 100) {
                $0.parallel = parallel; $0.apgIterations = 4; $0.batchSpaceAPG = false
            }
            XCTAssertEqual(t.apgParts(layer: 0), parallel ? 2 : 1)
            perturbWeights(t)
            _ = try t.activationPhase()
            try t.weightPhase()
            results.append(t.layers.flatMap { $0.W.data + $0.bias.data })
        }
        assertClose(results[1], results[0], rtol: 1e-10, atol: 1e-12, "split vs serial W-update")
    }

    /// Recording the diagnostics (objective, residuals, contraction) leaves the trajectory
    /// unchanged: the same weights after steps in which W moves a lot (small ridge, many APG
    /// steps), where an extra power-iteration step on the norm estimates would change θ.
    func testDiagnosticsDoNotChangeTheTrajectory() throws {
        var results: [[Double]] = []
        for diagnostics in [false, true] {
            let t = try makeTrainer(sizes: [6, 8, 7, 3], activation: .relu, loss: .crossEntropy, batch: 5) {
                $0.diagnostics = diagnostics; $0.ridge = 1e-3; $0.apgIterations = 50; $0.mu = [1]
            }
            var rng = SplitMix64(seed: 8)
            for _ in 0..<4 {
                let x = Tensor<Double>.randomNormal(shape: [5, 6], std: 1, using: &rng)
                _ = try t.step(inputs: x, labels: [0, 1, 2, 0, 1])
            }
            results.append(t.layers.flatMap { $0.W.data + $0.bias.data })
        }
        XCTAssertEqual(results[1], results[0])
    }

    /// The batch-space APG (W̃ = W̃₀ + AᵀP, `updateWeightsInBatchSpace`) computes the iterates of
    /// the full-space steps: same W after a W-phase for every activation, with restarts, for a
    /// batch much smaller than the layer inputs (where it is chosen) and with the plain gradient
    /// step; and it is not chosen where it would cost more.
    func testBatchSpaceWeightUpdateEqualsFullSpace() throws {
        for kind in [ActivationKind.relu, .leakyRelu, .sigmoid, .tanh, .elu, .softplus] {
            for step in [LPOMWeightStep.pseudoInverse, .gradient] {
                var results: [[Double]] = []
                for batchSpace in [false, true] {
                    let t = try makeTrainer(sizes: [30, 25, 4], activation: kind, loss: .crossEntropy, batch: 6) {
                        $0.apgIterations = 7; $0.batchSpaceAPG = batchSpace; $0.weightStep = step
                    }
                    XCTAssertEqual(t.usesBatchSpace(layer: 0), batchSpace, "\(kind)")
                    perturbWeights(t)
                    _ = try t.activationPhase()
                    try t.weightPhase()
                    _ = try t.activationPhase()
                    try t.weightPhase()
                    results.append(t.layers.flatMap { $0.W.data + $0.bias.data })
                }
                assertClose(results[1], results[0], rtol: 1e-9, atol: 1e-11, "\(kind) \(step): batch-space vs full-space W-update")
            }
        }
        let wide = try makeTrainer(sizes: [3, 40, 2], activation: .relu, loss: .crossEntropy, batch: 50) { _ in }
        XCTAssertFalse(wide.usesBatchSpace(layer: 0), "b = 50 > d + 1 = 4: the feature system, full-space steps")
    }
}
