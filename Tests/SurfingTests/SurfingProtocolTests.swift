import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// Surfing as the authors run it: every snapshot visited once, in training order, from the
/// chosen first one, with Adam restarted at each; the published schedule; a generator family
/// on which surfing must reach x* and regular Adam cannot.
final class SurfingProtocolTests: XCTestCase {
    /// Snapshots of the miniature generator drifting from a random θ_0, and a log of every load.
    final class LoadLog { var loads: [Int] = [] }

    func drifting(count: Int, seed: UInt64) throws -> (Network<Double>, [(parameters: [String: [Float]], buffers: [String: [Float]])]) {
        let net = try randomNetwork(InversionProblemTests.generatorJSON, seed: seed)
        let base = snapshot(net)
        let list = (0..<count).map { t -> (parameters: [String: [Float]], buffers: [String: [Float]]) in
            var p = base.parameters
            for (j, name) in p.keys.sorted().enumerated() {
                let drift = randomArray(p[name]!.count, std: 0.1 * Double(t), seed: seed &+ UInt64(100 * t + j))
                p[name] = zip(p[name]!, drift).map { Float(Double($0) + $1) }
            }
            return (p, base.buffers)
        }
        return (net, list)
    }

    /// Surfing from snapshot 1 through 5 snapshots loads 1, 2, 3, 4 — each once, in order — and
    /// its x̂ equals a chain of *fresh* Adam runs, one per snapshot, each started where the previous
    /// one ended with that snapshot's budget. Fails if a snapshot is skipped or visited out of
    /// order (the load log, and the chain), or if Adam's moments or step count carry over from
    /// one snapshot to the next (the chain: the second phase would start with non-zero m, v or
    /// a bias correction past step 1).
    func testSurfingVisitsEverySnapshotOnceInOrderWithAFreshAdam() throws {
        let (net, list) = try drifting(count: 5, seed: 31)
        let log = LoadLog()
        let logged = GeneratorSnapshots(steps: Array(0..<5)) { t in log.loads.append(t); return list[t] }
        try net.load(parameters: list[4].parameters, buffers: list[4].buffers)
        let problem = InversionProblem(network: net)
        let trials = InversionTrials.inRange(generator: problem, count: 4, distribution: .uniform, seed: 5)
        var s = InversionSettings()
        s.method = .surfing; s.schedule = .paper; s.prefinalBudget = 90; s.firstSnapshot = 1
        s.finalSteps = 40; s.tolerance = 1e-300   // no early stop: every phase spends its budget
        let inverter = Inverter(problem: problem, snapshots: logged, settings: s)
        let budgets = inverter.phaseBudgets()
        XCTAssertEqual(budgets.count, 4)
        XCTAssertEqual(Double(budgets.dropLast().reduce(0, +)), 90, accuracy: 2, "the paper schedule spends the pre-final budget (up to rounding)")
        XCTAssertGreaterThan(budgets[0], budgets[2], "front-loaded")
        let surf = try inverter.run(trials)
        XCTAssertEqual(log.loads, [1, 2, 3, 4])
        // The chain of fresh Adam runs (Inverter .adam on one snapshot = Adam from zero moments).
        var x = trials.starts[0]
        for (j, t) in [1, 2, 3, 4].enumerated() {
            var a = s
            a.method = .adam; a.finalSteps = budgets[j]
            let one = GeneratorSnapshots([list[t]])
            let step = InversionTrials(signals: trials.signals, truth: trials.truth, starts: [x])
            let r = try Inverter(problem: problem, snapshots: one, settings: a).run(step)
            x = Tensor(shape: [4, 3], data: r.flatMap { $0.x })
        }
        XCTAssertEqual(surf.flatMap(\.x), x.data, "surfing = fresh Adam per snapshot, in order")
        XCTAssertEqual(surf.map(\.iterations), [Int](repeating: budgets.reduce(0, +), count: 4))
    }

