import XCTest
@testable import LiftedTrain

/// Naive pooling over NCHW planes (PyTorch's `max_pool2d` / `avg_pool2d`, count_include_pad).
func naivePool(_ x: [Double], planes: Int, h: Int, w: Int, k: Int, s: Int, p: Int, max useMax: Bool) -> [Double] {
    let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
    var y: [Double] = []
    for q in 0..<planes { for oh in 0..<ho { for ow in 0..<wo {
        var vals: [Double] = []
        for i in 0..<k { for j in 0..<k {
            let ih = oh * s - p + i, iw = ow * s - p + j
            if ih >= 0 && ih < h && iw >= 0 && iw < w { vals.append(x[(q * h + ih) * w + iw]) }
        } }
        y.append(useMax ? vals.max()! : vals.reduce(0, +) / Double(k * k))
    } } }
    return y
}

final class PoolingTests: XCTestCase {
    func testMaxAndAvgPoolMatchNaiveLoops() {
        for (k, s, p) in [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)] {
            let x = randomArray(2 * 3 * 7 * 6, seed: 20)
            let t = Tensor(shape: [2, 3, 7, 6], data: x)
            let mp = MaxPool2D<Double>(channels: 3, height: 7, width: 6, kernel: k, stride: s, padding: p)
            let ap = AvgPool2D<Double>(channels: 3, height: 7, width: 6, kernel: k, stride: s, padding: p)
            let ym = mp.forward(t, training: false), ya = ap.forward(t, training: false)
            XCTAssertEqual(ym.shape, [2, 3, mp.outHeight, mp.outWidth])
            assertClose(ym.data, naivePool(x, planes: 6, h: 7, w: 6, k: k, s: s, p: p, max: true), "max k\(k) s\(s) p\(p)")
            assertClose(ya.data, naivePool(x, planes: 6, h: 7, w: 6, k: k, s: s, p: p, max: false), "avg k\(k) s\(s) p\(p)")
        }
    }

    func testPoolingGradients() {
        for (k, s, p) in [(2, 2, 0), (3, 2, 1)] {
            let x = randomTensor([2, 2, 5, 4], seed: 21)
            assertLayerGradients(MaxPool2D<Double>(channels: 2, height: 5, width: 4, kernel: k, stride: s, padding: p),
                                 store: ParameterStore(), input: x)
            assertLayerGradients(AvgPool2D<Double>(channels: 2, height: 5, width: 4, kernel: k, stride: s, padding: p),
                                 store: ParameterStore(), input: x)
        }
    }

    func testGlobalAvgPoolAndFlatten() {
        let x = randomTensor([3, 4, 2, 5], seed: 22)
        let g = GlobalAvgPool<Double>(channels: 4, plane: 10)
        let y = g.forward(x, training: false)
        XCTAssertEqual(y.shape, [3, 4])
        let ref = (0..<12).map { q in x.data[(q * 10)..<(q * 10 + 10)].reduce(0, +) / 10 }
        assertClose(y.data, ref)
        assertLayerGradients(g, store: ParameterStore(), input: x)
        let f = Flatten<Double>()
        XCTAssertEqual(f.forward(x, training: true).shape, [3, 40])
        assertLayerGradients(f, store: ParameterStore(), input: x)
    }
}

final class BatchNormTests: XCTestCase {
    /// Per-channel batch mean and biased variance of `[n, c, hw]`.
    func naiveMoments(_ x: [Double], n: Int, c: Int, hw: Int) -> (mean: [Double], variance: [Double]) {
        var mean = [Double](repeating: 0, count: c), v = mean
        let m = Double(n * hw)
        for b in 0..<n { for ch in 0..<c { for i in 0..<hw { mean[ch] += x[(b * c + ch) * hw + i] / m } } }
        for b in 0..<n { for ch in 0..<c { for i in 0..<hw { let d = x[(b * c + ch) * hw + i] - mean[ch]; v[ch] += d * d / m } } }
        return (mean, v)
    }

