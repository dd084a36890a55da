import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// The inversion methods: equivalences, convergence on the paper's theoretical setting, the
/// projected method escaping a trap, and batching.
final class InverterTests: XCTestCase {
    /// Three snapshots of the miniature generator: θ_0 random, later ones drifting from it.
    func snapshots(seed: UInt64, count: Int = 3) throws -> (Network<Double>, GeneratorSnapshots) {
        let net = try randomNetwork(InversionProblemTests.generatorJSON, seed: seed)
        let base = snapshot(net)
        var list = [(parameters: [String: [Float]], buffers: [String: [Float]])]()
        for t in 0..<count {
            var p = base.parameters
            for (j, name) in p.keys.sorted().enumerated() {
                let drift = randomArray(p[name]!.count, std: 0.15 * Double(t), seed: seed &+ UInt64(1000 * t + j))
                p[name] = zip(p[name]!, drift).map { Float(Double($0) + $1) }
            }
            list.append((p, base.buffers))
        }
        return (net, GeneratorSnapshots(list))
    }

    func settings(_ method: InversionMethod) -> InversionSettings {
        var s = InversionSettings()
        s.method = method
        s.finalSteps = 300; s.firstSteps = 120; s.minSteps = 30; s.restarts = 3; s.restartSteps = 80
        s.tolerance = 1e-3
        return s
    }

    /// Surfing over a one-snapshot history is plain Adam on that network, to the last bit.
    func testSurfingOverOneSnapshotIsPlainAdam() throws {
        let (net, all) = try snapshots(seed: 21)
        let one = GeneratorSnapshots([try { () throws -> (parameters: [String: [Float]], buffers: [String: [Float]]) in
            try all.load(2, into: net); return snapshot(net) }()])
        let problem = InversionProblem(network: net)
        let trials = InversionTrials.inRange(generator: problem, count: 5, distribution: .uniform, seed: 3)
        let surf = try Inverter(problem: problem, snapshots: one, settings: settings(.surfing)).run(trials)
        let adam = try Inverter(problem: problem, snapshots: one, settings: settings(.adam)).run(trials)
        for (s, a) in zip(surf, adam) {
            XCTAssertEqual(s.x, a.x)
            XCTAssertEqual(s.iterations, a.iterations)
            XCTAssertEqual(s.loss, a.loss)
        }
        // Over three snapshots surfing takes a different path (the test above is not vacuous).
        let three = try Inverter(problem: problem, snapshots: all, settings: settings(.surfing)).run(trials)
        XCTAssertNotEqual(three.map(\.x), adam.map(\.x))
        XCTAssertGreaterThan(three[0].iterations, three[0].finalIterations)
    }

    /// Batched trials give the results of the same trials one at a time (and in batches of 2),
    /// for surfing (trials leave the batch as they succeed) and for random restarts.
    func testBatchedEqualsOneAtATime() throws {
        let (net, snaps) = try snapshots(seed: 22)
        let problem = InversionProblem(network: net)
        try snaps.load(2, into: net)
        for method in [InversionMethod.surfing, .restarts, .adam] {
            var s = settings(method)
            s.tolerance = 0.05
            var trials = InversionTrials.inRange(generator: problem, count: 6, distribution: .uniform, restarts: 3, seed: 4)
            // Trial 2 starts at its x* (∇f = 0 there): it leaves the batch after one step.
            scatter(gather(trials.truth!, [2]), into: &trials.starts[0], rows: [2])
            let batched = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
            for size in [1, 2] {
                s.batchSize = size
                let single = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
                for (a, b) in zip(batched, single) {
                    assertClose(a.x, b.x, rtol: 1e-9, atol: 1e-11, "\(method) x̂, batch \(size)")
                    XCTAssertEqual(a.iterations, b.iterations, "\(method) iterations, batch \(size)")
                    XCTAssertEqual(a.success, b.success)
                }
            }
            if method == .adam {
                // Trial 2 stopped at once, others ran the whole budget: the compaction was exercised.
                XCTAssertEqual(batched[2].finalIterations, 1, "\(batched.map(\.finalIterations))")
                XCTAssertTrue(batched.contains { $0.finalIterations == s.finalSteps }, "\(batched.map(\.finalIterations))")
            }
        }
    }

