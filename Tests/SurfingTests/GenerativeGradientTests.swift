import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// Gradient checks (central differences, Double) of the generative losses and the WGAN-GP
/// penalty on tiny networks.
final class GenerativeGradientTests: XCTestCase {
    /// Decoder 2 → 6 → BN → ReLU → 9 → sigmoid, encoder 9 → 6 → lReLU → 4.
    func tinyVAE() throws -> VAETrainer<Double> {
        let decoder = try tinyNetwork(input: [2], [dense(0, 2, 6), bn(1, 6), act("relu"), dense(3, 6, 9), act("sigmoid")], seed: 1)
        let encoder = try tinyNetwork(input: [9], [dense(0, 9, 6), act("leaky_relu", 0.2), dense(2, 6, 4)], std: 0.3, seed: 2)
        return try VAETrainer(decoder: decoder, encoder: encoder)
    }

    func testVAELossGradientMatchesCentralDifferences() throws {
        let t = try tinyVAE()
        let x = randomPixels(rows: 5, cols: 9, seed: 3)
        var rng = SplitMix64(seed: 4)
        let eps: Tensor<Double> = LatentDistribution.normal.sample(rows: 5, latent: 2, using: &rng)
        let m = t.gradients(x: x, eps: eps)
        XCTAssertEqual(m["loss"]!, m["recon"]! + m["kl"]!, accuracy: 1e-12)
        XCTAssertGreaterThan(m["kl"]!, 0)
        let decoderGrads = t.generator.parameters.grads
        assertGradientsMatch(t.encoder.parameters) { t.gradients(x: x, eps: eps)["loss"]! }
        t.generator.parameters.grads = decoderGrads
        assertGradientsMatch(t.generator.parameters) { t.gradients(x: x, eps: eps)["loss"]! }
    }

    func testBernoulliNLLMatchesItsFormula() {
        let p: [Double] = [0.2, 0.7, 0.5], x: [Double] = [0, 1, 0.3]
        var g = [Double](repeating: 0, count: 3)
        let l = p.withUnsafeBufferPointer { pp in x.withUnsafeBufferPointer { px in
            g.withUnsafeMutableBufferPointer { Double.bernoulliNLL(p: pp, x: px, grad: $0, scale: 2) } } }
        let expected = -log(0.8) - log(0.7) - (0.3 * log(0.5) + 0.7 * log(0.5))
        XCTAssertEqual(l, expected, accuracy: 1e-12)
        XCTAssertEqual(g[0], 2 * 0.2 / (0.2 * 0.8), accuracy: 1e-12)
        XCTAssertEqual(g[2], 2 * (0.5 - 0.3) / 0.25, accuracy: 1e-12)
    }

    /// G 3 → 5 → BN → ReLU → 8 → sigmoid against D 8 → 6 → (BN) → lReLU → 1.
    func tinyGAN(_ method: GenerativeMethod, batchNormInD: Bool = true) throws -> GANTrainer<Double> {
        let g = try tinyNetwork(input: [3], [dense(0, 3, 5), bn(1, 5), act("relu"), dense(3, 5, 8), act("sigmoid")], seed: 5)
        let dLayers = batchNormInD
            ? [dense(0, 8, 6), bn(1, 6), act("leaky_relu", 0.2), dense(3, 6, 1)]
            : [dense(0, 8, 6), act("leaky_relu", 0.2), dense(2, 6, 1)]
        let d = try tinyNetwork(input: [8], dLayers, seed: 6)
        return try GANTrainer(generator: g, discriminator: d, configuration: GANConfiguration(method: method))
    }

    func testGeneratorLossGradientsMatchCentralDifferences() throws {
        for method in [GenerativeMethod.dcgan, .wgan] {
            let t = try tinyGAN(method)
            var rng = SplitMix64(seed: 7)
            let z: Tensor<Double> = LatentDistribution.uniform.sample(rows: 6, latent: 3, using: &rng)
            func loss() -> Double { t.generatorGradients(fake: t.generator.forward(z, training: true)) }
            _ = loss()
            assertGradientsMatch(t.generator.parameters, "\(method)") { loss() }
        }
    }

