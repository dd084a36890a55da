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
    /// `exportSnapshotState` (`GenerativeState`), all Double.
    public func exportState() -> [String: [Double]] { exportSnapshotState().allDoubles }
}

/// The resume state of the generative trainers (`exportState` / `importState`; the generator's
/// θ and batch-norm statistics are in every snapshot):
/// - GANs: `generator.adam.{m,v}.<p>`, `generator.adam.step`, the same under `discriminator.`,
///   the discriminator's parameters `discriminator.param.<p>` and batch-norm statistics
///   `discriminator.buffer.<b>`, and `noise`, the latent/interpolation stream's position.
/// - VAE: `decoder.adam…`, `encoder.adam…`, `encoder.param.<p>`, `encoder.buffer.<b>`, `noise`.
/// The position (a UInt64) is stored as two 32-bit halves, each exact in a Double.
enum GenerativeState {
    /// `prefix` + each name of `state`.
    static func prefixed(_ prefix: String, _ state: SnapshotState) -> SnapshotState {
        SnapshotState(doubles: Dictionary(uniqueKeysWithValues: state.doubles.map { (prefix + $0.key, $0.value) }),
                      floats: Dictionary(uniqueKeysWithValues: state.floats.map { (prefix + $0.key, $0.value) }))
    }

    /// The Adam state of optimizer `name` in `state` (`name.adam.…`), named as `Adam` names it (`adam.…`).
    static func adam(_ name: String, of state: [String: [Double]]) -> [String: [Double]] {
        let prefix = name + ".adam."
        return Dictionary(uniqueKeysWithValues: state.compactMap { $0.key.hasPrefix(prefix) ? (String($0.key.dropFirst(name.count + 1)), $0.value) : nil })
    }

    /// A network trained beside the generator: `prefix + "param." + p` and `prefix + "buffer." + b`.
    static func network<S: NNScalar>(_ net: Network<S>, prefix: String) -> SnapshotState {
        var out = SnapshotState()
        for (kind, store) in [("param.", net.parameters), ("buffer.", net.buffers)] {
            for (name, value) in zip(store.names, store.values) {
                if S.self == Float.self { out.floats[prefix + kind + name] = S.toFloats(value.data) }
                else { out.doubles[prefix + kind + name] = S.toDoubles(value.data) }
            }
        }
        return out
    }

    /// Sets `net`'s parameters and buffers from `network(net, prefix:)`'s arrays in `state`.
    static func load<S: NNScalar>(_ net: Network<S>, prefix: String, from state: [String: [Double]]) throws {
        let stores = [("param.", net.parameters), ("buffer.", net.buffers)]
        for (kind, store) in stores {   // every size first: a refused state changes nothing
            for (i, name) in store.names.enumerated() where state[prefix + kind + name]?.count != store.values[i].count {
                throw TrainingError("the resume state's \(prefix + kind + name) is missing or does not have \(store.values[i].count) values")
            }
        }
        for (kind, store) in stores {
            for (i, name) in store.names.enumerated() {
                store.values[i] = Tensor(shape: store.values[i].shape, data: S.fromDoubles(state[prefix + kind + name]!))
            }
        }
    }

    static func noise(_ rng: SplitMix64) -> [Double] { [Double(rng.position >> 32), Double(rng.position & 0xFFFF_FFFF)] }

    static func noise(from state: [String: [Double]]) throws -> SplitMix64 {
        guard let d = state["noise"], d.count == 2, let hi = UInt64(exactly: d[0]), let lo = UInt64(exactly: d[1]), hi >> 32 == 0, lo >> 32 == 0 else {
            throw TrainingError("the resume state's noise is not two 32-bit whole numbers")
        }
        return SplitMix64(seed: hi << 32 | lo)
    }

    /// Everything a generative trainer keeps: two Adam optimizers (under `a.name.`, `b.name.`),
    /// the partner network (under `partnerName.`) and the noise.
    static func export<S: NNScalar>(_ a: (name: String, optimizer: Adam<S>, store: ParameterStore<S>),
                                    _ b: (name: String, optimizer: Adam<S>, store: ParameterStore<S>),
                                    partner: Network<S>, partnerName: String, noise rng: SplitMix64) -> SnapshotState {
        var s = prefixed(a.name + ".", a.optimizer.exportSnapshotState(for: a.store))
        for t in [prefixed(b.name + ".", b.optimizer.exportSnapshotState(for: b.store)), network(partner, prefix: partnerName + ".")] {
            s.doubles.merge(t.doubles) { x, _ in x }
            s.floats.merge(t.floats) { x, _ in x }
        }
        s.doubles["noise"] = noise(rng)
        return s
    }

    /// `export`'s inverse: checks `state` holds exactly what `export` writes, loads the partner
    /// network, and returns the two optimizers with their states and the noise (for the caller to keep).
    static func restore<S: NNScalar>(_ state: [String: [Double]], _ a: (name: String, optimizer: Adam<S>, store: ParameterStore<S>),
                                     _ b: (name: String, optimizer: Adam<S>, store: ParameterStore<S>),
                                     partner: Network<S>, partnerName: String, owner: String) throws -> (Adam<S>, Adam<S>, SplitMix64) {
        // Exactly the names `export` writes for these networks (Float arrays are shared, not copied).
        let written = export(a, b, partner: partner, partnerName: partnerName, noise: SplitMix64(seed: 0))
        try StateArrays.checkNames(state, expected: Array(written.doubles.keys) + Array(written.floats.keys), owner: owner)
        var (first, second) = (a.optimizer, b.optimizer)
        try first.importState(adam(a.name, of: state), for: a.store)
        try second.importState(adam(b.name, of: state), for: b.store)
        let rng = try noise(from: state)
        try load(partner, prefix: partnerName + ".", from: state)   // last: a refused state changes nothing
        return (first, second, rng)
    }

}

extension SnapshotState {
    /// All arrays as Double (Float values convert exactly).
    var allDoubles: [String: [Double]] {
        doubles.merging(floats.mapValues { $0.map(Double.init) }) { a, _ in a }
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
