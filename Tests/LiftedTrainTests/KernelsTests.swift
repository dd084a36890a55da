import XCTest
@testable import LiftedTrain
import TestSupport

/// φ written the obvious way in Double, independently of `Kernels` (no max-shift tricks, no
/// library tanh): the reference for the forward kernels on inputs where it does not overflow.
func naiveActivation(_ kind: ActivationKind, alpha: Double, _ z: Double) -> Double {
    switch kind {
    case .identity: return z
    case .relu: return z > 0 ? z : 0
    case .leakyRelu: return z > 0 ? z : alpha * z
    case .sigmoid: return 1 / (1 + exp(-z))
    case .tanh: return 1 - 2 / (exp(2 * z) + 1)
    case .elu: return z > 0 ? z : alpha * (exp(z) - 1)
    case .softplus: return log(1 + exp(z))
    }
}

/// Applies a kernel to a copy of `z`.
func applyActivation<S: NNScalar>(_ kind: ActivationKind, alpha: Double, _ z: [S]) -> [S] {
    var y = z
    y.withUnsafeMutableBufferPointer { S.activationForward(kind, alpha: S(alpha), $0) }
    return y
}

/// dy ⊙ φ′(z) from the backward kernel.
func activationGradient<S: NNScalar>(_ kind: ActivationKind, alpha: Double, z: [S], dy: [S]) -> [S] {
    let y = applyActivation(kind, alpha: alpha, z)
    var g = dy
    z.withUnsafeBufferPointer { pz in
        y.withUnsafeBufferPointer { py in
            g.withUnsafeMutableBufferPointer { S.activationBackward(kind, alpha: S(alpha), z: pz, y: py, dy: $0) }
        }
    }
    return g
}

/// Non-default α where φ takes one, so that a kernel ignoring α fails.
func testAlpha(_ kind: ActivationKind) -> Double {
    switch kind {
    case .leakyRelu: return 0.2
    case .elu: return 0.7
    default: return 0
    }
}

/// Every `ActivationKind`: forward against the naive formula (including ±100, where a careless
/// sigmoid, softplus or ELU overflows), backward by central differences in Double.
final class ActivationTests: XCTestCase {
    let grid: [Double] = [-100, -20, -3, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 3, 20, 100]

    func testEveryKindIsCovered() {
        XCTAssertEqual(Set(ActivationKind.allCases.map(\.rawValue)),
                       ["relu", "leaky_relu", "sigmoid", "tanh", "elu", "softplus", "identity"])
    }

    func testForwardMatchesNaiveFormulaDouble() {
        for kind in ActivationKind.allCases {
            let alpha = testAlpha(kind)
            let expected = grid.map { naiveActivation(kind, alpha: alpha, $0) }
            assertClose(applyActivation(kind, alpha: alpha, grid), expected, rtol: 1e-13, atol: 1e-15, "\(kind)")
        }
    }

    func testForwardMatchesNaiveFormulaFloat() {
        for kind in ActivationKind.allCases {
            let alpha = testAlpha(kind)
            let expected = grid.map { naiveActivation(kind, alpha: Double(Float(alpha)), Double(Float($0))) }
            let y = applyActivation(kind, alpha: alpha, grid.map { Float($0) })
            XCTAssertTrue(y.allSatisfy(\.isFinite), "\(kind) Float: \(y)")
            assertClose(y, expected, rtol: 1e-6, atol: 1e-7, "\(kind) Float")
        }
    }

    func testKnownValues() {
        let z: [Double] = [-2, 0, 2]
        XCTAssertEqual(applyActivation(.relu, alpha: 0, z), [0, 0, 2])
        XCTAssertEqual(applyActivation(.leakyRelu, alpha: 0.1, z), [-0.2, 0, 2])
        XCTAssertEqual(applyActivation(.identity, alpha: 0, z), z)
        let (ln2, ln3, ln4) = (Foundation.log(2.0), Foundation.log(3.0), Foundation.log(4.0))
        assertClose(applyActivation(.sigmoid, alpha: 0, [0.0, ln3]), [0.5, 0.75], rtol: 1e-15)
        assertClose(applyActivation(.softplus, alpha: 0, [0.0, ln3]), [ln2, ln4], rtol: 1e-15)
        assertClose(applyActivation(.elu, alpha: 2, [-ln2, 1]), [-1.0, 1], rtol: 1e-15)
        assertClose(applyActivation(.tanh, alpha: 0, [ln2]), [0.6], rtol: 1e-15)
    }

