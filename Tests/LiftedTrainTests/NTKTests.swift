import XCTest
@testable import LiftedTrain
import TestSupport

/// Du et al.'s Gram H(W), its closed-form expectation H^∞, the empirical tangent kernel of the
/// one-hidden-layer ReLU network, and the NTK analysis of a run.
final class NTKTests: XCTestCase {
    /// f(W, a, x) = m^{-1/2} (Σ a_r relu(w_rᵀx + b_r) + c) as a network (--init ntk --output-scale).
    private func duNetwork(d: Int, m: Int, seed: UInt64) throws -> Network<Double> {
        var spec = ModelSpec.mlp(input: d, hidden: [m], output: 1, activation: .relu)
        spec.layers.append(LayerSpec(type: "normalize", mean: 0, std: Double(m).squareRoot()))
        var rng = SplitMix64(seed: seed)
        return try Network<Double>(spec: spec, initialization: .ntk, rng: &rng)
    }

    private func unitInputs(_ n: Int, _ d: Int, seed: UInt64) -> Tensor<Double> {
        var rng = SplitMix64(seed: seed)
        return TeacherStudentTask.unitSphere(count: n, dimension: d, using: &rng)
    }

    func testNTKInitialization() throws {
        let net = try duNetwork(d: 20, m: 500, seed: 401)
        let w = net.parameters.values[0].data, a = net.parameters.values[2].data
        XCTAssertTrue(a.allSatisfy { $0 == 1 || $0 == -1 })
        let pos = a.filter { $0 > 0 }.count
        XCTAssertTrue(pos > 200 && pos < 300, "\(pos) of 500 signs positive")
        let variance = w.reduce(0) { $0 + $1 * $1 } / Double(w.count)
        assertClose(variance, 1.0, rtol: 0.05)
        XCTAssertEqual(net.parameters.values[1].data, [Double](repeating: 0, count: 500))
    }

