import XCTest
@testable import LiftedTrain
import TestSupport

/// Records what the loop reports; optionally stops the run after a given step.
final class RecordingObserver: TrainingObserver {
    struct Stop: Error {}
    var steps: [Int] = []
    var losses: [Double] = []
    var epochsOfSteps: [Int] = []
    var totals: Set<Int> = []
    var snapshots: [Int] = []
    var epochs: [(epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?)] = []
    let stopAfter: Int?

    init(stopAfter: Int? = nil) { self.stopAfter = stopAfter }

    func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws {
        steps.append(step)
        losses.append(report.loss)
        epochsOfSteps.append(epoch)
        totals.insert(total)
        if step == stopAfter { throw Stop() }
    }
    func snapshotDue(step: Int) throws { snapshots.append(step) }
    func didFinishEpoch(_ epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?) throws {
        epochs.append((epoch, step, test))
    }
}

/// A trainer that changes nothing and records the batches it is given (labels are sample indices).
final class BatchRecorder: Trainer {
    let network: Network<Float>
    var batches: [[Int32]] = []
    var rowsMatchLabels = true
    init() {
        var rng = SplitMix64(seed: 0)
        network = try! Network<Float>(spec: .mlp(input: 1, hidden: [], output: 1, activation: .identity), rng: &rng)
    }
    var method: String { "record" }
    var hyperparameters: [String: Double] { [:] }
    func step(inputs: Tensor<Float>, labels: [Int32]) throws -> StepReport {
        batches.append(labels)
        // Row r of the batch must be the sample its label names (inputs[i] = i).
        if inputs.shape != [labels.count, 1] || zip(inputs.data, labels).contains(where: { $0 != Float($1) }) {
            rowsMatchLabels = false
        }
        return StepReport(loss: 0, accuracy: 0)
    }
}

/// `TrainingLoop`: batching and resumption, observer protocol, divergence, and convergence of
/// small MLPs on a separable 2-D problem with a fixed seed.
final class TrainingLoopTests: XCTestCase {
    /// XOR on [−1, 1]²: label 1 in the first and third quadrants, with a margin of 0.1 around
    /// the axes so the classes are separable.
    static func xorData(count n: Int, seed: UInt64) -> TensorDataset<Float> {
        var rng = SplitMix64(seed: seed)
        var x: [Float] = []
        var y: [Int32] = []
        while y.count < n {
            let a = 2 * rng.uniform() - 1, b = 2 * rng.uniform() - 1
            if abs(a) < 0.1 || abs(b) < 0.1 { continue }
            x += [Float(a), Float(b)]
            y.append(a * b > 0 ? 1 : 0)
        }
        return TensorDataset(inputs: Tensor(shape: [n, 2], data: x), labels: y)
    }

    /// Two interleaved spirals (class k is the other rotated by π), 1.5 turns each, radius in
    /// [0.1, 1]: not linearly separable, and no single hidden unit separates them.
    static func spiralData(count n: Int, seed: UInt64) -> TensorDataset<Float> {
        var rng = SplitMix64(seed: seed)
        var x: [Float] = []
        var y: [Int32] = []
        for i in 0..<n {
            let k = i % 2
            let t = 0.1 + 0.9 * rng.uniform()
            let angle = 3 * Double.pi * t + Double(k) * .pi
            x += [Float(t * cos(angle)), Float(t * sin(angle))]
            y.append(Int32(k))
        }
        return TensorDataset(inputs: Tensor(shape: [n, 2], data: x), labels: y)
    }

    // MARK: Batches and resumption

    private func indexData(_ n: Int) -> TensorDataset<Float> {
        TensorDataset(inputs: Tensor(shape: [n, 1], data: (0..<n).map { Float($0) }), labels: (0..<n).map { Int32($0) })
    }