    /// With a gradient tolerance on intermediate snapshots a trial whose gradient is already below
    /// it leaves the phase after one step (here every intermediate network is the final one, so a
    /// trial started at x* has ∇f = 0 on each), the others spend the budget.
    func testSnapshotGradientToleranceEndsIntermediatePhases() throws {
        let (net, one) = try snapshots(seed: 25, count: 1)
        try one.load(0, into: net)
        let same = GeneratorSnapshots([snapshot(net), snapshot(net), snapshot(net)])
        let problem = InversionProblem(network: net)
        var trials = InversionTrials.inRange(generator: problem, count: 2, distribution: .uniform, seed: 10)
        scatter(gather(trials.truth!, [0]), into: &trials.starts[0], rows: [0])
        var s = settings(.surfing)
        s.schedule = .uniform; s.stepsPerSnapshot = 40; s.finalSteps = 5; s.tolerance = 1e-9
        s.snapshotGradientTolerance = 1e-12
        let r = try Inverter(problem: problem, snapshots: same, settings: s).run(trials)
        XCTAssertEqual(r[0].iterations - r[0].finalIterations, 2, "one step on each of the two intermediate snapshots")
        XCTAssertEqual(r[1].iterations - r[1].finalIterations, 80)
        s.snapshotGradientTolerance = nil
        let full = try Inverter(problem: problem, snapshots: same, settings: s).run(trials)
        XCTAssertEqual(full[0].iterations - full[0].finalIterations, 80)
    }

    /// Regular Adam run for more steps is the shorter run followed by more steps, to the last bit:
    /// nothing in a row's descent depends on the budget, and the rows in the batch at each step
    /// (those not yet solved) are the same in both runs. The Table-1 sweep relies on it
    /// (`scripts/surf_cap.py`): one run of 60,000 + B steps gives both regular Adam at 60,000 and
    /// regular Adam with surfing's whole budget.
    func testALongerBudgetKeepsTheShorterRunAsItsPrefix() throws {
        let (net, snaps) = try snapshots(seed: 25, count: 1)
        try snaps.load(0, into: net)
        let problem = InversionProblem(network: net)
        let trials = InversionTrials.inRange(generator: problem, count: 32, distribution: .uniform, seed: 9)
        var s = settings(.adam)
        s.tolerance = 2e-2
        s.finalSteps = 500
        let short = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        s.finalSteps = 3000
        let long = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        var solvedEarly = 0, solvedLate = 0
        for (a, b) in zip(short, long) {
            if b.success == true && b.iterations <= 500 {
                solvedEarly += 1
                XCTAssertEqual(a.x, b.x); XCTAssertEqual(a.iterations, b.iterations); XCTAssertEqual(a.success, true)
            } else {
                XCTAssertEqual(a.success, false); XCTAssertEqual(a.iterations, 500)
                if b.success == true { solvedLate += 1 }
            }
        }
        // Not vacuous: some trials are solved within the short budget, some only in the long one.
        XCTAssertGreaterThan(solvedEarly, 0); XCTAssertGreaterThan(solvedLate, 0)
    }

    /// A trial started at x* has ∇f = 0 there: Adam stays, the trial succeeds after one step and
    /// leaves the batch while the others continue.
    func testSolvedTrialsLeaveTheBatch() throws {
        let (net, snaps) = try snapshots(seed: 23, count: 1)
        try snaps.load(0, into: net)
        let problem = InversionProblem(network: net)
        var trials = InversionTrials.inRange(generator: problem, count: 3, distribution: .uniform, seed: 5)
        scatter(gather(trials.truth!, [0]), into: &trials.starts[0], rows: [0])
        var s = settings(.adam)
        s.tolerance = 1e-6
        let r = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        XCTAssertEqual(r[0].iterations, 1)
        XCTAssertEqual(r[0].success, true)
        XCTAssertEqual(r[0].distance, 0)
        XCTAssertEqual(r[1].iterations, s.finalSteps)
    }

