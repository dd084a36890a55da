import XCTest
@testable import LiftedTrain
import TestSupport

/// A trainer that records the `prepare(step:of:)` calls of the loop and changes nothing.
final class PrepareRecorder: Trainer {
    let network: Network<Float>
    var prepared: [(step: Int, total: Int)] = []
    init() {
        var rng = SplitMix64(seed: 0)
        network = try! Network<Float>(spec: .mlp(input: 1, hidden: [], output: 1, activation: .identity), rng: &rng)
    }
    var method: String { "record" }
    var hyperparameters: [String: Double] { [:] }
    func prepare(step: Int, of total: Int) { prepared.append((step, total)) }
    func step(inputs: Tensor<Float>, labels: [Int32]) throws -> StepReport { StepReport(loss: 0, accuracy: 0) }
}

/// `LearningRateSchedule` (η_t = η · factor(t/T)): the values at the start, middle and end of a
/// run, monotonicity, the closed forms, and that the loop and `GradientTrainer` apply it at
/// every step t = 0 … T−1 (t = completed steps before the update).
final class LearningRateScheduleTests: XCTestCase {
    func testConstantIsOneEverywhere() {
        for total in [0, 1, 10, 37] {
            for step in 0...total { XCTAssertEqual(LearningRateSchedule.constant.factor(step: step, total: total), 1) }
        }
    }

    /// Cosine (Loshchilov & Hutter 2017, SGDR without restarts): ½(1 + cos(πt/T)), which is
    /// also cos²(πt/2T) — the identity checked here, so the test does not restate the code.
    func testCosineStartsAtOneHalvesAtTheMiddleAndEndsAtZero() {
        let s = LearningRateSchedule.cosine
        XCTAssertEqual(s.factor(step: 0, total: 100), 1)
        assertClose(s.factor(step: 50, total: 100), 0.5, rtol: 0, atol: 1e-15)
        XCTAssertEqual(s.factor(step: 100, total: 100), 0)
        assertClose(s.factor(step: 25, total: 100), 0.5 + 0.5 * 0.5.squareRoot(), rtol: 0, atol: 1e-15)
        assertClose(s.factor(step: 75, total: 100), 0.5 - 0.5 * 0.5.squareRoot(), rtol: 0, atol: 1e-15)
        let total = 37
        let factors = (0...total).map { s.factor(step: $0, total: total) }
        let squares = (0...total).map { t -> Double in
            let c = Foundation.cos(Double.pi * Double(t) / Double(2 * total))
            return c * c
        }
        assertClose(factors, squares, rtol: 0, atol: 1e-15, "½(1 + cos πt/T) = cos²(πt/2T)")
        for t in 1...total { XCTAssertLessThan(factors[t], factors[t - 1], "strictly decreasing at t = \(t)") }
        // The last step the loop prepares (t = T − 1) still moves: factor = sin²(π/2T) > 0.
        XCTAssertGreaterThan(factors[total - 1], 0)
        // An empty run (T = 0) is not a division by zero.
        XCTAssertEqual(s.factor(step: 0, total: 0), 1)
    }

    /// Step: ×1 before half the run, ×0.1 from t/T = ½, ×0.01 from t/T = ¾ (boundaries included).
    func testStepDropsTenfoldAtHalfAndThreeQuarters() {
        let s = LearningRateSchedule.step
        let expected: [Double] = [1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01, 0.01]
        XCTAssertEqual((0...8).map { s.factor(step: $0, total: 8) }, expected)
        // Boundaries that do not fall on a step: T = 10 drops after t = 4 and t = 7.
        XCTAssertEqual((0...10).map { s.factor(step: $0, total: 10) }, [1, 1, 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01])
        for total in [1, 3, 7, 100] {
            let f = (0...total).map { s.factor(step: $0, total: total) }
            for t in 1...total { XCTAssertLessThanOrEqual(f[t], f[t - 1]) }
        }
        XCTAssertEqual(s.factor(step: 0, total: 0), 1)
    }

    func testEveryScheduleIsNamedForTheCommandLine() {
        XCTAssertEqual(LearningRateSchedule.allCases.map(\.rawValue), ["constant", "cosine", "step"])
    }

    /// `GradientTrainer.prepare` sets the optimizer's rate to η·factor and keeps η as the
    /// recorded hyperparameter; the loop prepares t = 0 … T−1 of T (and s … T−1 when resumed at s).
    func testLoopAndTrainerApplyTheScheduleAtEveryStep() throws {
        var rng = SplitMix64(seed: 3)
        let net = try Network<Double>(spec: .mlp(input: 2, hidden: [], output: 2, activation: .identity), rng: &rng)
        for schedule in LearningRateSchedule.allCases {
            let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.4),
                                          schedule: schedule)
            for (step, total) in [(0, 12), (6, 12), (9, 12), (11, 12)] {
                trainer.prepare(step: step, of: total)
                assertClose(trainer.optimizer.learningRate, 0.4 * schedule.factor(step: step, total: total),
                            rtol: 1e-15, atol: 0, "\(schedule) at \(step)/\(total)")
                XCTAssertEqual(trainer.hyperparameters["lr"], 0.4)
            }
        }
        let data = TensorDataset<Float>(inputs: Tensor(shape: [10, 1], data: (0..<10).map(Float.init)), labels: Array(0..<10))
        let loop = TrainingLoop<Float>(epochs: 3, batchSize: 4, seed: 1, snapshotEvery: 0)
        let recorder = PrepareRecorder()
        try loop.run(recorder, train: data, test: nil, observer: nil)
        XCTAssertEqual(recorder.prepared.map(\.step), Array(0..<9))
        XCTAssertEqual(Set(recorder.prepared.map(\.total)), [9])
        let resumed = PrepareRecorder()
        try loop.run(resumed, train: data, test: nil, startStep: 5, observer: nil)
        XCTAssertEqual(resumed.prepared.map(\.step), Array(5..<9))
    }
}
