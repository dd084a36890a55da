import XCTest
@testable import LiftedTrain
import TestSupport

/// `BatchJacobian` against central differences, and the Gram–Gauss–Newton trainer: the exact
/// minimum-norm step on a linear model, singular Gram systems, convergence on a teacher.
final class GGNTests: XCTestCase {
    private func network(_ spec: ModelSpec, seed: UInt64) throws -> Network<Double> {
        var rng = SplitMix64(seed: seed)
        return try Network<Double>(spec: spec, rng: &rng)
    }

    func testBatchJacobianMatchesCentralDifferences() throws {
        // Two hidden layers, smooth activations, three outputs, a normalize layer in front.
        var spec = ModelSpec.mlp(input: 3, hidden: [4, 3], output: 3, activation: .tanh)
        spec.layers.insert(LayerSpec(type: "normalize", mean: 0.1, std: 2), at: 0)
        spec.layers.append(LayerSpec(type: "sigmoid"))
        // The dense names keep their model index: layers.1, layers.3, layers.5.
        for (i, l) in spec.layers.enumerated() where l.type == "dense" { spec.layers[i].name = "layers.\(i)" }
        let net = try network(spec, seed: 301)
        let b = 4, c = 3
        let x = Tensor<Double>(shape: [b, 3], data: randomArray(b * 3, seed: 302))
        var J = Tensor<Double>(zeros: [0])
        let jac = BatchJacobian(network: net)
        let f = jac.evaluate(x, into: &J)
        let theta = flatParameters(net)
        XCTAssertEqual(J.shape, [b * c, theta.count])
        assertClose(f, net.forward(x), rtol: 1e-14)
        for row in 0..<(b * c) {
            let (i, k) = (row / c, row % c)
            let numeric = numericalGradient(at: theta) { th in
                setFlatParameters(net, th)
                return net.forward(x)[i, k]
            }
            setFlatParameters(net, theta)
            assertClose(Array(J.data[(row * theta.count)..<((row + 1) * theta.count)]), numeric,
                        rtol: 1e-6, atol: 1e-9, "row \(row) (sample \(i), output \(k))")
        }
    }

    func testBatchJacobianOfReLUNetworkMatchesCentralDifferences() throws {
        let net = try network(.mlp(input: 4, hidden: [6], output: 1, activation: .relu), seed: 303)
        let x = Tensor<Double>(shape: [5, 4], data: randomArrayAvoidingZero(20, seed: 304))
        var J = Tensor<Double>(zeros: [0])
        BatchJacobian(network: net).evaluate(x, into: &J)
        let theta = flatParameters(net)
        for i in 0..<5 {
            let numeric = numericalGradient(at: theta, h: 1e-7) { th in
                setFlatParameters(net, th); return net.forward(x)[i, 0]
            }
            setFlatParameters(net, theta)
            assertClose(Array(J.data[(i * theta.count)..<((i + 1) * theta.count)]), numeric, rtol: 1e-6, atol: 1e-7, "sample \(i)")
        }
    }

    /// One step with η = 1, λ = 0 on y = Wx + b (P = d + 1 > b samples) lands on the minimum-norm
    /// least-squares solution: the step Δ solves A Δ = y − A θ (A = [X 1]) and lies in the row space
    /// of A, Δ = Aᵀ z — computed here by naive Gaussian elimination on A Aᵀ z = y − Aθ.
    func testOneStepOnLinearModelIsMinimumNormLeastSquares() throws {
        let d = 6, b = 4
        let net = try network(.mlp(input: d, hidden: [], output: 1, activation: .identity), seed: 305)
        let x = randomArray(b * d, seed: 306), y = randomArray(b, seed: 307)
        let theta = flatParameters(net)                     // weight [1, d], then bias [1]
        let A = (0..<b).map { i in Array(x[(i * d)..<((i + 1) * d)]) + [1.0] }
        let residual = (0..<b).map { i in y[i] - zip(A[i], theta).reduce(0) { $0 + $1.0 * $1.1 } }
        var M = (0..<b).map { i in (0..<b).map { j in zip(A[i], A[j]).reduce(0) { $0 + $1.0 * $1.1 } } }
        var z = residual
        for p in 0..<b {                                     // Gauss–Jordan, partial pivoting
            let q = (p..<b).max { abs(M[$0][p]) < abs(M[$1][p]) }!
            M.swapAt(p, q); z.swapAt(p, q)
            for i in 0..<b where i != p {
                let m = M[i][p] / M[p][p]
                for j in 0..<b { M[i][j] -= m * M[p][j] }
                z[i] -= m * z[p]
            }
        }
        for i in 0..<b { z[i] /= M[i][i] }
        let expected = theta.indices.map { k in theta[k] + (0..<b).reduce(0) { $0 + A[$1][k] * z[$1] } }

        let ggn = GGNTrainer(network: net, damping: 0, stepSize: 1)
        let report = try ggn.step(inputs: Tensor(shape: [b, d], data: x), targets: Tensor(shape: [b, 1], data: y))
        XCTAssertEqual(report.extra["ggn_damping"], 0, "a well-posed system needs no extra damping")
        assertClose(flatParameters(net), expected, rtol: 1e-10, atol: 1e-12)
        // The model now interpolates the data.
        assertClose(net.forward(Tensor(shape: [b, d], data: x)).data, y, rtol: 1e-10, atol: 1e-12)
    }

