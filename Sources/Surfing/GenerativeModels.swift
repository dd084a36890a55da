import LiftedTrain

/// The generative models whose generator histories surfing inverts (Song, Fan, Lafferty 2019, §4).
public enum GenerativeMethod: String, CaseIterable, Sendable {
    /// Variational autoencoder (Kingma & Welling 2014); the decoder is the generator.
    case vae
    /// DCGAN (Radford et al. 2015) with the non-saturating generator loss.
    case dcgan
    /// Wasserstein GAN with weight clipping (Arjovsky et al. 2017).
    case wgan
    /// Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).
    case wganGP = "wgan-gp"

    /// The `method` recorded in a history's `training` JSON (HISTORY-FORMAT.md: vae, gan, wgan, wgan-gp).
    public var historyMethod: String { self == .dcgan ? "gan" : rawValue }

    /// The latent distribution the generator is trained on: the paper draws x ~ U[−1, 1]^k for
    /// the GANs and x ~ N(0, I) for the VAE (its prior).
    public var prior: LatentDistribution { self == .vae ? .normal : .uniform }
}

/// Which pair of networks is trained.
public enum GeneratorArchitecture: String, CaseIterable, Sendable {
    /// The paper's (Chen et al. 2016, InfoGAN's MNIST networks): FC 1024 → BN → ReLU → FC 7·7·128
    /// → BN → ReLU → convT 4×4 s2 → 14×14×64 → BN → ReLU → convT 4×4 s2 → 28×28×1 → sigmoid, and
    /// the mirrored discriminator / encoder.
    case paper
    /// A small fully connected pair for quick runs: k → hidden → ReLU → 784 → sigmoid and
    /// 784 → hidden → leaky ReLU(0.2) → 1.
    case fc
}

/// Model descriptions (`ModelSpec`, so they rebuild from a history's `model` JSON) of the
/// generators, discriminators / critics and VAE encoders, for 28×28 single-channel images.
/// Layers are named `layers.K` by their index, as `torch.nn.Sequential` names them.
public enum GenerativeArchitectures {
    /// Negative slope of the discriminator's leaky ReLUs (DCGAN, Radford et al. 2015).
    public static let leakySlope = 0.2

    /// The generator G: R^k → [0, 1]^{1×28×28} (the paper architecture outputs NCHW
    /// `[1, 28, 28]`, the fully connected one `[784]`; both are the same memory).
    /// `sigmoidOutput: false` ends the fully connected generator at its last dense layer (identity
    /// output: the piecewise-linear G of the paper's Thm 3.1, where projected surfing's pieces
    /// are convex quadratics).
    public static func generator(latent k: Int, architecture: GeneratorArchitecture, hidden: Int = 500,
                                 sigmoidOutput: Bool = true) -> ModelSpec {
        var b = SequenceBuilder()
        switch architecture {
        case .paper:
            b.dense(k, 1024); b.batchNorm(1024); b.add("relu")
            b.dense(1024, 128 * 7 * 7); b.batchNorm(128 * 7 * 7); b.add("relu")
            var u = LayerSpec(type: "unflatten"); u.shape = [128, 7, 7]; b.layers.append(u)
            b.convTranspose(128, 64); b.batchNorm(64); b.add("relu")
            b.convTranspose(64, 1); b.add("sigmoid")
        case .fc:
            b.dense(k, hidden); b.add("relu"); b.dense(hidden, 28 * 28)
            if sigmoidOutput { b.add("sigmoid") }
        }
        return ModelSpec(inputShape: [k], layers: b.layers)
    }

    /// The discriminator / critic D: image → `outputs` (1 logit or critic value; 2k for a VAE
    /// encoder's mean and log-variance). The paper architecture mirrors the generator: conv 4×4 s2
    /// 64 → lReLU → conv 4×4 s2 128 → BN → lReLU → FC 1024 → BN → lReLU → FC `outputs`;
    /// `batchNorm: false` drops both BNs (the WGAN-GP critic: the penalty is per sample, which
    /// batch statistics would couple, Gulrajani et al. 2017 §4).
    public static func discriminator(architecture: GeneratorArchitecture, outputs: Int = 1, batchNorm: Bool = true,
                                     hidden: Int = 500) -> ModelSpec {
        var b = SequenceBuilder()
        let lrelu = LayerSpec(type: "leaky_relu", alpha: leakySlope)
        switch architecture {
        case .paper:
            b.conv(1, 64); b.layers.append(lrelu)
            b.conv(64, 128); if batchNorm { b.batchNorm(128) }; b.layers.append(lrelu)
            b.add("flatten")
            b.dense(128 * 7 * 7, 1024); if batchNorm { b.batchNorm(1024) }; b.layers.append(lrelu)
            b.dense(1024, outputs)
            return ModelSpec(inputShape: [1, 28, 28], layers: b.layers)
        case .fc:
            b.dense(28 * 28, hidden); if batchNorm { b.batchNorm(hidden) }; b.layers.append(lrelu)
            b.dense(hidden, outputs)
            return ModelSpec(inputShape: [28 * 28], layers: b.layers)
        }
    }

