import LiftedTrain

/// A variational autoencoder (Kingma & Welling 2014) trained with Adam (lr 1e-3, β₁ = 0.5 as the
/// paper's protocol). The encoder maps an image to (μ, log σ²) ∈ R^{2k} (its first k outputs are
/// μ); the decoder — the generator the history stores — maps z = μ + σ ⊙ ε, ε ~ N(0, I)
/// (reparameterisation), to pixel probabilities p (sigmoid outputs). Per image,
///
///     L = Σ_pixels −[x log p + (1 − x) log(1 − p)]  +  ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1),
///
/// the Bernoulli reconstruction term summed over pixels plus KL(q(z|x) ‖ N(0, I)), averaged over
/// the batch (PyTorch's VAE example sums over the batch instead; Adam is nearly invariant to the
/// scale). Metrics: loss, recon, kl (per image).
public final class VAETrainer<Scalar: GenerativeScalar>: GenerativeTrainer {
    public let generator: Network<Scalar>
    /// The encoder q(z | x): image → [μ, log σ²].
    public let encoder: Network<Scalar>
    public let latent: Int
    /// Learning rate (both networks).
    public let learningRate: Double
    /// Adam's β₁, β₂, ε.
    public let adam: AdamSettings
    var decoderOptimizer: Adam<Scalar>
    var encoderOptimizer: Adam<Scalar>
    /// The reparameterisation noise ε ~ N(0, I).
    var noise: SplitMix64

    /// A trainer of `decoder` (input `[k]`, output in (0, 1)) and `encoder` (output 2k), drawing
    /// its noise from stream 2⁴⁰ of `seed`.
    public init(decoder: Network<Scalar>, encoder: Network<Scalar>, learningRate: Double = 1e-3,
                adam: AdamSettings = AdamSettings(), seed: UInt64 = 0) throws {
        guard decoder.spec.inputShape.count == 1, encoder.outputSize == 2 * decoder.spec.inputShape[0],
              encoder.inputSize == decoder.outputSize else {
            throw ModelError("the VAE encoder must map the decoder's \(decoder.outputSize) outputs to 2k = \(2 * (decoder.spec.inputShape.first ?? 0)) values")
        }
        generator = decoder; self.encoder = encoder; self.learningRate = learningRate; self.adam = adam
        latent = decoder.spec.inputShape[0]
        decoderOptimizer = adam.make(learningRate: learningRate)
        encoderOptimizer = adam.make(learningRate: learningRate)
        noise = noiseStream(seed: seed)
    }

    public var model: GenerativeMethod { .vae }
    public var partner: Network<Scalar> { encoder }
    /// One batch of images per step.
    public var stepInput: StepInput { .images(batches: 1) }

    public var hyperparameters: [String: Double] {
        ["lr": learningRate, "beta1": adam.beta1, "beta2": adam.beta2, "adam_eps": adam.epsilon]
    }

    /// Both Adam states, the encoder and the noise (`GenerativeState`).
    public func exportSnapshotState() -> SnapshotState {
        GenerativeState.export(("decoder", decoderOptimizer, generator.parameters), ("encoder", encoderOptimizer, encoder.parameters),
                               partner: encoder, partnerName: "encoder", noise: noise)
    }

    public func importState(_ state: [String: [Double]]) throws {
        (decoderOptimizer, encoderOptimizer, noise) = try GenerativeState.restore(
            state, ("decoder", decoderOptimizer, generator.parameters), ("encoder", encoderOptimizer, encoder.parameters),
            partner: encoder, partnerName: "encoder", owner: method)
    }

    /// One update of both networks on the batch of `.images`.
    public func step(_ batch: Batch<Scalar>) throws -> StepReport {
        let x = try batch.images(count: 1, method: method)[0]
        let eps: Tensor<Scalar> = LatentDistribution.normal.sample(rows: x.rows, latent: latent, using: &noise)
        let m = gradients(x: x, eps: eps)
        decoderOptimizer.update(generator.parameters)
        encoderOptimizer.update(encoder.parameters)
        return StepReport(losses: m)
    }

    /// The loss at images `x` `[b, 784]` with noise `eps` `[b, k]`, its gradients written into both
    /// networks' `parameters.grads`.
    func gradients(x: Tensor<Scalar>, eps: Tensor<Scalar>) -> [String: Double] {
        let b = x.rows, k = latent
        let h = encoder.forward(x, training: true)
        // z = μ + exp(½ log σ²) ε; b·k values, a plain loop.
        var z = Tensor<Scalar>(zeros: [b, k]), sigma = [Double](repeating: 0, count: b * k)
        var kl = 0.0
        for i in 0..<b {
            for j in 0..<k {
                let mu = Double(h.data[i * 2 * k + j]), lv = Double(h.data[i * 2 * k + k + j])
                let s = Double._exp(0.5 * lv)
                sigma[i * k + j] = s
                z.data[i * k + j] = Scalar(mu + s * Double(eps.data[i * k + j]))
                kl += 0.5 * (mu * mu + s * s - lv - 1)
            }
        }
        let p = generator.forward(z, training: true)
        var dp = Tensor<Scalar>(zeros: p.shape)
        let recon = p.data.withUnsafeBufferPointer { pp in
            x.data.withUnsafeBufferPointer { px in
                dp.data.withUnsafeMutableBufferPointer { pg in
                    Scalar.bernoulliNLL(p: pp, x: px, grad: pg, scale: Scalar(1) / Scalar(b))
                }
            }
        }
        let dz = generator.backward(dp, needInputGradient: true)!
        // ∂L/∂μ = ∂L/∂z + μ/b ;  ∂L/∂log σ² = ∂L/∂z ⊙ ε σ/2 + (σ² − 1)/(2b).
        var dh = Tensor<Scalar>(zeros: h.shape)
        for i in 0..<b {
            for j in 0..<k {
                let g = Double(dz.data[i * k + j]), s = sigma[i * k + j]
                let mu = Double(h.data[i * 2 * k + j])
                dh.data[i * 2 * k + j] = Scalar(g + mu / Double(b))
                dh.data[i * 2 * k + k + j] = Scalar(g * Double(eps.data[i * k + j]) * s / 2 + (s * s - 1) / (2 * Double(b)))
            }
        }
        encoder.backward(dh)
        return ["loss": (recon + kl) / Double(b), "recon": recon / Double(b), "kl": kl / Double(b)]
    }
}