    /// Inputs far beyond where the naive formulas overflow: the kernels stay finite and reach
    /// the right limits, forward and backward, in both precisions.
    private func checkExtremes<S: NNScalar>(_: S.Type) {
        let big: [S] = [-1000, -100, 100, 1000]
        let limits: [ActivationKind: [Double]] = [
            .sigmoid: [0, 0, 1, 1], .tanh: [-1, -1, 1, 1], .elu: [-0.7, -0.7, 100, 1000],
            .softplus: [0, 0, 100, 1000], .relu: [0, 0, 100, 1000], .leakyRelu: [-200, -20, 100, 1000],
        ]
        for (kind, limit) in limits {
            let alpha = testAlpha(kind)
            let y = applyActivation(kind, alpha: alpha, big)
            XCTAssertTrue(y.allSatisfy(\.isFinite), "\(kind) \(S.self) forward at ±100, ±1000: \(y)")
            assertClose(y, limit, rtol: 1e-6, atol: 1e-30, "\(kind) \(S.self) limits")
            let g = activationGradient(kind, alpha: alpha, z: big, dy: [1, 1, 1, 1])
            XCTAssertTrue(g.allSatisfy(\.isFinite), "\(kind) \(S.self) backward at ±100, ±1000: \(g)")
        }
    }

    func testExtremeInputsStayFiniteFloat() { checkExtremes(Float.self) }
    func testExtremeInputsStayFiniteDouble() { checkExtremes(Double.self) }

    func testNaNPropagatesThroughForward() {
        // A diverging run must show as NaN, not be masked to a finite number.
        for kind in ActivationKind.allCases where kind != .relu && kind != .leakyRelu && kind != .elu {
            XCTAssertTrue(applyActivation(kind, alpha: testAlpha(kind), [Double.nan])[0].isNaN, "\(kind)")
        }
    }

    func testBackwardMatchesCentralDifferences() {
        let z = randomArrayAvoidingZero(24, std: 2, seed: 21) + [-6, 6]
        let dy = randomArray(z.count, seed: 22)
        for kind in ActivationKind.allCases {
            let alpha = testAlpha(kind)
            // f(z) = Σ dyᵢ φ(zᵢ)  ⇒  ∂f/∂zᵢ = dyᵢ φ′(zᵢ), what the backward kernel returns.
            let f: ([Double]) -> Double = { zz in
                zip(applyActivation(kind, alpha: alpha, zz), dy).reduce(0) { $0 + $1.0 * $1.1 }
            }
            assertGradient(activationGradient(kind, alpha: alpha, z: z, dy: dy), of: f, at: z, "\(kind)")
        }
    }

    func testBackwardFloatAgreesWithDouble() {
        let z = randomArrayAvoidingZero(16, std: 2, seed: 23)
        let dy = randomArray(z.count, seed: 24)
        for kind in ActivationKind.allCases {
            let alpha = testAlpha(kind)
            let gd = activationGradient(kind, alpha: alpha, z: z, dy: dy)
            let gf = activationGradient(kind, alpha: alpha, z: z.map { Float($0) }, dy: dy.map { Float($0) })
            assertClose(gf, gd, rtol: 1e-5, atol: 1e-6, "\(kind)")
        }
    }

    func testReLUConventionsAtZero() {
        // PyTorch's convention: the subgradient at 0 is taken from the left.
        XCTAssertEqual(activationGradient(.relu, alpha: 0, z: [0.0], dy: [3]), [0])
        XCTAssertEqual(activationGradient(.leakyRelu, alpha: 0.1, z: [0.0], dy: [3]), [3 * 0.1])
    }

