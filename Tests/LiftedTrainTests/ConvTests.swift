import XCTest
@testable import LiftedTrain
import TestSupport

/// Naive NCHW cross-correlation, the reference for `Conv2D` (PyTorch's `F.conv2d` definition).
func naiveConv2D(_ x: [Double], n: Int, c: Int, h: Int, w: Int, weight: [Double], bias: [Double], o: Int, k: Int,
                 stride s: Int, padding p: Int) -> (y: [Double], ho: Int, wo: Int) {
    let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
    var y = [Double](repeating: 0, count: n * o * ho * wo)
    for b in 0..<n { for oc in 0..<o { for oh in 0..<ho { for ow in 0..<wo {
        var sum = bias[oc]
        for ch in 0..<c { for i in 0..<k { for j in 0..<k {
            let ih = oh * s - p + i, iw = ow * s - p + j
            if ih >= 0 && ih < h && iw >= 0 && iw < w {
                sum += weight[((oc * c + ch) * k + i) * k + j] * x[((b * c + ch) * h + ih) * w + iw]
            }
        } } }
        y[((b * o + oc) * ho + oh) * wo + ow] = sum
    } } } }
    return (y, ho, wo)
}

/// Naive transposed convolution (PyTorch's `F.conv_transpose2d`): each input pixel scatters its
/// weighted kernel onto the output. Weight `[C_in, C_out, k, k]`.
func naiveConvTranspose2D(_ x: [Double], n: Int, c: Int, h: Int, w: Int, weight: [Double], bias: [Double], o: Int,
                          k: Int, stride s: Int, padding p: Int, outputPadding op: Int) -> (y: [Double], ho: Int, wo: Int) {
    let ho = (h - 1) * s - 2 * p + k + op, wo = (w - 1) * s - 2 * p + k + op
    var y = [Double](repeating: 0, count: n * o * ho * wo)
    for b in 0..<n { for oc in 0..<o { for i in 0..<(ho * wo) { y[(b * o + oc) * ho * wo + i] = bias[oc] } } }
    for b in 0..<n { for ch in 0..<c { for ih in 0..<h { for iw in 0..<w {
        let v = x[((b * c + ch) * h + ih) * w + iw]
        for oc in 0..<o { for i in 0..<k { for j in 0..<k {
            let oh = ih * s - p + i, ow = iw * s - p + j
            if oh >= 0 && oh < ho && ow >= 0 && ow < wo {
                y[((b * o + oc) * ho + oh) * wo + ow] += v * weight[((ch * o + oc) * k + i) * k + j]
            }
        } } }
    } } } }
    return (y, ho, wo)
}

final class ConvTests: XCTestCase {
    func makeConv(c: Int, o: Int, k: Int, s: Int, p: Int, h: Int, w: Int, seed: UInt64)
        -> (Conv2D<Double>, ParameterStore<Double>, [Double], [Double]) {
        let store = ParameterStore<Double>()
        let wt = randomArray(o * c * k * k, std: 0.5, seed: seed), b = randomArray(o, seed: seed + 1)
        let conv = Conv2D(name: "layers.0", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p,
                          inputHeight: h, inputWidth: w, store: store,
                          weight: Tensor(shape: [o, c, k, k], data: wt), bias: Tensor(shape: [o], data: b))
        return (conv, store, wt, b)
    }

    func testConv2DForwardMatchesNaiveLoops() {
        for (c, o, k, s, p, h, w) in [(1, 2, 3, 1, 1, 5, 6), (3, 4, 3, 2, 1, 7, 5), (2, 3, 2, 1, 0, 4, 4), (2, 2, 5, 3, 2, 6, 7)] {
            let (conv, _, wt, b) = makeConv(c: c, o: o, k: k, s: s, p: p, h: h, w: w, seed: 1)
            let x = randomArray(3 * c * h * w, seed: 2)
            let y = conv.forward(Tensor(shape: [3, c * h * w], data: x), training: false)
            let ref = naiveConv2D(x, n: 3, c: c, h: h, w: w, weight: wt, bias: b, o: o, k: k, stride: s, padding: p)
            XCTAssertEqual(y.shape, [3, o, ref.ho, ref.wo])
            assertClose(y.data, ref.y, rtol: 1e-12, atol: 1e-12, "conv \(c)→\(o) k\(k) s\(s) p\(p)")
        }
    }

