import XCTest
@testable import LiftedTrain
import TestSupport

/// `Dense` (y = x Wᵀ + b, PyTorch layout) and `Normalize`: forward against naive loops,
/// backward by central differences in Double through a test-only loss.
final class DenseTests: XCTestCase {
    let (batch, nIn, nOut) = (4, 3, 5)

    private func makeLayer<S: NNScalar>(_: S.Type, store: ParameterStore<S>, seed: UInt64 = 30) -> Dense<S> {
        let w = Tensor<S>(shape: [nOut, nIn], data: randomArray(nOut * nIn, seed: seed).map { S($0) })
        let b = Tensor<S>(shape: [nOut], data: randomArray(nOut, seed: seed + 1).map { S($0) })
        return Dense(name: "layers.0", inputSize: nIn, outputSize: nOut, store: store, weight: w, bias: b)
    }

    /// yᵣⱼ = Σₖ xᵣₖ Wⱼₖ + bⱼ
    private func naiveDense(x: [Double], w: [Double], b: [Double], batch: Int, nIn: Int, nOut: Int) -> [Double] {
        var y = [Double](repeating: 0, count: batch * nOut)
        for r in 0..<batch {
            for j in 0..<nOut {
                var s = b[j]
                for k in 0..<nIn { s += x[r * nIn + k] * w[j * nIn + k] }
                y[r * nOut + j] = s
            }
        }
        return y
    }

    private func checkForward<S: NNScalar>(_: S.Type, rtol: Double) {
        let store = ParameterStore<S>()
        let layer = makeLayer(S.self, store: store)
        let x = randomArray(batch * nIn, seed: 32)
        let y = layer.forward(Tensor(shape: [batch, nIn], data: x.map { S($0) }), training: false)
        XCTAssertEqual(y.shape, [batch, nOut])
        let expected = naiveDense(x: x, w: store.values[0].data.map { Double($0) },
                                  b: store.values[1].data.map { Double($0) }, batch: batch, nIn: nIn, nOut: nOut)
        assertClose(y.data, expected, rtol: rtol, atol: rtol, "\(S.self)")
    }

    func testForwardMatchesNaiveDouble() { checkForward(Double.self, rtol: 1e-13) }
    func testForwardMatchesNaiveFloat() { checkForward(Float.self, rtol: 1e-5) }

    func testForwardOfAKnownLayer() {
        // W = [1 2; 0 −1; 3 0], b = [0.5, 0, −1]; x = [1, 1] → [3.5, −1, 2]
        let store = ParameterStore<Double>()
        let layer = Dense(name: "d", inputSize: 2, outputSize: 3, store: store,
                          weight: Tensor(shape: [3, 2], data: [1, 2, 0, -1, 3, 0]),
                          bias: Tensor(shape: [3], data: [0.5, 0, -1]))
        XCTAssertEqual(store.names, ["d.weight", "d.bias"])
        XCTAssertEqual(layer.forward(Tensor(shape: [1, 2], data: [1, 1]), training: false).data, [3.5, -1, 2])
        // A batch of one row and a batch of two rows give the same per-row answer.
        XCTAssertEqual(layer.forward(Tensor(shape: [2, 2], data: [1, 1, 0, 0]), training: false).data,
                       [3.5, -1, 2, 0.5, 0, -1])
    }

    /// The test loss L(y) = Σ ½ cᵢ yᵢ² + dᵢ yᵢ, with ∂L/∂y = c ⊙ y + d.
    private struct QuadraticLoss {
        let c: [Double], d: [Double]
        init(count: Int, seed: UInt64) {
            c = randomArray(count, seed: seed).map { 0.5 + abs($0) }
            d = randomArray(count, seed: seed + 1)
        }
        func value(_ y: [Double]) -> Double { y.indices.reduce(0) { $0 + 0.5 * c[$1] * y[$1] * y[$1] + d[$1] * y[$1] } }
        func gradient(_ y: [Double]) -> [Double] { y.indices.map { c[$0] * y[$0] + d[$0] } }
    }

    func testBackwardMatchesCentralDifferences() {
        let store = ParameterStore<Double>()
        let layer = makeLayer(Double.self, store: store)
        let x = randomArray(batch * nIn, seed: 33)
        let loss = QuadraticLoss(count: batch * nOut, seed: 34)

        let y = layer.forward(Tensor(shape: [batch, nIn], data: x), training: true)
        let dx = layer.backward(Tensor(shape: [batch, nOut], data: loss.gradient(y.data)), needInput: true)!
        let (dW, db) = (store.grads[0], store.grads[1])
        XCTAssertEqual(dW.shape, [nOut, nIn])
        XCTAssertEqual(db.shape, [nOut])
        XCTAssertEqual(dx.shape, [batch, nIn])

        let w0 = store.values[0], b0 = store.values[1]
        func lossAt(x: [Double], w: [Double], b: [Double]) -> Double {
            store.values[0] = Tensor(shape: [nOut, nIn], data: w)
            store.values[1] = Tensor(shape: [nOut], data: b)
            defer { store.values[0] = w0; store.values[1] = b0 }
            return loss.value(layer.forward(Tensor(shape: [batch, nIn], data: x), training: false).data)
        }
        assertGradient(dW.data, of: { lossAt(x: x, w: $0, b: b0.data) }, at: w0.data, "dW")
        assertGradient(db.data, of: { lossAt(x: x, w: w0.data, b: $0) }, at: b0.data, "db")
        assertGradient(dx.data, of: { lossAt(x: $0, w: w0.data, b: b0.data) }, at: x, "dx")
    }