    func testTrainModeNormalisesAndUpdatesRunningStatistics() throws {
        let (n, c, hw) = (4, 3, 6)
        let params = ParameterStore<Double>(), bufs = ParameterStore<Double>()
        let bn = BatchNorm(name: "layers.1", channels: c, plane: hw, eps: 1e-5, momentum: 0.1, store: params, buffers: bufs)
        XCTAssertEqual(params.names, ["layers.1.weight", "layers.1.bias"])
        XCTAssertEqual(bufs.names, ["layers.1.running_mean", "layers.1.running_var"])
        let gamma = [1.5, -0.5, 2.0], beta = [0.1, 0.2, -0.3]
        try params.set("layers.1.weight", Tensor(shape: [c], data: gamma))
        try params.set("layers.1.bias", Tensor(shape: [c], data: beta))
        let x = randomArray(n * c * hw, std: 2, seed: 30).map { $0 + 3 }
        let y = bn.forward(Tensor(shape: [n, c, 2, 3], data: x), training: true)
        let (mean, v) = naiveMoments(x, n: n, c: c, hw: hw)
        var ref = [Double](repeating: 0, count: x.count)
        for b in 0..<n { for ch in 0..<c { for i in 0..<hw {
            let q = (b * c + ch) * hw + i
            ref[q] = gamma[ch] * (x[q] - mean[ch]) / (v[ch] + 1e-5).squareRoot() + beta[ch]
        } } }
        assertClose(y.data, ref, rtol: 1e-10, atol: 1e-10)
        let m = Double(n * hw)
        assertClose(bufs["layers.1.running_mean"]!.data, mean.map { 0.1 * $0 }, rtol: 1e-10, atol: 1e-12)
        assertClose(bufs["layers.1.running_var"]!.data, v.map { 0.9 + 0.1 * $0 * m / (m - 1) }, rtol: 1e-10, atol: 1e-12)
    }

    func testEvalModeUsesRunningStatistics() throws {
        let params = ParameterStore<Double>(), bufs = ParameterStore<Double>()
        let bn = BatchNorm(name: "bn", channels: 2, eps: 1e-3, momentum: 0.5, store: params, buffers: bufs)
        try bufs.set("bn.running_mean", Tensor(shape: [2], data: [1, -2]))
        try bufs.set("bn.running_var", Tensor(shape: [2], data: [4, 0.25]))
        try params.set("bn.weight", Tensor(shape: [2], data: [2, 3]))
        try params.set("bn.bias", Tensor(shape: [2], data: [0.5, -1]))
        let x = randomArray(10, seed: 31)
        let y = bn.forward(Tensor(shape: [5, 2], data: x), training: false)
        let ref = x.enumerated().map { i, v -> Double in
            let ch = i % 2
            return [2.0, 3][ch] * (v - [1.0, -2][ch]) / ([4.0, 0.25][ch] + 1e-3).squareRoot() + [0.5, -1][ch]
        }
        assertClose(y.data, ref, rtol: 1e-12, atol: 1e-12)
        // Eval leaves the statistics alone; train mode moves them.
        XCTAssertEqual(bufs["bn.running_mean"]!.data, [1, -2])
        _ = bn.forward(Tensor(shape: [5, 2], data: x), training: true)
        XCTAssertNotEqual(bufs["bn.running_mean"]!.data, [1, -2])
    }

    func testBatchNormGradients() throws {
        for shape in [[4, 3, 2, 2], [5, 3]] {
            let params = ParameterStore<Double>(), bufs = ParameterStore<Double>()
            let c = shape[1], hw = shape.count == 4 ? 4 : 1
            let bn = BatchNorm(name: "bn", channels: c, plane: hw, store: params, buffers: bufs)
            try params.set("bn.weight", randomTensor([c], seed: 32))
            try params.set("bn.bias", randomTensor([c], seed: 33))
            assertLayerGradients(bn, store: params, input: randomTensor(shape, seed: 34), rtol: 1e-5, atol: 1e-7)
        }
    }
}