    /// With x* unknown (real images) a trial stops when its loss plateaus: checked every `window`
    /// steps against the previous check, so a trial sitting at a minimum stops at step 2·window
    /// while one still descending continues.
    func testPlateauStopsATrialWhoseLossStalls() throws {
        let (net, snaps) = try snapshots(seed: 24, count: 1)
        try snaps.load(0, into: net)
        let problem = InversionProblem(network: net)
        let start = InversionTrials.inRange(generator: problem, count: 2, distribution: .uniform, seed: 9)
        var trials = InversionTrials.signals(start.signals, latentSize: 3, distribution: .uniform, seed: 9)
        scatter(gather(start.truth!, [0]), into: &trials.starts[0], rows: [0])
        var s = settings(.adam)
        s.plateauWindow = 20; s.finalSteps = 200
        let r = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        XCTAssertEqual(r[0].iterations, 40)
        XCTAssertNil(r[0].success)
        XCTAssertGreaterThan(r[1].iterations, 60)
    }

    /// Thm 3.1's setting, in range (Hand & Voroninski 2017): an expansive ReLU network k = 5 → 100 →
    /// 500 → 300 with N(0, 1/n_i) weights, no bias and a linear output, y = G(x*) for x* ~ N(0, I).
    /// The only critical points of f are then near x*, near −ρx* (ρ < 1) and near 0, so Adam from
    /// random starts N(0, I) reaches the global minimiser x* (‖x̂ − x*‖ < 1e-3) in almost every
    /// trial, and a trial that misses it sits near the negative ray of x* (cosine < −0.8; a random direction in ℝ⁵ has |cosine| ≈ 0.45).
    func testAdamFindsTheGlobalMinimiserOnAnExpansiveRandomReLUNetwork() throws {
        let (k, n1, n2, n) = (5, 100, 500, 300)
        var rng = SplitMix64(seed: 31)
        let net = try Network<Double>(spec: try ModelSpec.parse("""
        {"input_shape": [\(k)], "layers": [{"name": "l0", "type": "dense", "in": \(k), "out": \(n1)}, {"type": "relu"},
          {"name": "l1", "type": "dense", "in": \(n1), "out": \(n2)}, {"type": "relu"},
          {"name": "v", "type": "dense", "in": \(n2), "out": \(n)}]}
        """), rng: &rng)
        for (name, rows) in [("l0", n1), ("l1", n2), ("v", n)] {
            let w = net.parameters[name + ".weight"]!
            try net.parameters.set(name + ".weight", .randomNormal(shape: w.shape, std: 1 / Double(rows).squareRoot(), using: &rng))
            try net.parameters.set(name + ".bias", Tensor(zeros: [rows]))
        }
        let problem = InversionProblem(network: net)
        let trials = InversionTrials.inRange(generator: problem, count: 20, distribution: .normal, seed: 6)
        var s = InversionSettings()
        s.method = .adam; s.clip = false; s.finalSteps = 5000; s.tolerance = 1e-3
        let r = try Inverter(problem: problem, snapshots: GeneratorSnapshots([snapshot(net)]), settings: s).run(trials)
        XCTAssertGreaterThanOrEqual(r.filter { $0.success == true }.count, 18)
        let truth = Scalar2D(trials.truth!)
        for (i, t) in r.enumerated() where t.success != true {
            let xs = truth.row(i)
            let cosine = zip(t.x, xs).reduce(0) { $0 + $1.0 * $1.1 }
                / (t.x.reduce(0) { $0 + $1 * $1 }.squareRoot() * xs.reduce(0) { $0 + $1 * $1 }.squareRoot())
            XCTAssertLessThan(cosine, -0.8, "trial \(i) missed x* but is not near −ρx*")
        }
    }

