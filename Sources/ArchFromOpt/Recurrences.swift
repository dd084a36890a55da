import Foundation
import LiftedTrain

/// The block T(x) of a recurrence network: a learnable map that keeps the state's shape
/// (the paper's relaxation Φ(W x) → T(x), with normalisation inside).
public enum Block: Equatable, Sendable {
    /// Dense C → C, batch norm, ReLU (states `[C]`).
    case dense(width: Int)
    /// 3 × 3 convolution C → C (padding 1), batch norm, ReLU (states `[C, H, W]`).
    case conv(channels: Int)
    /// Dense C → C without normalisation or activation (a linear map, for equivalence checks).
    case linear(width: Int)

    /// The block's layers with parameters under `prefix` (`prefix.0.weight`, …), as `nn.Sequential` names them.
    public func layers(prefix: String) -> [LayerSpec] {
        switch self {
        case .dense(let c):
            return [LayerSpec(type: "dense", name: prefix + ".0", in: c, out: c),
                    LayerSpec(type: "batchnorm", name: prefix + ".1", channels: c, eps: 1e-5, momentum: 0.1),
                    LayerSpec(type: "relu")]
        case .conv(let c):
            return [LayerSpec(type: "conv2d", name: prefix + ".0", inChannels: c, outChannels: c, kernel: 3, stride: 1, padding: 1),
                    LayerSpec(type: "batchnorm", name: prefix + ".1", channels: c, eps: 1e-5, momentum: 0.1),
                    LayerSpec(type: "relu")]
        case .linear(let c):
            return [LayerSpec(type: "dense", name: prefix + ".0", in: c, out: c)]
        }
    }
}

/// Generators of recurrence layers (Li, Yang, Chen & Lin, ACML 2018): each returns the `LayerSpec` of one
/// `recurrence` layer — which earlier states and which block outputs enter each new state, with
/// which coefficients. Terms whose fixed coefficient is 0 are left out; learnable coefficients
/// start at the given values (0 included).
public enum Recurrences {
    static func term(_ from: Int, block: Int? = nil, _ c: Double, learnable: Bool) -> RecurrenceTerm? {
        (c == 0 && !learnable) ? nil : RecurrenceTerm(from: from, block: block, coefficient: c, learnable: learnable)
    }

    static func layer(_ kind: String, name: String, blocks: [[LayerSpec]], states: [[RecurrenceTerm?]], output: Int? = nil) -> LayerSpec {
        RecurrenceSpec(recurrence: kind, blocks: blocks, states: states.map { RecurrenceState(terms: $0.compactMap { $0 }) },
                       output: output).layerSpec(name: name)
    }

    static func blockList(_ block: Block, name: String, count: Int) -> [[LayerSpec]] {
        (0..<count).map { block.layers(prefix: "\(name).blocks.\($0)") }
    }

    /// Gradient descent: x_{k+1} = T_k(x_k) — a plain network.
    public static func gradientDescent(name: String, depth: Int, block: Block) -> LayerSpec {
        layer("gd", name: name, blocks: blockList(block, name: name, count: depth),
              states: (0..<depth).map { k in [term(k, block: k, 1, learnable: false)] })
    }

    /// Heavy ball (Polyak 1964), relaxed as in the paper's eq. (16):
    /// x_{k+1} = T_k(x_k) + β₁(k) x_k + β₂(k) x_{k−1}, with x_{−1} := x_0 (zero initial momentum).
    /// `tied` applies block 0 at every step (one shared W, the paper's analysis setting).
    public static func heavyBall(name: String, depth: Int, block: Block, beta1: (Int) -> Double, beta2: (Int) -> Double,
                                 learnable: Bool = false, tied: Bool = false) -> LayerSpec {
        let states: [[RecurrenceTerm?]] = (0..<depth).map { k in
            [term(k, block: tied ? 0 : k, 1, learnable: false),
             term(k, beta1(k), learnable: learnable),
             term(max(k - 1, 0), beta2(k), learnable: learnable)]
        }
        return layer("heavy_ball", name: name, blocks: blockList(block, name: name, count: tied ? 1 : depth), states: states)
    }

    /// The heavy-ball momentum of the slides' Theorem 2: β_k = k / (k + 2).
    public static func heavyBallMomentum(_ k: Int) -> Double { Double(k) / Double(k + 2) }

    /// Nesterov's accelerated gradient, relaxed as in eq. (18):
    /// x_{k+1} = Σ_{j≤k} α^j_{k+1} T_j(x_j) + Σ_{j≤k} β^j_{k+1} x_j. `alpha(s, j)` and `beta(s, j)`
    /// give the coefficients of state s = k + 1 on T_j(x_j) and x_j.
    public static func nesterov(name: String, depth: Int, block: Block, alpha: (Int, Int) -> Double,
                                beta: (Int, Int) -> Double, learnable: Bool = false) -> LayerSpec {
        let states: [[RecurrenceTerm?]] = (1...depth).map { s in
            (0..<s).map { j in term(j, block: j, alpha(s, j), learnable: learnable) }
                + (0..<s).map { j in term(j, beta(s, j), learnable: learnable) }
        }
        return layer("nesterov", name: name, blocks: blockList(block, name: name, count: depth), states: states)
    }