    func testLayerForwardAndBackward() {
        let z = randomArrayAvoidingZero(12, seed: 25)
        let dy = randomArray(12, seed: 26)
        for kind in ActivationKind.allCases {
            let alpha = testAlpha(kind)
            let layer = Activation<Double>(kind, alpha: kind.usesAlpha ? alpha : nil)
            XCTAssertEqual(layer.spec.type, kind.rawValue)
            XCTAssertEqual(layer.spec.alpha, kind.usesAlpha ? alpha : nil)
            let y = layer.forward(Tensor(shape: [3, 4], data: z), training: true)
            XCTAssertEqual(y.shape, [3, 4])
            XCTAssertEqual(y.data, applyActivation(kind, alpha: alpha, z))
            let dx = layer.backward(Tensor(shape: [3, 4], data: dy), needInput: true)
            XCTAssertEqual(dx?.data, activationGradient(kind, alpha: alpha, z: z, dy: dy), "\(kind)")
        }
    }

    func testDefaultAlphas() {
        let leaky = Activation<Double>(.leakyRelu)
        XCTAssertEqual(leaky.alpha, 0.01)
        XCTAssertEqual(leaky.forward(Tensor(shape: [1], data: [-2]), training: false).data, [-0.02])
        let elu = Activation<Double>(.elu)
        XCTAssertEqual(elu.alpha, 1)
    }

    func testLipschitzConstantBoundsTheDerivative() {
        let z = stride(from: -8.0, through: 8.0, by: 1.0 / 64).map { $0 }
        let ones = [Double](repeating: 1, count: z.count)
        for kind in ActivationKind.allCases {
            for alpha in kind.usesAlpha ? [0.3, 1.0, 2.5] : [0.0] {
                let slope = activationGradient(kind, alpha: alpha, z: z, dy: ones).map(abs).max()!
                let beta = kind.lipschitz(alpha: alpha)
                XCTAssertLessThanOrEqual(slope, beta * (1 + 1e-12), "\(kind) α = \(alpha)")
                // …and is attained (up to the grid), so it is not a loose bound.
                XCTAssertGreaterThan(slope, beta * 0.95, "\(kind) α = \(alpha)")
            }
        }
    }
}

/// The small per-buffer kernels.
final class KernelsTests: XCTestCase {
    func testMultiply() {
        var z = [Double](repeating: 0, count: 3)
        let x: [Double] = [1, 2, 3], y: [Double] = [-1, 0.5, 2]
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                z.withUnsafeMutableBufferPointer { Double.multiply(px, py, into: $0) }
            }
        }
        XCTAssertEqual(z, [-1, 1, 6])
    }

    func testMaxAbs() {
        func maxAbs(_ x: [Float]) -> Float { x.withUnsafeBufferPointer { Float.maxAbs($0) } }
        XCTAssertEqual(maxAbs([]), 0)
        XCTAssertEqual(maxAbs([1, -5, 3]), 5)
        XCTAssertEqual(maxAbs([1, -.infinity]), .infinity)
        XCTAssertTrue(maxAbs([1, .nan, 7]).isNaN)
        XCTAssertTrue(maxAbs([.infinity, .nan]).isNaN)
    }

    func testClamp() {
        var x: [Double] = [-3, -1, 0, 2, 9]
        x.withUnsafeMutableBufferPointer { Double.clamp($0, lo: -1.5, hi: 2) }
        XCTAssertEqual(x, [-1.5, -1, 0, 2, 2])
    }

    func testFromBytes() {
        let bytes: [UInt8] = [0, 51, 255]
        var out = [Float](repeating: -1, count: 3)
        bytes.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { Float.fromBytes(pb, scale: 1 / 255, into: $0) }
        }
        assertClose(out, [0.0, 0.2, 1.0], rtol: 1e-7)
    }
}