    /// The published schedule against the released formula evaluated by NumPy
    /// (`np.array(np.round(grid/sum(grid)*618), dtype=int)` of DCGAN/GD_surfing.py, NumPy 2.4):
    /// weights sum to 44,625; entries 0, 2, 6, 14, 30, 98 are 55, 28, 14, 7, 3, 2 (total 616 —
    /// rounding loses 2 of the 618); for 18,937: 1697, 849, 424, 212, 106, 53 (total 18,927).
    func testPaperScheduleMatchesTheReleasedFormula() {
        XCTAssertEqual(PaperSchedule.weights.count, 99)
        XCTAssertEqual(PaperSchedule.weights.reduce(0, +), 44_625)
        let s = PaperSchedule.steps(count: 99, budget: 618)
        XCTAssertEqual([0, 1, 2, 6, 14, 30, 98].map { s[$0] }, [55, 55, 28, 14, 7, 3, 2])
        XCTAssertEqual(s.reduce(0, +), 616)
        let t = PaperSchedule.steps(count: 99, budget: 18_937)
        XCTAssertEqual([0, 2, 6, 14, 30, 98].map { t[$0] }, [1697, 849, 424, 212, 106, 53])
        XCTAssertEqual(t.reduce(0, +), 18_927)
        XCTAssertEqual(PaperSchedule.steps(count: 10, budget: 100).count, 10)
    }

    /// The visited snapshots from `firstSnapshot` with `snapshots` K.
    func testVisitedSnapshotsFromTheFirstCheckpoint() {
        let s = GeneratorSnapshots(steps: Array(stride(from: 0, through: 4000, by: 40))) { _ in ([:], [:]) }
        XCTAssertEqual(s.indices(using: nil, from: 1), Array(1...100))
        XCTAssertEqual(s.indices(using: 10, from: 1), [1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100])
        XCTAssertEqual(s.indices(using: nil, from: 0).count, 101)
    }

    // MARK: A generator family with a spurious basin

    /// G_c(x) = W₂ relu(W₁x + b), W₁ = (1, −1)ᵀ, b = (−c, c), W₂ = [[1, 1], [1, 0]]:
    /// G_c(x) = (|x − c|, relu(x − c)), identity output, k = 1, n = 2.
    static let familyJSON = """
    {"input_shape": [1], "layers": [
      {"name": "layers.0", "type": "dense", "in": 1, "out": 2},
      {"type": "relu"},
      {"name": "layers.2", "type": "dense", "in": 2, "out": 2}]}
    """

    static func family(_ c: Double) -> (parameters: [String: [Float]], buffers: [String: [Float]]) {
        (["layers.0.weight": [1, -1], "layers.0.bias": [Float(-c), Float(c)],
          "layers.2.weight": [1, 1, 1, 0], "layers.2.bias": [0, 0]], [:])
    }

