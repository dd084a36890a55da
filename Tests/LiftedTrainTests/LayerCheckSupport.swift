import XCTest
@testable import LiftedTrain
import TestSupport

/// Gradient checks of one layer in Double: L = Σ r ⊙ layer(x) with fixed random r, so ∂L/∂y = r.
/// Checks ∂L/∂x (when `checkInput`) and every parameter in `store` by central differences.
func assertLayerGradients(_ layer: any Layer<Double>, store: ParameterStore<Double>, input x: Tensor<Double>,
                          checkInput: Bool = true, rtol: Double = 1e-6, atol: Double = 1e-8, seed: UInt64 = 99,
                          file: StaticString = #filePath, line: UInt = #line) {
    let y = layer.forward(x, training: true)
    let r = randomArray(y.count, seed: seed)
    let dx = layer.backward(Tensor(shape: y.shape, data: r), needInput: true)
    let analytic = store.grads.map(\.data)
    func loss() -> Double {
        let out = layer.forward(x, training: true)
        return zip(out.data, r).reduce(0) { $0 + $1.0 * $1.1 }
    }
    if checkInput {
        guard let dx else { XCTFail("no input gradient", file: file, line: line); return }
        XCTAssertEqual(dx.shape, x.shape, "dx shape", file: file, line: line)
        assertGradient(dx.data, of: { v in
            let out = layer.forward(Tensor(shape: x.shape, data: v), training: true)
            return zip(out.data, r).reduce(0) { $0 + $1.0 * $1.1 }
        }, at: x.data, rtol: rtol, atol: atol, "input of \(layer.spec.type)", file: file, line: line)
    }
    for (i, name) in store.names.enumerated() {
        let original = store.values[i].data
        assertGradient(analytic[i], of: { v in
            store.values[i].data = v
            defer { store.values[i].data = original }
            return loss()
        }, at: original, rtol: rtol, atol: atol, "parameter \(name)", file: file, line: line)
    }
}
