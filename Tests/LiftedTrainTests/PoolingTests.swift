import XCTest
@testable import LiftedTrain
import TestSupport

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