    /// With y = G_0(x*), x* = 0.5: for x > c, f_c(x) = (x − c − 0.5)², minimised at c + 0.5; for
    /// x < c, f_c(x) = ½[(c − x − 0.5)² + 0.25], a spurious local minimum at c − 0.5 with f = 1/8.
    /// On the final network (c = 0) every x < 0 lies in the spurious basin (f′(x) = x + 0.5 points
    /// to −0.5 and away from 0), so regular Adam from x_init ∈ [−1, −0.1] ends at −0.5 (its steps,
    /// of size ≈ η = 0.01, cannot jump the 0.5-wide gap to the kink against the gradient). Along
    /// c_t = −1.5 + 1.5 t/20, θ_0 (c = −1.5) puts all of [−1, 1] strictly on the good side, and the
    /// minimiser c_t + 0.5 moves by 0.075 per snapshot, which a warm-started Adam tracks: surfing
    /// ends at x*. Fails if surfing visits the snapshots in reverse (it would start in the final,
    /// trapped landscape); starting late (snapshot 15, c = −0.375) traps the starts below c.
    func testSurfingReachesXStarWhereRegularAdamIsTrapped() throws {
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: try ModelSpec.parse(Self.familyJSON), rng: &rng)
        let path = (0...20).map { Self.family(-1.5 + 1.5 * Double($0) / 20) }
        let snaps = GeneratorSnapshots(path)
        try snaps.load(20, into: net)
        let problem = InversionProblem(network: net)
        let starts = [-1.0, -0.8, -0.6, -0.5, -0.35, -0.2, -0.1]
        let n = starts.count
        let truth = Tensor<Double>(shape: [n, 1], data: [Double](repeating: 0.5, count: n))
        let trials = InversionTrials(signals: problem.generate(truth), truth: truth,
                                     starts: [Tensor(shape: [n, 1], data: starts)])
        var s = InversionSettings()
        s.tolerance = 1e-3; s.finalSteps = 3000; s.schedule = .uniform; s.stepsPerSnapshot = 300
        s.method = .adam
        let adam = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        for r in adam {
            XCTAssertEqual(r.x[0], -0.5, accuracy: 0.02, "regular Adam ends in the spurious basin")
            XCTAssertEqual(r.loss, 0.125, accuracy: 1e-3, "a local minimum with f = 1/8 > 0")
            XCTAssertEqual(r.success, false)
        }
        s.method = .surfing
        let surf = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        for r in surf {
            XCTAssertEqual(r.success, true, "surfing ends at x* (x̂ = \(r.x[0]))")
        }
        // Starting late, already in the trapped landscape, loses the advantage.
        s.firstSnapshot = 15
        let late = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        XCTAssertTrue(late.contains { $0.success == false })
    }

    /// The homotopy ablation path: θ_t = (1 − t/T) θ_0 + (t/T) θ_T, ends unchanged.
    func testLinearPathInterpolatesTheEnds() throws {
        let snaps = GeneratorSnapshots([Self.family(-1), Self.family(7), Self.family(0)])
        let line = try snaps.linearPath()
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: try ModelSpec.parse(Self.familyJSON), rng: &rng)
        try line.load(1, into: net)
        XCTAssertEqual(net.parameters.floatArrays()["layers.0.bias"]!, [0.5, -0.5], "halfway between c = −1 and c = 0, not the history's c = 7")
        try line.load(2, into: net)
        XCTAssertEqual(net.parameters.floatArrays()["layers.0.bias"]!, [0, 0])
    }

    /// `refined(m)`: m − 1 networks on the line between consecutive snapshots, the originals kept.
    func testRefinedSnapshotsInterpolateBetweenNeighbours() throws {
        let snaps = GeneratorSnapshots([Self.family(-1), Self.family(1), Self.family(0)], steps: [0, 40, 80]).refined(4)
        XCTAssertEqual(snaps.count, 9)
        XCTAssertEqual(snaps.steps, [0, 10, 20, 30, 40, 50, 60, 70, 80])
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: try ModelSpec.parse(Self.familyJSON), rng: &rng)
        for (u, c) in [(0, -1.0), (1, -0.5), (2, 0), (4, 1), (6, 0.5), (8, 0)] {
            try snaps.load(u, into: net)
            XCTAssertEqual(net.parameters.floatArrays()["layers.0.bias"]!, [Float(-c), Float(c)], "network \(u)")
        }
    }

    /// One A per trial: trial i's objective uses A_i whatever the batch composition, and equals
    /// the same trial run alone with A_i shared.
    func testPerTrialMeasurementsFollowTheirTrials() throws {
        let net = try randomNetwork(InversionProblemTests.generatorJSON, seed: 41)
        var rng = SplitMix64(seed: 42)
        let mats = (0..<3).map { _ in MeasurementMatrix<Double>.gaussian(m: 5, n: 64, std: 1, rng: &rng) }
        let per = InversionProblem(network: net, perTrial: mats)
        let x = Tensor<Double>.randomUniform(shape: [3, 3], lo: -1, hi: 1, using: &rng)
        let y = Tensor<Double>.randomUniform(shape: [3, 64], lo: 0, hi: 1, using: &rng)
        var g = Tensor<Double>(zeros: [0])
        let rows = [2, 0]   // trials 2 and 0, in that order
        let f = per.valuesAndGradients(gather(x, rows), measuredTargets: per.measure(gather(y, rows), trials: rows), gradient: &g, trials: rows)
        for (i, t) in rows.enumerated() {
            let alone = InversionProblem(network: net, measurement: mats[t])
            var ga = Tensor<Double>(zeros: [0])
            let fa = alone.valuesAndGradients(gather(x, [t]), measuredTargets: alone.measure(gather(y, [t])), gradient: &ga)
            XCTAssertEqual(f[i], fa[0], accuracy: 1e-9 * max(1, fa[0]))
            assertClose(Array(g.data[(3 * i)..<(3 * i + 3)]), ga.data, rtol: 1e-9, atol: 1e-9)
        }
    }
}

