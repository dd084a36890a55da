import LiftedTrain

/// Settings of GAN training. Defaults follow the paper's protocol (Song, Fan, Lafferty, NeurIPS 2019) where it
/// speaks and the reference implementations it builds on where it is silent:
/// - DCGAN: D lr 2e-4, G lr 1e-3, Adam β₁ = 0.5, one D update per G update, non-saturating
///   generator loss −log σ(D(G(x))) (Goodfellow et al. 2014).
/// - WGAN: weight clipping ±0.01 and 5 critic updates per generator update (Arjovsky et al.
///   2017). The optimiser is Adam (β₁ = 0.5) with D lr 2e-4 and G lr 2e-4, as in the
///   PyTorch collection the paper's networks come from (Chen et al.'s InfoGAN networks as
///   re-implemented there), not the WGAN paper's RMSprop 5e-5: the paper states "Adam β₁ = 0.5"
///   for all its training and 5e-5 RMSprop is far too slow for runs of a few thousand steps.
///   Clipping applies to every critic parameter, batch-norm γ and β included (as `p.clamp_`).
///   Arjovsky's 100 critic updates in the first 25 generator steps are not done.
/// - WGAN-GP: λ = 0.25 (the paper's value; Gulrajani et al. use 10), 5 critic updates, Adam
///   β₁ = 0.5, D and G lr 2e-4, a critic without batch norm.
public struct GANConfiguration: Sendable {
    /// dcgan, wgan or wgan-gp.
    public var method: GenerativeMethod
    /// Generator learning rate.
    public var generatorLearningRate: Double
    /// Discriminator / critic learning rate.
    public var discriminatorLearningRate: Double
    /// Adam's β₁, β₂, ε (both networks).
    public var adam = AdamSettings()
    /// Discriminator updates per generator update.
    public var criticSteps: Int
    /// WGAN weight clipping bound c (parameters clamped to [−c, c] after each critic update).
    public var clip: Double = 0.01
    /// WGAN-GP penalty weight λ.
    public var penaltyWeight: Double = 0.25
    /// WGAN-GP penalty: per sample (Gulrajani et al.) or as the authors' released code forms it.
    public var penaltyStyle: PenaltyStyle = .perSample
    /// Training-mode forward passes of the generator per step, on the last critic update's
    /// latents: 1 — the generator update reuses that update's fake batch (the PyTorch DCGAN
    /// example); 2 — as the surfing authors' released GAN.py / WGAN.py / WGAN_GP.py, whose critic
    /// update and generator update are two `sess.run` calls on the same `batch_z`, each running the
    /// generator in training mode with `tf.contrib.layers.batch_norm(updates_collections=None)`
    /// (running statistics updated in place by every such pass). θ and every loss are the same
    /// either way (the second pass repeats the first: same θ, same latents); only the generator's
    /// batch-norm running statistics differ — with 2 they take the same batch statistics twice per
    /// step, r ← 0.81 r + 0.19 s for TF's decay 0.9 — and with them the eval-mode network that
    /// inversion uses.
    public var generatorForwardsPerStep = 1

    /// The defaults for `method` (see the type's documentation).
    public init(method: GenerativeMethod) {
        precondition(method != .vae, "GANConfiguration: vae is not a GAN")
        self.method = method
        discriminatorLearningRate = 2e-4
        generatorLearningRate = method == .dcgan ? 1e-3 : 2e-4
        criticSteps = method == .dcgan ? 1 : 5
    }
}

/// Trains a generator against a discriminator (DCGAN) or critic (WGAN, WGAN-GP) with Adam.
/// Each `step` runs `criticSteps` discriminator updates, each on its own real batch and fresh
/// latents x ~ U[−1, 1]^k with the generator in training mode (its batch-norm running statistics
/// advance), then one generator update on the last critic iteration's latents (as the PyTorch
/// DCGAN example reuses its fake batch), backpropagated through the updated discriminator.
/// Real and fake batches pass the discriminator separately (its batch norm sees one kind at a time).
public final class GANTrainer<Scalar: GenerativeScalar>: GenerativeTrainer {
    public let generator: Network<Scalar>
    /// The discriminator or critic (outputs one logit / value per sample).
    public let discriminator: Network<Scalar>
    /// The settings.
    public let configuration: GANConfiguration
    public let latent: Int
    var generatorOptimizer: Adam<Scalar>
    var discriminatorOptimizer: Adam<Scalar>
    /// The latents x ~ U[−1, 1]^k and the WGAN-GP interpolation weights ε.
    var noise: SplitMix64

