import LiftedTrain

/// A trainer of a generative model: one `step` is one update of the generator (for the GANs
/// preceded by `criticSteps` discriminator updates), so the history's snapshot steps count
/// generator updates, the parameters the history stores.
public protocol GenerativeTrainer<Scalar>: AnyObject {
    /// The scalar type.
    associatedtype Scalar: GenerativeScalar
    /// The generator G (the VAE's decoder): what the history stores.
    var generator: Network<Scalar> { get }
    /// The network trained alongside: the discriminator / critic (GANs) or the encoder (VAE).
    var partner: Network<Scalar> { get }
    /// Which model is trained.
    var method: GenerativeMethod { get }
    /// Latent dimension k.
    var latent: Int { get }
    /// Hyperparameters for the history's `training` JSON.
    var hyperparameters: [String: Double] { get }
    /// One generator update; `nextBatch()` returns a fresh batch of real images `[b, 784]` in [0, 1]
    /// each time it is called. Returns the step's metrics (losses before the update).
    func step(nextBatch: () -> Tensor<Scalar>, rng: inout SplitMix64) -> [String: Double]
}

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

/// Mini-batches of images drawn without replacement, reshuffled every pass (one permutation per
/// pass from `SplitMix64.stream(seed, pass)`, so the same seed gives the same batches).
public struct BatchSampler<Scalar: NNScalar> {
    let data: Tensor<Scalar>
    let batchSize: Int
    let seed: UInt64
    private var order: [Int] = []
    private var position = 0
    private var pass: UInt64 = 0
    private var batch: Tensor<Scalar>

    /// A sampler over the rows of `data` (`[N, features]`, N ≥ `batchSize`).
    public init(data: Tensor<Scalar>, batchSize: Int, seed: UInt64) {
        precondition(batchSize >= 1 && data.rows >= batchSize, "BatchSampler: \(data.rows) samples for batches of \(batchSize)")
        self.data = data; self.batchSize = batchSize; self.seed = seed
        batch = Tensor(zeros: [batchSize, data.cols])
    }

    /// The next batch (the incomplete batch at the end of a pass is skipped).
    public mutating func next() -> Tensor<Scalar> {
        if position + batchSize > order.count {
            var rng = SplitMix64.stream(seed: seed, pass + 1)
            order = randomPermutation(data.rows, using: &rng)
            position = 0
            pass += 1
        }
        batch.gatherRows(from: data, indices: order[position..<(position + batchSize)])
        position += batchSize
        return batch
    }
}

/// What the training loop reports; the command line turns it into history rows and progress.
public protocol GenerativeObserver: AnyObject {
    /// After step `step` (1-based) of `total`, with the step's metrics.
    func didStep(_ step: Int, of total: Int, metrics: [String: Double]) throws
    /// A snapshot of the generator is due at `step` (0 = the initialisation).
    func snapshotDue(step: Int) throws
}

/// A run that stopped: a non-finite loss or generator parameter.
public struct GenerativeTrainingError: Error, CustomStringConvertible {
    /// One line naming the problem.
    public let description: String
    /// The last step whose snapshot or metrics were reported.
    public let step: Int
}

/// Drives a `GenerativeTrainer` for `steps` generator updates: snapshot 0 is the initialisation,
/// then one every `snapshotEvery` steps, and the final parameters last. Stops with
/// `GenerativeTrainingError` when a metric or a generator parameter is not finite.
public struct GenerativeLoop {
    /// Generator updates.
    public var steps: Int
    /// Snapshot interval in steps (0: only the first and the last).
    public var snapshotEvery: Int
    /// Batch size.
    public var batchSize: Int
    /// Seed of batches and latent draws.
    public var seed: UInt64

    /// A loop.
    public init(steps: Int, snapshotEvery: Int, batchSize: Int, seed: UInt64) {
        self.steps = steps; self.snapshotEvery = snapshotEvery; self.batchSize = batchSize; self.seed = seed
    }

    /// Runs the loop on `data` (`[N, 784]`, pixels in [0, 1]).
    public func run<T: GenerativeTrainer>(_ trainer: T, data: Tensor<T.Scalar>, observer: GenerativeObserver) throws {
        var sampler = BatchSampler(data: data, batchSize: batchSize, seed: seed)
        var rng = SplitMix64.stream(seed: seed, 1 << 40)
        try observer.snapshotDue(step: 0)
        for s in 1...steps {
            let metrics = trainer.step(nextBatch: { sampler.next() }, rng: &rng)
            if let bad = metrics.first(where: { !$0.value.isFinite }) {
                throw GenerativeTrainingError(description: "training diverged at step \(s): \(bad.key) = \(bad.value)", step: s - 1)
            }
            if let name = trainer.generator.parameters.firstNonFinite() {
                throw GenerativeTrainingError(description: "training diverged at step \(s): generator parameter \(name) is not finite", step: s - 1)
            }
            try observer.didStep(s, of: steps, metrics: metrics)
            if s == steps || (snapshotEvery > 0 && s % snapshotEvery == 0) { try observer.snapshotDue(step: s) }
        }
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
