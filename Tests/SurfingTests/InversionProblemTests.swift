import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// The inversion objective f(x) = ½‖A G(x) − A y‖² and its gradient through every generator layer.
final class InversionProblemTests: XCTestCase {
    /// dense → batchnorm (eval) → relu → unflatten → conv_transpose2d → batchnorm (eval, 2-D) →
    /// relu → conv_transpose2d → sigmoid: the paper's generator in miniature.
    static let generatorJSON = """
    {"input_shape": [3], "layers": [
      {"name": "layers.0", "type": "dense", "in": 3, "out": 24},
      {"name": "layers.1", "type": "batchnorm", "channels": 24},
      {"type": "relu"},
      {"type": "unflatten", "shape": [6, 2, 2]},
      {"name": "layers.4", "type": "conv_transpose2d", "in_channels": 6, "out_channels": 3, "kernel": 4, "stride": 2, "padding": 1},
      {"name": "layers.5", "type": "batchnorm", "channels": 3},
      {"type": "relu"},
      {"name": "layers.7", "type": "conv_transpose2d", "in_channels": 3, "out_channels": 1, "kernel": 4, "stride": 2, "padding": 1},
      {"type": "sigmoid"}]}
    """

    /// Central differences of f in every coordinate of every trial, against the batched gradient.
    func checkGradient(_ problem: InversionProblem<Double>, b: Int, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let k = problem.latentSize, n = problem.signalSize
        let x = Tensor<Double>(shape: [b, k], data: randomArray(b * k, seed: seed))
        let y = Tensor<Double>(shape: [b, n], data: randomArray(b * n, seed: seed + 1).map { 0.5 + 0.2 * $0 })
        let ay = problem.measure(y)
        var grad = Tensor<Double>(zeros: [0])
        let f = problem.valuesAndGradients(x, measuredTargets: ay, gradient: &grad)
        XCTAssertEqual(grad.shape, [b, k], file: file, line: line)
        assertClose(f, problem.values(x, measuredTargets: ay), rtol: 1e-14, atol: 0, "values", file: file, line: line)
        // f by hand for trial 0: ½‖A G(x) − A y‖².
        let g0 = Array(problem.generate(x).data[0..<n]), y0 = Array(y.data[0..<n])
        var r = zip(g0, y0).map { $0 - $1 }
        if let A = problem.measurement {
            r = (0..<A.m).map { i in (0..<n).reduce(0) { $0 + A.a.data[i * n + $1] * r[$1] } }
        }
        assertClose([f[0]], [0.5 * r.reduce(0) { $0 + $1 * $1 }], rtol: 1e-12, atol: 0, "f by hand", file: file, line: line)
        var numeric = [Double]()
        let h = 1e-6
        for i in 0..<(b * k) {
            var xp = x, xm = x
            xp.data[i] += h; xm.data[i] -= h
            let row = i / k
            numeric.append((problem.values(xp, measuredTargets: ay)[row] - problem.values(xm, measuredTargets: ay)[row]) / (2 * h))
        }
        assertClose(grad.data, numeric, rtol: 1e-5, atol: 1e-8, "∇ₓf", file: file, line: line)
    }

    func testGradientThroughDenseConvTransposeBatchNormReLUSigmoid() throws {
        let net = try randomNetwork(Self.generatorJSON, seed: 3)
        XCTAssertEqual(net.outputShape, [1, 8, 8])
        checkGradient(InversionProblem(network: net), b: 4, seed: 10)
    }

    func testGradientWithGaussianMeasurements() throws {
        let net = try randomNetwork(Self.generatorJSON, seed: 4)
        var rng = SplitMix64(seed: 5)
        let a = MeasurementMatrix<Double>.gaussian(m: 20, n: 64, rng: &rng)
        checkGradient(InversionProblem(network: net, measurement: a), b: 3, seed: 11)
    }

    func testGradientThroughDenseReLUAndTanh() throws {
        let net = try randomNetwork("""
        {"input_shape": [4], "layers": [{"name": "a", "type": "dense", "in": 4, "out": 30}, {"type": "relu"},
          {"name": "b", "type": "dense", "in": 30, "out": 16}, {"type": "tanh"}]}
        """, seed: 6)
        checkGradient(InversionProblem(network: net), b: 2, seed: 12)
    }

    /// The measurement matrix has N(0, 1/m) entries: E‖A v‖² = ‖v‖² (checked on the sample variance).
    func testGaussianMeasurementScale() {
        var rng = SplitMix64(seed: 1)
        let a = MeasurementMatrix<Double>.gaussian(m: 200, n: 300, rng: &rng)
        let variance = a.a.data.reduce(0) { $0 + $1 * $1 } / Double(a.a.count)
        XCTAssertEqual(variance, 1.0 / 200, accuracy: 0.05 / 200)
    }

    /// Eval mode: the objective uses the running statistics, so a trial's value does not depend on
    /// the other trials in its batch (with train-mode batch statistics it would).
    func testTrialsDoNotInteractThroughBatchNorm() throws {
        let net = try randomNetwork(Self.generatorJSON, seed: 7)
        let problem = InversionProblem(network: net)
        let x = Tensor<Double>(shape: [3, 3], data: randomArray(9, seed: 8))
        let y = Tensor<Double>(shape: [3, 64], data: randomArray(192, seed: 9))
        var g = Tensor<Double>(zeros: [0]), g1 = g
        let f = problem.valuesAndGradients(x, measuredTargets: y, gradient: &g)
        let f1 = problem.valuesAndGradients(gather(x, [1]), measuredTargets: gather(y, [1]), gradient: &g1)
        assertClose([f[1]], f1, rtol: 1e-13, atol: 0, "f of trial 1 alone")
        assertClose(Array(g.data[3..<6]), g1.data, rtol: 1e-12, atol: 1e-15, "∇f of trial 1 alone")
    }
}
