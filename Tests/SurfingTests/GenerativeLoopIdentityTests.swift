import ImageData
import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// FNV-1a (64 bit) over the bit patterns of every value of `tensors`: equal hashes mean
/// bit-identical parameters (up to a 2⁻⁶⁴ collision).
func bitHash(_ tensors: [Tensor<Float>], into h: inout UInt64) {
    for t in tensors {
        for v in t.data {
            var x = v.bitPattern
            for _ in 0..<4 { h = (h ^ UInt64(x & 0xFF)) &* 0x100_0000_01B3; x >>= 8 }
        }
    }
}

/// FNV-1a over the sorted (name, bit pattern) pairs of one step's metrics.
func bitHash(_ metrics: [String: Double], into h: inout UInt64) {
    for (k, v) in metrics.sorted(by: { $0.key < $1.key }) {
        for b in k.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        var x = v.bitPattern
        for _ in 0..<8 { h = (h ^ (x & 0xFF)) &* 0x100_0000_01B3; x >>= 8 }
    }
}

/// Generative runs through `TrainingLoop(steps:…)` reproduce, bit for bit, the parameters and
/// metrics of the loop generative training had before it joined the one training loop
/// (`GenerativeLoop` with a `BatchSampler`: pass p shuffled by `SplitMix64.stream(seed, p + 1)`,
/// the incomplete batch of a pass skipped, latents from `SplitMix64.stream(seed, 2⁴⁰)`).
/// Two references: the hashes that loop printed on the committed fixtures (the commit adding this
/// test, before the loops were unified), and that loop's batch drawing, kept below as
/// `referenceRun` (what machines with other BLAS kernels, which round differently, check against).
final class GenerativeLoopIdentityTests: XCTestCase {
    struct Outcome: Equatable { var parameters: UInt64; var metrics: UInt64; var snapshots: [Int] }

    func fixtureImages() throws -> TensorDataset<Float> {
        let ds = try ImageDataset.load(.fashionMNIST, directory: TestPaths.tinyData)
        return TensorDataset<Float>(pixels: ds.train.pixels, labels: ds.train.labels, count: ds.train.count, features: 784)
    }

    final class Recorder: TrainingObserver {
        var metrics: UInt64 = 0xCBF2_9CE4_8422_2325
        var snapshots: [Int] = []
        func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws { bitHash(report.metrics, into: &metrics) }
        func snapshotDue(step: Int) throws { snapshots.append(step) }
    }

    /// The hash of the final generator (parameters and buffers) and partner.
    func parameterHash(_ trainer: any GenerativeTrainer<Float>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        bitHash(trainer.generator.parameters.values + trainer.generator.buffers.values
                + trainer.partner.parameters.values + trainer.partner.buffers.values, into: &h)
        return h
    }

    /// Trains `setup` through the loop for `steps` generator updates with batches of `batchSize`;
    /// hashes the final networks and every step's metrics.
    func run(_ setup: GenerativeSetup, seed: UInt64, steps: Int, batchSize: Int, snapshotEvery: Int) throws -> Outcome {
        let trainer: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: seed)
        let rec = Recorder()
        try TrainingLoop<Float>(steps: steps, batchSize: batchSize, seed: seed, snapshotEvery: snapshotEvery)
            .run(trainer, train: try fixtureImages(), test: nil, observer: rec)
        return Outcome(parameters: parameterHash(trainer), metrics: rec.metrics, snapshots: rec.snapshots)
    }

    /// The old loop's batches: a sampler drawing full batches without replacement, reshuffling
    /// with stream p + 1 at pass p, each step taking the next batch per critic update.
    func referenceRun(_ setup: GenerativeSetup, seed: UInt64, steps: Int, batchSize b: Int) throws -> (parameters: UInt64, metrics: UInt64) {
        let trainer: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: seed)
        let data = try fixtureImages().inputs
        var order: [Int] = [], position = 0, pass: UInt64 = 0
        func next() -> Tensor<Float> {
            if position + b > order.count {
                var rng = SplitMix64.stream(seed: seed, pass + 1)
                order = randomPermutation(data.rows, using: &rng)
                position = 0
                pass += 1
            }
            var batch = Tensor<Float>(zeros: [b, data.cols])
            batch.gatherRows(from: data, indices: order[position..<(position + b)])
            position += b
            return batch
        }
        guard case .images(let k) = trainer.stepInput else { throw TrainingError("not generative") }
        var metrics: UInt64 = 0xCBF2_9CE4_8422_2325
        for _ in 0..<steps { bitHash(try trainer.step(.images((0..<k).map { _ in next() })).metrics, into: &metrics) }
        return (parameterHash(trainer), metrics)
    }

    /// The loop against both references.
    func check(_ setup: GenerativeSetup, seed: UInt64, steps: Int, batchSize: Int, snapshotEvery: Int, recorded: Outcome,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let o = try run(setup, seed: seed, steps: steps, batchSize: batchSize, snapshotEvery: snapshotEvery)
        let r = try referenceRun(setup, seed: seed, steps: steps, batchSize: batchSize)
        XCTAssertEqual(o.parameters, r.parameters, "final parameters differ from the old loop's batches", file: file, line: line)
        XCTAssertEqual(o.metrics, r.metrics, "metrics differ from the old loop's batches", file: file, line: line)
        // The recorded hashes came from OpenBLAS's Cooperlake kernels; others round differently.
        guard BLASCore.name == "Cooperlake" else { return }
        XCTAssertEqual(o, recorded, String(format: "got parameters 0x%016llX metrics 0x%016llX", o.parameters, o.metrics), file: file, line: line)
    }

    func fc(_ method: GenerativeMethod, latent: Int = 3, hidden: Int = 16) -> GenerativeSetup {
        var s = GenerativeSetup(method: method, architecture: .fc, latent: latent)
        s.hidden = hidden
        return s
    }

    /// VAE, batches of 30: 6 per pass of the 200 images, the last 20 images of each pass unused.
    func testVAE() throws {
        try check(fc(.vae), seed: 11, steps: 15, batchSize: 30, snapshotEvery: 4,
                  recorded: Outcome(parameters: 0x251C_C5DA_AB37_566A, metrics: 0x4524_B7FB_8F6B_EC75, snapshots: [0, 4, 8, 12, 15]))
    }

    /// DCGAN: one batch per generator step, 5 per pass.
    func testDCGAN() throws {
        try check(fc(.dcgan), seed: 12, steps: 12, batchSize: 40, snapshotEvery: 5,
                  recorded: Outcome(parameters: 0x875F_F2F3_8ED0_0A2D, metrics: 0x0FBB_8D79_5D06_4703, snapshots: [0, 5, 10, 12]))
    }

    /// WGAN-GP with 3 critic batches per generator step: steps straddle the passes (5 batches of 40).
    func testWGANGP() throws {
        var s = fc(.wganGP)
        s.gan.criticSteps = 3
        try check(s, seed: 13, steps: 7, batchSize: 40, snapshotEvery: 0,
                  recorded: Outcome(parameters: 0x11B3_CEFF_1BB3_CA24, metrics: 0x4F2D_B43A_9615_98DA, snapshots: [0, 7]))
    }
}