    func testReLUGramMatchesItsDefinition() throws {
        let (n, d, m) = (5, 3, 40)
        let x = Tensor<Double>(shape: [n, d], data: randomArray(n * d, seed: 402))
        let w = Tensor<Double>(shape: [m, d], data: randomArray(m * d, seed: 403))
        let b = Tensor<Double>(shape: [m], data: randomArray(m, std: 0.3, seed: 404))
        for bias in [nil, b] {
            var naive = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in 0..<n {
                    let xx = (0..<d).reduce(0.0) { $0 + x[i, $1] * x[j, $1] }
                    var s = 0.0
                    for r in 0..<m {
                        let zi = (0..<d).reduce(bias?.data[r] ?? 0) { $0 + w[r, $1] * x[i, $1] }
                        let zj = (0..<d).reduce(bias?.data[r] ?? 0) { $0 + w[r, $1] * x[j, $1] }
                        if zi >= 0 && zj >= 0 { s += xx }
                    }
                    naive[i * n + j] = s / Double(m)
                }
            }
            let h = NTKGram.relu(weights: w, bias: bias, inputs: x)
            assertClose(h.data, naive, rtol: 1e-13, atol: 1e-14, bias == nil ? "no bias" : "with bias")
            // Float agrees.
            let hf = NTKGram.relu(weights: w.converted(to: Float.self), bias: bias?.converted(to: Float.self),
                                  inputs: x.converted(to: Float.self))
            assertClose(hf.data, naive, rtol: 1e-5, atol: 1e-6)
        }
    }

    /// The empirical tangent kernel J Jᵀ of f = m^{-1/2}(Σ a_r relu(w_rᵀx + b_r) + c) against its
    /// definition: K_ij = (1/m)[Σ_r a_r² 1_ri 1_rj (x_iᵀx_j + 1) + Σ_r relu(z_ri) relu(z_rj) + 1].
    func testEmpiricalKernelOfOneHiddenReLUNetwork() throws {
        let (n, d, m) = (4, 3, 30)
        let net = try duNetwork(d: d, m: m, seed: 405)
        // Nonzero biases and non-unit output weights, so that every term is exercised.
        net.parameters.values[1] = Tensor(shape: [m], data: randomArray(m, std: 0.2, seed: 406))
        net.parameters.values[2] = Tensor(shape: [1, m], data: randomArray(m, seed: 407))
        let x = Tensor<Double>(shape: [n, d], data: randomArray(n * d, seed: 408))
        let (k, f) = BatchJacobian(network: net).kernel(x)
        let w = net.parameters.values[0], b = net.parameters.values[1].data, a = net.parameters.values[2].data
        func z(_ r: Int, _ i: Int) -> Double { (0..<d).reduce(b[r]) { $0 + w[r, $1] * x[i, $1] } }
        var naive = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let xx = (0..<d).reduce(0.0) { $0 + x[i, $1] * x[j, $1] }
                var s = 1.0
                for r in 0..<m {
                    let (zi, zj) = (z(r, i), z(r, j))
                    if zi > 0 && zj > 0 { s += a[r] * a[r] * (xx + 1) }
                    s += max(zi, 0) * max(zj, 0)
                }
                naive[i * n + j] = s / Double(m)
            }
        }
        assertClose(k.data, naive, rtol: 1e-12, atol: 1e-13)
        assertClose(f, net.forward(x), rtol: 1e-14)
    }

    func testClosedFormHInfinity() {
        // x_i = x_j (unit): ½; orthogonal: 0; opposite: 0; angle θ: cos θ (π − θ)/2π.
        let t = 1.0
        let x = Tensor<Double>(shape: [4, 2], data: [1, 0, 0, 1, -1, 0, cos(t), sin(t)])
        let h = NTKGram.infiniteWidth(inputs: x)
        assertClose(h[0, 0], 0.5, rtol: 1e-15)
        assertClose(h[0, 1], 0.0, atol: 1e-15)
        assertClose(h[0, 2], 0.0, atol: 1e-15)
        assertClose(h[0, 3], cos(t) * (Double.pi - t) / (2 * Double.pi), rtol: 1e-14)
        // In 2-D the expectation over w ~ N(0, I) is an average over w's angle φ: quadrature.
        let steps = 200_000
        var q = 0.0
        for s in 0..<steps {
            let phi = (Double(s) + 0.5) / Double(steps) * 2 * Double.pi
            if cos(phi) >= 0 && cos(phi - t) >= 0 { q += cos(t) }
        }
        assertClose(h[0, 3], q / Double(steps), rtol: 1e-4)
    }

    func testMeanOfH0ApproachesHInfinityAsWidthGrows() throws {
        let (n, d) = (6, 4)
        let x = unitInputs(n, d, seed: 409)
        let hInf = NTKGram.infiniteWidth(inputs: x)
        XCTAssertGreaterThan(try NTKGram.smallestEigenvalue(hInf), 0)
        // Mean over 4 draws of H(0) = H(W(0)), w_r ~ N(0, I): its error falls like 1/√m.
        func error(_ m: Int) throws -> Double {
            var mean = Tensor<Double>(zeros: [n, n])
            for k in 0..<4 {
                var rng = SplitMix64(seed: 410 + UInt64(k))
                let w = Tensor<Double>.randomNormal(shape: [m, d], std: 1, using: &rng)
                mean.add(NTKGram.relu(weights: w, inputs: x), scaledBy: 0.25)
            }
            return try NTKGram.spectralDistance(mean, hInf)
        }
        let (e1, e2, e3) = (try error(10), try error(1_000), try error(100_000))
        XCTAssertLessThan(e3, e2)
        XCTAssertLessThan(e2, e1)
        XCTAssertLessThan(e3, 0.01, "‖mean H(0) − H∞‖₂ at m = 100000: \(e3)")
        XCTAssertGreaterThan(e1, 3 * e3, "errors \(e1), \(e2), \(e3)")
    }

    func testAnalysisOfAGGNRun() throws {
        let task = TeacherStudentTask(inputDim: 4, teacherWidth: 50, samples: 8, testSamples: 1, seed: 411)
        let data = task.make(Double.self).train
        let net = try duNetwork(d: 4, m: 200, seed: 412)
        let analysis = try NTKAnalysis(inputs: data.inputs, targets: data.targets)
        XCTAssertGreaterThan(analysis.lambda0, 0)
        let first = try analysis.add(step: 0, network: net)
        XCTAssertTrue(analysis.isOneHiddenReLU)
        XCTAssertEqual(first.weightMovement, 0)
        XCTAssertEqual(first.distanceH, 0)
        assertClose(first.lambdaMinH, try NTKGram.smallestEigenvalue(NTKGram.relu(weights: net.parameters.values[0], inputs: data.inputs)), rtol: 1e-12)
        let ggn = GGNTrainer(network: net, damping: 0, stepSize: 1)
        for s in 1...3 {
            _ = try ggn.step(inputs: data.inputs, targets: data.targets!)
            try analysis.add(step: s, network: net)
        }
        let last = analysis.rows.last!
        XCTAssertLessThan(last.loss, 1e-10 * first.loss)
        XCTAssertGreaterThan(last.weightMovement, 0)
        XCTAssertLessThan(last.weightMovement, 0.5)
        XCTAssertTrue(analysis.distanceH0FromInfinity.isFinite)
        XCTAssertEqual(analysis.rows.map(\.step), [0, 1, 2, 3])
    }
}
