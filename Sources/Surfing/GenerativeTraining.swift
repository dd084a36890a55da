import LiftedTrain

/// A trainer of a generative model behind the `Trainer` seam: one step is one update of the
/// generator (for the GANs preceded by `criticSteps` discriminator updates, each on its own batch
/// of real images), so `TrainingLoop(steps:…)` counts generator updates and the history's
/// snapshots store the generator, `network`. A step takes `Batch.images`, as many full batches
/// `[b, 784]` of pixels in [0, 1] as `stepInput` asks, and reports its named losses.
public protocol GenerativeTrainer<Scalar>: Trainer where Scalar: GenerativeScalar {
    /// The generator G (the VAE's decoder): what the history stores.
    var generator: Network<Scalar> { get }
    /// The network trained alongside: the discriminator / critic (GANs) or the encoder (VAE).
    var partner: Network<Scalar> { get }
    /// Which model is trained.
    var model: GenerativeMethod { get }
    /// Latent dimension k.
    var latent: Int { get }
}

extension GenerativeTrainer {
    /// The generator.
    public var network: Network<Scalar> { generator }
    /// The history's method name (`vae`, `gan`, `wgan`, `wgan-gp`).
    public var method: String { model.historyMethod }
    /// Generative runs do not resume: the Adam moments of both networks and the noise stream are
    /// not exported (`exportState` is empty and the history stores no resume state).
    public func importState(_ state: [String: [Double]]) throws {
        throw TrainingError("method \(method): generative runs cannot be resumed (their optimizer and noise state is not exported)")
    }
}

/// The stream of a generative trainer's latent and interpolation draws for run seed `seed`
/// (the loop's shuffles use streams 0, 1, 2, …).
func noiseStream(seed: UInt64) -> SplitMix64 { SplitMix64.stream(seed: seed, 1 << 40) }

/// Adam settings shared by the trainers (the paper: Adam with β₁ = 0.5).
public struct AdamSettings: Sendable {
    /// β₁.
    public var beta1: Double = 0.5
    /// β₂.
    public var beta2: Double = 0.999
    /// ε.
    public var epsilon: Double = 1e-8
    /// Defaults: β₁ = 0.5, β₂ = 0.999, ε = 1e-8.
    public init(beta1: Double = 0.5, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }

    func make<S: NNScalar>(learningRate: Double) -> Adam<S> {
        Adam<S>(learningRate: S(learningRate), beta1: S(beta1), beta2: S(beta2), epsilon: S(epsilon))
    }
}

extension ParameterStore {
    /// A copy of every gradient (to add a second backward pass's gradients to).
    func gradientCopy() -> [Tensor<Scalar>] { grads }

    /// grads ← grads + α · other.
    func addToGradients(_ other: [Tensor<Scalar>], scaledBy alpha: Scalar = 1) {
        for i in grads.indices { grads[i].add(other[i], scaledBy: alpha) }
    }

    /// Clamps every parameter to [−c, c] (WGAN weight clipping).
    func clip(_ c: Scalar) {
        for i in values.indices { values[i].data.withUnsafeMutableBufferPointer { Scalar.clamp($0, lo: -c, hi: c) } }
    }
}