    func testDiscriminatorLossGradientsMatchCentralDifferences() throws {
        for method in [GenerativeMethod.dcgan, .wgan, .wganGP] {
            let t = try tinyGAN(method, batchNormInD: method != .wganGP)
            let real = randomPixels(rows: 6, cols: 8, seed: 8)
            let fake = randomPixels(rows: 6, cols: 8, seed: 9)
            let rng0 = SplitMix64(seed: 10)
            func loss() -> Double {
                var rng = rng0  // the same interpolation weights ε at every evaluation
                return t.discriminatorGradients(real: real, fake: fake, rng: &rng)["d_loss"]!
            }
            _ = loss()
            assertGradientsMatch(t.discriminator.parameters, "\(method)") { loss() }
        }
    }

    func testPenaltyGradientOfAFullyConnectedCriticMatchesCentralDifferences() throws {
        let critic = try tinyNetwork(input: [7], [dense(0, 7, 6), act("leaky_relu", 0.2), dense(2, 6, 5), act("relu"),
                                                  dense(4, 5, 1)], std: 0.8, seed: 11)
        let x = randomPixels(rows: 4, cols: 7, seed: 12)
        let (p, norm) = GradientPenalty.apply(critic: critic, at: x, weight: 0.25)
        let grads = critic.parameters.grads
        XCTAssertEqual(p, GradientPenalty.value(critic: critic, at: x, weight: 0.25), accuracy: 1e-12)
        XCTAssertGreaterThan(norm, 0)
        XCTAssertGreaterThan(p, 1e-3)
        critic.parameters.grads = grads
        // Biases do not enter ∇ₓD (masks fixed): their penalty gradient is zero.
        XCTAssertEqual(grads[critic.parameters.slot(of: "layers.0.bias")!].squaredNorm, 0)
        XCTAssertGreaterThan(grads[critic.parameters.slot(of: "layers.0.weight")!].squaredNorm, 0)
        assertGradientsMatch(critic.parameters) { GradientPenalty.value(critic: critic, at: x, weight: 0.25) }
    }

    func testPenaltyGradientOfAConvCriticMatchesCentralDifferences() throws {
        let conv = LayerSpec(type: "conv2d", name: "layers.0", inChannels: 1, outChannels: 3, kernel: 4, stride: 2, padding: 1)
        let conv2 = LayerSpec(type: "conv2d", name: "layers.2", inChannels: 3, outChannels: 2, kernel: 3, stride: 1, padding: 1)
        let critic = try tinyNetwork(input: [1, 6, 6], [conv, act("leaky_relu", 0.2), conv2, act("leaky_relu", 0.2),
                                                        LayerSpec(type: "flatten"), dense(5, 18, 4), act("leaky_relu", 0.2),
                                                        dense(7, 4, 1)], std: 0.6, seed: 13)
        let x = randomPixels(rows: 3, cols: 36, seed: 14)
        let (p, _) = GradientPenalty.apply(critic: critic, at: x, weight: 0.25)
        let grads = critic.parameters.grads
        XCTAssertEqual(p, GradientPenalty.value(critic: critic, at: x, weight: 0.25), accuracy: 1e-12)
        XCTAssertGreaterThan(p, 1e-3)
        critic.parameters.grads = grads
        assertGradientsMatch(critic.parameters) { GradientPenalty.value(critic: critic, at: x, weight: 0.25) }
    }

    func testPenaltyRefusesABatchNormCritic() throws {
        let spec = GenerativeArchitectures.discriminator(architecture: .paper, batchNorm: true)
        XCTAssertThrowsError(try GradientPenalty.checkCritic(spec))
        XCTAssertNoThrow(try GradientPenalty.checkCritic(GenerativeArchitectures.discriminator(architecture: .paper, batchNorm: false)))
    }

