import XCTest
@testable import LiftedTrain
import TestSupport

/// `GradientTrainer` (one step = backprop + optimizer), `TensorDataset` and `evaluate`.
final class TrainerTests: XCTestCase {
    private func makeNetwork(seed: UInt64) -> Network<Double> {
        var rng = SplitMix64(seed: seed)
        return try! Network<Double>(spec: .mlp(input: 3, hidden: [5], output: 4, activation: .tanh), rng: &rng)
    }

    private let x = Tensor<Double>(shape: [6, 3], data: randomArray(18, seed: 80))
    private let labels: [Int32] = [0, 1, 2, 3, 1, 0]

    func testStepIsOneGradientStepAndReportsTheLossBeforeIt() throws {
        let net = makeNetwork(seed: 81)
        let theta0 = flatParameters(net)
        // The gradient at θ₀, computed directly.
        var dOut = Tensor<Double>(zeros: [0])
        let before = LossKind.crossEntropy.evaluate(net.forward(x, training: true), labels: labels, gradient: &dOut)
        net.backward(dOut)
        let grad = flatGradients(net)

        let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.3))
        XCTAssertEqual(trainer.method, "sgd")
        XCTAssertEqual(trainer.hyperparameters["lr"], 0.3)
        let report = try trainer.step(inputs: x, labels: labels)
        XCTAssertEqual(report.loss, before.loss)
        XCTAssertEqual(report.accuracy, Double(before.correct) / 6)
        assertClose(flatParameters(net), zip(theta0, grad).map { $0 - 0.3 * $1 }, rtol: 1e-14, atol: 1e-15)
        // The step lowers the loss on its batch (a small step on a smooth loss).
        let after = LossKind.crossEntropy.evaluate(net.forward(x), labels: labels)
        XCTAssertLessThan(after.loss, before.loss)
    }

    func testNonFiniteLossSkipsTheUpdate() throws {
        let net = makeNetwork(seed: 82)
        let theta0 = flatParameters(net)
        let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: Adam<Double>())
        var bad = x
        bad.data[4] = .nan
        let report = try trainer.step(inputs: bad, labels: labels)
        XCTAssertTrue(report.loss.isNaN)
        XCTAssertEqual(flatParameters(net), theta0)
        XCTAssertEqual(trainer.optimizer.step, 0)
    }

    func testEvaluateInBatchesEqualsOneBatch() {
        let net = makeNetwork(seed: 83)
        let n = 23
        let data = TensorDataset(inputs: Tensor<Double>(shape: [n, 3], data: randomArray(n * 3, seed: 84)),
                                 labels: (0..<n).map { Int32($0 % 4) })
        let whole = LossKind.squaredError.evaluate(net.forward(data.inputs), labels: data.labels)
        for batchSize in [1, 5, 23, 100] {
            let r = evaluate(net, on: data, loss: .squaredError, batchSize: batchSize)
            assertClose(r.loss, whole.loss, rtol: 1e-13, "batch size \(batchSize)")
            XCTAssertEqual(r.accuracy, Double(whole.correct) / Double(n), "batch size \(batchSize)")
        }
    }

    func testDatasetFromPixelsAndPrefix() {
        let pixels: [UInt8] = [0, 255, 51, 102, 7, 7, 9, 9]
        let d = TensorDataset<Float>(pixels: pixels, labels: [3, 1, 4, 1], count: 3, features: 2)
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.inputs.shape, [3, 2])
        assertClose(d.inputs.data, [0.0, 1, 0.2, 0.4, 7.0 / 255, 7.0 / 255], rtol: 1e-6)
        XCTAssertEqual(d.labels, [3, 1, 4])
        let p = d.prefix(2)
        XCTAssertEqual(p.count, 2)
        XCTAssertEqual(p.inputs.shape, [2, 2])
        XCTAssertEqual(p.labels, [3, 1])
        XCTAssertEqual(d.prefix(10).count, 3)
    }
}