    func testConv2DFloatAgreesWithDouble() {
        let (conv, _, wt, b) = makeConv(c: 3, o: 5, k: 3, s: 1, p: 1, h: 8, w: 8, seed: 3)
        let store = ParameterStore<Float>()
        let convF = Conv2D<Float>(name: "c", inChannels: 3, outChannels: 5, kernel: 3, stride: 1, padding: 1,
                                  inputHeight: 8, inputWidth: 8, store: store,
                                  weight: Tensor(shape: [5, 3, 3, 3], data: wt.map(Float.init)),
                                  bias: Tensor(shape: [5], data: b.map(Float.init)))
        let x = randomArray(4 * 3 * 64, seed: 4)
        let yd = conv.forward(Tensor(shape: [4, 3, 8, 8], data: x), training: false)
        let yf = convF.forward(Tensor(shape: [4, 3, 8, 8], data: x.map(Float.init)), training: false)
        assertClose(yf.data, yd.data, rtol: 1e-4, atol: 1e-4)
    }

    func testConv2DGradients() {
        // Stride 1 takes the flipped-kernel input gradient (padding ≤ k − 1); the others fold with col2im.
        for (c, o, k, s, p) in [(2, 3, 3, 1, 1), (2, 2, 3, 2, 0), (1, 2, 2, 2, 1), (2, 2, 2, 1, 0), (1, 2, 3, 1, 2), (2, 1, 2, 1, 3)] {
            let (conv, store, _, _) = makeConv(c: c, o: o, k: k, s: s, p: p, h: 5, w: 4, seed: 5)
            assertLayerGradients(conv, store: store, input: randomTensor([2, c, 5, 4], seed: 6))
        }
    }

    /// A batch unfolded in several chunks (`ImageGeometry.chunk`) keeps every chunk's columns
    /// for the backward pass: dW equals Σ_n Σ_pos dy[n, o, pos] x[n, c, pos + (i − p, j − p)].
    func testWeightGradientOverSeveralChunks() {
        let (c, o, k, p, h, n) = (1, 2, 3, 1, 16, 240)
        XCTAssertGreaterThan(n, ImageGeometry.chunk(samples: n, columnElementsPerSample: c * k * k * h * h))
        let (conv, store, _, _) = makeConv(c: c, o: o, k: k, s: 1, p: p, h: h, w: h, seed: 30)
        let x = randomArray(n * c * h * h, seed: 31), dy = randomArray(n * o * h * h, seed: 32)
        _ = conv.forward(Tensor(shape: [n, c, h, h], data: x), training: true)
        _ = conv.backward(Tensor(shape: [n, o, h, h], data: dy), needInput: false)
        var ref = [Double](repeating: 0, count: o * c * k * k)
        for b in 0..<n { for oc in 0..<o { for ch in 0..<c { for i in 0..<k { for j in 0..<k {
            var sum = 0.0
            for r in 0..<h { for q in 0..<h {
                let (ih, iw) = (r + i - p, q + j - p)
                if ih >= 0 && ih < h && iw >= 0 && iw < h { sum += dy[((b * o + oc) * h + r) * h + q] * x[((b * c + ch) * h + ih) * h + iw] }
            } }
            ref[((oc * c + ch) * k + i) * k + j] += sum
        } } } } }
        assertClose(store.grads[0].data, ref, rtol: 1e-10, atol: 1e-10, "dW over chunks")
    }

    /// Work buffers are reused across calls: a layer that saw other batch sizes (and an
    /// evaluation pass) computes the same gradients as a fresh one.
    func testReusedBuffersGiveTheSameGradients() {
        let (used, usedStore, _, _) = makeConv(c: 2, o: 3, k: 3, s: 1, p: 1, h: 5, w: 5, seed: 16)
        let (fresh, freshStore, _, _) = makeConv(c: 2, o: 3, k: 3, s: 1, p: 1, h: 5, w: 5, seed: 16)
        _ = used.forward(randomTensor([5, 2, 5, 5], seed: 17), training: true)
        _ = used.backward(randomTensor([5, 3, 5, 5], seed: 18), needInput: true)
        let x = randomTensor([2, 2, 5, 5], seed: 19), dy = randomTensor([2, 3, 5, 5], seed: 20)
        _ = used.forward(x, training: true)
        _ = used.forward(randomTensor([7, 2, 5, 5], seed: 21), training: false)
        _ = used.forward(x, training: true)
        let a = used.backward(dy, needInput: true)!
        _ = fresh.forward(x, training: true)
        let b = fresh.backward(dy, needInput: true)!
        assertClose(a, b)
        assertClose(usedStore.grads[0], freshStore.grads[0])
        assertClose(usedStore.grads[1], freshStore.grads[1])
    }

