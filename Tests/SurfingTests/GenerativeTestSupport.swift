import XCTest
import LiftedTrain
@testable import Surfing

/// Builds a Double network from layer descriptions with N(0, std²) weights and biases.
func tinyNetwork(input: [Int], _ layers: [LayerSpec], std: Double = 0.5, seed: UInt64) throws -> Network<Double> {
    var rng = SplitMix64(seed: seed)
    let net = try Network<Double>(spec: ModelSpec(inputShape: input, layers: layers), rng: &rng)
    for i in net.parameters.names.indices where !net.parameters.names[i].contains("running") {
        let isBatchNormScale = net.parameters.values[i].shape.count == 1 && net.parameters.names[i].hasSuffix(".weight")
        var t = Tensor<Double>.randomNormal(shape: net.parameters.values[i].shape, std: std, using: &rng)
        if isBatchNormScale { for j in t.data.indices { t.data[j] += 1 } }
        net.parameters.values[i] = t
    }
    return net
}

func dense(_ k: Int, _ a: Int, _ b: Int) -> LayerSpec { LayerSpec(type: "dense", name: "layers.\(k)", in: a, out: b) }
func act(_ t: String, _ alpha: Double? = nil) -> LayerSpec { LayerSpec(type: t, alpha: alpha) }
func bn(_ k: Int, _ c: Int) -> LayerSpec { LayerSpec(type: "batchnorm", name: "layers.\(k)", channels: c) }

/// Compares the gradients in `store.grads` (already computed for f at the current values) with
/// central differences of `f` over every parameter element (at most `limit` per tensor).
func assertGradientsMatch(_ store: ParameterStore<Double>, _ label: String = "", h: Double = 1e-6, rtol: Double = 1e-5, atol: Double = 1e-8,
                          limit: Int = 40, file: StaticString = #filePath, line: UInt = #line, _ f: () -> Double) {
    let analytic = store.grads
    var compared = 0
    for i in store.values.indices {
        let n = store.values[i].count
        let stride = max(1, n / limit)
        for j in Swift.stride(from: 0, to: n, by: stride) {
            let x0 = store.values[i].data[j]
            store.values[i].data[j] = x0 + h
            let fp = f()
            store.values[i].data[j] = x0 - h
            let fm = f()
            store.values[i].data[j] = x0
            let numeric = (fp - fm) / (2 * h)
            let a = analytic[i].data[j]
            // Written so that a NaN on either side fails.
            if !(abs(a - numeric) <= atol + rtol * max(abs(numeric), abs(a))) {
                XCTFail("\(label) \(store.names[i])[\(j)]: analytic \(a), central difference \(numeric)", file: file, line: line)
                return
            }
            compared += 1
        }
    }
    XCTAssertGreaterThan(compared, 0, file: file, line: line)
}