    /// A trainer of `generator` (input `[latent]`) against `discriminator` (input the generator's
    /// output, one output), drawing its noise from stream 2⁴⁰ of `seed`. WGAN-GP needs a critic
    /// `GradientPenalty` supports.
    public init(generator: Network<Scalar>, discriminator: Network<Scalar>, configuration: GANConfiguration, seed: UInt64 = 0) throws {
        guard generator.spec.inputShape.count == 1 else { throw ModelError("the generator must take a latent vector [k]") }
        guard generator.outputSize == discriminator.inputSize, discriminator.outputSize == 1 else {
            throw ModelError("the discriminator must map the generator's \(generator.outputSize) outputs to one value")
        }
        if configuration.method == .wganGP && !Self.penaltyByDifferences(discriminator.spec) {
            try GradientPenalty.checkCritic(discriminator.spec)
        }
        self.generator = generator; self.discriminator = discriminator; self.configuration = configuration
        latent = generator.spec.inputShape[0]
        generatorOptimizer = configuration.adam.make(learningRate: configuration.generatorLearningRate)
        discriminatorOptimizer = configuration.adam.make(learningRate: configuration.discriminatorLearningRate)
        noise = noiseStream(seed: seed)
    }

    public var model: GenerativeMethod { configuration.method }
    public var partner: Network<Scalar> { discriminator }
    /// One batch of real images per critic update.
    public var stepInput: StepInput { .images(batches: configuration.criticSteps) }

    public var hyperparameters: [String: Double] {
        var h: [String: Double] = ["lr_generator": configuration.generatorLearningRate,
                                   "lr_discriminator": configuration.discriminatorLearningRate,
                                   "beta1": configuration.adam.beta1, "beta2": configuration.adam.beta2,
                                   "adam_eps": configuration.adam.epsilon, "n_critic": Double(configuration.criticSteps)]
        if model == .wgan { h["clip"] = configuration.clip }
        // Recorded only when not 1, so histories written before the setting existed resume.
        if configuration.generatorForwardsPerStep != 1 { h["g_forwards"] = Double(configuration.generatorForwardsPerStep) }
        if model == .wganGP {
            h["gp_lambda"] = configuration.penaltyWeight
            h["gp_released"] = configuration.penaltyStyle == .released ? 1 : 0
        }
        return h
    }

    /// Both Adam states, the discriminator and the noise (`GenerativeState`).
    public func exportSnapshotState() -> SnapshotState {
        GenerativeState.export(("generator", generatorOptimizer, generator.parameters), ("discriminator", discriminatorOptimizer, discriminator.parameters),
                               partner: discriminator, partnerName: "discriminator", noise: noise)
    }

    public func importState(_ state: [String: [Double]]) throws {
        (generatorOptimizer, discriminatorOptimizer, noise) = try GenerativeState.restore(
            state, ("generator", generatorOptimizer, generator.parameters), ("discriminator", discriminatorOptimizer, discriminator.parameters),
            partner: discriminator, partnerName: "discriminator", owner: method)
    }

    /// One generator update after `criticSteps` critic updates, one per batch of `.images`.
    public func step(_ batch: Batch<Scalar>) throws -> StepReport {
        var metrics: [String: Double] = [:]
        var fake = Tensor<Scalar>(zeros: [0]), z = fake
        for real in try batch.images(count: configuration.criticSteps, method: method) {
            z = LatentDistribution.uniform.sample(rows: real.rows, latent: latent, using: &noise)
            fake = generator.forward(z, training: true)
            metrics = discriminatorGradients(real: real, fake: fake, rng: &noise)
            discriminatorOptimizer.update(discriminator.parameters)
            if model == .wgan { discriminator.parameters.clip(Scalar(configuration.clip)) }
        }
        for _ in 1..<max(1, configuration.generatorForwardsPerStep) { fake = generator.forward(z, training: true) }
        metrics["g_loss"] = generatorGradients(fake: fake)
        generatorOptimizer.update(generator.parameters)
        return StepReport(losses: metrics)
    }

