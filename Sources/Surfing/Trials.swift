import LiftedTrain

/// The latent distribution: how generators are trained (their latents) and how inversion
/// trials draw x* and starting points.
public enum LatentDistribution: String, CaseIterable, Sendable {
    /// U[−1, 1]^k, the GAN prior (the paper's x*, x_init for DCGAN/WGAN/WGAN-GP); latents are
    /// also clipped to [−1, 1] after every step.
    case uniform
    /// N(0, I), the VAE prior.
    case normal

    /// The prior of a generator trained by `method` (the history's training JSON): N(0, I) for a
    /// VAE, U[−1, 1]^k otherwise (GANs, and anything else).
    public static func prior(forTrainingMethod method: String?) -> LatentDistribution {
        (method ?? "").lowercased().hasPrefix("vae") ? .normal : .uniform
    }

    /// A `[rows, k]` batch of draws (the generative trainers' latents and noise).
    public func sample<S: NNScalar>(rows: Int, latent k: Int, using rng: inout SplitMix64) -> Tensor<S> {
        switch self {
        case .uniform: return .randomUniform(shape: [rows, k], lo: -1, hi: 1, using: &rng)
        case .normal: return .randomNormal(shape: [rows, k], std: 1, using: &rng)
        }
    }

    /// One latent vector of size k (the inverter's x* and starting points).
    func draw(_ k: Int, _ rng: inout SplitMix64) -> [Double] {
        switch self {
        case .uniform: return (0..<k).map { _ in 2 * rng.uniform() - 1 }
        case .normal: return (0..<k).map { _ in rng.normal() }
        }
    }
}

/// The trials of one inversion run: targets y_i (rows `[N, n]`), the truth x*_i when known
/// (in-range targets y = G(x*)), and R starting points per trial (R > 1 for random restarts).
public struct InversionTrials<Scalar: NNScalar> {
    /// Signals y `[N, n]`.
    public var signals: Tensor<Scalar>
    /// x* `[N, k]` for in-range targets, nil for real images.
    public var truth: Tensor<Scalar>?
    /// Starting points: `starts[r]` is `[N, k]`, restart r of every trial.
    public var starts: [Tensor<Scalar>]

    /// Trials from explicit arrays.
    public init(signals: Tensor<Scalar>, truth: Tensor<Scalar>?, starts: [Tensor<Scalar>]) {
        precondition(!starts.isEmpty && starts.allSatisfy { $0.rows == signals.rows }, "InversionTrials: starts/signals rows")
        self.signals = signals; self.truth = truth; self.starts = starts
    }

    /// Number of trials N.
    public var count: Int { signals.rows }

    /// In-range trials: trial i draws x*_i, then its R starting points, from its own stream
    /// `SplitMix64.stream(seed, i)` (so a trial is the same whatever the batch or trial count),
    /// and y_i = G(x*_i) with the generator as loaded (the final network).
    public static func inRange(generator problem: InversionProblem<Scalar>, count: Int, distribution: LatentDistribution,
                               restarts: Int = 1, seed: UInt64) -> InversionTrials {
        let k = problem.latentSize
        var truth = [Double](), starts = [[Double]](repeating: [], count: restarts)
        for i in 0..<count {
            var rng = SplitMix64.stream(seed: seed, UInt64(i))
            truth += distribution.draw(k, &rng)
            for r in 0..<restarts { starts[r] += distribution.draw(k, &rng) }
        }
        let xs = Tensor<Scalar>(shape: [count, k], data: Scalar.fromDoubles(truth))
        return InversionTrials(signals: problem.generate(xs), truth: xs,
                               starts: starts.map { Tensor(shape: [count, k], data: Scalar.fromDoubles($0)) })
    }

    /// Trials on given signals (real images, `[N, n]`) with unknown x*; starting points drawn as above.
    public static func signals(_ y: Tensor<Scalar>, latentSize k: Int, distribution: LatentDistribution,
                               restarts: Int = 1, seed: UInt64) -> InversionTrials {
        var starts = [[Double]](repeating: [], count: restarts)
        for i in 0..<y.rows {
            var rng = SplitMix64.stream(seed: seed, UInt64(i))
            _ = distribution.draw(k, &rng)   // the slot of x*, so starts match in-range trials of the same seed
            for r in 0..<restarts { starts[r] += distribution.draw(k, &rng) }
        }
        return InversionTrials(signals: y.reshaped([y.rows, y.cols]), truth: nil,
                               starts: starts.map { Tensor(shape: [y.rows, k], data: Scalar.fromDoubles($0)) })
    }

    /// The trials `rows` only (in that order).
    public func subset(_ rows: [Int]) -> InversionTrials {
        InversionTrials(signals: gather(signals, rows), truth: truth.map { gather($0, rows) },
                        starts: starts.map { gather($0, rows) })
    }
}

/// Rows `rows` of a 2-D tensor, as a new `[rows.count, cols]` tensor.
func gather<Scalar: NNScalar>(_ t: Tensor<Scalar>, _ rows: [Int]) -> Tensor<Scalar> {
    var out = Tensor<Scalar>(zeros: [rows.count, t.cols])
    out.gatherRows(from: t.reshaped([t.rows, t.cols]), indices: rows[...])
    return out
}

/// Writes the rows of `source` into rows `rows` of `target` (both 2-D, same columns).
func scatter<Scalar: NNScalar>(_ source: Tensor<Scalar>, into target: inout Tensor<Scalar>, rows: [Int]) {
    let c = target.cols
    precondition(source.cols == c && source.rows == rows.count, "scatter: \(source.shape) into \(target.shape)")
    source.data.withUnsafeBufferPointer { s in
        target.data.withUnsafeMutableBufferPointer { d in
            for (k, r) in rows.enumerated() { (d.baseAddress! + r * c).update(from: s.baseAddress! + k * c, count: c) }
        }
    }
}
