import TestSupport
import XCTest
@testable import LiftedTrain

/// Every block subproblem of the lifted trainers against its optimality condition: the
/// per-entry ReLU minimiser against a brute-force grid, the weight least squares and the
/// activation solves against their normal equations (formed naively), Askari et al.'s
/// non-negative blocks against the KKT conditions.
final class LiftedOptimalityTests: XCTestCase {
    /// γ(a − max(z, 0))² + β(z − m)² at z.
    func proxObjective(_ z: Double, a: Double, m: Double, gamma: Double, beta: Double) -> Double {
        gamma * (a - max(z, 0)) * (a - max(z, 0)) + beta * (z - m) * (z - m)
    }

    /// The closed-form z (Taylor et al.'s z-update, Zeng et al.'s U-update) is no worse than any
    /// point of a fine grid, and within a grid step of the grid's best.
    func testReluProxBeatsABruteForceGrid() {
        var rng = SplitMix64(seed: 5)
        let count = 150
        let a = (0..<count).map { _ in 3 * (rng.uniform() - 0.5) }
        var m = (0..<count).map { _ in 3 * (rng.uniform() - 0.5) }
        m[0] = 0; m[1] = -1e-3
        for (gamma, beta) in [(1.0, 1.0), (10.0, 1.0), (0.5, 6.0), (1.0, 0.1)] {
            var z = [Double](repeating: .nan, count: count)
            a.withUnsafeBufferPointer { pa in
                m.withUnsafeBufferPointer { pm in
                    z.withUnsafeMutableBufferPointer {
                        LiftedKernels.reluProx(a: pa.baseAddress!, m: pm.baseAddress!, gamma: gamma, beta: beta, into: $0.baseAddress!, count: count)
                    }
                }
            }
            let grid = stride(from: -4.0, through: 4.0, by: 1e-3).map { $0 }
            for i in 0..<count {
                let f = proxObjective(z[i], a: a[i], m: m[i], gamma: gamma, beta: beta)
                var best = Double.infinity, arg = 0.0
                for g in grid {
                    let v = proxObjective(g, a: a[i], m: m[i], gamma: gamma, beta: beta)
                    if v < best { best = v; arg = g }
                }
                XCTAssertLessThanOrEqual(f, best + 1e-12, "entry \(i), γ \(gamma), β \(beta): a \(a[i]), m \(m[i]), z \(z[i]), grid z \(arg)")
                XCTAssertLessThanOrEqual(abs(z[i] - arg), 2e-3, "entry \(i), γ \(gamma), β \(beta): a \(a[i]), m \(m[i])")
            }
        }
    }

    /// W̃ (ρÃᵀÃ + (α + ε)I) = ρTᵀÃ + αW̃₀, with Ã = [A, 1] formed explicitly.
    func testWeightLeastSquaresSatisfiesTheNormalEquations() throws {
        let n = 17, d = 5, m = 4
        let a = randomTensor([n, d], seed: 1), t = randomTensor([n, m], seed: 2), w0 = randomTensor([m, d + 1], seed: 3)
        let ones = [Double](repeating: 1, count: n)
        var aug = [Double](repeating: 1, count: n * (d + 1))
        for r in 0..<n { for c in 0..<d { aug[r * (d + 1) + c] = a.data[r * d + c] } }
        for (rho, alpha, ridge) in [(1.0, 0.0, 1e-3), (2.0, 5.0, 0.0), (0.5, 1.0, 0.1)] {
            var system = AugmentedSystem<Double>()
            try system.factorize(a, ones: ones, rho: rho, alpha: alpha, ridge: ridge, relativeRidge: true, method: "test", layer: "l")
            var w = w0
            system.solve(target: t, input: a, ones: ones, rho: rho, alpha: alpha, weights: &w)
            var trace = 0.0
            for r in 0..<n { for c in 0..<(d + 1) { trace += aug[r * (d + 1) + c] * aug[r * (d + 1) + c] } }
            let eps = ridge * rho * trace / Double(d + 1)
            assertClose(system.ridge, eps, rtol: 1e-12, "ε, ρ \(rho)")
            let gram = naiveMatmul(aug, rows: n, cols: d + 1, transposeA: true, aug, rows: n, cols: d + 1, transposeB: false)
            let lhs = naiveMatmul(w.data, rows: m, cols: d + 1, transposeA: false,
                                  (0..<((d + 1) * (d + 1))).map { i in rho * gram[i] + (i / (d + 1) == i % (d + 1) ? alpha + eps : 0) },
                                  rows: d + 1, cols: d + 1, transposeB: false)
            let cross = naiveMatmul(t.data, rows: n, cols: m, transposeA: true, aug, rows: n, cols: d + 1, transposeB: false)
            let rhs = (0..<(m * (d + 1))).map { rho * cross[$0] + alpha * w0.data[$0] }
            assertClose(lhs, rhs, rtol: 1e-10, atol: 1e-10, "normal equations, ρ \(rho), α \(alpha), ε \(ridge)")
        }
    }