    func testSingularGramIsDampedNotCrashed() throws {
        // Exactly singular: G = [[1, 1], [1, 1]], inconsistent right-hand side.
        let g = Tensor<Double>(shape: [2, 2], data: [1, 1, 1, 1])
        let (alpha, used) = try solveGram(g, [1, -1], damping: 0)
        XCTAssertGreaterThan(used, 0)
        XCTAssertTrue(alpha.allSatisfy(\.isFinite))
        // A non-finite Gram is refused with a message.
        XCTAssertThrowsError(try solveGram(Tensor<Double>(shape: [1, 1], data: [.nan]), [1], damping: 0)) { e in
            XCTAssertTrue(e is TrainingError && "\(e)".contains("Gram"), "\(e)")
        }
        // Duplicate inputs with different targets, λ = 0, in Float: the step stays finite.
        var rng = SplitMix64(seed: 308)
        let net = try Network<Float>(spec: .mlp(input: 3, hidden: [8], output: 1, activation: .relu), rng: &rng)
        let row: [Float] = [0.3, -0.2, 0.9]
        let x = Tensor<Float>(shape: [3, 3], data: row + row + [0.1, 0.5, -0.4])
        let ggn = GGNTrainer(network: net, damping: 0, stepSize: 1)
        let report = try ggn.step(inputs: x, targets: Tensor(shape: [3, 1], data: [1, -1, 0.5]))
        XCTAssertGreaterThan(report.extra["ggn_damping"] ?? 0, 0)
        XCTAssertNil(net.parameters.firstNonFinite())
    }

    func testGGNConvergesOnTinyTeacherStudent() throws {
        let task = TeacherStudentTask(inputDim: 5, teacherWidth: 100, samples: 12, testSamples: 1, seed: 11)
        let data = task.make(Double.self).train
        let net = try network(.mlp(input: 5, hidden: [64], output: 1, activation: .relu), seed: 309)
        let ggn = GGNTrainer(network: net, damping: 0, stepSize: 1)
        var losses: [Double] = []
        for _ in 0..<8 { losses.append(try ggn.step(inputs: data.inputs, targets: data.targets!).loss) }
        let final = LossKind.mse.evaluate(net.forward(data.inputs), targets: data.targets!)
        XCTAssertLessThan(final, 1e-12, "losses \(losses) → \(final)")
        XCTAssertGreaterThan(losses[0], 1e-3)
        // Classification labels: squared error against one-hot targets, with accuracy.
        let cls = try network(.mlp(input: 5, hidden: [32], output: 3, activation: .tanh), seed: 310)
        let g2 = GGNTrainer(network: cls, damping: 1e-6, stepSize: 1)
        let labels: [Int32] = (0..<12).map { Int32($0 % 3) }
        var r = try g2.step(inputs: data.inputs, labels: labels)
        for _ in 0..<4 { r = try g2.step(inputs: data.inputs, labels: labels) }
        XCTAssertEqual(r.accuracy, 1)
        XCTAssertLessThan(r.loss, 1e-6)
    }

    /// The factored products GGN uses (J never formed) equal the products with the explicit J.
    func testFactoredGramAndTransposeProductEqualExplicitJacobian() throws {
        var spec = ModelSpec.mlp(input: 4, hidden: [5, 3], output: 2, activation: .relu)
        spec.layers.append(LayerSpec(type: "normalize", mean: 0, std: 3))
        let net = try network(spec, seed: 312)
        let x = Tensor<Double>(shape: [6, 4], data: randomArray(24, seed: 313))
        let jac = BatchJacobian(network: net)
        var J = Tensor<Double>(zeros: [0])
        jac.evaluate(x, into: &J)
        let (f, layers) = jac.factors(x)
        assertClose(f, net.forward(x), rtol: 1e-14)
        let rows = 12, P = jac.parameterCount
        let jjt = naiveMatmul(J.data, rows: rows, cols: P, transposeA: false, J.data, rows: rows, cols: P, transposeB: true)
        assertClose(BatchJacobian<Double>.gram(layers).data, jjt, rtol: 1e-12, atol: 1e-13)
        assertClose(jac.kernel(x).kernel.data, jjt, rtol: 1e-12, atol: 1e-13)
        let alpha = randomArray(rows, seed: 314)
        let jta = naiveMatmul(J.data, rows: rows, cols: P, transposeA: true, alpha, rows: rows, cols: 1, transposeB: false)
        assertClose(jac.transposeProduct(layers, alpha), jta, rtol: 1e-12, atol: 1e-13)
    }
}