    /// The released style (norm over the image height axis) on a conv critic: the exact method's
    /// gradient against central differences of P, and P against its own loop-based value.
    /// Fails if the groups are taken along the wrong axis (mutation: stride 1, len W).
    func testReleasedPenaltyGradientOfAConvCriticMatchesCentralDifferences() throws {
        let conv = LayerSpec(type: "conv2d", name: "layers.0", inChannels: 1, outChannels: 3, kernel: 4, stride: 2, padding: 1)
        let critic = try tinyNetwork(input: [1, 6, 6], [conv, act("leaky_relu", 0.2), LayerSpec(type: "flatten"),
                                                        dense(3, 27, 4), act("leaky_relu", 0.2), dense(5, 4, 1)], std: 0.6, seed: 15)
        let x = randomPixels(rows: 3, cols: 36, seed: 16)
        let (p, _) = GradientPenalty.apply(critic: critic, at: x, weight: 0.25, style: .released, imageShape: [1, 6, 6])
        let grads = critic.parameters.grads
        let value = { GradientPenalty.value(critic: critic, at: x, weight: 0.25, style: .released, imageShape: [1, 6, 6]) }
        XCTAssertEqual(p, value(), accuracy: 1e-12)
        XCTAssertNotEqual(p, GradientPenalty.value(critic: critic, at: x, weight: 0.25), accuracy: 1e-6)
        critic.parameters.grads = grads
        assertGradientsMatch(critic.parameters) { value() }
    }

    /// The authors' critic keeps batch norm (training mode): the difference method's penalty
    /// gradient against central differences of P in every parameter, in both styles. Fails if
    /// the difference quotient is mis-scaled (mutation: 1/ε instead of 1/2ε) or if the batch
    /// coupling of batch norm were dropped.
    func testPenaltyGradientOfABatchNormCriticByDifferences() throws {
        for style in PenaltyStyle.allCases {
            let critic = try tinyNetwork(input: [9], [dense(0, 9, 6), bn(1, 6), act("leaky_relu", 0.2), dense(3, 6, 1)],
                                         std: 0.7, seed: 17)
            let x = randomPixels(rows: 5, cols: 9, seed: 18)
            let (p, _) = GradientPenalty.applyByDifferences(critic: critic, at: x, weight: 0.25, style: style, relativeStep: 1e-5)
            let grads = critic.parameters.grads
            let value = { GradientPenalty.value(critic: critic, at: x, weight: 0.25, style: style) }
            XCTAssertEqual(p, value(), accuracy: 1e-12)
            XCTAssertGreaterThan(p, 1e-3)
            critic.parameters.grads = grads
            assertGradientsMatch(critic.parameters, style.rawValue, rtol: 1e-4, atol: 1e-7) { value() }
        }
    }
    /// The penalty passes that need only ∇ₓD freeze the critic's parameters for that pass and
    /// give them back unfrozen: ∇ₓD is the same with and without the parameter gradients, and a
    /// backward pass afterwards still fills the parameter gradients (a critic left frozen would
    /// leave them at zero).
    func testInputGradientWithoutParameterGradientsRestoresTheStore() throws {
        let critic = try tinyNetwork(input: [7], [dense(0, 7, 6), bn(1, 6), act("leaky_relu", 0.2), dense(3, 6, 1)], seed: 41)
        var rng = SplitMix64(seed: 42)
        let x = Tensor<Double>.randomNormal(shape: [5, 7], std: 1, using: &rng)
        let full = GradientPenalty.inputGradient(critic: critic, at: x)
        let only = GradientPenalty.inputGradient(critic: critic, at: x, parameterGradients: false)
        XCTAssertEqual(only.data, full.data)
        XCTAssertFalse(critic.parameters.frozen)
        _ = GradientPenalty.applyByDifferences(critic: critic, at: x, weight: 0.25)
        XCTAssertFalse(critic.parameters.frozen)
        let out = critic.forward(x, training: true)
        critic.backward(Tensor(repeating: 1, shape: out.shape))
        XCTAssertGreaterThan(critic.parameters.grads[critic.parameters.slot(of: "layers.0.weight")!].squaredNorm, 0)
    }
}
