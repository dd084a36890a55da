import Foundation

/// The closed forms behind the LPOM objective (Li, Fang, Lin, AAAI 2019, Table 1):
///
///     f(x) = ∫₀ˣ (φ⁻¹(y) − y) dy,     g(x) = ∫₀ˣ (φ(y) − y) dy,
///
/// so that f̃(x) = f(x) + x²/2 = ∫φ⁻¹ and g̃(z) = g(z) + z²/2 = ∫φ are convex conjugates and the
/// per-unit LPOM penalty
///
///     B(x, z) = f(x) + g(z) + ½(x − z)² = f̃(x) + g̃(z) − x z ≥ 0,  with equality iff x = φ(z)
///
/// (Fenchel–Young). **Only diagnostics and tests use these**; the LPOM updates evaluate φ alone.
///
/// Choice of the integration constants: the paper's table fixes f and g only up to constants.
/// We pick them so that f̃ and g̃ are exact conjugates, i.e. B(φ(z), z) = 0 — which is what
/// makes "the objective equals the loss on a forward pass" true. For φ(0) = 0 (ReLU, leaky
/// ReLU, tanh, ELU, identity) that is f(0) = g(0) = 0; for the sigmoid it needs
/// g(z) = log(1 + eᶻ) − z²/2 (the table's form, g(0) = log 2), and for softplus (which the table
/// lists as "no analytic expression") the dilogarithm gives
/// f(x) = Li₂(e⁻ˣ) − π²/6 (x > 0) and g(z) = −Li₂(−eᶻ) − z²/2.
/// The table's ELU entries differ from the integrals by a constant (α); we use the integrals.
public enum LPOMPenalty {
    /// f(x) = ∫₀ˣ (φ⁻¹(y) − y) dy, +∞ outside the range of φ.
    public static func f(_ kind: ActivationKind, alpha: Double, _ x: Double) -> Double {
        switch kind {
        case .identity: return 0
        case .relu: return x >= 0 ? 0 : .infinity
        case .leakyRelu: return x >= 0 ? 0 : (1 - alpha) / (2 * alpha) * x * x
        case .sigmoid:
            guard x >= 0, x <= 1 else { return .infinity }
            return xlogx(x) + xlogx(1 - x) - x * x / 2
        case .tanh:
            guard x >= -1, x <= 1 else { return .infinity }
            return 0.5 * (xlogx(1 + x) + xlogx(1 - x)) - x * x / 2
        case .elu:
            if x >= 0 { return 0 }
            guard x >= -alpha else { return .infinity }
            // ∫₀ˣ (log(1 + y/α) − y) dy = (α + x) log(1 + x/α) − x − x²/2
            return alpha * xlogx(1 + x / alpha) - x - x * x / 2
        case .softplus:
            guard x >= 0 else { return .infinity }
            if x == 0 { return 0 }
            return dilogarithm(Foundation.exp(-x)) - Double.pi * Double.pi / 6
        }
    }

    /// g(z) = ∫(φ(y) − y) dy with the constant that makes f̃, g̃ conjugate (see the type's doc).
    public static func g(_ kind: ActivationKind, alpha: Double, _ z: Double) -> Double {
        switch kind {
        case .identity: return 0
        case .relu: return z >= 0 ? 0 : -z * z / 2
        case .leakyRelu: return z >= 0 ? 0 : (alpha - 1) / 2 * z * z
        case .sigmoid: return softplus(z) - z * z / 2
        case .tanh: return logCosh(z) - z * z / 2
        case .elu: return z >= 0 ? 0 : alpha * Foundation.expm1(z) - alpha * z - z * z / 2
        case .softplus: return -dilogarithm(-Foundation.exp(z)) - z * z / 2
        }
    }

    /// B(x, z) = f(x) + g(z) + ½(x − z)², the LPOM penalty of one unit (≥ 0, = 0 iff x = φ(z)).
    public static func gap(_ kind: ActivationKind, alpha: Double, x: Double, z: Double) -> Double {
        let fx = f(kind, alpha: alpha, x)
        if fx == .infinity { return .infinity }
        return fx + g(kind, alpha: alpha, z) + 0.5 * (x - z) * (x - z)
    }

    /// x log x with 0 log 0 = 0.
    static func xlogx(_ x: Double) -> Double { x <= 0 ? 0 : x * Foundation.log(x) }

    static func softplus(_ z: Double) -> Double { max(z, 0) + Foundation.log1p(Foundation.exp(-abs(z))) }

    static func logCosh(_ z: Double) -> Double {
        let a = abs(z)
        return a + Foundation.log1p(Foundation.exp(-2 * a)) - Foundation.log(2)
    }

    /// The real dilogarithm Li₂(t) = −∫₀ᵗ log(1 − u)/u du for t ≤ 1: the power series on
    /// [0, ½], reflection Li₂(t) = π²/6 − log t log(1 − t) − Li₂(1 − t) on (½, 1], Landen's
    /// Li₂(t) = −Li₂(t/(t − 1)) − ½ log²(1 − t) on [−1, 0), inversion below −1.
    public static func dilogarithm(_ t: Double) -> Double {
        let pi2over6 = Double.pi * Double.pi / 6
        if t > 1 { return .nan }
        if t == 1 { return pi2over6 }
        if t < -1 {
            let l = Foundation.log(-t)
            return -pi2over6 - 0.5 * l * l - dilogarithm(1 / t)
        }
        if t < 0 {
            let l = Foundation.log1p(-t)
            return -dilogarithm(t / (t - 1)) - 0.5 * l * l
        }
        if t > 0.5 {
            return pi2over6 - Foundation.log(t) * Foundation.log1p(-t) - dilogarithm(1 - t)
        }
        var sum = 0.0
        var p = t
        var k = 1.0
        while p > 1e-18 * max(sum, 1e-300) || k < 2 {
            sum += p / (k * k)
            k += 1
            p *= t
            if k > 200 { break }
        }
        return sum
    }
}

extension LPOMPenalty {
    /// Σ over a buffer of B(x, z) (Double accumulation); +∞ if some x is outside φ's range.
    static func sumGap<S: NNScalar>(_ kind: ActivationKind, alpha: Double, x: Tensor<S>, z: Tensor<S>) -> Double {
        precondition(x.count == z.count, "sumGap: \(x.shape) vs \(z.shape)")
        if kind == .identity {
            var d = x
            d.add(z, scaledBy: -1)
            return 0.5 * Double(d.squaredNorm)
        }
        // Through concrete Double arrays: a loop over a generic Scalar would convert each element
        // through witness tables (the diagnostics then cost more than the update).
        let xs = S.toDoubles(x.data), zs = S.toDoubles(z.data)
        var s = 0.0
        for i in 0..<xs.count {
            s += gap(kind, alpha: alpha, x: xs[i], z: zs[i])
        }
        return s
    }
}
