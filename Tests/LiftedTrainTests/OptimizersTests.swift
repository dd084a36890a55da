import XCTest
@testable import LiftedTrain
import TestSupport

/// SGD (plain, momentum, Nesterov, weight decay) and Adam against PyTorch's conventions, two ways:
///
/// - golden values printed by `scripts/reference_optimizers.py` (torch 2.13.0+cpu, float64):
///   `torch.optim.SGD` / `torch.optim.Adam` for five steps on a two-tensor store with
///   L(p) = Σ ½ c p² + d p, so ∇L = c ⊙ p + d depends on the parameters;
/// - a straightforward element-wise implementation of the same recurrences in this file,
///   compared after every step.
final class OptimizersTests: XCTestCase {
    // The problem of scripts/reference_optimizers.py.
    static let w0: [Double] = [0.5, -1.0, 2.0, 0.1, 0.2, -0.3]
    static let b0: [Double] = [0.05, -0.4]
    static let cw: [Double] = [1.0, 2.0, 0.5, 3.0, 0.25, 1.5]
    static let dw: [Double] = [0.1, -0.2, 0.3, -0.4, 0.5, 0.0]
    static let cb: [Double] = [2.0, 0.75]
    static let db: [Double] = [-0.3, 0.2]
    static let steps = 5

    /// Output of `scripts/reference_optimizers.py` (torch 2.13.0+cpu, float64, 5 steps), verbatim.
    static let golden: [String: (weight: [Double], bias: [Double])] = [
        "sgdPlain": (weight: [0.254294, -0.260448, 1.4118304375000001, 0.127731, -0.06158947460937503, -0.13311159375],
                     bias: [0.117232, -0.35695827734375]),
        "sgdMomentum": (weight: [-0.11749600000000009, 0.7384620000000002, 0.4846054374999999, 0.159276, -0.48116694335937504, 0.10689140625000002],
                        bias: [0.20804199999999998, -0.29040608984375005]),
        "sgdNesterov": (weight: [-0.16274901034000008, 0.5572893388800002, 0.22144999317062491, 0.14492840799, -0.6353058492665821, 0.0988670534409375],
                        bias: [0.19157175808, -0.2769682955336328]),
        "sgdMomentumWeightDecay": (weight: [0.26980145916718745, -0.277948847303125, 1.43633286425, 0.12498038909031252, -0.020581363165175767, -0.13989703295999997],
                                   bias: [0.11121738033734375, -0.34892309805285154]),
        "adam": (weight: [0.019381499347134276, -0.5068637065523027, 1.5021190045482795, 0.09490646483200565, -0.2973862586080356, 0.11617778469624984],
                 bias: [0.1608520803937908, -0.2080515151856271]),
        "adamWeightDecay": (weight: [0.2548002317083421, -0.7520886540299067, 1.7509379672748806, 0.11222987512514346, -0.048312328968353836, -0.06328729032520108],
                            bias: [0.1852482060835606, -0.19255873923635536]),
    ]

    private func makeStore<S: NNScalar>(_: S.Type) -> ParameterStore<S> {
        let store = ParameterStore<S>()
        store.register("layers.0.weight", Tensor(shape: [2, 3], data: Self.w0.map { S($0) }))
        store.register("layers.0.bias", Tensor(shape: [2], data: Self.b0.map { S($0) }))
        return store
    }

    /// ∇L = c ⊙ p + d into the store's gradients.
    private func fillGradients<S: NNScalar>(_ store: ParameterStore<S>) {
        for (i, (c, d)) in [(Self.cw, Self.dw), (Self.cb, Self.db)].enumerated() {
            store.grads[i].data = store.values[i].data.indices.map { k in S(c[k]) * store.values[i].data[k] + S(d[k]) }
        }
    }

    // MARK: The reference recurrences (torch.optim conventions), on flat Double arrays.

    private struct ReferenceSGD {
        let lr, momentum, weightDecay: Double
        let nesterov: Bool
        var buf: [Double]? = nil
        mutating func step(_ p: inout [Double], _ grad: [Double]) {
            var g = zip(grad, p).map { $0 + weightDecay * $1 }
            if momentum != 0 {
                // torch: the buffer starts as a copy of the first gradient.
                buf = buf.map { b in zip(b, g).map { momentum * $0 + $1 } } ?? g
                g = nesterov ? zip(g, buf!).map { $0 + momentum * $1 } : buf!
            }
            for i in p.indices { p[i] -= lr * g[i] }
        }
    }