    /// Gradients of the discriminator's loss into `discriminator.parameters.grads`; returns its
    /// terms. DCGAN: L_D = mean softplus(−D(x)) + mean softplus(D(G(z))) (binary cross-entropy on
    /// logits). WGAN: L_D = mean D(G(z)) − mean D(x). WGAN-GP: that plus the penalty at
    /// x̂ = εx + (1 − ε)G(z), ε ~ U[0, 1] per sample.
    func discriminatorGradients(real: Tensor<Scalar>, fake: Tensor<Scalar>, rng: inout SplitMix64) -> [String: Double] {
        let d = discriminator
        let realOut = d.forward(real, training: true)
        let (lossReal, gradReal) = model == .dcgan ? logisticLoss(realOut, label: 1) : meanWithGradient(realOut, sign: -1)
        d.backward(gradReal)
        let accumulated = d.parameters.gradientCopy()
        let fakeOut = d.forward(fake.reshaped(real.shape), training: true)
        let (lossFake, gradFake) = model == .dcgan ? logisticLoss(fakeOut, label: 0) : meanWithGradient(fakeOut, sign: 1)
        d.backward(gradFake)
        d.parameters.addToGradients(accumulated)
        if model == .dcgan { return ["d_loss": lossReal + lossFake] }
        // lossReal = −mean D(x), lossFake = mean D(G(z)).
        var m = ["d_loss": lossReal + lossFake, "wasserstein": -(lossReal + lossFake)]
        if model == .wganGP {
            let xhat = interpolate(real, fake.reshaped(real.shape), rng: &rng)
            let sum = d.parameters.gradientCopy()
            let shape = d.spec.inputShape.count == 3 ? d.spec.inputShape : nil
            let (p, norm) = Self.penaltyByDifferences(d.spec)
                ? GradientPenalty.applyByDifferences(critic: d, at: xhat, weight: configuration.penaltyWeight,
                                                     style: configuration.penaltyStyle, imageShape: shape)
                : GradientPenalty.apply(critic: d, at: xhat, weight: configuration.penaltyWeight,
                                        style: configuration.penaltyStyle, imageShape: shape)
            d.parameters.addToGradients(sum)
            m["gradient_penalty"] = p
            m["critic_grad_norm"] = norm
            m["d_loss"] = lossReal + lossFake + p
        }
        return m
    }

    /// The generator's loss on `fake`, the output of its last `forward(training: true)`, with its
    /// gradients in `generator.parameters.grads`. DCGAN: −mean log σ(D(G(z))) (non-saturating);
    /// WGAN(-GP): −mean D(G(z)). The discriminator's parameters are frozen meanwhile (only ∂/∂input).
    func generatorGradients(fake: Tensor<Scalar>) -> Double {
        let d = discriminator
        let out = d.forward(fake.reshaped([fake.rows, d.inputSize]), training: true)
        let (loss, grad) = model == .dcgan ? logisticLoss(out, label: 1) : meanWithGradient(out, sign: -1)
        d.parameters.frozen = true
        defer { d.parameters.frozen = false }
        let dfake = d.backward(grad, needInputGradient: true)!
        generator.backward(dfake.reshaped(fake.shape))
        return loss
    }

    /// Whether the penalty gradient must come from `GradientPenalty.applyByDifferences`: a critic
    /// with layers the exact method does not support (batch norm: the authors' WGAN-GP critic).
    static func penaltyByDifferences(_ critic: ModelSpec) -> Bool {
        critic.layers.contains { !GradientPenalty.supportedLayerTypes.contains($0.type) }
    }

    /// x̂_i = x̃_i + ε_i (x_i − x̃_i), ε_i ~ U[0, 1] (row-wise BLAS axpy); the released style
    /// draws ε per pixel instead (x̂ = x + ε ⊙ (x̃ − x), as the authors' code writes it).
    func interpolate(_ real: Tensor<Scalar>, _ fake: Tensor<Scalar>, rng: inout SplitMix64) -> Tensor<Scalar> {
        var diff = real
        diff.add(fake, scaledBy: -1)
        var out = fake
        let n = real.cols
        if configuration.penaltyStyle == .released {
            out = real
            for j in out.data.indices { out.data[j] -= Scalar(rng.uniform()) * diff.data[j] }
            return out
        }
        diff.data.withUnsafeBufferPointer { pd in
            out.data.withUnsafeMutableBufferPointer { po in
                for i in 0..<real.rows {
                    Scalar.axpy(n: n, alpha: Scalar(rng.uniform()), x: pd.baseAddress! + i * n, y: po.baseAddress! + i * n)
                }
            }
        }
        return out
    }
}
