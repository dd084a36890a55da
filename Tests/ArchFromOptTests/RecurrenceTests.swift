import XCTest
import LiftedTrain
@testable import ArchFromOpt
import TestSupport

/// Recurrence networks: equivalences with the optimizers they come from and with their special
/// cases (each against an independent hand-written loop), gradients, and the JSON description.
final class RecurrenceTests: XCTestCase {
    /// A network of one recurrence layer on `[width]` inputs.
    func network(_ layer: LayerSpec, width: Int, seed: UInt64 = 1) throws -> Network<Double> {
        var rng = SplitMix64(seed: seed)
        return try Network<Double>(spec: ModelSpec(inputShape: [width], layers: [layer]), extensions: [ArchFromOpt.layers],
                                   rng: &rng)
    }

    /// `layer` with its recurrence fields changed by `change`.
    func modified(_ layer: LayerSpec, _ change: (inout RecurrenceSpec) -> Void) throws -> LayerSpec {
        var r = try RecurrenceSpec(layer)
        change(&r)
        return r.layerSpec(name: layer.name!)
    }

    /// An independent copy of dense block `prefix` (dense → batch norm → ReLU) with the same values.
    func referenceBlock(_ net: Network<Double>, _ prefix: String, width c: Int) throws -> (Tensor<Double>) -> Tensor<Double> {
        let store = ParameterStore<Double>(), bufs = ParameterStore<Double>()
        let d = Dense(name: "d", inputSize: c, outputSize: c, store: store,
                      weight: net.parameters[prefix + ".0.weight"]!, bias: net.parameters[prefix + ".0.bias"]!)
        let bn = BatchNorm(name: "bn", channels: c, store: store, buffers: bufs)
        try store.set("bn.weight", net.parameters[prefix + ".1.weight"]!)
        try store.set("bn.bias", net.parameters[prefix + ".1.bias"]!)
        let relu = Activation<Double>(.relu)
        return { x in relu.forward(bn.forward(d.forward(x, training: true), training: true), training: true) }
    }

    /// Gives every batch-norm γ, β of the network random values (so blocks differ from each other).
    func randomizeNormalisation(_ net: Network<Double>, seed: UInt64) {
        for (i, n) in net.parameters.names.enumerated() where n.hasSuffix(".1.weight") || n.hasSuffix(".1.bias") {
            net.parameters.values[i].data = randomArray(net.parameters.values[i].count, std: 0.5, seed: seed + UInt64(i))
                .map { n.hasSuffix("weight") ? 1 + $0 : $0 }
        }
    }