    private struct ReferenceAdam {
        let lr, beta1, beta2, eps, weightDecay: Double
        var m: [Double], v: [Double], t = 0
        init(lr: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0, count: Int) {
            self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
            m = [Double](repeating: 0, count: count); v = m
        }
        mutating func step(_ p: inout [Double], _ grad: [Double]) {
            t += 1
            for i in p.indices {
                let g = grad[i] + weightDecay * p[i]
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let mHat = m[i] / (1 - pow(beta1, Double(t)))
                let vHat = v[i] / (1 - pow(beta2, Double(t)))
                p[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
        }
    }

    /// The flat problem: p = weight ++ bias, ∇L = c ⊙ p + d.
    private var c: [Double] { Self.cw + Self.cb }
    private var d: [Double] { Self.dw + Self.db }
    private func referenceGradient(_ p: [Double]) -> [Double] { p.indices.map { c[$0] * p[$0] + d[$0] } }

    /// Runs `optimizer` and the reference side by side, comparing after every step, then the
    /// end point with the torch golden values.
    private func check<O: GradientOptimizer>(_ optimizer: O, golden name: String, rtol: Double,
                                             reference: (inout [Double], [Double]) -> Void,
                                             file: StaticString = #filePath, line: UInt = #line) {
        var opt = optimizer
        let store = makeStore(O.Scalar.self)
        var p = Self.w0 + Self.b0
        for t in 1...Self.steps {
            fillGradients(store)
            opt.update(store)
            reference(&p, referenceGradient(p))
            let got = store.values.flatMap { $0.data.map { Double($0) } }
            assertClose(got, p, rtol: rtol, atol: rtol, "\(name) \(O.Scalar.self) step \(t) vs reference",
                        file: file, line: line)
        }
        let g = Self.golden[name]!
        assertClose(store.values[0].data, g.weight, rtol: rtol, atol: rtol, "\(name) \(O.Scalar.self) weight vs torch",
                    file: file, line: line)
        assertClose(store.values[1].data, g.bias, rtol: rtol, atol: rtol, "\(name) \(O.Scalar.self) bias vs torch",
                    file: file, line: line)
        XCTAssertEqual(store.values[0].shape, [2, 3], file: file, line: line)
    }

    private func checkSGD<S: NNScalar>(_: S.Type, rtol: Double) {
        let cases: [(String, Double, Double, Bool, Double)] = [
            ("sgdPlain", 0.1, 0, false, 0),
            ("sgdMomentum", 0.1, 0.9, false, 0),
            ("sgdNesterov", 0.1, 0.9, true, 0),
            ("sgdMomentumWeightDecay", 0.05, 0.5, false, 0.1),
        ]
        for (name, lr, mu, nesterov, wd) in cases {
            var ref = ReferenceSGD(lr: lr, momentum: mu, weightDecay: wd, nesterov: nesterov)
            check(SGD<S>(learningRate: S(lr), momentum: S(mu), nesterov: nesterov, weightDecay: S(wd)),
                  golden: name, rtol: rtol) { ref.step(&$0, $1) }
        }
    }

    func testSGDMatchesTorchDouble() { checkSGD(Double.self, rtol: 1e-13) }
    func testSGDMatchesTorchFloat() { checkSGD(Float.self, rtol: 2e-6) }

    private func checkAdam<S: NNScalar>(_: S.Type, rtol: Double) {
        var ref = ReferenceAdam(lr: 0.1, count: 8)
        check(Adam<S>(learningRate: 0.1), golden: "adam", rtol: rtol) { ref.step(&$0, $1) }
        var ref2 = ReferenceAdam(lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-3, weightDecay: 0.1, count: 8)
        check(Adam<S>(learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-3, weightDecay: 0.1),
              golden: "adamWeightDecay", rtol: rtol) { ref2.step(&$0, $1) }
    }

    func testAdamMatchesTorchDouble() { checkAdam(Double.self, rtol: 1e-13) }
    func testAdamMatchesTorchFloat() { checkAdam(Float.self, rtol: 1e-5) }

    func testFirstStepsByHand() {
        // One parameter, gradient always 1, lr 0.1, momentum 0.5: v = 1, 1.5, 1.75; θ = −0.1, −0.25, −0.425.
        let store = ParameterStore<Double>()
        store.register("p", Tensor(zeros: [1]))
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.5)
        var theta: [Double] = []
        for _ in 0..<3 {
            store.grads[0] = Tensor(repeating: 1, shape: [1])
            sgd.update(store)
            theta.append(store.values[0].data[0])
        }
        assertClose(theta, [-0.1, -0.25, -0.425], rtol: 1e-15)
        // Adam's first step moves every coordinate by lr·sign(g) (up to ε), whatever |g|.
        let s2 = ParameterStore<Double>()
        s2.register("p", Tensor(zeros: [3]))
        s2.grads[0] = Tensor(shape: [3], data: [1e-3, -5, 200])
        var adam = Adam<Double>(learningRate: 0.01)
        adam.update(s2)
        // (|g| = 1e-3 against ε = 1e-8 shortens the first step by 1e-5 relative.)
        assertClose(s2.values[0].data, [-0.01, 0.01, -0.01], rtol: 2e-5, atol: 0)
        XCTAssertEqual(adam.step, 1)
    }