    func testEachEpochVisitsEverySampleOnceInANewOrder() throws {
        let (n, batchSize, epochs) = (23, 5, 3)
        let loop = TrainingLoop<Float>(epochs: epochs, batchSize: batchSize, seed: 4, snapshotEvery: 0)
        XCTAssertEqual(loop.stepsPerEpoch(samples: n), 5)
        let recorder = BatchRecorder()
        try loop.run(recorder, train: indexData(n), test: nil, observer: nil)
        XCTAssertTrue(recorder.rowsMatchLabels)
        XCTAssertEqual(recorder.batches.count, 15)
        XCTAssertEqual(recorder.batches.map(\.count), Array(repeating: [5, 5, 5, 5, 3], count: 3).flatMap { $0 })
        var orders: [[Int32]] = []
        for e in 0..<epochs {
            let order = recorder.batches[(e * 5)..<(e * 5 + 5)].flatMap { $0 }
            XCTAssertEqual(order.sorted(), (0..<Int32(n)).map { $0 }, "epoch \(e)")
            orders.append(order)
        }
        XCTAssertEqual(Set(orders).count, epochs, "every epoch reshuffles")
        XCTAssertNotEqual(orders[0], (0..<Int32(n)).map { $0 }, "the data are shuffled")

        // Same seed: same batches; another seed: other batches.
        let again = BatchRecorder()
        try loop.run(again, train: indexData(n), test: nil, observer: nil)
        XCTAssertEqual(again.batches, recorder.batches)
        var other = loop
        other.seed = 5
        let different = BatchRecorder()
        try other.run(different, train: indexData(n), test: nil, observer: nil)
        XCTAssertNotEqual(different.batches, recorder.batches)
    }

    func testResumingAtAnyStepContinuesTheSameBatches() throws {
        let n = 23
        let loop = TrainingLoop<Float>(epochs: 3, batchSize: 5, seed: 8, snapshotEvery: 0)
        let full = BatchRecorder()
        try loop.run(full, train: indexData(n), test: nil, observer: nil)
        for k in 0...15 {
            let resumed = BatchRecorder()
            let obs = RecordingObserver()
            try loop.run(resumed, train: indexData(n), test: nil, startStep: k, observer: obs)
            XCTAssertEqual(resumed.batches, Array(full.batches[k...]), "resumed at step \(k)")
            XCTAssertEqual(obs.steps, Array((k + 1)..<16), "step numbers continue from \(k)")
            XCTAssertEqual(obs.epochsOfSteps, obs.steps.map { ($0 - 1) / 5 })
        }
    }

    /// The real thing: an uninterrupted run of 2 epochs against a run stopped after step k,
    /// whose parameters are copied into a fresh network and trained on from `startStep: k`.
    /// Momentum 0, so the optimizer has no state to carry over.
    func testInterruptedAndResumedRunMatchesUninterruptedRun() throws {
        let data = Self.xorData(count: 50, seed: 90)  // batch 8 → 7 steps per epoch, the last of 2
        let spec = ModelSpec.mlp(input: 2, hidden: [8], output: 2, activation: .tanh)
        let loop = TrainingLoop<Double>(epochs: 2, batchSize: 8, seed: 91, snapshotEvery: 0)
        let train = TensorDataset<Double>(inputs: data.inputs.converted(), labels: data.labels)
        func network(_ seed: UInt64) -> Network<Double> {
            var rng = SplitMix64(seed: seed)
            return try! Network<Double>(spec: spec, rng: &rng)
        }
        func copyValues(_ from: Network<Double>, into to: Network<Double>) {
            for i in from.parameters.values.indices { to.parameters.values[i] = from.parameters.values[i] }
        }

        let a = network(92)
        let theta0 = a.parameters.values
        let obsA = RecordingObserver()
        try loop.run(GradientTrainer(network: a, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.5)),
                     train: train, test: nil, observer: obsA)
        XCTAssertEqual(obsA.steps, Array(1...14))

        for k in [3, 7, 9] {
            let b = network(93)  // other initial values, overwritten by θ₀
            for i in theta0.indices { b.parameters.values[i] = theta0[i] }
            let obsB = RecordingObserver(stopAfter: k)
            XCTAssertThrowsError(try loop.run(GradientTrainer(network: b, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.5)),
                                              train: train, test: nil, observer: obsB)) { XCTAssertTrue($0 is RecordingObserver.Stop) }
            XCTAssertEqual(obsB.steps, Array(1...k))

