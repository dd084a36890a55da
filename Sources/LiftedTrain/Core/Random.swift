/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator. Every random
/// choice in lpom — initialisation, shuffling, latent draws — takes one of these explicitly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The generator's position in its stream: `SplitMix64(seed: g.position)` continues exactly
    /// where `g` is (a resumed run's noise).
    public var position: UInt64 { state }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        var u1 = uniform()
        while u1 <= .leastNonzeroMagnitude { u1 = uniform() }
        let u2 = uniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * .pi * u2)
    }

    /// An independent generator derived from this one's seed and a stream number
    /// (for example one per epoch, so that a resumed run reshuffles identically).
    public static func stream(seed: UInt64, _ k: UInt64) -> SplitMix64 {
        var g = SplitMix64(seed: seed ^ (k &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return SplitMix64(seed: g.next())
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

extension Tensor {
    /// i.i.d. N(0, std²) entries.
    public static func randomNormal(shape: [Int], std: Double, using rng: inout SplitMix64) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Double](repeating: 0, count: n)
        for i in 0..<n { d[i] = rng.normal() * std }
        return Tensor(shape: shape, data: Scalar.fromDoubles(d))
    }

    /// i.i.d. entries ±1 with equal probability (Rademacher).
    public static func randomSigns(shape: [Int], using rng: inout SplitMix64) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Double](repeating: 0, count: n)
        for i in 0..<n { d[i] = rng.next() & 1 == 0 ? -1 : 1 }
        return Tensor(shape: shape, data: Scalar.fromDoubles(d))
    }

    /// i.i.d. U[lo, hi) entries.
    public static func randomUniform(shape: [Int], lo: Double, hi: Double, using rng: inout SplitMix64) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Double](repeating: 0, count: n)
        for i in 0..<n { d[i] = lo + (hi - lo) * rng.uniform() }
        return Tensor(shape: shape, data: Scalar.fromDoubles(d))
    }
}

/// A random permutation of 0..<n (Fisher–Yates) from an explicit generator.
public func randomPermutation(_ n: Int, using rng: inout SplitMix64) -> [Int] {
    var p = Array(0..<n)
    if n < 2 { return p }
    for i in stride(from: n - 1, to: 0, by: -1) {
        let j = Int(rng.next() % UInt64(i + 1))
        p.swapAt(i, j)
    }
    return p
}
