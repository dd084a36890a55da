import ImageData
import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// Short runs on the committed fixtures (200 Fashion-MNIST training images) with a fixed seed.
final class GenerativeTrainingTests: XCTestCase {
    func fixtureImages() throws -> TensorDataset<Float> {
        let ds = try ImageDataset.load(.fashionMNIST, directory: TestPaths.tinyData)
        return TensorDataset<Float>(pixels: ds.train.pixels, labels: ds.train.labels, count: ds.train.count, features: 784)
    }

    /// Records the metrics and the snapshot steps.
    final class Recorder: TrainingObserver {
        var metrics: [[String: Double]] = []
        var snapshots: [Int] = []
        func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws { metrics.append(report.metrics) }
        func snapshotDue(step: Int) throws { snapshots.append(step) }
        func mean(_ key: String, _ range: Range<Int>) -> Double { range.map { metrics[$0][key]! }.reduce(0, +) / Double(range.count) }
    }

    func testVAELossFallsOnTheFixture() throws {
        var setup = GenerativeSetup(method: .vae, architecture: .fc, latent: 5)
        setup.hidden = 64
        let trainer: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: 3)
        let rec = Recorder()
        try TrainingLoop(steps: 80, batchSize: 40, seed: 3, snapshotEvery: 30).run(trainer, train: try fixtureImages(), test: nil, observer: rec)
        XCTAssertEqual(rec.snapshots, [0, 30, 60, 80])
        let first = rec.mean("loss", 0..<5), last = rec.mean("loss", 75..<80)
        // At initialisation every pixel is ≈ 0.5: ≈ 784 log 2 ≈ 543 nats per image.
        XCTAssertEqual(first, 543, accuracy: 30)
        XCTAssertLessThan(last, 0.75 * first, "VAE loss \(first) → \(last)")
    }

    func testDCGANGeneratorMovesTowardsTheDataIntensity() throws {
        let data = try fixtureImages()
        let dataMean = Double(data.inputs.data.reduce(0, +)) / Double(data.inputs.count)
        var setup = GenerativeSetup(method: .dcgan, architecture: .fc, latent: 5)
        setup.hidden = 64
        let trainer: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: 5)
        func sampleMean() -> Double {
            var rng = SplitMix64(seed: 9)
            let z: Tensor<Float> = LatentDistribution.uniform.sample(rows: 64, latent: 5, using: &rng)
            let y = trainer.generator.forward(z, training: false)
            return Double(y.data.reduce(0, +)) / Double(y.count)
        }
        let before = sampleMean()
        XCTAssertEqual(before, 0.5, accuracy: 0.02)  // sigmoid of nearly zero
        let rec = Recorder()
        try TrainingLoop(steps: 150, batchSize: 40, seed: 5, snapshotEvery: 0).run(trainer, train: data, test: nil, observer: rec)
        XCTAssertEqual(rec.snapshots, [0, 150])
        let after = sampleMean()
        XCTAssertLessThan(abs(after - dataMean), 0.5 * abs(before - dataMean),
                          "mean intensity: data \(dataMean), generator \(before) → \(after)")
        XCTAssertTrue(rec.metrics.allSatisfy { $0["d_loss"]!.isFinite && $0["g_loss"]!.isFinite })
    }

    func testWGANStepClipsTheCriticAndUsesOneBatchPerCriticUpdate() throws {
        let g = try tinyNetwork(input: [3], [dense(0, 3, 5), act("relu"), dense(2, 5, 8), act("sigmoid")], seed: 1)
        let d = try tinyNetwork(input: [8], [dense(0, 8, 6), act("leaky_relu", 0.2), dense(2, 6, 1)], seed: 2)
        let t = try GANTrainer(generator: g, discriminator: d, configuration: GANConfiguration(method: .wgan))
        let g0 = g.parameters.values
        XCTAssertEqual(t.stepInput, .images(batches: 5))
        let batches = (1...5).map { randomPixels(rows: 4, cols: 8, seed: UInt64($0)) }
        XCTAssertThrowsError(try t.step(.images(Array(batches.prefix(4))))) { XCTAssertTrue("\($0)".contains("5 batches"), "\($0)") }
        XCTAssertThrowsError(try t.step(.labels(inputs: batches[0], labels: [0, 1, 2, 3])))
        XCTAssertEqual(g.parameters.values, g0, "a refused batch changes nothing")
        let m = try t.step(.images(batches)).metrics
        XCTAssertNil(m["accuracy"], "a generative row has no accuracy")
        XCTAssertEqual(m["wasserstein"]!, -m["d_loss"]!, accuracy: 1e-12)
        for v in d.parameters.values { XCTAssertLessThanOrEqual(v.data.map(abs).max()!, 0.01) }
        XCTAssertNotEqual(g.parameters.values, g0, "one generator update")
    }

    /// `generatorForwardsPerStep = 2` (the authors' released trainers: the critic update and the
    /// generator update each run the generator in training mode on the same latents) moves θ, the
    /// critic and every loss exactly as 1 does, and advances the generator's batch-norm running
    /// statistics twice with the same batch statistics: from r₀ = 0 (mean) and 1 (variance), one
    /// step gives 0.19 s and 0.81 + 0.19 v against 0.1 s and 0.9 + 0.1 v (momentum 0.1 = TF's decay
    /// 0.9), whatever s and v are.
    func testTheReleasedTrainersTwoGeneratorPassesAdvanceOnlyTheRunningStatisticsTwice() throws {
        func run(_ forwards: Int) throws -> (GANTrainer<Double>, [String: Double]) {
            let g = try tinyNetwork(input: [3], [dense(0, 3, 6), bn(1, 6), act("relu"), dense(3, 6, 8), act("sigmoid")], seed: 1)
            let d = try tinyNetwork(input: [8], [dense(0, 8, 6), act("leaky_relu", 0.2), dense(2, 6, 1)], seed: 2)
            var c = GANConfiguration(method: .wgan)
            c.criticSteps = 1
            c.generatorForwardsPerStep = forwards
            let t = try GANTrainer(generator: g, discriminator: d, configuration: c, seed: 4)
            let m = try t.step(.images([randomPixels(rows: 5, cols: 8, seed: 3)])).metrics
            XCTAssertEqual(t.hyperparameters["g_forwards"], forwards == 1 ? nil : 2)
            return (t, m)
        }
        let (one, m1) = try run(1), (two, m2) = try run(2)
        XCTAssertEqual(m1, m2)
        XCTAssertEqual(one.generator.parameters.values, two.generator.parameters.values)
        XCTAssertEqual(one.discriminator.parameters.values, two.discriminator.parameters.values)
        let mean1 = one.generator.buffers["layers.1.running_mean"]!.data, mean2 = two.generator.buffers["layers.1.running_mean"]!.data
        let var1 = one.generator.buffers["layers.1.running_var"]!.data, var2 = two.generator.buffers["layers.1.running_var"]!.data
        for j in 0..<6 {
            let s = mean1[j] / 0.1, v = (var1[j] - 0.9) / 0.1
            XCTAssertGreaterThan(abs(s), 1e-6, "a batch mean that is not zero")
            XCTAssertEqual(mean2[j], 0.19 * s, accuracy: 1e-12)
            XCTAssertEqual(var2[j], 0.81 + 0.19 * v, accuracy: 1e-12)
        }
    }

    /// Every generative trainer's state (both Adam states, the partner network, the noise) goes
    /// into a trainer built from another seed, which then exports the same state and takes the
    /// same next step; a state lacking an array, holding a foreign one, or of the wrong size is
    /// refused naming it.
    func testGenerativeTrainersCarryTheirStateToAnotherTrainer() throws {
        for method in [GenerativeMethod.vae, .dcgan, .wgan, .wganGP] {
            let setup = GenerativeSetup(method: method, architecture: .fc, latent: 2)
            let a: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: 1)
            let batches = (1...5).map { p in Tensor<Float>(shape: [4, 784], data: randomPixels(rows: 4, cols: 784, seed: UInt64(p)).data.map(Float.init)) }
            let perStep: Int
            if case .images(let n) = a.stepInput { perStep = n } else { perStep = 1 }
            _ = try a.step(.images(Array(batches.prefix(perStep))))
            let b: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: 2)
            try b.generator.load(parameters: a.generator.parameters.floatArrays(), buffers: a.generator.buffers.floatArrays())
            let state = a.exportState()
            XCTAssertNotEqual(b.exportState(), state, "\(method): another seed, another state")
            try b.importState(state)
            XCTAssertEqual(b.exportState(), state, "\(method)")
            let ra = try a.step(.images(Array(batches.suffix(perStep)))).metrics, rb = try b.step(.images(Array(batches.suffix(perStep)))).metrics
            XCTAssertEqual(ra, rb, "\(method): the same next step")
            XCTAssertEqual(a.generator.parameters.values, b.generator.parameters.values, "\(method)")
            var bad = state
            let key = state.keys.sorted().first { $0.contains(".param.") }!
            bad[key] = nil
            XCTAssertThrowsError(try b.importState(bad)) { XCTAssertTrue("\($0)".contains("lacks '\(key)'"), "\($0)") }
            bad = state; bad["extra"] = [1]
            XCTAssertThrowsError(try b.importState(bad)) { XCTAssertTrue("\($0)".contains("'extra'"), "\($0)") }
            bad = state; bad[key] = [0]
            XCTAssertThrowsError(try b.importState(bad)) { XCTAssertTrue("\($0)".contains(key), "\($0)") }
            bad = state; bad["noise"] = [0.5, 1]
            XCTAssertThrowsError(try b.importState(bad)) { XCTAssertTrue("\($0)".contains("noise"), "\($0)") }
        }
    }
}
