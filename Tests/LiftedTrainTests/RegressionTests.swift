import XCTest
@testable import LiftedTrain
import TestSupport

/// Regression support: the square loss on real targets, targets through datasets, trainers and
/// the loop, the teacher–student task and the MNIST-derived "bottom-half ink" task.
final class RegressionTests: XCTestCase {
    func testSquareLossValueAndGradient() {
        let b = 4, c = 3
        let f = randomArray(b * c, seed: 201), y = randomArray(b * c, seed: 202)
        let naive = zip(f, y).reduce(0.0) { $0 + 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(b)
        let yT = Tensor<Double>(shape: [b, c], data: y)
        var g = Tensor<Double>(zeros: [0])
        let l = LossKind.mse.evaluate(Tensor(shape: [b, c], data: f), targets: yT, gradient: &g)
        assertClose(l, naive, rtol: 1e-14)
        XCTAssertEqual(g.shape, [b, c])
        assertGradient(g.data, of: { LossKind.mse.evaluate(Tensor(shape: [b, c], data: $0), targets: yT) }, at: f)
        // Float agrees.
        let lf = LossKind.mse.evaluate(Tensor<Float>(shape: [b, c], data: f.map(Float.init)),
                                       targets: Tensor<Float>(shape: [b, c], data: y.map(Float.init)))
        assertClose(lf, naive, rtol: 1e-5)
        XCTAssertEqual(LossKind(rawValue: "mse"), .mse)
    }

    func testRegressionStepIsOneGradientStep() throws {
        var rng = SplitMix64(seed: 203)
        let net = try Network<Double>(spec: .mlp(input: 3, hidden: [5], output: 2, activation: .tanh), rng: &rng)
        let x = Tensor<Double>(shape: [6, 3], data: randomArray(18, seed: 204))
        let y = Tensor<Double>(shape: [6, 2], data: randomArray(12, seed: 205))
        let theta0 = flatParameters(net)
        // Gradient of L(θ) = (1/b) Σ ½‖f − y‖² by central differences.
        let numeric = numericalGradient(at: theta0) { th in
            setFlatParameters(net, th)
            return LossKind.mse.evaluate(net.forward(x), targets: y)
        }
        setFlatParameters(net, theta0)
        let trainer = GradientTrainer(network: net, loss: .mse, optimizer: SGD<Double>(learningRate: 0.2))
        let report = try trainer.step(inputs: x, targets: y)
        XCTAssertTrue(report.accuracy.isNaN)
        setFlatParameters(net, theta0)
        assertClose(report.loss, LossKind.mse.evaluate(net.forward(x), targets: y), rtol: 1e-14)
        _ = try trainer.step(inputs: x, targets: y)
        assertClose(flatParameters(net), zip(theta0, numeric).map { $0 - 0.2 * $1 }, rtol: 1e-7, atol: 1e-9)
        // Cross-entropy has no meaning on real targets: a clear error, not a crash.
        let ce = GradientTrainer(network: net, loss: .crossEntropy, optimizer: SGD<Double>(learningRate: 0.1))
        XCTAssertThrowsError(try ce.step(inputs: x, targets: y)) { XCTAssertTrue("\($0)".contains("regression"), "\($0)") }
    }

    func testTeacherStudentTaskIsReproducibleAndMatchesItsDefinition() {
        let task = TeacherStudentTask(inputDim: 4, teacherWidth: 50, samples: 7, testSamples: 3, seed: 9)
        let (train, test) = task.make(Double.self)
        XCTAssertEqual(train.inputs.shape, [7, 4])
        XCTAssertEqual(train.targets?.shape, [7, 1])
        XCTAssertEqual(test.count, 3)
        // Unit-norm inputs.
        for i in 0..<7 {
            let s = (0..<4).reduce(0.0) { $0 + train.inputs[i, $1] * train.inputs[i, $1] }
            assertClose(s, 1.0, rtol: 1e-12)
        }
        // Targets: y = m^{-1/2} Σ a_r relu(w_rᵀx), computed naively; a_r = ±1.
        let (w, a) = task.teacher()
        XCTAssertTrue(a.allSatisfy { $0 == 1 || $0 == -1 })
        XCTAssertTrue(a.contains(1) && a.contains(-1))
        let naive = (0..<7).map { i -> Double in
            (0..<50).reduce(0.0) { acc, r in
                let z = (0..<4).reduce(0.0) { $0 + w[r, $1] * train.inputs[i, $1] }
                return acc + a[r] * max(z, 0)
            } / 50.0.squareRoot()
        }
        assertClose(train.targets!.data, naive, rtol: 1e-12, atol: 1e-14)
        // Same seed, same data; another seed, other data; more samples keep the test set.
        XCTAssertEqual(task.make(Double.self).train.targets, train.targets)
        var other = task; other.seed = 10
        XCTAssertNotEqual(other.make(Double.self).train.inputs, train.inputs)
        var more = task; more.samples = 9
        XCTAssertEqual(more.make(Double.self).test.inputs, test.inputs)
        XCTAssertEqual(Array(more.make(Double.self).train.inputs.data.prefix(28)), train.inputs.data)
    }

    func testBottomHalfInk() throws {
        // Two 4×2 "images".
        let pixels: [UInt8] = [10, 20, 30, 40, 50, 60, 70, 80,
                               255, 255, 0, 0, 255, 0, 0, 0]
        let images = TensorDataset<Double>(pixels: pixels, labels: [3, 7], count: 2, features: 8)
        let d = try BottomHalfInk.make(from: images, rows: 4, cols: 2)
        XCTAssertEqual(d.labels, [3, 7])
        assertClose(d.targets!.data, [(50.0 + 60 + 70 + 80) / 4 / 255, 255.0 / 4 / 255], rtol: 1e-14)
        assertClose(d.inputs.data, [10.0 / 255, 20.0 / 255, 30.0 / 255, 40.0 / 255, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], rtol: 1e-14)
        let p = d.prefix(1)
        XCTAssertEqual(p.targets?.shape, [1, 1])
        XCTAssertEqual(p.count, 1)
        XCTAssertThrowsError(try BottomHalfInk.make(from: images, rows: 3, cols: 2)) { e in
            XCTAssertEqual("\(e)", "the bottom-half-ink task needs 3×2 images (6 pixels), got 8 pixels per image")
        }
    }

    func testLoopTrainsTeacherStudentWithSGDAndEvaluates() throws {
        let task = TeacherStudentTask(inputDim: 3, teacherWidth: 20, samples: 16, testSamples: 8, seed: 4)
        let (train, test) = task.make(Double.self)
        var rng = SplitMix64(seed: 5)
        let net = try Network<Double>(spec: .mlp(input: 3, hidden: [16], output: 1, activation: .relu), rng: &rng)
        let before = evaluate(net, on: train, loss: .mse)
        XCTAssertTrue(before.accuracy.isNaN)
        let direct = LossKind.mse.evaluate(net.forward(train.inputs), targets: train.targets!)
        assertClose(before.loss, direct, rtol: 1e-13)
        assertClose(evaluate(net, on: train, loss: .mse, batchSize: 5).loss, direct, rtol: 1e-13)
        let trainer = GradientTrainer(network: net, loss: .mse, optimizer: SGD<Double>(learningRate: 0.1, momentum: 0.9))
        var loop = TrainingLoop<Double>(epochs: 100, batchSize: 8, seed: 1, snapshotEvery: 0)
        loop.evaluationLoss = .mse
        try loop.run(trainer, train: train, test: test, observer: nil)
        let after = evaluate(net, on: train, loss: .mse)
        XCTAssertLessThan(after.loss, before.loss / 5, "SGD on the teacher–student task: \(before.loss) → \(after.loss)")
    }
}