/// Projected-gradient surfing with each piece's QP solved exactly (identity output, the theorem's G).
final class ExactPieceTests: XCTestCase {
    /// A 2 → 6 → ReLU → 5 generator (identity output) and a target y off its range.
    func tiny() throws -> (PiecewiseLinearGenerator, [Double]) {
        let json = """
        {"input_shape": [2], "layers": [
          {"name": "layers.0", "type": "dense", "in": 2, "out": 6}, {"type": "relu"},
          {"name": "layers.2", "type": "dense", "in": 6, "out": 5}]}
        """
        let net = try randomNetwork(json, weightStd: 0.8, seed: 51)
        return (PiecewiseLinearGenerator(net), randomArray(5, std: 0.7, seed: 52))
    }

    /// f by a direct forward pass (plain loops, independent of the piece maps).
    func f(_ g: PiecewiseLinearGenerator, _ x: [Double], _ y: [Double]) -> Double {
        var h = x
        for l in 0...g.hiddenLayers {
            let (no, ni) = (g.sizes[l + 1], g.sizes[l])
            var z = g.b[l]
            for i in 0..<no { for j in 0..<ni { z[i] += g.w[l][i * ni + j] * h[j] } }
            h = l < g.hiddenLayers ? z.map { max(0, $0) } : z
        }
        return 0.5 * zip(h, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }

    /// The global minimum of f by enumerating all 2⁶ activation patterns with the exact QP in
    /// each non-empty piece equals a grid search over [−3, 3]² (step 0.015, refined to 0.0005) to within the grid's
    /// resolution, and every piece minimiser lies in its piece. Fails if the QP's change of
    /// variables is wrong (mutation: z_u = +L⁻¹q) or an empty piece is reported non-empty.
    func testEnumeratedPiecesFindTheGridSearchGlobalMinimum() throws {
        let (g, y) = try tiny()
        var best = Double.infinity, pieces = 0
        for mask in 0..<64 {
            let active = (0..<6).map { mask & (1 << $0) != 0 }
            let p = g.piece(active)
            let poly = PiecePolytope(Z: p.Z, zeta: p.zeta, active: active, k: 2)
            let obj = PieceObjective(k: 2, n: 5, M: p.M, c: p.c, A: nil, m: 5, ay: y, output: .identity)
            guard let x = exactPieceMinimum(obj, poly, near: [0, 0]) else { continue }
            pieces += 1
            XCTAssertLessThanOrEqual(poly.violation(x), 1e-8, "the minimiser lies in its piece")
            XCTAssertEqual(obj.value(x), f(g, x, y), accuracy: 1e-10)
            best = min(best, obj.value(x))
        }
        // Grid search: step 0.015 over [−3, 3]², then step 0.0005 within ±0.03 of the best point.
        var grid = Double.infinity, at = [0.0, 0.0]
        for i in 0...400 { for j in 0...400 {
            let x = [-3 + 0.015 * Double(i), -3 + 0.015 * Double(j)], v = f(g, x, y)
            if v < grid { grid = v; at = x }
        } }
        let centre = at
        for i in -60...60 { for j in -60...60 { grid = min(grid, f(g, [centre[0] + 0.0005 * Double(i), centre[1] + 0.0005 * Double(j)], y)) } }
        XCTAssertGreaterThan(pieces, 6)
        XCTAssertLessThanOrEqual(best, grid + 1e-12)
        XCTAssertEqual(best, grid, accuracy: 5e-4)   // the minimum sits in a narrow valley at a kink
    }

    /// The exact piece minimum equals projected gradient run to convergence in the same piece.
    func testExactPieceMinimumMatchesProjectedGradient() throws {
        let (g, y) = try tiny()
        let x0 = [0.3, -0.4]
        let active = g.preActivations(x0).map { $0 > 0 }
        let p = g.piece(active)
        let poly = PiecePolytope(Z: p.Z, zeta: p.zeta, active: active, k: 2)
        let obj = PieceObjective(k: 2, n: 5, M: p.M, c: p.c, A: nil, m: 5, ay: y, output: .identity)
        let exact = try XCTUnwrap(exactPieceMinimum(obj, poly, near: x0))
        var x = x0
        let eta = 1 / obj.curvature()
        for _ in 0..<5_000 { x = poly.project(zip(x, obj.evaluate(x, gradient: true).g).map { $0 - eta * $1 })! }
        assertClose(exact, x, rtol: 1e-5, atol: 1e-6)
    }

    /// On the 1-D family of SurfingProtocolTests (identity output): exact projected surfing along
    /// the path reaches x* from every start regular Adam is trapped from; the same search on the
    /// final network alone (τ = 0.05 sees no unit near switching at −0.5) stays trapped.
    func testExactProjectedSurfingTracksThePath() throws {
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: try ModelSpec.parse(SurfingProtocolTests.familyJSON), rng: &rng)
        let snaps = GeneratorSnapshots((0...20).map { SurfingProtocolTests.family(-1.5 + 1.5 * Double($0) / 20) })
        try snaps.load(20, into: net)
        let problem = InversionProblem(network: net)
        let starts = [-1.0, -0.6, -0.35, -0.1]
        let truth = Tensor<Double>(shape: [4, 1], data: [0.5, 0.5, 0.5, 0.5])
        let trials = InversionTrials(signals: problem.generate(truth), truth: truth, starts: [Tensor(shape: [4, 1], data: starts)])
        var s = InversionSettings()
        s.method = .projected; s.exactPieces = true; s.tau = 0.1; s.finalPieceRounds = 50
        s.schedule = .uniform; s.stepsPerSnapshot = 300; s.tolerance = 1e-6
        let surf = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        for r in surf { XCTAssertEqual(r.x[0], 0.5, accuracy: 1e-6, "from \(r)") }
        // Final network only: x starts at x_init (one snapshot: no θ_0 Adam phase) and stays in its piece's basin.
        let alone = try Inverter(problem: problem, snapshots: GeneratorSnapshots([SurfingProtocolTests.family(0)]), settings: s).run(trials)
        for r in alone { XCTAssertEqual(r.x[0], -0.5, accuracy: 1e-6) }
    }