    /// Float Adam runs eight lanes at a time (`FloatSIMD.adamStep`) with a scalar tail; both must
    /// give exactly what the scalar recurrence gives (written out here in Float, in its order) —
    /// 37 elements: four lanes of eight and a tail of five, over three steps.
    func testFloatAdamStepEqualsTheScalarRecurrenceBitForBit() {
        let n = 37
        var p = randomArray(n, seed: 51).map { Float($0) }, m = [Float](repeating: 0, count: n), v = m
        var (rp, rm, rv) = (p, m, v)
        let (lr, b1, b2, eps): (Float, Float, Float, Float) = (1e-3, 0.5, 0.999, 1e-8)
        for t in 1...3 {
            let g = randomArray(n, std: Double(t), seed: 52 + UInt64(t)).map { Float($0) }
            let (c1, c2) = (1 - Float(pow(Double(b1), Double(t))), 1 - Float(pow(Double(b2), Double(t))))
            p.withUnsafeMutableBufferPointer { pp in g.withUnsafeBufferPointer { pg in
            m.withUnsafeMutableBufferPointer { pm in v.withUnsafeMutableBufferPointer { pv in
                Kernels.adamStep(p: pp, g: pg, m: pm, v: pv, lr: lr, beta1: b1, beta2: b2, eps: eps, correction1: c1, correction2: c2)
            }}}}
            let a = lr / c1, ic2 = 1 / c2
            for i in 0..<n {
                rm[i] = b1 * rm[i] + (1 - b1) * g[i]
                rv[i] = b2 * rv[i] + (1 - b2) * g[i] * g[i]
                rp[i] -= a * rm[i] / ((rv[i] * ic2).squareRoot() + eps)
            }
            XCTAssertEqual(p, rp, "θ after step \(t)")
            XCTAssertEqual(m, rm, "m after step \(t)")
            XCTAssertEqual(v, rv, "v after step \(t)")
        }
    }

    func testAdamResetForgetsTheMoments() {
        let fresh = makeStore(Double.self)
        var a = Adam<Double>(learningRate: 0.1)
        fillGradients(fresh)
        a.update(fresh)
        let firstStep = fresh.values

        let store = makeStore(Double.self)
        var b = Adam<Double>(learningRate: 0.1)
        for _ in 0..<3 { fillGradients(store); b.update(store) }
        b.reset()
        XCTAssertEqual(b.step, 0)
        // From the initial point again, a reset optimizer takes exactly a fresh optimizer's first step.
        for i in store.values.indices { store.values[i] = makeStore(Double.self).values[i] }
        fillGradients(store)
        b.update(store)
        XCTAssertEqual(store.values, firstStep)
    }

    func testNamesAndHyperparameters() {
        let sgd = SGD<Float>(learningRate: 0.5, momentum: 0.9, nesterov: true, weightDecay: 0.25)
        XCTAssertEqual(sgd.name, "sgd")
        // Float hyperparameters are recorded as the decimals a person typed, not Double(Float(0.9)).
        XCTAssertEqual(sgd.hyperparameters, ["lr": 0.5, "momentum": 0.9, "nesterov": 1, "weight_decay": 0.25])
        let adam = Adam<Double>(learningRate: 0.002, beta1: 0.8)
        XCTAssertEqual(adam.name, "adam")
        XCTAssertEqual(adam.hyperparameters, ["lr": 0.002, "beta1": 0.8, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0])
    }
}
