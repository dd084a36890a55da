import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// Trial-parallel inversion (`InversionWorkers`, `lpom surf --threads N`): the trials split into
/// groups that run at once give every trial the result it gets on one worker.
///
/// To rounding, not to the bit, on this miniature generator: no step couples two trials (batch
/// norm uses the running statistics), but OpenBLAS chooses its small-matrix kernels by M·N·K, so
/// the same rows can round differently in a product of fewer rows (measured with this machine's
/// OpenBLAS 0.3, Cooperlake kernels: rows of [7, 1024] × [1024, 20] differ in the last bit from
/// the same rows of a [300, 1024] × [1024, 20] product; [150, …] and [300, …] agree). The same
/// holds for `batchSize` and `--trial-range` pieces. On the paper generator with 300 trials the
/// two groups of 150 take the same kernels as the whole batch: bench/surf_bench.sh finds the
/// latents of 1 and 2 threads identical. Iteration counts and successes must agree exactly.
final class InversionWorkersTests: XCTestCase {
    /// The miniature paper generator (dense → BN → ReLU → convT → BN → ReLU → convT → sigmoid) in
    /// Float, as `lpom surf` runs it, with three snapshots drifting from a random θ_0 and batch-norm
    /// running statistics away from (0, 1), so eval-mode batch norm is exercised.
    static func generator(seed: UInt64) throws -> (Network<Float>, GeneratorSnapshots) {
        var rng = SplitMix64(seed: seed)
        let net = try Network<Float>(spec: try ModelSpec.parse(InversionProblemTests.generatorJSON), rng: &rng)
        var list = [(parameters: [String: [Float]], buffers: [String: [Float]])]()
        let base = snapshot(net)
        for t in 0..<3 {
            var p = base.parameters, b = base.buffers
            for (j, name) in p.keys.sorted().enumerated() {
                let drift = randomArray(p[name]!.count, std: 0.5 + 0.15 * Double(t), seed: seed &+ UInt64(1000 * t + j))
                p[name] = zip(p[name]!, drift).map { Float(Double($0) + $1) }
            }
            for (j, name) in b.keys.sorted().enumerated() {
                let d = randomArray(b[name]!.count, std: 0.2, seed: seed &+ UInt64(5000 + 1000 * t + j))
                b[name] = zip(b[name]!, d).map { Float(abs(Double($0) + $1)) + 0.1 }
            }
            list.append((p, b))
        }
        return (net, GeneratorSnapshots(list))
    }