    /// Draws the initial weights as the paper's code does: every dense, convolution and
    /// transposed-convolution weight N(0, std²) (std = 0.02), biases zero; batch norm keeps
    /// γ = 1, β = 0 (PyTorch's defaults, which the reference `initialize_weights` leaves alone).
    public static func initialize<S: NNScalar>(_ network: Network<S>, std: Double, using rng: inout SplitMix64) {
        let store = network.parameters
        for i in store.names.indices where store.names[i].hasSuffix(".weight") && store.values[i].shape.count >= 2 {
            store.values[i] = .randomNormal(shape: store.values[i].shape, std: std, using: &rng)
        }
        // Biases (and batch norm β) are created zero.
    }
}

/// Appends layers named by their index.
private struct SequenceBuilder {
    var layers: [LayerSpec] = []
    private var name: String { "layers.\(layers.count)" }

    mutating func add(_ type: String) { layers.append(LayerSpec(type: type)) }
    mutating func dense(_ a: Int, _ b: Int) { layers.append(LayerSpec(type: "dense", name: name, in: a, out: b)) }
    mutating func batchNorm(_ c: Int) { layers.append(LayerSpec(type: "batchnorm", name: name, channels: c, eps: 1e-5, momentum: 0.1)) }
    /// 4×4, stride 2, padding 1: halves the side (28 → 14 → 7).
    mutating func conv(_ ci: Int, _ co: Int) {
        layers.append(LayerSpec(type: "conv2d", name: name, inChannels: ci, outChannels: co, kernel: 4, stride: 2, padding: 1))
    }
    /// 4×4, stride 2, padding 1: doubles the side (7 → 14 → 28).
    mutating func convTranspose(_ ci: Int, _ co: Int) {
        layers.append(LayerSpec(type: "conv_transpose2d", name: name, inChannels: ci, outChannels: co, kernel: 4, stride: 2, padding: 1))
    }
}

/// Everything that defines a generative training run's networks and optimisers; builds the trainer.
public struct GenerativeSetup: Sendable {
    /// The model.
    public var method: GenerativeMethod
    /// The architecture of both networks.
    public var architecture: GeneratorArchitecture
    /// Latent dimension k.
    public var latent: Int
    /// Hidden width of the fully connected architecture.
    public var hidden = 500
    /// Standard deviation of the initial weights (the paper's code: 0.02).
    public var initStd = 0.02
    /// GAN settings (ignored for the VAE).
    public var gan: GANConfiguration
    /// VAE learning rate.
    public var vaeLearningRate = 1e-3
    /// Adam settings of the VAE (the GANs' are in `gan`).
    public var adam = AdamSettings()
    /// Batch norm in the paper architecture's discriminator / critic; nil: on except for the
    /// WGAN-GP critic (Gulrajani et al.). The authors' released WGAN_GP.py keeps it (true).
    public var criticBatchNorm: Bool? = nil

    /// The paper's defaults for `method`.
    public init(method: GenerativeMethod, architecture: GeneratorArchitecture, latent: Int) {
        self.method = method; self.architecture = architecture; self.latent = latent
        gan = GANConfiguration(method: method == .vae ? .dcgan : method)
    }

    /// The generator's description (the history's `model`).
    public var generatorSpec: ModelSpec {
        GenerativeArchitectures.generator(latent: latent, architecture: architecture, hidden: hidden, sigmoidOutput: sigmoidOutput)
    }
    /// The fully connected generator's sigmoid output (false: identity; GANs only).
    public var sigmoidOutput = true

    /// The discriminator / critic or encoder. The paper architecture's discriminator has batch
    /// norm except as a WGAN-GP critic; the fully connected one has none.
    public var partnerSpec: ModelSpec {
        GenerativeArchitectures.discriminator(architecture: architecture, outputs: method == .vae ? 2 * latent : 1,
                                              batchNorm: architecture == .paper && (criticBatchNorm ?? (method != .wganGP)),
                                              hidden: hidden)
    }

    /// Builds both networks (initial weights N(0, initStd²) from `seed`) and the trainer (its
    /// latents from stream 2⁴⁰ of `seed`).
    public func makeTrainer<S: GenerativeScalar>(seed: UInt64, as: S.Type = S.self) throws -> any GenerativeTrainer<S> {
        var rng = SplitMix64(seed: seed)
        let g = try Network<S>(spec: generatorSpec, rng: &rng)
        let d = try Network<S>(spec: partnerSpec, rng: &rng)
        var initRNG = SplitMix64.stream(seed: seed, 7)
        GenerativeArchitectures.initialize(g, std: initStd, using: &initRNG)
        GenerativeArchitectures.initialize(d, std: initStd, using: &initRNG)
        return try makeTrainer(generator: g, partner: d, seed: seed)
    }

    /// The trainer of this setup on `generator` and `partner` as they are (new networks from
    /// `makeTrainer(seed:)`, or a resumed run's), its latents from stream 2⁴⁰ of `seed`.
    public func makeTrainer<S: GenerativeScalar>(generator g: Network<S>, partner d: Network<S>, seed: UInt64) throws -> any GenerativeTrainer<S> {
        if method == .vae {
            var a = adam
            a.beta1 = gan.adam.beta1
            return try VAETrainer(decoder: g, encoder: d, learningRate: vaeLearningRate, adam: a, seed: seed)
        }
        var c = gan
        c.method = method
        return try GANTrainer(generator: g, discriminator: d, configuration: c, seed: seed)
    }
}