    func testConvTranspose2DForwardMatchesNaiveLoops() {
        for (c, o, k, s, p, op) in [(2, 3, 3, 1, 1, 0), (3, 2, 4, 2, 1, 0), (2, 2, 3, 2, 1, 1), (1, 1, 5, 3, 0, 2)] {
            let store = ParameterStore<Double>()
            let wt = randomArray(c * o * k * k, seed: 7), b = randomArray(o, seed: 8)
            let ct = ConvTranspose2D(name: "g", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p,
                                     outputPadding: op, inputHeight: 3, inputWidth: 4, store: store,
                                     weight: Tensor(shape: [c, o, k, k], data: wt), bias: Tensor(shape: [o], data: b))
            let x = randomArray(2 * c * 12, seed: 9)
            let y = ct.forward(Tensor(shape: [2, c, 3, 4], data: x), training: false)
            let ref = naiveConvTranspose2D(x, n: 2, c: c, h: 3, w: 4, weight: wt, bias: b, o: o, k: k, stride: s,
                                           padding: p, outputPadding: op)
            XCTAssertEqual(y.shape, [2, o, ref.ho, ref.wo])
            assertClose(y.data, ref.y, rtol: 1e-12, atol: 1e-12, "convT \(c)→\(o) k\(k) s\(s) p\(p) op\(op)")
        }
    }

    /// ⟨conv(x), y⟩ = ⟨x, convT(y)⟩ with the same weight and no bias: the transposed convolution is
    /// the adjoint, as in PyTorch.
    func testConvTransposeIsTheAdjointOfConv() {
        let (c, o, k, s, p) = (3, 2, 3, 2, 1)
        let wt = randomArray(o * c * k * k, seed: 10)
        let conv = Conv2D<Double>(name: "a", inChannels: c, outChannels: o, kernel: k, stride: s, padding: p,
                                  inputHeight: 7, inputWidth: 7, store: ParameterStore(),
                                  weight: Tensor(shape: [o, c, k, k], data: wt), bias: Tensor(zeros: [o]))
        let ct = ConvTranspose2D<Double>(name: "b", inChannels: o, outChannels: c, kernel: k, stride: s, padding: p,
                                         inputHeight: 4, inputWidth: 4, store: ParameterStore(),
                                         weight: Tensor(shape: [o, c, k, k], data: wt), bias: Tensor(zeros: [c]))
        XCTAssertEqual([ct.outHeight, ct.outWidth], [7, 7])
        let x = randomTensor([2, c, 7, 7], seed: 11), yv = randomTensor([2, o, 4, 4], seed: 12)
        let lhs = zip(conv.forward(x, training: false).data, yv.data).reduce(0) { $0 + $1.0 * $1.1 }
        let rhs = zip(x.data, ct.forward(yv, training: false).data).reduce(0) { $0 + $1.0 * $1.1 }
        assertClose(lhs, rhs, rtol: 1e-12, atol: 1e-12)
    }

    func testConvTranspose2DGradients() {
        for (s, p, op) in [(1, 1, 0), (2, 1, 1)] {
            let store = ParameterStore<Double>()
            let ct = ConvTranspose2D(name: "g", inChannels: 2, outChannels: 3, kernel: 3, stride: s, padding: p,
                                     outputPadding: op, inputHeight: 3, inputWidth: 2, store: store,
                                     weight: randomTensor([2, 3, 3, 3], seed: 13), bias: randomTensor([3], seed: 14))
            assertLayerGradients(ct, store: store, input: randomTensor([2, 2, 3, 2], seed: 15))
        }
    }
}
