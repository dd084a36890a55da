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

/// Generative runs through the training loop reproduce, bit for bit, the parameters and metrics
/// of the loop generative training had before it joined `TrainingLoop` (a `BatchSampler` with
/// one permutation per pass from `SplitMix64.stream(seed, pass + 1)`, the incomplete batch of a
/// pass skipped, latents from `SplitMix64.stream(seed, 2⁴⁰)`). The hashes were printed by that
/// loop (commit 7e94de8) on the committed fixtures.
final class GenerativeLoopIdentityTests: XCTestCase {
    struct Outcome: Equatable { var parameters: UInt64; var metrics: UInt64; var snapshots: [Int] }

    func fixtureImages() throws -> TensorDataset<Float> {
        let ds = try ImageDataset.load(.fashionMNIST, directory: TestPaths.tinyData)
        return TensorDataset<Float>(pixels: ds.train.pixels, labels: ds.train.labels, count: ds.train.count, features: 784)
    }

    final class Recorder: GenerativeObserver {
        var metrics: UInt64 = 0xCBF2_9CE4_8422_2325
        var snapshots: [Int] = []
        func didStep(_ step: Int, of total: Int, metrics m: [String: Double]) throws { bitHash(m, into: &metrics) }
        func snapshotDue(step: Int) throws { snapshots.append(step) }
    }

    /// Trains `setup` for `steps` generator updates with batches of `batchSize`; hashes the
    /// final generator (parameters and buffers) and partner, and every step's metrics.
    func run(_ setup: GenerativeSetup, seed: UInt64, steps: Int, batchSize: Int, snapshotEvery: Int) throws -> Outcome {
        let trainer: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: seed)
        let rec = Recorder()
        try GenerativeLoop(steps: steps, snapshotEvery: snapshotEvery, batchSize: batchSize, seed: seed)
            .run(trainer, data: try fixtureImages().inputs, observer: rec)
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        bitHash(trainer.generator.parameters.values + trainer.generator.buffers.values
                + trainer.partner.parameters.values + trainer.partner.buffers.values, into: &h)
        return Outcome(parameters: h, metrics: rec.metrics, snapshots: rec.snapshots)
    }

    func fc(_ method: GenerativeMethod, latent: Int = 3, hidden: Int = 16) -> GenerativeSetup {
        var s = GenerativeSetup(method: method, architecture: .fc, latent: latent)
        s.hidden = hidden
        return s
    }

    /// The hashes below were printed by the old loop with OpenBLAS's Cooperlake kernels; other
    /// kernels round differently, so elsewhere only the loop-against-reference checks apply.
    func assertRecorded(_ o: Outcome, _ expected: Outcome, file: StaticString = #filePath, line: UInt = #line) {
        guard BLASCore.name == "Cooperlake" else { return }
        XCTAssertEqual(o, expected, String(format: "got parameters 0x%016llX metrics 0x%016llX", o.parameters, o.metrics), file: file, line: line)
    }

    /// VAE, batches of 30: 6 per pass of the 200 images, the last 20 images of each pass unused.
    func testVAE() throws {
        let o = try run(fc(.vae), seed: 11, steps: 15, batchSize: 30, snapshotEvery: 4)
        assertRecorded(o, Outcome(parameters: 0x251C_C5DA_AB37_566A, metrics: 0x4524_B7FB_8F6B_EC75, snapshots: [0, 4, 8, 12, 15]))
    }

    /// DCGAN: one batch per generator step, 5 per pass.
    func testDCGAN() throws {
        let o = try run(fc(.dcgan), seed: 12, steps: 12, batchSize: 40, snapshotEvery: 5)
        assertRecorded(o, Outcome(parameters: 0x875F_F2F3_8ED0_0A2D, metrics: 0x0FBB_8D79_5D06_4703, snapshots: [0, 5, 10, 12]))
    }

    /// WGAN-GP with 3 critic batches per generator step: steps straddle the passes (5 batches of 40).
    func testWGANGP() throws {
        var s = fc(.wganGP)
        s.gan.criticSteps = 3
        let o = try run(s, seed: 13, steps: 7, batchSize: 40, snapshotEvery: 0)
        assertRecorded(o, Outcome(parameters: 0x11B3_CEFF_1BB3_CA24, metrics: 0x4F2D_B43A_9615_98DA, snapshots: [0, 7]))
    }
}
