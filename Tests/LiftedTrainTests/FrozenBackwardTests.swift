import XCTest
@testable import LiftedTrain
import TestSupport

/// Input-gradient-only backward (`ParameterStore.frozen`) and the eval-mode batch-norm backward
/// (`BatchNorm.useRunningStatistics`, `Network.inputGradientMode`).
final class FrozenBackwardTests: XCTestCase {
    /// One layer's ∂L/∂x for L = Σ r ⊙ layer(x), with the store frozen or not.
    func inputGradient(_ layer: any Layer<Double>, _ x: Tensor<Double>, seed: UInt64) -> Tensor<Double> {
        let y = layer.forward(x, training: true)
        return layer.backward(Tensor(shape: y.shape, data: randomArray(y.count, seed: seed)), needInput: true)!
    }

    /// Frozen backward gives the same ∂L/∂x as the full backward and leaves the gradients alone.
    func testFrozenLayersGiveTheSameInputGradientAndSkipParameterGradients() throws {
        let cases: [(any Layer<Double>, ParameterStore<Double>, [Int])] = {
            var out: [(any Layer<Double>, ParameterStore<Double>, [Int])] = []
            let s1 = ParameterStore<Double>()
            out.append((Dense(name: "d", inputSize: 5, outputSize: 4, store: s1, weight: randomTensor([4, 5], seed: 1),
                              bias: randomTensor([4], seed: 2)), s1, [3, 5]))
            let s2 = ParameterStore<Double>()
            out.append((Conv2D(name: "c", inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, inputHeight: 5,
                               inputWidth: 4, store: s2, weight: randomTensor([3, 2, 3, 3], seed: 3),
                               bias: randomTensor([3], seed: 4)), s2, [2, 2, 5, 4]))
            let s3 = ParameterStore<Double>()
            out.append((Conv2D(name: "c", inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1, inputHeight: 5,
                               inputWidth: 5, store: s3, weight: randomTensor([3, 2, 3, 3], seed: 5),
                               bias: randomTensor([3], seed: 6)), s3, [2, 2, 5, 5]))
            let s4 = ParameterStore<Double>()
            out.append((ConvTranspose2D(name: "t", inChannels: 3, outChannels: 2, kernel: 4, stride: 2, padding: 1,
                                        inputHeight: 3, inputWidth: 3, store: s4, weight: randomTensor([3, 2, 4, 4], seed: 7),
                                        bias: randomTensor([2], seed: 8)), s4, [2, 3, 3, 3]))
            return out
        }()
        for (layer, store, shape) in cases {
            let x = randomTensor(shape, seed: 11)
            store.frozen = false
            let full = inputGradient(layer, x, seed: 12)
            let sentinel = store.grads.map { Tensor<Double>(repeating: 7, shape: $0.shape) }
            store.grads = sentinel
            store.frozen = true
            let frozen = inputGradient(layer, x, seed: 12)
            assertClose(frozen, full, rtol: 1e-12, atol: 1e-12, "\(layer.spec.type) frozen dx")
            for (g, s) in zip(store.grads, sentinel) { XCTAssertEqual(g.data, s.data, "\(layer.spec.type): frozen wrote gradients") }
            let y = layer.forward(x, training: true)
            XCTAssertNil(layer.backward(Tensor(shape: y.shape, data: randomArray(y.count, seed: 1)), needInput: false))
        }
    }

    /// Eval-mode batch norm with a backward pass: output equals `forward(training: false)`, the
    /// running statistics stay, and dx, dγ, dβ match central differences of the eval forward.
    func testBatchNormEvalBackwardMatchesCentralDifferences() throws {
        for shape in [[4, 3, 2, 2], [5, 3]] {
            let params = ParameterStore<Double>(), bufs = ParameterStore<Double>()
            let c = shape[1], hw = shape.count == 4 ? 4 : 1
            let bn = BatchNorm(name: "bn", channels: c, plane: hw, eps: 1e-3, store: params, buffers: bufs)
            try params.set("bn.weight", randomTensor([c], seed: 32))
            try params.set("bn.bias", randomTensor([c], seed: 33))
            try bufs.set("bn.running_mean", randomTensor([c], seed: 35))
            try bufs.set("bn.running_var", Tensor(shape: [c], data: randomArray(c, seed: 36).map { 0.5 + $0 * $0 }))
            let x = randomTensor(shape, seed: 34)
            let eval = bn.forward(x, training: false)
            bn.useRunningStatistics = true
            let y = bn.forward(x, training: true)
            assertClose(y, eval, rtol: 0, atol: 0, "eval statistics in forward(training: true)")
            XCTAssertEqual(bufs["bn.running_var"]!.data, Tensor<Double>(shape: [c], data: randomArray(c, seed: 36).map { 0.5 + $0 * $0 }).data)
            assertLayerGradients(bn, store: params, input: x, rtol: 1e-6, atol: 1e-8)
            // The train-mode gradient differs (batch statistics), so the check above is not vacuous.
            bn.useRunningStatistics = false
            let trainDx = inputGradient(bn, x, seed: 99)
            bn.useRunningStatistics = true
            let evalDx = inputGradient(bn, x, seed: 99)
            XCTAssertGreaterThan(zip(trainDx.data, evalDx.data).map { abs($0 - $1) }.max()!, 1e-3)
        }
    }

    /// A generator-shaped network in input-gradient mode: ∂(Σ r ⊙ G(x))/∂x by central differences of
    /// the eval-mode forward, through dense, batch norm, ReLU, transposed convolution and sigmoid.
    func testNetworkInputGradientModeDifferentiatesTheEvalNetwork() throws {
        let spec = try ModelSpec.parse("""
        {"input_shape": [3], "layers": [
          {"name": "layers.0", "type": "dense", "in": 3, "out": 32},
          {"name": "layers.1", "type": "batchnorm", "channels": 32},
          {"type": "relu"},
          {"type": "unflatten", "shape": [2, 4, 4]},
          {"name": "layers.4", "type": "conv_transpose2d", "in_channels": 2, "out_channels": 1, "kernel": 4, "stride": 2, "padding": 1},
          {"type": "sigmoid"}]}
        """)
        var rng = SplitMix64(seed: 5)
        let net = try Network<Double>(spec: spec, rng: &rng)
        for (i, name) in net.buffers.names.enumerated() {
            let c = net.buffers.values[i].count
            try net.buffers.set(name, Tensor(shape: [c], data: randomArray(c, seed: 40 + UInt64(i)).map { name.hasSuffix("var") ? 0.5 + $0 * $0 : $0 }))
        }
        let x = randomTensor([2, 3], seed: 41)
        let r = randomArray(2 * net.outputSize, seed: 42)
        net.inputGradientMode = true
        let y = net.forward(x, training: true)
        assertClose(y, net.forward(x, training: false), rtol: 0, atol: 0, "input-gradient mode forward = eval forward")
        let dx = net.backward(Tensor(shape: y.shape, data: r), needInputGradient: true)!
        assertGradient(dx.data, of: { v in
            zip(net.forward(Tensor(shape: x.shape, data: v), training: false).data, r).reduce(0) { $0 + $1.0 * $1.1 }
        }, at: x.data, rtol: 1e-6, atol: 1e-9, "generator input gradient")
        XCTAssertTrue(net.parameters.frozen)
        net.inputGradientMode = false
        XCTAssertFalse(net.parameters.frozen)
    }
}