    /// The activation solves (Taylor's a-update, Zeng's V-update, the MAC Z-update of the last
    /// hidden level): a (sWᵀW + cI) = s(T − 1bᵀ)W + cS, through backProject, weightGram, solveRight.
    func testActivationSolveSatisfiesItsNormalEquations() throws {
        let n = 11, d = 6, m = 3
        let w = randomTensor([m, d + 1], seed: 4), t = randomTensor([n, m], seed: 5), s = randomTensor([n, d], seed: 6)
        let ones = [Double](repeating: 1, count: n)
        let (scale, shift) = (2.0, 0.7)
        var a = Tensor<Double>(zeros: [0]), h = Tensor<Double>(zeros: [0])
        LiftedBLAS.backProject(t, packed: w, ones: ones, scale: scale, into: &a)
        a.add(s, scaledBy: shift)
        LiftedBLAS.weightGram(packed: w, scale: scale, shift: shift, into: &h)
        let hCopy = h
        try LiftedBLAS.factor(&h, method: "test", what: "a")
        LiftedBLAS.solveRight(&a, factor: h)
        // Naive: W without its bias column, b the bias column.
        let wd = (0..<(m * d)).map { w.data[($0 / d) * (d + 1) + $0 % d] }
        let b = (0..<m).map { w.data[$0 * (d + 1) + d] }
        let wtw = naiveMatmul(wd, rows: m, cols: d, transposeA: true, wd, rows: m, cols: d, transposeB: false)
        assertClose(hCopy.data, (0..<(d * d)).map { scale * wtw[$0] + ($0 / d == $0 % d ? shift : 0) }, rtol: 1e-12, atol: 1e-12, "H")
        let lhs = naiveMatmul(a.data, rows: n, cols: d, transposeA: false, hCopy.data, rows: d, cols: d, transposeB: false)
        let centred = (0..<(n * m)).map { t.data[$0] - b[$0 % m] }
        let tw = naiveMatmul(centred, rows: n, cols: m, transposeA: false, wd, rows: m, cols: d, transposeB: false)
        assertClose(lhs, (0..<(n * d)).map { scale * tw[$0] + shift * s.data[$0] }, rtol: 1e-10, atol: 1e-10, "a H = rhs")
    }

    /// Askari et al.'s X-block: X ≥ 0, ∇ = XH − C ≥ 0 and X ⊙ ∇ = 0 (KKT of the non-negative
    /// least squares), with H and C formed naively from the trainer's weights.
    func testAskariActivationBlockSatisfiesKKT() throws {
        let (net, x, labels) = try LiftedTestData.problem(sizes: [5, 8, 6, 3], samples: 30, seed: 11)
        var config = LiftedConfiguration()
        config.askariSteps = 4000
        config.askariLambda = 2
        let t = try AskariTrainer(network: net, configuration: config)
        _ = try t.step(inputs: x, labels: labels)   // moves W away from the forward pass
        let lambda = config.askariLambda
        for l in 1..<t.net.depth {
            try t.updateActivations(level: l)
            let (target, c) = t.layerTarget(l)
            let w = t.net.weights[l], d = w.cols - 1, m = w.rows, n = x.rows
            let wd = (0..<(m * d)).map { w.data[($0 / d) * (d + 1) + $0 % d] }
            let b = (0..<m).map { w.data[$0 * (d + 1) + d] }
            let wtw = naiveMatmul(wd, rows: m, cols: d, transposeA: true, wd, rows: m, cols: d, transposeB: false)
            let h = (0..<(d * d)).map { c * wtw[$0] + ($0 / d == $0 % d ? lambda : 0) }
            var below = Tensor<Double>(zeros: [0])
            t.net.affine(t.x[l - 1], layer: l - 1, into: &below)
            let centred = (0..<(n * m)).map { target.data[$0] - b[$0 % m] }
            let tw = naiveMatmul(centred, rows: n, cols: m, transposeA: false, wd, rows: m, cols: d, transposeB: false)
            let cc = (0..<(n * d)).map { lambda * below.data[$0] + c * tw[$0] }
            let xh = naiveMatmul(t.x[l].data, rows: n, cols: d, transposeA: false, h, rows: d, cols: d, transposeB: false)
            for i in 0..<(n * d) {
                let xi = t.x[l].data[i], g = xh[i] - cc[i]
                XCTAssertGreaterThanOrEqual(xi, 0, "level \(l): X ≥ 0 at \(i)")
                XCTAssertGreaterThanOrEqual(g, -1e-6, "level \(l): ∇ ≥ 0 at \(i)")
                XCTAssertLessThanOrEqual(abs(xi * g), 1e-6, "level \(l): complementarity at \(i)")
            }
        }
    }
}

/// Tiny classification problems for the lifted trainers' tests.
enum LiftedTestData {
    /// A ReLU network of `sizes` (He weights, small biases) and `samples` points labelled by a
    /// random teacher network of the same shape, so that the problem is learnable.
    static func problem(sizes: [Int], samples: Int, seed: UInt64, activation: ActivationKind = .relu) throws
        -> (Network<Double>, Tensor<Double>, [Int32]) {
        var rng = SplitMix64(seed: seed)
        let spec = ModelSpec.mlp(input: sizes[0], hidden: Array(sizes.dropFirst().dropLast()), output: sizes.last!,
                                 activation: activation, outputActivation: .identity)
        let teacher = try Network<Double>(spec: spec, initialization: .he, rng: &rng)
        let net = try Network<Double>(spec: spec, initialization: .he, rng: &rng)
        let x = Tensor<Double>.randomNormal(shape: [samples, sizes[0]], std: 1, using: &rng)
        let out = teacher.forward(x, training: false)
        let c = sizes.last!
        let labels = (0..<samples).map { r -> Int32 in
            let row = out.data[(r * c)..<((r + 1) * c)]
            return Int32(row.firstIndex(of: row.max()!)! - r * c)
        }
        return (net, x, labels)
    }
}
