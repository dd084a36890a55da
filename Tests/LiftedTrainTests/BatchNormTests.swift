import XCTest
@testable import LiftedTrain
import TestSupport

/// Batch normalisation against naive per-channel statistics; train and eval modes; gradients.
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

    /// Float's eight-lane kernels (planes of 8k + tail elements) agree with the Double layer.
    func testFloatKernelsAgreeWithDouble() throws {
        let (n, c, hw) = (3, 2, 19)
        let x = randomTensor([n, c, 1, hw], seed: 40), dy = randomTensor([n, c, 1, hw], seed: 41)
        var outputs: [[Double]] = []
        for float in [false, true] {
            if float {
                let p = ParameterStore<Float>(), b = ParameterStore<Float>()
                let bn = BatchNorm(name: "bn", channels: c, plane: hw, store: p, buffers: b)
                try p.set("bn.weight", Tensor(shape: [c], data: [1.5, -0.5]))
                try p.set("bn.bias", Tensor(shape: [c], data: [0.25, 2]))
                let y = bn.forward(x.converted(to: Float.self), training: true)
                let dx = bn.backward(dy.converted(to: Float.self), needInput: true)!
                outputs.append((y.data + dx.data + p.grads[0].data + p.grads[1].data).map(Double.init))
            } else {
                let p = ParameterStore<Double>(), b = ParameterStore<Double>()
                let bn = BatchNorm(name: "bn", channels: c, plane: hw, store: p, buffers: b)
                try p.set("bn.weight", Tensor(shape: [c], data: [1.5, -0.5]))
                try p.set("bn.bias", Tensor(shape: [c], data: [0.25, 2]))
                let y = bn.forward(x, training: true)
                let dx = bn.backward(dy, needInput: true)!
                outputs.append(y.data + dx.data + p.grads[0].data + p.grads[1].data)
            }
        }
        assertClose(outputs[1], outputs[0], rtol: 1e-4, atol: 1e-4)
    }
}