    /// Heavy ball on f(x) = ½ xᵀAx − bᵀx: x_{k+1} = x_k − η(Ax_k − b) + β(x_k − x_{k−1}), x_{−1} = x_0.
    /// With one linear block T(x) = (I − ηA)x + ηb applied at every step (tied weights) and
    /// β₁ = β, β₂ = −β, the recurrence network computes exactly these iterates.
    func testTiedLinearHeavyBallNetReproducesHeavyBallOnAQuadratic() throws {
        let n = 4, depth = 12, eta = 0.2, beta = 0.6
        let m = randomArray(n * n, seed: 3)
        var a = [Double](repeating: 0, count: n * n)   // A = MᵀM/n + I (SPD)
        for i in 0..<n { for j in 0..<n {
            a[i * n + j] = (0..<n).reduce(0) { $0 + m[$1 * n + i] * m[$1 * n + j] } / Double(n) + (i == j ? 1 : 0)
        } }
        let b = randomArray(n, seed: 4)
        let spec = Recurrences.heavyBall(name: "layers.0", depth: depth, block: .linear(width: n),
                                         beta1: { _ in beta }, beta2: { _ in -beta }, tied: true)
        XCTAssertEqual(try RecurrenceSpec(spec).blocks.count, 1)
        let net = try network(spec, width: n)
        XCTAssertEqual(net.parameters.names, ["layers.0.blocks.0.0.weight", "layers.0.blocks.0.0.bias"])
        try net.parameters.set("layers.0.blocks.0.0.weight",
                               Tensor(shape: [n, n], data: (0..<(n * n)).map { (($0 / n) == ($0 % n) ? 1 : 0) - eta * a[$0] }))
        try net.parameters.set("layers.0.blocks.0.0.bias", Tensor(shape: [n], data: b.map { eta * $0 }))

        let starts = randomArray(2 * n, seed: 5)
        let out = net.forward(Tensor(shape: [2, n], data: starts))
        var expected: [Double] = []
        for r in 0..<2 {
            var x = Array(starts[(r * n)..<(r * n + n)]), prev = x
            for _ in 0..<depth {
                let grad = (0..<n).map { i in (0..<n).reduce(0) { $0 + a[i * n + $1] * x[$1] } - b[i] }
                let next = (0..<n).map { i in x[i] - eta * grad[i] + beta * (x[i] - prev[i]) }
                prev = x; x = next
            }
            expected += x
        }
        assertClose(out.data, expected, rtol: 1e-12, atol: 1e-12)
        // And the iterates approach the minimiser A⁻¹b: the residual shrinks.
        let r0 = (0..<n).map { i in (0..<n).reduce(0) { $0 + a[i * n + $1] * starts[$1] } - b[i] }
        let rK = (0..<n).map { i in (0..<n).reduce(0) { $0 + a[i * n + $1] * out.data[$1] } - b[i] }
        XCTAssertLessThan(rK.map { $0 * $0 }.reduce(0, +), 0.1 * r0.map { $0 * $0 }.reduce(0, +))
    }

    /// HB-Net with learnable β₁, β₂ set to the special case β₁ = 1, β₂ = 0 is a ResNet:
    /// x_{k+1} = x_k + T_k(x_k), computed here by a separate loop over copies of the blocks.
    func testHBNetWithSpecialCoefficientsIsResNet() throws {
        let (c, depth) = (5, 4)
        let spec = Recurrences.heavyBall(name: "layers.0", depth: depth, block: .dense(width: c),
                                         beta1: { _ in 1 }, beta2: { _ in 0 }, learnable: true)
        let net = try network(spec, width: c)
        XCTAssertEqual(net.parameters["layers.0.states.1.coef"]!.data, [1, 0])
        randomizeNormalisation(net, seed: 6)
        let x = Tensor(shape: [6, c], data: randomArray(6 * c, seed: 7))
        var h = x
        for k in 0..<depth { h.add(try referenceBlock(net, "layers.0.blocks.\(k)", width: c)(h)) }
        assertClose(net.forward(x, training: true).data, h.data, rtol: 1e-12, atol: 1e-12)
        // A non-zero β₂ changes the result (the comparison can fail).
        net.parameters.values[net.parameters.slot(of: "layers.0.states.3.coef")!].data = [1, 0.5]
        XCTAssertGreaterThan(zip(net.forward(x, training: true).data, h.data).map { abs($0 - $1) }.max()!, 1e-3)
    }

    /// AGD-Net with learnable α = 1, β = 0 is the DenseNet-like network x_{k+1} = Σ_{j≤k} T_j(x_j).
    func testAGDNetWithSpecialCoefficientsIsDenseNetLike() throws {
        let (c, depth) = (4, 4)
        let spec = Recurrences.nesterov(name: "layers.0", depth: depth, block: .dense(width: c),
                                        alpha: { _, _ in 1 }, beta: { _, _ in 0 }, learnable: true)
        let net = try network(spec, width: c)
        XCTAssertEqual(net.parameters["layers.0.states.3.coef"]!.data, [1, 1, 1, 0, 0, 0])
        randomizeNormalisation(net, seed: 8)
        let x = Tensor(shape: [5, c], data: randomArray(5 * c, seed: 9))
        var xs = [x], ts: [Tensor<Double>] = []
        for k in 0..<depth {
            ts.append(try referenceBlock(net, "layers.0.blocks.\(k)", width: c)(xs[k]))
            var next = Tensor<Double>(zeros: x.shape)
            for t in ts { next.add(t) }
            xs.append(next)
        }
        assertClose(net.forward(x, training: true).data, xs[depth].data, rtol: 1e-12, atol: 1e-12)
    }