    func testBackwardUsesTheTrainingForwardInput() {
        // An inference forward pass between the training forward and backward must not change
        // what backward differentiates (the layer caches x only when training).
        let store = ParameterStore<Double>()
        let layer = makeLayer(Double.self, store: store)
        let x = randomArray(batch * nIn, seed: 35)
        let dy = Tensor<Double>(shape: [batch, nOut], data: randomArray(batch * nOut, seed: 36))
        _ = layer.forward(Tensor(shape: [batch, nIn], data: x), training: true)
        _ = layer.backward(dy, needInput: false)
        let dW = store.grads[0]
        _ = layer.forward(Tensor(shape: [batch, nIn], data: x), training: true)
        _ = layer.forward(Tensor(shape: [2, nIn], data: randomArray(2 * nIn, seed: 37)), training: false)
        _ = layer.backward(dy, needInput: false)
        XCTAssertEqual(store.grads[0], dW)
    }

    func testBackwardWithoutInputGradientStillFillsParameterGradients() {
        let store = ParameterStore<Float>()
        let layer = makeLayer(Float.self, store: store)
        let x = Tensor<Float>(shape: [batch, nIn], data: randomArray(batch * nIn, seed: 38).map { Float($0) })
        let dy = Tensor<Float>(shape: [batch, nOut], data: randomArray(batch * nOut, seed: 39).map { Float($0) })
        _ = layer.forward(x, training: true)
        XCTAssertNil(layer.backward(dy, needInput: false))
        // dW = dyᵀ x, db = column sums of dy, against naive loops.
        let expectedW = naiveMatmul(dy.data.map { Double($0) }, rows: batch, cols: nOut, transposeA: true,
                                    x.data.map { Double($0) }, rows: batch, cols: nIn, transposeB: false)
        let expectedB = (0..<nOut).map { j in (0..<batch).reduce(0.0) { $0 + Double(dy[$1, j]) } }
        assertClose(store.grads[0].data, expectedW, rtol: 1e-5, atol: 1e-5)
        assertClose(store.grads[1].data, expectedB, rtol: 1e-5, atol: 1e-5)
    }

    func testBatchSizeCanChangeBetweenCalls() {
        // The cached vector of ones must follow the batch size.
        let store = ParameterStore<Double>()
        let layer = makeLayer(Double.self, store: store)
        for n in [3, 1, 6] {
            let x = randomArray(n * nIn, seed: UInt64(40 + n))
            let y = layer.forward(Tensor(shape: [n, nIn], data: x), training: true)
            let expected = naiveDense(x: x, w: store.values[0].data, b: store.values[1].data, batch: n, nIn: nIn, nOut: nOut)
            assertClose(y.data, expected, rtol: 1e-13, atol: 1e-13, "batch \(n)")
            let dy = Tensor<Double>(repeating: 1, shape: [n, nOut])
            _ = layer.backward(dy, needInput: false)
            let colSums = (0..<nIn).map { k in (0..<n).reduce(0.0) { $0 + x[$1 * nIn + k] } }
            for j in 0..<nOut {
                assertClose(Array(store.grads[0].data[(j * nIn)..<((j + 1) * nIn)]), colSums, rtol: 1e-13, atol: 1e-13)
            }
            XCTAssertEqual(store.grads[1].data, [Double](repeating: Double(n), count: nOut), "db for batch \(n)")
        }
    }
}

/// `Normalize`: y = (x − mean) / std and dx = dy / std.
final class NormalizeTests: XCTestCase {
    func testForwardAndBackward() {
        let layer = Normalize<Double>(mean: 0.5, std: 0.25)
        XCTAssertEqual(layer.spec, LayerSpec(type: "normalize", mean: 0.5, std: 0.25))
        let y = layer.forward(Tensor(shape: [2, 2], data: [0.5, 1, 0, 0.75]), training: true)
        XCTAssertEqual(y.data, [0, 2, -2, 1])
        let dx = layer.backward(Tensor(shape: [2, 2], data: [1, -1, 0.5, 2]), needInput: true)
        XCTAssertEqual(dx?.data, [4, -4, 2, 8])
        XCTAssertNil(layer.backward(Tensor(shape: [2, 2], data: [1, -1, 0.5, 2]), needInput: false))
    }

    func testBackwardMatchesCentralDifferences() {
        let layer = Normalize<Double>(mean: 0.1307, std: 0.3081)
        let x = randomArray(6, seed: 45)
        let w = randomArray(6, seed: 46)
        let f: ([Double]) -> Double = { xx in
            zip(layer.forward(Tensor(shape: [2, 3], data: xx), training: false).data, w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let dx = layer.backward(Tensor(shape: [2, 3], data: w), needInput: true)!
        assertGradient(dx.data, of: f, at: x)
    }
}