    /// A two-unit ReLU network with a spurious local minimum: G(x) = (relu(x), relu(−x)), y = (2, 1),
    /// f(x) = ½(relu(x) − 2)² + ½(relu(−x) − 1)² has its global minimum f(2) = ½ and a local one
    /// f(−1) = 2. From x = −0.5 Adam is trapped at −1; projected-gradient search over the pieces
    /// within τ = 1 of x (both units) finds x = 2 exactly; with τ = 0.1 (no flip) it stays at −1.
    func testProjectedSurfingEscapesTheTrapPlainDescentFallsInto() throws {
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: try ModelSpec.parse("""
        {"input_shape": [1], "layers": [{"name": "w", "type": "dense", "in": 1, "out": 2}, {"type": "relu"},
          {"name": "v", "type": "dense", "in": 2, "out": 2}]}
        """), rng: &rng)
        try net.parameters.set("w.weight", Tensor(shape: [2, 1], data: [1, -1]))
        try net.parameters.set("w.bias", Tensor(zeros: [2]))
        try net.parameters.set("v.weight", Tensor(shape: [2, 2], data: [1, 0, 0, 1]))
        try net.parameters.set("v.bias", Tensor(zeros: [2]))
        let problem = InversionProblem(network: net)
        let trials = InversionTrials<Double>(signals: Tensor(shape: [1, 2], data: [2, 1]), truth: Tensor(shape: [1, 1], data: [2]),
                                             starts: [Tensor(shape: [1, 1], data: [-0.5])])
        let snaps = GeneratorSnapshots([snapshot(net)])
        var s = InversionSettings()
        s.clip = false; s.finalSteps = 3000; s.tolerance = 1e-6
        s.method = .adam
        let adam = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)[0]
        XCTAssertEqual(adam.x[0], -1, accuracy: 1e-2, "Adam is trapped in the spurious minimum")
        XCTAssertEqual(adam.success, false)
        s.method = .projected; s.tau = 1
        let projected = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)[0]
        XCTAssertEqual(projected.x[0], 2, accuracy: 1e-10)
        XCTAssertEqual(projected.loss, 0.5, accuracy: 1e-12)
        XCTAssertEqual(projected.pieces, 4)
        XCTAssertEqual(projected.success, true)
        s.tau = 0.1
        let near = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)[0]
        XCTAssertEqual(near.x[0], -1, accuracy: 1e-10)
        XCTAssertEqual(near.pieces, 1)
    }

    /// More rounds of the piece search per snapshot let x cross pieces: G(x) = (relu(x), relu(x − 1)),
    /// y = (3, 2) has its minimum at x = 3, two pieces from x = −0.5. With τ = 0.6 one round (the
    /// paper's algorithm) reaches the piece boundary x = 1; a second round from there flips the
    /// second unit and reaches x = 3 exactly.
    func testPieceRoundsCrossPieces() throws {
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: try ModelSpec.parse("""
        {"input_shape": [1], "layers": [{"name": "w", "type": "dense", "in": 1, "out": 2}, {"type": "relu"},
          {"name": "v", "type": "dense", "in": 2, "out": 2}]}
        """), rng: &rng)
        try net.parameters.set("w.weight", Tensor(shape: [2, 1], data: [1, 1]))
        try net.parameters.set("w.bias", Tensor(shape: [2], data: [0, -1]))
        try net.parameters.set("v.weight", Tensor(shape: [2, 2], data: [1, 0, 0, 1]))
        try net.parameters.set("v.bias", Tensor(zeros: [2]))
        let problem = InversionProblem(network: net)
        let trials = InversionTrials<Double>(signals: Tensor(shape: [1, 2], data: [3, 2]), truth: Tensor(shape: [1, 1], data: [3]),
                                             starts: [Tensor(shape: [1, 1], data: [-0.5])])
        var s = InversionSettings()
        s.method = .projected; s.clip = false; s.tau = 0.6; s.tolerance = 1e-8
        let one = try Inverter(problem: problem, snapshots: GeneratorSnapshots([snapshot(net)]), settings: s).run(trials)[0]
        XCTAssertEqual(one.x[0], 1, accuracy: 1e-10)
        s.pieceRounds = 5
        let more = try Inverter(problem: problem, snapshots: GeneratorSnapshots([snapshot(net)]), settings: s).run(trials)[0]
        XCTAssertEqual(more.x[0], 3, accuracy: 1e-10)
        XCTAssertEqual(more.success, true)
    }

    /// Projected-gradient surfing over finely spaced snapshots (θ_t = θ_0 + small Gaussian drift)
    /// of a random dense ReLU generator with a Gaussian A (m = 10, n = 30, k = 2) tracks the
    /// minimiser to the exact x* (‖x̂ − x*‖ < 1e-9; Adam surfing with 20000 final steps gets ~1e-4).
    func testProjectedSurfingOverSnapshotsWithMeasurements() throws {
        let json = """
        {"input_shape": [2], "layers": [{"name": "a", "type": "dense", "in": 2, "out": 12}, {"type": "relu"},
          {"name": "b", "type": "dense", "in": 12, "out": 30}]}
        """
        let net = try randomNetwork(json, weightStd: 0.6, seed: 41)
        let base = snapshot(net)
        var list = [base]
        for t in 1...8 {
            var p = base.parameters
            for (j, name) in p.keys.sorted().enumerated() {
                p[name] = zip(p[name]!, randomArray(p[name]!.count, std: 0.02 * Double(t), seed: UInt64(50 + 10 * t + j))).map { Float(Double($0) + $1) }
            }
            list.append((p, base.buffers))
        }
        let snaps = GeneratorSnapshots(list)
        try snaps.load(8, into: net)
        var rng = SplitMix64(seed: 2)
        let problem = InversionProblem(network: net, measurement: .gaussian(m: 10, n: 30, rng: &rng))
        let trials = InversionTrials.inRange(generator: problem, count: 4, distribution: .uniform, seed: 8)
        var s = InversionSettings()
        s.method = .projected; s.clip = false; s.firstSteps = 500; s.tau = 0.3; s.pieceSteps = 500; s.tolerance = 1e-9
        let r = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        for t in r {
            XCTAssertGreaterThanOrEqual(t.pieces, 3)
            XCTAssertEqual(t.success, true, "distance \(t.distance!), loss \(t.loss)")
        }
    }

    func testScheduleAndSnapshotChoice() {
        let front = (0..<8).map { SnapshotSchedule.frontLoaded.steps($0, first: 1000, min: 50, uniform: 7) }
        XCTAssertEqual(front, [1000, 500, 250, 125, 62, 50, 50, 50])
        XCTAssertEqual(SnapshotSchedule.uniform.steps(3, first: 1000, min: 50, uniform: 7), 7)
        let s = GeneratorSnapshots(steps: Array(0..<101)) { _ in ([:], [:]) }
        XCTAssertEqual(s.indices(using: 10), Array(stride(from: 0, through: 100, by: 10)))
        XCTAssertEqual(s.indices(using: 3), [0, 34, 68, 100])
        XCTAssertEqual(s.indices(using: nil).count, 101)
        XCTAssertEqual(s.indices(using: 500).count, 101)
        XCTAssertEqual(LatentDistribution.prior(forTrainingMethod: "vae"), .normal)
        XCTAssertEqual(LatentDistribution.prior(forTrainingMethod: "wgan-gp"), .uniform)
    }
}

/// Rows of a Double tensor as arrays.
struct Scalar2D {
    let t: Tensor<Double>
    init(_ t: Tensor<Double>) { self.t = t }
    func row(_ i: Int) -> [Double] { Array(t.data[i * t.cols..<(i + 1) * t.cols]) }
}