    /// ADMM-Net with learnable α, β set to ½ on the latest states (0 elsewhere) is DMRNet's
    /// merge-and-run: a_{k+1} = T'_k(a_k) + m_k, b_{k+1} = T_k(b_k) + m_k with m_k = ½(a_k + b_k),
    /// a_0 = b_0 = x, output ½(a_K + b_K).
    func testADMMNetWithSpecialCoefficientsIsDMRNet() throws {
        let (c, depth) = (4, 3)
        let spec = Recurrences.admm(name: "layers.0", depth: depth, block: .dense(width: c), coefficients: .dmrnet,
                                    learnable: true)
        let net = try network(spec, width: c)
        randomizeNormalisation(net, seed: 10)
        let x = Tensor(shape: [5, c], data: randomArray(5 * c, seed: 11))
        var a = x, b = x
        for k in 0..<depth {
            var m = a; m.add(b); m.scale(by: 0.5)
            var na = try referenceBlock(net, "layers.0.blocks.\(2 * k)", width: c)(a); na.add(m)
            var nb = try referenceBlock(net, "layers.0.blocks.\(2 * k + 1)", width: c)(b); nb.add(m)
            a = na; b = nb
        }
        var y = a; y.add(b); y.scale(by: 0.5)
        assertClose(net.forward(x, training: true).data, y.data, rtol: 1e-12, atol: 1e-12)
    }

    /// The unrelaxed ADMM recurrence (slides, eq. (1)) against a direct loop over its two sequences.
    func testADMMNetWithOptimizerCoefficientsFollowsEquationOne() throws {
        let (c, depth) = (3, 3)
        let net = try network(Recurrences.admm(name: "layers.0", depth: depth, block: .linear(width: c), coefficients: .optimizer), width: c)
        let x = Tensor(shape: [2, c], data: randomArray(2 * c, seed: 12))
        func T(_ i: Int, _ v: Tensor<Double>) -> Tensor<Double> {
            var y = matmul(v, net.parameters["layers.0.blocks.\(i).0.weight"]!, transposeB: true)
            for r in 0..<y.rows { for j in 0..<c { y[r, j] += net.parameters["layers.0.blocks.\(i).0.bias"]!.data[j] } }
            return y
        }
        var xp: [Tensor<Double>] = [x], xs: [Tensor<Double>] = [x]
        for k in 0..<depth {
            var diff = Tensor<Double>(zeros: x.shape)
            for t in stride(from: 1, through: k, by: 1) { diff.add(xp[t]); diff.add(xs[t], scaledBy: -1) }
            var p = T(2 * k, xp[k]); p.add(xs[k]); p.add(diff, scaledBy: -1); p.scale(by: 0.5)
            xp.append(p)
            var q = T(2 * k + 1, xs[k]); q.add(p); q.add(diff); q.scale(by: 0.5)
            xs.append(q)
        }
        assertClose(net.forward(x).data, xs[depth].data, rtol: 1e-12, atol: 1e-12)
    }

