import XCTest
@testable import LiftedTrain

/// `Trainer.exportState` / `importState` (TrainerState.swift): a trainer stopped after k steps
/// and rebuilt from θ plus its exported state takes exactly the steps of the uninterrupted one —
/// and without the state it does not (so each state is really carried between steps). Also the
/// schedule segments of `TrainingLoop`.
final class TrainerStateTests: XCTestCase {
    static let data = TrainingLoopTests.xorData(count: 60, seed: 7)   // batch 8 → 8 steps per epoch

    func network(_ hidden: [Int] = [6, 5]) -> Network<Double> {
        var rng = SplitMix64(seed: 11)
        return try! Network<Double>(spec: .mlp(input: 2, hidden: hidden, output: 2, activation: .tanh), rng: &rng)
    }

    /// Runs `make` uninterrupted for 2 epochs, and stopped after step `k` then continued by a
    /// fresh trainer on a copy of θ — with the state imported when `restore`. Returns both final θ.
    func interrupted(at k: Int, restore: Bool, schedule: Bool = false,
                     _ make: (Network<Double>) throws -> any Trainer<Double>) throws -> (full: [Double], resumed: [Double]) {
        let train = TensorDataset<Double>(inputs: Self.data.inputs.converted(), labels: Self.data.labels)
        let loop = TrainingLoop<Double>(epochs: 2, batchSize: 8, seed: 3, snapshotEvery: 0)
        let a = network()
        try loop.run(try make(a), train: train, test: nil, observer: nil)
        let b = network()
        let first = try make(b)
        XCTAssertThrowsError(try loop.run(first, train: train, test: nil, observer: RecordingObserver(stopAfter: k)))
        let c = network()
        for i in b.parameters.values.indices { c.parameters.values[i] = b.parameters.values[i] }
        let second = try make(c)
        if restore { try second.importState(first.exportState()) }
        try loop.run(second, train: train, test: nil, startStep: k, observer: nil)
        return (flatParameters(a), flatParameters(c))
    }

    func testSGDMomentumAndNesterovCarryTheirVelocity() throws {
        for nesterov in [false, true] {
            let make = { (n: Network<Double>) -> any Trainer<Double> in
                GradientTrainer(network: n, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.3, momentum: 0.9, nesterov: nesterov),
                                schedule: .cosine)
            }
            let r = try interrupted(at: 5, restore: true, make)
            XCTAssertEqual(r.resumed, r.full, "nesterov \(nesterov)")
            XCTAssertNotEqual(try interrupted(at: 5, restore: false, make).resumed, r.full, "without the velocity the run differs")
        }
        // Plain SGD keeps nothing.
        let plain = GradientTrainer(network: network(), loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.1))
        XCTAssertEqual(plain.exportState(), [:])
    }

    func testAdamCarriesItsMomentsAndStepCount() throws {
        let make = { (n: Network<Double>) -> any Trainer<Double> in
            GradientTrainer(network: n, loss: .crossEntropy, optimizer: Adam<Double>(learningRate: 0.05), schedule: .cosine)
        }
        let r = try interrupted(at: 11, restore: true, make)
        XCTAssertEqual(r.resumed, r.full)
        XCTAssertNotEqual(try interrupted(at: 11, restore: false, make).resumed, r.full)
        let t = try make(network())
        let names = Set(t.exportState().keys)
        XCTAssertTrue(names.contains("adam.step") && names.contains("adam.m.layers.0.weight") && names.contains("adam.v.layers.4.bias"), "\(names)")
    }

    func testLPOMCarriesItsPowerIterationWarmStart() throws {
        let make = { (n: Network<Double>) -> any Trainer<Double> in
            try LPOMTrainer<Double>(network: n, loss: .crossEntropy)
        }
        let r = try interrupted(at: 6, restore: true, make)
        XCTAssertEqual(r.resumed, r.full)
        XCTAssertNotEqual(try interrupted(at: 6, restore: false, make).resumed, r.full,
                          "30 cold power iterations instead of 3 warm ones change ‖W‖₂² and θ")
    }

    func testGGNKeepsNoState() {
        let ggn = GGNTrainer(network: network(), damping: 1e-6)
        XCTAssertEqual(ggn.exportState(), [:])
        XCTAssertNoThrow(try ggn.importState([:]))
        XCTAssertThrowsError(try ggn.importState(["velocity.layers.0.weight": [0]])) { XCTAssertTrue("\($0)".contains("does not keep"), "\($0)") }
    }

    func testImportRefusesMissingExtraAndMisSizedArrays() throws {
        let t = GradientTrainer(network: network(), loss: .crossEntropy, optimizer: Adam<Double>())
        var state = t.exportState()
        XCTAssertEqual(state["adam.step"], [0])
        XCTAssertEqual(state["adam.m.layers.0.weight"], [Double](repeating: 0, count: 12), "zeros before the first update")
        state["adam.m.layers.0.weight"] = [1]
        XCTAssertThrowsError(try t.importState(state)) { XCTAssertTrue("\($0)".contains("adam.m.layers.0.weight"), "\($0)") }
        state = t.exportState()
        state.removeValue(forKey: "adam.step")
        XCTAssertThrowsError(try t.importState(state)) { XCTAssertTrue("\($0)".contains("lacks 'adam.step'"), "\($0)") }
        let sgd = GradientTrainer(network: network(), loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.1, momentum: 0.5))
        XCTAssertThrowsError(try sgd.importState(t.exportState())) { XCTAssertTrue("\($0)".contains("lacks 'velocity."), "\($0)") }
    }

    /// A trainer that records what `prepare` is told.
    final class ScheduleRecorder: Trainer {
        let network: Network<Float>
        init() {
            var rng = SplitMix64(seed: 0)
            network = try! Network<Float>(spec: .mlp(input: 2, hidden: [], output: 2, activation: .identity), rng: &rng)
        }
        var calls: [[Int]] = []
        var method: String { "record" }
        var hyperparameters: [String: Double] { [:] }
        func prepare(step: Int, of total: Int) { calls.append([step, total]) }
        func step(inputs: Tensor<Float>, labels: [Int32]) throws -> StepReport { StepReport(loss: 0, accuracy: 0) }
    }

    func testScheduleSegmentsRestartTheScheduleAtAnExtension() throws {
        var loop = TrainingLoop<Float>(epochs: 3, batchSize: 12, seed: 1, snapshotEvery: 0)   // 5 steps per epoch
        let one = ScheduleRecorder()
        try loop.run(one, train: Self.data, test: nil, observer: nil)
        XCTAssertEqual(one.calls, (0..<15).map { [$0, 15] })
        loop.scheduleSegments = [0, 10]
        let two = ScheduleRecorder()
        try loop.run(two, train: Self.data, test: nil, observer: nil)
        XCTAssertEqual(two.calls, (0..<10).map { [$0, 10] } + (0..<5).map { [$0, 5] })
        let resumed = ScheduleRecorder()
        try loop.run(resumed, train: Self.data, test: nil, startStep: 7, observer: nil)
        XCTAssertEqual(resumed.calls, (7..<10).map { [$0, 10] } + (0..<5).map { [$0, 5] })
        XCTAssertEqual(loop.scheduleSegment(containing: 10, total: 15), 10..<15)
    }
}