    /// Surfing, regular Adam and random restarts, plain inversion and compressed sensing with one
    /// A per trial (so a group must address its trials by their index in the whole run), whole
    /// batches and batches of 2, on 2, 3 and 4 workers (uneven groups of 11 trials): x̂, loss,
    /// RMSE, iterations and success of every trial equal one worker's exactly. Some trials
    /// succeed early and leave their group's batch (trial 2 starts at x*), others run the budget.
    /// A split that dropped a trial would leave its x̂ at its start; one that ran a trial twice
    /// would count its steps twice. x̂ agrees within 1e-4: measured ≤ 1.2e-7 (one rounding) on
    /// OpenBLAS's Cooperlake and SkylakeX kernels, 1.8e-5 on its Haswell kernels (a machine whose
    /// environment sets OPENBLAS_CORETYPE=Haswell, 2026-12-05: their products of fewer rows round
    /// differently, and 200 Adam steps carry it); a trial dropped, run twice or given another
    /// trial's A is off by more than 1e-2.
    func testWorkersGiveEveryTrialItsOneWorkerResult() throws {
        let (net, snaps) = try Self.generator(seed: 61)
        try snaps.load(2, into: net)
        var rng = SplitMix64(seed: 7)
        let perTrial = (0..<11).map { _ in MeasurementMatrix<Float>.gaussian(m: 40, n: net.outputSize, rng: &rng) }
        for compressed in [false, true] {
            let problem = InversionProblem(network: net, perTrial: compressed ? perTrial : nil)
            var trials = InversionTrials.inRange(generator: problem, count: 11, distribution: .uniform, restarts: 3, seed: 5)
            scatter(gather(trials.truth!, [2]), into: &trials.starts[0], rows: [2])
            for method in [InversionMethod.surfing, .adam, .restarts] {
                for batch in [1 << 30, 2] {
                    var s = InversionSettings()
                    s.method = method
                    s.finalSteps = 150; s.firstSteps = 60; s.minSteps = 20; s.restarts = 3; s.restartSteps = 40
                    s.tolerance = 0.05; s.batchSize = batch
                    let one = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
                    let label = "\(method), A per trial \(compressed), batch \(batch)"
                    XCTAssertTrue(one.contains { $0.success == true } && one.contains { $0.success == false }, "\(label): \(one.map(\.success))")
                    if method == .adam {
                        XCTAssertEqual(one[2].finalIterations, 1, "\(label): trial 2 leaves its batch after one step")
                        XCTAssertTrue(one.contains { $0.finalIterations == s.finalSteps }, "\(label): \(one.map(\.finalIterations))")
                    }
                    for w in [2, 3, 4] {
                        let workers = try InversionWorkers(context: ComputeContext(workers: w), problem: problem)
                        let split = try Inverter(problem: problem, snapshots: snaps, settings: s, workers: workers).run(trials)
                        XCTAssertEqual(split.count, one.count)
                        for (i, (a, b)) in zip(one, split).enumerated() {
                            assertClose(b.x, a.x, rtol: 0, atol: 1e-4, "\(label), \(w) workers: x̂ of trial \(i)")
                            XCTAssertEqual(a.iterations, b.iterations, "\(label), \(w) workers: iterations of trial \(i)")
                            XCTAssertEqual(a.finalIterations, b.finalIterations, "\(label), \(w) workers: trial \(i)")
                            assertClose([b.loss, b.rmse], [a.loss, a.rmse], rtol: 1e-4, atol: 1e-7, "\(label), \(w) workers: loss, RMSE of trial \(i)")
                            XCTAssertEqual(a.success, b.success, "\(label), \(w) workers: trial \(i)")
                        }
                    }
                }
            }
        }
    }

    /// Fewer trials than workers: one group per trial; one trial runs on the caller alone.
    /// Progress comes on the calling thread and counts the active trials of every group.
    func testFewerTrialsThanWorkersAndProgress() throws {
        let (net, snaps) = try Self.generator(seed: 62)
        try snaps.load(2, into: net)
        let problem = InversionProblem(network: net)
        let workers = try InversionWorkers(context: ComputeContext(workers: 4), problem: problem)
        var s = InversionSettings()
        s.method = .surfing; s.schedule = .uniform; s.stepsPerSnapshot = 20; s.finalSteps = 30; s.tolerance = 1e-9
        for count in [1, 3] {
            let trials = InversionTrials.inRange(generator: problem, count: count, distribution: .uniform, seed: 9)
            let one = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
            let inverter = Inverter(problem: problem, snapshots: snaps, settings: s, workers: workers)
            let caller = Thread.current
            var active = [Int]()
            inverter.progress = { p in
                XCTAssertTrue(Thread.current === caller, "progress off the calling thread")
                active.append(p.active)
            }
            let split = try inverter.run(trials)
            for (a, b) in zip(one, split) { assertClose(b.x, a.x, rtol: 0, atol: 1e-5, "\(count) trials") }
            XCTAssertEqual(one.map(\.iterations), split.map(\.iterations), "\(count) trials")
            // Group 0's own trial is active whenever it reports; another group may have ended its phase already.
            XCTAssertFalse(active.isEmpty)
            XCTAssertTrue(active.allSatisfy { (1...count).contains($0) }, "\(active)")
        }
    }
}
