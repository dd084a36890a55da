import XCTest
@testable import LiftedTrain

/// Records the validation and test evaluations the loop reports after each epoch.
private final class EvaluationRecorder: TrainingObserver {
    var validation: [(epoch: Int, step: Int, loss: Double, accuracy: Double)] = []
    var tests: [(epoch: Int, test: (loss: Double, accuracy: Double)?)] = []
    func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws {}
    func snapshotDue(step: Int) throws {}
    func didEvaluateValidation(_ epoch: Int, step: Int, validation v: (loss: Double, accuracy: Double)) throws {
        validation.append((epoch, step, v.loss, v.accuracy))
    }
    func didFinishEpoch(_ epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?) throws {
        tests.append((epoch, test))
    }
}

/// `ValidationSplit`: the last N samples in order, and the loop's "validation every epoch, test once".
final class ValidationSplitTests: XCTestCase {
    func testRangesHoldOutTheLastSamples() throws {
        let r = try XCTUnwrap(ValidationSplit.ranges(count: 60_000, holdOut: 10_000))
        XCTAssertEqual(r.train, 0 ..< 50_000)
        XCTAssertEqual(r.validation, 50_000 ..< 60_000)
        let none = try XCTUnwrap(ValidationSplit.ranges(count: 200, holdOut: 0))
        XCTAssertEqual(none.train, 0 ..< 200)
        XCTAssertTrue(none.validation.isEmpty)
        let one = try XCTUnwrap(ValidationSplit.ranges(count: 200, holdOut: 199))
        XCTAssertEqual(one.train, 0 ..< 1)
        XCTAssertNil(ValidationSplit.ranges(count: 200, holdOut: 200), "nothing left to train on")
        XCTAssertNil(ValidationSplit.ranges(count: 200, holdOut: -1))
    }

    func testRowsCopyTheSamplesOfTheRange() throws {
        // Sample i has input (i, −i) and label i % 7; regression targets 10 i.
        let n = 9
        let x = Tensor<Float>(shape: [n, 2], data: (0..<n).flatMap { [Float($0), -Float($0)] })
        let labels = (0..<n).map { Int32($0 % 7) }
        let sets = [TensorDataset(inputs: x, labels: labels),
                    TensorDataset(inputs: x, targets: Tensor(shape: [n, 1], data: (0..<n).map { 10 * Float($0) }), labels: labels)]
        for set in sets {
            let part = set.rows(6 ..< 9)
            XCTAssertEqual(part.count, 3)
            XCTAssertEqual(part.inputs.data, [6, -6, 7, -7, 8, -8])
            XCTAssertEqual(part.labels, [6, 0, 1])
            if set.targets != nil { XCTAssertEqual(part.targets?.data, [60, 70, 80]) }
            XCTAssertEqual(set.prefix(2).inputs.data, [0, 0, 1, -1])
            XCTAssertEqual(set.prefix(100).count, n)
        }
    }

    func testLoopEvaluatesValidationEveryEpochAndTestOnceAtTheEnd() throws {
        let all = TrainingLoopTests.xorData(count: 40, seed: 5)
        let split = try XCTUnwrap(ValidationSplit.ranges(count: all.count, holdOut: 10))
        let train = all.rows(split.train), validation = all.rows(split.validation)
        let test = TrainingLoopTests.xorData(count: 20, seed: 6)
        var rng = SplitMix64(seed: 7)
        let trainer = GradientTrainer(network: try Network<Float>(spec: .mlp(input: 2, hidden: [4], output: 2, activation: .relu), rng: &rng),
                                      loss: .crossEntropy, optimizer: SGD<Float>(learningRate: 0.1))
        let net = trainer.network, obs = EvaluationRecorder()
        let loop = TrainingLoop<Float>(epochs: 3, batchSize: 10, seed: 1, snapshotEvery: 0)
        try loop.run(trainer, train: train, validation: validation, test: test, observer: obs)
        XCTAssertEqual(obs.validation.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(obs.validation.map(\.step), [3, 6, 9], "30 training samples, batch 10")
        XCTAssertEqual(obs.tests.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(obs.tests.map { $0.test != nil }, [false, false, true], "the test set once, after the last epoch")
        let v = evaluate(net, on: validation, loss: .crossEntropy), t = evaluate(net, on: test, loss: .crossEntropy)
        XCTAssertEqual(obs.validation.last?.loss, v.loss)
        XCTAssertEqual(obs.validation.last?.accuracy, v.accuracy)
        XCTAssertEqual(obs.tests.last?.test?.loss, t.loss)

        // Without a validation set the test set is evaluated after every epoch, as before.
        let plain = EvaluationRecorder()
        try loop.run(trainer, train: train, test: test, observer: plain)
        XCTAssertTrue(plain.validation.isEmpty)
        XCTAssertEqual(plain.tests.map { $0.test != nil }, [true, true, true])
    }
}
