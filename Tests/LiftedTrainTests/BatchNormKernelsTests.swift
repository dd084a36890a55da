import XCTest
@testable import LiftedTrain
import TestSupport

/// The train-mode batch-norm kernels chained as BatchNorm chains them, against central
/// differences of L = Σ r ⊙ y(x, γ, β) (Double, [n, C, H·W] = [3, 2, 5]).
final class BatchNormKernelsTests: XCTestCase {
    private let (n, c, hw) = (3, 2, 5)

    /// y = γ x̂ + β with the batch statistics (moments → batchStatistics → forwardChunk); also
    /// returns x̂ and 1/σ̂.
    private func forward(_ x: [Double], gamma: [Double], beta: [Double]) -> (y: [Double], xhat: [Double], invStd: [Double]) {
        var sum = [Double](repeating: 0, count: c), sq = sum, inv = sum
        BatchNormKernels.moments(x, n: n, c: c, hw: hw, sum: &sum, sumSquares: &sq)
        var a = sum, d = sum, rm = [Double](repeating: 0, count: c), rv = [Double](repeating: 1, count: c)
        BatchNormKernels.batchStatistics(sum: sum, sumSquares: sq, count: Double(n * hw), channels: c, eps: 1e-5,
                                         momentum: 0.1, runningMean: &rm, runningVar: &rv, invStd: &inv, a: &a, d: &d)
        var xhat = x, y = x
        BatchNormKernels.forwardChunk(x, n: n, c: c, hw: hw, a: a, d: d, gamma: gamma, beta: beta, xhat: &xhat, y: &y)
        return (y, xhat, inv)
    }

    func testBackwardChunkIsTheGradientOfTheForwardChunk() {
        let x = randomArray(n * c * hw, std: 2, seed: 11).map { $0 + 0.5 }
        let gamma = randomArray(c, seed: 12), beta = randomArray(c, seed: 13), r = randomArray(n * c * hw, seed: 14)
        let loss = { (x: [Double], gamma: [Double], beta: [Double]) in zip(self.forward(x, gamma: gamma, beta: beta).y, r).reduce(0) { $0 + $1.0 * $1.1 } }
        let f = forward(x, gamma: gamma, beta: beta)
        var sumDy = [Double](repeating: 0, count: c), sumDyXhat = sumDy
        BatchNormKernels.gradientSums(r, f.xhat, n: n, c: c, hw: hw, sumDy: &sumDy, sumDyXhat: &sumDyXhat)
        var a = sumDy, b = sumDy, d = sumDy
        BatchNormKernels.backwardCoefficients(gamma: gamma, invStd: f.invStd, sumDy: sumDy, sumDyXhat: sumDyXhat,
                                              count: Double(n * hw), channels: c, a: &a, b: &b, d: &d)
        var dx = x
        BatchNormKernels.backwardChunk(r, f.xhat, n: n, c: c, hw: hw, a: a, b: b, d: d, dx: &dx)
        assertGradient(dx, of: { loss($0, gamma, beta) }, at: x, "dx")
        assertGradient(sumDyXhat, of: { loss(x, $0, beta) }, at: gamma, "dγ = Σ dy x̂")
        assertGradient(sumDy, of: { loss(x, gamma, $0) }, at: beta, "dβ = Σ dy")
    }

    /// The running statistics move by the momentum towards the batch mean and the unbiased
    /// variance (PyTorch's update), computed here directly from x.
    func testBatchStatisticsUpdateTheRunningStatistics() {
        let x = randomArray(n * c * hw, seed: 15)
        var sum = [Double](repeating: 0, count: c), sq = sum, inv = sum, a = sum, d = sum
        BatchNormKernels.moments(x, n: n, c: c, hw: hw, sum: &sum, sumSquares: &sq)
        var rm: [Double] = [0.3, -0.2], rv: [Double] = [1.5, 0.7]
        let (rm0, rv0) = (rm, rv)
        BatchNormKernels.batchStatistics(sum: sum, sumSquares: sq, count: Double(n * hw), channels: c, eps: 1e-5,
                                         momentum: 0.1, runningMean: &rm, runningVar: &rv, invStd: &inv, a: &a, d: &d)
        for ch in 0..<c {
            var values: [Double] = []
            for s in 0..<n { values += x[(s * c + ch) * hw..<(s * c + ch + 1) * hw] }
            let count = Double(values.count)
            let mean: Double = values.reduce(0, +) / count
            var ss = 0.0
            for v in values { ss += (v - mean) * (v - mean) }
            let unbiased: Double = ss / (count - 1), biased: Double = ss / count
            assertClose(rm[ch], 0.9 * rm0[ch] + 0.1 * mean, "running mean \(ch)")
            assertClose(rv[ch], 0.9 * rv0[ch] + 0.1 * unbiased, rtol: 1e-10, "running var \(ch)")
            assertClose(inv[ch], 1 / (biased + 1e-5).squareRoot(), rtol: 1e-10, "1/σ̂ \(ch)")
        }
    }
    /// Features `[n, C]` (H·W = 1, BatchNorm1d: the generator's dense layers) take the row-by-row
    /// path; it must give exactly what one call per (sample, channel) gives: the Float square or
    /// product of each term, summed in Double in sample order, and x̂, y, dx by the same Float
    /// operations (Float, bit for bit).
    func testFeatureKernelsEqualThePerElementLoopsBitForBit() {
        let (n, c) = (37, 19)
        func floats(_ count: Int, _ seed: UInt64) -> [Float] { randomArray(count, std: 1.5, seed: seed).map { Float($0) } }
        let x = floats(n * c, 21), dy = floats(n * c, 22)
        let a = floats(c, 23), d = floats(c, 24), gamma = floats(c, 25), beta = floats(c, 26), b = floats(c, 27)
        var sum = [Double](repeating: .nan, count: c), sq = sum
        BatchNormKernels.moments(x, n: n, c: c, hw: 1, sum: &sum, sumSquares: &sq)
        var xhat = [Float](repeating: .nan, count: n * c), y = xhat, dx = xhat
        BatchNormKernels.forwardChunk(x, n: n, c: c, hw: 1, a: a, d: d, gamma: gamma, beta: beta, xhat: &xhat, y: &y)
        var sumDy = [Double](repeating: .nan, count: c), sumDyXhat = sumDy
        BatchNormKernels.gradientSums(dy, xhat, n: n, c: c, hw: 1, sumDy: &sumDy, sumDyXhat: &sumDyXhat)
        BatchNormKernels.backwardChunk(dy, xhat, n: n, c: c, hw: 1, a: a, b: b, d: d, dx: &dx)
        for ch in 0..<c {
            var (s, ss, g, gx) = (0.0, 0.0, 0.0, 0.0)
            for i in 0..<n {
                let v = x[i * c + ch], h = v * a[ch] + d[ch], e = dy[i * c + ch]
                s += Double(v); ss += Double(v * v); g += Double(e); gx += Double(e * h)
                XCTAssertEqual(xhat[i * c + ch], h, "x̂[\(i), \(ch)]")
                XCTAssertEqual(y[i * c + ch], h * gamma[ch] + beta[ch], "y[\(i), \(ch)]")
                XCTAssertEqual(dx[i * c + ch], a[ch] * e + b[ch] * h + d[ch], "dx[\(i), \(ch)]")
            }
            XCTAssertEqual([sum[ch], sq[ch], sumDy[ch], sumDyXhat[ch]], [s, ss, g, gx], "channel \(ch) sums")
        }
    }
}
