import XCTest
@testable import LiftedTrain

/// A trainer of images alone (as the generative ones): records the samples of each batch
/// (inputs[i] = i) and reports named losses, NaN from step `nanAt`.
final class ImageBatchRecorder: Trainer {
    let network: Network<Float>
    let batchesPerStep: Int
    let nanAt: Int?
    var steps: [[[Int]]] = []
    init(batchesPerStep: Int, nanAt: Int? = nil) {
        var rng = SplitMix64(seed: 0)
        network = try! Network<Float>(spec: .mlp(input: 1, hidden: [], output: 1, activation: .identity), rng: &rng)
        self.batchesPerStep = batchesPerStep; self.nanAt = nanAt
    }
    var method: String { "images" }
    var hyperparameters: [String: Double] { [:] }
    var stepInput: StepInput { .images(batches: batchesPerStep) }
    func step(_ batch: Batch<Float>) throws -> StepReport {
        let images = try batch.images(count: batchesPerStep, method: method)
        steps.append(images.map { $0.data.map { Int($0) } })
        return StepReport(losses: ["d_loss": 1, "g_loss": steps.count == nanAt ? .nan : 2])
    }
}

/// `TrainingLoop(steps:…)`, the runs counted in steps (generative training).
extension TrainingLoopTests {
    func indexSet(_ n: Int) -> TensorDataset<Float> {
        TensorDataset(inputs: Tensor(shape: [n, 1], data: (0..<n).map { Float($0) }), labels: [Int32](repeating: 0, count: n))
    }

    func testStepsTakeTheirBatchesInOrderAcrossPasses() throws {
        let loop = TrainingLoop<Float>(steps: 7, batchSize: 5, seed: 4, snapshotEvery: 3)
        XCTAssertEqual(loop.totalSteps(samples: 23), 7)
        let trainer = ImageBatchRecorder(batchesPerStep: 3)
        let obs = RecordingObserver()
        try loop.run(trainer, train: indexSet(23), test: indexSet(23), observer: obs)
        // 21 full batches of 5: 4 per pass of 23 samples (3 left over), pass p from stream p + 1.
        var order = BatchOrder(samples: 23, batchSize: 5, seed: 4, firstStream: 1, fullBatchesOnly: true)
        let expected = (0..<21).map { Array(order.indices(ofBatch: $0)) }
        XCTAssertEqual(trainer.steps.count, 7)
        XCTAssertTrue(trainer.steps.allSatisfy { $0.count == 3 })
        XCTAssertEqual(trainer.steps.flatMap { $0 }, expected)
        XCTAssertEqual(obs.steps, Array(1...7))
        XCTAssertEqual(obs.epochsOfSteps, (0..<7).map { 3 * $0 / 4 }, "the pass of each step's first batch")
        XCTAssertEqual(obs.snapshots, [0, 3, 6, 7])
        XCTAssertTrue(obs.epochs.isEmpty, "no epochs, no evaluation")

        // Resumed at step 4: the same batches from there on.
        let resumed = ImageBatchRecorder(batchesPerStep: 3)
        try loop.run(resumed, train: indexSet(23), test: nil, startStep: 4, observer: nil)
        XCTAssertEqual(resumed.steps, Array(trainer.steps[4...]))
    }

    func testANonFiniteNamedLossStopsTheRun() {
        let loop = TrainingLoop<Float>(steps: 5, batchSize: 4, seed: 1, snapshotEvery: 0)
        let obs = RecordingObserver()
        XCTAssertThrowsError(try loop.run(ImageBatchRecorder(batchesPerStep: 1, nanAt: 3), train: indexSet(10), test: nil, observer: obs)) {
            XCTAssertEqual("\($0)", "training diverged: g_loss is nan at step 3; try a smaller learning rate")
        }
        XCTAssertEqual(obs.steps, [1, 2])
    }

    func testDataThatCannotFeedTheTrainerIsRefused() {
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return (error as? TrainingError)?.description ?? "not a TrainingError: \(error)" }
            return "no error"
        }
        let epochs = TrainingLoop<Float>(epochs: 1, batchSize: 5, seed: 1, snapshotEvery: 0)
        XCTAssertTrue(message { try epochs.run(ImageBatchRecorder(batchesPerStep: 2), train: indexSet(10), test: nil, observer: nil) }
            .contains("takes 2 batches per step; run it for a number of steps"))
        let steps = TrainingLoop<Float>(steps: 1, batchSize: 11, seed: 1, snapshotEvery: 0)
        XCTAssertEqual(message { try steps.run(ImageBatchRecorder(batchesPerStep: 1), train: indexSet(10), test: nil, observer: nil) },
                       "the training set has 10 samples, fewer than one batch of 11")
        XCTAssertTrue(message { _ = try BatchRecorder().step(.images([Tensor(zeros: [1, 1])])) }.contains("not on images alone"))
        XCTAssertTrue(message { _ = try ImageBatchRecorder(batchesPerStep: 1).step(.labels(inputs: Tensor(zeros: [1, 1]), labels: [0])) }
            .contains("images alone, not on labels"))
    }

    /// A supervised row holds loss and accuracy (NaN for regression); a generative row only its losses.
    func testHistoryRowsOfStepReports() {
        XCTAssertEqual(StepReport(loss: 0.5, accuracy: 0.25, extra: ["lpom_objective": 3]).metrics,
                       ["loss": 0.5, "accuracy": 0.25, "lpom_objective": 3])
        XCTAssertTrue(StepReport(loss: 0.5, accuracy: .nan).metrics["accuracy"]!.isNaN)
        let g = StepReport(losses: ["d_loss": 1, "g_loss": 2])
        XCTAssertEqual(g.metrics, ["d_loss": 1, "g_loss": 2])
        XCTAssertTrue(g.loss.isNaN)
    }
}