    /// Central differences through recurrence nets (dense + BN + ReLU blocks, learnable
    /// coefficients, and tied blocks): every parameter and the input.
    func testGradientsIncludingLearnableCoefficients() throws {
        let c = 3
        let specs = [
            Architecture.hbnet.recurrence(name: "layers.0", depth: 3, block: .dense(width: c), learnable: true),
            Architecture.agdnet.recurrence(name: "layers.0", depth: 3, block: .dense(width: c), learnable: true),
            Architecture.admmnet.recurrence(name: "layers.0", depth: 2, block: .dense(width: c), learnable: true),
            Recurrences.heavyBall(name: "layers.0", depth: 3, block: .dense(width: c), beta1: { _ in 0.7 },
                                  beta2: { _ in -0.3 }, learnable: true, tied: true),
        ]
        for spec in specs {
            let net = try network(spec, width: c, seed: 13)
            randomizeNormalisation(net, seed: 14)
            for (i, n) in net.parameters.names.enumerated() where n.hasSuffix(".coef") {
                net.parameters.values[i].data = net.parameters.values[i].data.map { $0 + 0.3 }
            }
            let x = randomArray(4 * c, seed: 15)
            let r = randomArray(4 * c, seed: 16)
            func loss(_ v: [Double]) -> Double {
                zip(net.forward(Tensor(shape: [4, c], data: v), training: true).data, r).reduce(0) { $0 + $1.0 * $1.1 }
            }
            _ = net.forward(Tensor(shape: [4, c], data: x), training: true)
            let dx = net.backward(Tensor(shape: [4, c], data: r), needInputGradient: true)!
            let grads = net.parameters.grads.map(\.data)
            let kind = try RecurrenceSpec(spec).recurrence ?? "?"
            assertClose(dx.data, numericalGradient(at: x, loss), rtol: 1e-5, atol: 1e-7, "\(kind) input")
            for (i, name) in net.parameters.names.enumerated() {
                let v0 = net.parameters.values[i].data
                let numeric = numericalGradient(at: v0) { v in
                    net.parameters.values[i].data = v
                    defer { net.parameters.values[i].data = v0 }
                    return loss(x)
                }
                assertClose(grads[i], numeric, rtol: 1e-5, atol: 1e-7, "\(kind) \(name)")
            }
        }
    }

    func testDescriptionRoundTripsAndBadDescriptionsAreRefused() throws {
        let m = try Architecture.agdnet.model(inputShape: [1, 8, 8], classes: 10, depth: 3, width: 4,
                                              convolutional: true, learnable: true)
        let parsed = try ModelSpec.parse(m.json())
        XCTAssertEqual(parsed, m)
        XCTAssertEqual(parsed.json(), m.json(), "the JSON text survives a round trip through the payload")
        var rng = SplitMix64(seed: 0)
        XCTAssertThrowsError(try Network<Float>(spec: parsed, rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("unknown type 'recurrence' (no layer extensions were given"), "\(error)")
        }
        let net = try Network<Float>(spec: parsed, extensions: [ArchFromOpt.layers], rng: &rng)
        XCTAssertTrue(net.parameters.names.contains("layers.4.blocks.2.0.weight"))
        XCTAssertTrue(net.parameters.names.contains("layers.4.states.3.coef"))
        XCTAssertTrue(net.buffers.names.contains("layers.4.blocks.0.1.running_var"))
        XCTAssertEqual(net.forward(Tensor(shape: [2, 64], data: (0..<128).map { Float($0) / 128 })).shape, [2, 10])

        func message(_ l: LayerSpec) -> String {
            do { _ = try network(l, width: 3); return "" } catch { return "\(error)" }
        }
        let gd2 = Recurrences.gradientDescent(name: "r", depth: 2, block: .linear(width: 3))
        var bad = try modified(gd2) { $0.states[1].terms[0].from = 2 }
        XCTAssertTrue(message(bad).contains("state 2 reads state 2"), message(bad))
        bad = try modified(gd2) { $0.states[0].terms[0].block = 7 }
        XCTAssertTrue(message(bad).contains("uses block 7"), message(bad))
        bad = try modified(Recurrences.gradientDescent(name: "r", depth: 1, block: .linear(width: 3))) { $0.blocks[0][0].out = 2 }
        XCTAssertTrue(message(bad).contains("must keep their shape"), message(bad))
        bad = gd2
        bad.payload?.fields["states"] = .string("none")
        XCTAssertTrue(message(bad).contains("(r) has a wrong type at 'states'"), message(bad))
        bad.payload = nil
        XCTAssertTrue(message(bad).contains("needs 'blocks' and at least one entry in 'states'"), message(bad))

        XCTAssertThrowsError(try Architecture.hbnet.model(inputShape: [784], classes: 10, depth: 0, width: 8,
                                                          convolutional: false, learnable: false))
        XCTAssertThrowsError(try Architecture.hbnet.model(inputShape: [784], classes: 10, depth: 2, width: 8,
                                                          convolutional: true, learnable: false))
    }
}