            let c = network(94)
            copyValues(b, into: c)
            let obsC = RecordingObserver()
            try loop.run(GradientTrainer(network: c, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.5)),
                         train: train, test: nil, startStep: k, observer: obsC)
            XCTAssertEqual(obsC.steps, Array((k + 1)...14))
            assertClose(obsB.losses + obsC.losses, obsA.losses, rtol: 1e-12, atol: 0, "losses, stopped at \(k)")
            assertClose(flatParameters(c), flatParameters(a), rtol: 1e-12, atol: 1e-14, "final θ, stopped at \(k)")
        }
        // The check has teeth: resuming at the wrong step visits other batches and ends elsewhere.
        let d = network(95)
        for i in theta0.indices { d.parameters.values[i] = theta0[i] }
        try loop.run(GradientTrainer(network: d, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.5)),
                     train: train, test: nil, startStep: 1, observer: nil)
        XCTAssertNotNil(mismatch(flatParameters(d), flatParameters(a), rtol: 1e-6, atol: 1e-8))
    }

    // MARK: Observer protocol

    func testSnapshotsAndEpochReports() throws {
        let data = Self.xorData(count: 23, seed: 96)
        var loop = TrainingLoop<Float>(epochs: 3, batchSize: 5, seed: 1, snapshotEvery: 4)
        var rng = SplitMix64(seed: 97)
        let net = try Network<Float>(spec: .mlp(input: 2, hidden: [3], output: 2, activation: .relu), rng: &rng)
        let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: SGD<Float>(learningRate: 0.1))

        let obs = RecordingObserver()
        try loop.run(trainer, train: data, test: data.prefix(10), observer: obs)
        XCTAssertEqual(obs.snapshots, [0, 4, 8, 12, 15])
        XCTAssertEqual(obs.totals, [15])
        XCTAssertEqual(obs.epochs.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(obs.epochs.map(\.step), [5, 10, 15])
        let last = try XCTUnwrap(obs.epochs.last?.test)
        let direct = evaluate(net, on: data.prefix(10), loss: .crossEntropy)
        XCTAssertEqual(last.loss, direct.loss)
        XCTAssertEqual(last.accuracy, direct.accuracy)

        // Resumed runs take no snapshot of θ₀; no test set or evaluateEachEpoch = false: no evaluation.
        loop.evaluateEachEpoch = false
        let resumed = RecordingObserver()
        try loop.run(trainer, train: data, test: data, startStep: 6, observer: resumed)
        XCTAssertEqual(resumed.snapshots, [8, 12, 15])
        XCTAssertEqual(resumed.epochs.map(\.epoch), [2, 3])
        XCTAssertTrue(resumed.epochs.allSatisfy { $0.test == nil })
        XCTAssertEqual(resumed.losses.count, 9)
    }

    func testEmptyTrainingSetIsAnError() {
        let loop = TrainingLoop<Float>(epochs: 1, batchSize: 5, seed: 1, snapshotEvery: 0)
        let empty = TensorDataset<Float>(inputs: Tensor(zeros: [0, 1]), labels: [])
        XCTAssertThrowsError(try loop.run(BatchRecorder(), train: empty, test: nil, observer: nil)) {
            XCTAssertTrue($0 is TrainingError)
        }
    }

    // MARK: Divergence and convergence

    /// lr = 1e6 on a leaky-ReLU network: the weights grow geometrically until the Float logits
    /// overflow. (With saturating or dying activations — ReLU, tanh, sigmoid, ELU, softplus — the
    /// same run keeps a huge but finite loss, which the loop by design does not flag.)
    func testHugeLearningRateDiverges() throws {
        let data = Self.xorData(count: 64, seed: 98)
        var rng = SplitMix64(seed: 99)
        let net = try Network<Float>(spec: .mlp(input: 2, hidden: [16], output: 2, activation: .leakyRelu), rng: &rng)
        let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: SGD<Float>(learningRate: 1e6))
        let loop = TrainingLoop<Float>(epochs: 20, batchSize: 16, seed: 1, snapshotEvery: 0)
        let obs = RecordingObserver()
        XCTAssertThrowsError(try loop.run(trainer, train: data, test: nil, observer: obs)) { error in
            guard let e = error as? TrainingError else { return XCTFail("expected TrainingError, got \(error)") }
            XCTAssertTrue(e.description.contains("diverged"), e.description)
            XCTAssertTrue(e.description.contains("smaller learning rate"), e.description)
        }
        XCTAssertLessThan(obs.steps.count, 80, "divergence is caught before the run completes")
        XCTAssertTrue(obs.losses.allSatisfy(\.isFinite), "no non-finite loss reaches the observer")
    }

    /// A trainer whose loss stays finite while it writes NaN into a parameter at step 3.
    final class PoisoningTrainer: Trainer {
        let network: Network<Float>
        var calls = 0
        init() {
            var rng = SplitMix64(seed: 0)
            network = try! Network<Float>(spec: .mlp(input: 2, hidden: [], output: 2, activation: .identity), rng: &rng)
        }
        var method: String { "poison" }
        var hyperparameters: [String: Double] { [:] }
        func step(inputs: Tensor<Float>, labels: [Int32]) throws -> StepReport {
            calls += 1
            if calls == 3 { network.parameters.values[1].data[0] = .nan }
            return StepReport(loss: 1, accuracy: 0)
        }
    }

    func testNonFiniteParameterIsCaughtAtTheNextSnapshot() {
        let data = Self.xorData(count: 40, seed: 103)
        let loop = TrainingLoop<Float>(epochs: 2, batchSize: 4, seed: 1, snapshotEvery: 5)
        let obs = RecordingObserver()
        XCTAssertThrowsError(try loop.run(PoisoningTrainer(), train: data, test: nil, observer: obs)) { error in
            let d = (error as? TrainingError)?.description ?? "\(error)"
            XCTAssertTrue(d.contains("diverged") && d.contains("layers.0.bias") && d.contains("step 5"), d)
        }
        XCTAssertEqual(obs.snapshots, [0], "no snapshot of non-finite parameters")
    }

    private func trainXOR<O: GradientOptimizer>(_ optimizer: O, activation: ActivationKind) throws -> Double
    where O.Scalar == Float {
        let data = Self.xorData(count: 200, seed: 100)
        var rng = SplitMix64(seed: 101)
        let net = try Network<Float>(spec: .mlp(input: 2, hidden: [16], output: 2, activation: activation), rng: &rng)
        let before = evaluate(net, on: data, loss: .crossEntropy)
        let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: optimizer)
        let loop = TrainingLoop<Float>(epochs: 40, batchSize: 20, seed: 102, snapshotEvery: 0)
        try loop.run(trainer, train: data, test: nil, observer: nil)
        let after = evaluate(net, on: data, loss: .crossEntropy)
        XCTAssertLessThan(after.loss, before.loss / 3)
        return after.accuracy
    }

    func testSGDWithMomentumLearnsXOR() throws {
        let accuracy = try trainXOR(SGD<Float>(learningRate: 0.1, momentum: 0.9), activation: .tanh)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)
    }

    /// ReLU on purpose: a tanh network with zero initial biases is an odd function, and on this
    /// point-symmetric data its bias gradients average out — it stalls at ~69% (PyTorch does
    /// the same with Xavier weights and zero biases; its default random biases escape).
    func testAdamLearnsTwoSpirals() throws {
        let data = Self.spiralData(count: 200, seed: 104)
        var rng = SplitMix64(seed: 105)
        let net = try Network<Float>(spec: .mlp(input: 2, hidden: [32, 32], output: 2, activation: .relu), rng: &rng)
        let before = evaluate(net, on: data, loss: .crossEntropy)
        let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: Adam<Float>(learningRate: 0.01))
        let loop = TrainingLoop<Float>(epochs: 50, batchSize: 20, seed: 106, snapshotEvery: 0)
        try loop.run(trainer, train: data, test: nil, observer: nil)
        let after = evaluate(net, on: data, loss: .crossEntropy)
        XCTAssertLessThan(before.accuracy, 0.75)
        XCTAssertGreaterThanOrEqual(after.accuracy, 0.95)
    }

    func testAdamLearnsXOR() throws {
        let accuracy = try trainXOR(Adam<Float>(learningRate: 0.02), activation: .relu)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)
    }
}