    /// The coefficients of Nesterov's method in the slides' form: with λ_0 = 0,
    /// λ_t = (1 + √(1 + 4λ²_{t−1}))/2 and γ_t = (1 − λ_t)/λ_{t+1}, x_{t+1} = (1 − γ_t) y_{t+1} + γ_t y_t
    /// where y_{t+1} = T(x_t). For state s (reading T_{s−1}(x_{s−1}) and T_{s−2}(x_{s−2})):
    /// α^{s−1}_s = 1 − γ_s, α^{s−2}_s = γ_s, all others (and every β) 0.
    public static func nesterovAlpha(_ s: Int, _ j: Int) -> Double {
        var lambda = [0.0]
        for _ in 0...(s + 1) { let l = lambda.last!; lambda.append((1 + (1 + 4 * l * l).squareRoot()) / 2) }
        let gamma = (1 - lambda[s]) / lambda[s + 1]
        if j == s - 1 { return 1 - gamma }
        if j == s - 2 { return gamma }
        return 0
    }

    /// Coefficients of the ADMM recurrence for step k → k + 1 (t runs over 0…k; x'_0 = x_0 is the
    /// input, so t = 0 contributes one term with coefficient α + β):
    ///     x'_{k+1} = a' T'_k(x'_k) + Σ_t α'_{k,t} x'_t + Σ_t β'_{k,t} x_t
    ///     x_{k+1}  = a T_k(x_k) + γ_k x'_{k+1} + Σ_t α_{k,t} x'_t + Σ_t β_{k,t} x_t
    public struct ADMMCoefficients {
        /// Block coefficients a' and a.
        public var blockPrime: Double, block: Double
        /// α'(k, t), β'(k, t) of the x' update and α(k, t), β(k, t) of the x update.
        public var alphaPrime: (Int, Int) -> Double, betaPrime: (Int, Int) -> Double
        public var alpha: (Int, Int) -> Double, beta: (Int, Int) -> Double
        /// γ_k: weight of the fresh x'_{k+1} in the x update.
        public var gamma: (Int) -> Double
        /// Whether the output is ½(x'_K + x_K) (merging both branches) rather than x_K.
        public var mergeOutput: Bool

        /// The unrelaxed ADMM recurrence of the slides, eq. (1):
        /// x'_{k+1} = ½(T(x'_k) + x_k − Σ_{t=1}^k (x'_t − x_t)),  x_{k+1} = ½(T(x_k) + x'_{k+1} + Σ_{t=1}^k (x'_t − x_t)).
        public static let optimizer = ADMMCoefficients(
            blockPrime: 0.5, block: 0.5,
            alphaPrime: { _, t in t >= 1 ? -0.5 : 0 }, betaPrime: { k, t in (t >= 1 ? 0.5 : 0) + (t == k ? 0.5 : 0) },
            alpha: { _, t in t >= 1 ? 0.5 : 0 }, beta: { _, t in t >= 1 ? -0.5 : 0 },
            gamma: { _ in 0.5 }, mergeOutput: false)

        /// The relaxed form, eq. (20), with α_t = β_t = ½ on the latest states only: each branch adds
        /// the mean of both branches' inputs — the merge-and-run block of DMRNet.
        public static let dmrnet = ADMMCoefficients(
            blockPrime: 1, block: 1,
            alphaPrime: { k, t in t == k ? 0.5 : 0 }, betaPrime: { k, t in t == k ? 0.5 : 0 },
            alpha: { k, t in t == k ? 0.5 : 0 }, beta: { k, t in t == k ? 0.5 : 0 },
            gamma: { _ in 0 }, mergeOutput: true)
    }

    /// ADMM (eq. (1) / relaxed eq. (20)) as a recurrence over two interleaved sequences: state
    /// 2k − 1 is x'_k and state 2k is x_k; block 2k is T'_k and block 2k + 1 is T_k.
    public static func admm(name: String, depth: Int, block: Block, coefficients c: ADMMCoefficients,
                            learnable: Bool = false) -> LayerSpec {
        func xp(_ t: Int) -> Int { t == 0 ? 0 : 2 * t - 1 }
        func xx(_ t: Int) -> Int { t == 0 ? 0 : 2 * t }
        func sums(_ k: Int, _ a: (Int, Int) -> Double, _ b: (Int, Int) -> Double) -> [RecurrenceTerm?] {
            var out: [RecurrenceTerm?] = [term(0, a(k, 0) + b(k, 0), learnable: learnable)]
            for t in stride(from: 1, through: k, by: 1) {
                out.append(term(xp(t), a(k, t), learnable: learnable))
                out.append(term(xx(t), b(k, t), learnable: learnable))
            }
            return out
        }
        var states: [[RecurrenceTerm?]] = []
        for k in 0..<depth {
            states.append([term(xp(k), block: 2 * k, c.blockPrime, learnable: false)] + sums(k, c.alphaPrime, c.betaPrime))
            states.append([term(xx(k), block: 2 * k + 1, c.block, learnable: false),
                           term(xp(k + 1), c.gamma(k), learnable: learnable)] + sums(k, c.alpha, c.beta))
        }
        if c.mergeOutput {
            states.append([term(xp(depth), 0.5, learnable: learnable), term(xx(depth), 0.5, learnable: learnable)])
        }
        return layer("admm", name: name, blocks: blockList(block, name: name, count: 2 * depth), states: states)
    }
}