    /// `--gen-output identity`: the fully connected generator ends at its dense layer, which
    /// projected surfing accepts (and its sigmoid variant keeps the sigmoid).
    func testIdentityOutputGenerator() throws {
        let id = GenerativeArchitectures.generator(latent: 3, architecture: .fc, hidden: 8, sigmoidOutput: false)
        XCTAssertEqual(id.layers.map(\.type), ["dense", "relu", "dense"])
        XCTAssertNoThrow(try ProjectedSurfing.checkArchitecture(id))
        XCTAssertEqual(GenerativeArchitectures.generator(latent: 3, architecture: .fc, hidden: 8).layers.last?.type, "sigmoid")
    }

    /// k = 5: G_c(x) = (|x_i − c|, relu(x_i − c))_{i=1..5} (dense 5 → 10 → ReLU → 10, identity
    /// output; f separates over the coordinates, each the 1-D family above), with only two
    /// snapshots, c = −1.5 and c = 0: the path jumps. Adam on θ_0 puts every x_i at c + 0.5 = −1;
    /// on the final network x_i = −1 lies in the spurious basin of every coordinate, so Adam
    /// surfing ends at (−0.5, …) like regular Adam (f = 5/8). Projected surfing with τ = 1.5 sees
    /// all 10 units near switching (|z| = 1), searches all 2¹⁰ pieces with the exact QP, and
    /// reaches the global minimiser x* = (0.5, …) (f = 0). Fails if the piece search kept the
    /// current pattern only (mutation: maxPieces 1).
    func testProjectedSurfingEscapesWhereAdamSurfingIsTrappedAtK5() throws {
        var w1 = [Float](repeating: 0, count: 50), w2 = [Float](repeating: 0, count: 100)
        for i in 0..<5 {
            w1[(2 * i) * 5 + i] = 1; w1[(2 * i + 1) * 5 + i] = -1
            w2[(2 * i) * 10 + 2 * i] = 1; w2[(2 * i) * 10 + 2 * i + 1] = 1; w2[(2 * i + 1) * 10 + 2 * i] = 1
        }
        func snap(_ c: Float) -> (parameters: [String: [Float]], buffers: [String: [Float]]) {
            (["layers.0.weight": w1, "layers.0.bias": (0..<10).map { $0 % 2 == 0 ? -c : c },
              "layers.2.weight": w2, "layers.2.bias": [Float](repeating: 0, count: 10)], [:])
        }
        let json = """
        {"input_shape": [5], "layers": [
          {"name": "layers.0", "type": "dense", "in": 5, "out": 10}, {"type": "relu"},
          {"name": "layers.2", "type": "dense", "in": 10, "out": 10}]}
        """
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: try ModelSpec.parse(json), rng: &rng)
        let snaps = GeneratorSnapshots([snap(-1.5), snap(0)])
        try snaps.load(1, into: net)
        let problem = InversionProblem(network: net)
        let truth = Tensor<Double>(shape: [2, 5], data: [Double](repeating: 0.5, count: 10))
        let starts = Tensor<Double>(shape: [2, 5], data: [-0.9, -0.5, -0.2, -0.7, -0.3, -0.1, -0.8, -0.6, -0.4, -0.95])
        let trials = InversionTrials(signals: problem.generate(truth), truth: truth, starts: [starts])
        var s = InversionSettings()
        s.schedule = .uniform; s.stepsPerSnapshot = 1500; s.finalSteps = 3000; s.tolerance = 1e-6
        s.tau = 1.5; s.maxPieces = 1024; s.exactPieces = true; s.finalPieceRounds = 5
        for method in [InversionMethod.adam, .surfing] {
            s.method = method
            for r in try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials) {
                XCTAssertEqual(r.success, false, "\(method)")
                XCTAssertEqual(r.loss, 5.0 / 8, accuracy: 1e-3, "\(method) ends in the spurious minimum")
            }
        }
        s.method = .projected
        for r in try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials) {
            XCTAssertEqual(r.success, true, "projected: x̂ = \(r.x)")
            XCTAssertGreaterThanOrEqual(r.pieces, 1024, "every piece of the 10 near units searched")
        }
        // Finer spacing where the path jumps (30 networks on the line between the two) lets Adam
        // surfing track the minimiser too.
        s.method = .surfing; s.stepsPerSnapshot = 300
        for r in try Inverter(problem: problem, snapshots: snaps.refined(30), settings: s).run(trials) {
            XCTAssertEqual(r.success, true, "Adam surfing over the refined path: x̂ = \(r.x)")
        }
    }

    /// The LP feasibility test of a piece's polytope: random 2-D polytopes {Cx ≥ d} built around a
    /// known interior point are feasible; adding c·x ≥ 1 and −c·x ≥ 0 makes them empty; and on
    /// 60 random polytopes the answer agrees with a grid search over [−4, 4]², step 0.1 (instances whose
    /// region is thinner than the grid are left out: grid misses, LP feasible, with its point
    /// confirmed by Hildreth's projection). Fails if the phase-1 objective row is built wrongly
    /// (mutation: artificial columns included) or the ratio test picks a negative pivot.
    func testPieceFeasibilityByLP() {
        var rng = SplitMix64(seed: 61)
        var agreed = 0
        for trial in 0..<60 {
            let rows = 3 + trial % 6
            let C = (0..<(2 * rows)).map { _ in rng.normal() }
            let x0 = [2 * rng.uniform() - 1, 2 * rng.uniform() - 1]
            // Around x0: feasible by construction.
            let dIn = (0..<rows).map { j in C[2 * j] * x0[0] + C[2 * j + 1] * x0[1] - rng.uniform() }
            XCTAssertTrue(PiecePolytope(C: C, d: dIn, k: 2).isFeasible(), "trial \(trial) feasible")
            // Contradictory pair added: empty.
            let c = [rng.normal(), rng.normal()]
            XCTAssertFalse(PiecePolytope(C: C + c + c.map { -$0 }, d: dIn + [1, 0], k: 2).isFeasible(), "trial \(trial) empty")
            // Random right sides: compare with a grid.
            let d = (0..<rows).map { _ in 2 * rng.normal() }
            let poly = PiecePolytope(C: C, d: d, k: 2)
            var grid = false
            for i in 0...80 where !grid { for j in 0...80 where poly.violation([-4 + 0.1 * Double(i), -4 + 0.1 * Double(j)]) <= 0 { grid = true; break } }
            let lp = poly.isFeasible()
            if grid { XCTAssertTrue(lp, "trial \(trial): a grid point lies in P") }
            else if lp { XCTAssertNotNil(poly.project([0, 0], sweeps: 100_000), "trial \(trial): LP feasible, Hildreth finds no point") }
            if grid == lp { agreed += 1 }
        }
        XCTAssertGreaterThan(agreed, 45)
    }
}
