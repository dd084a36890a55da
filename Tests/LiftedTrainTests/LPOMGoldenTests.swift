import Foundation
import TestSupport
import XCTest
@testable import LiftedTrain

/// One LPOM step against the independent float64 NumPy reference
/// `scripts/lpom_reference_independent.py`, written from the paper's equations (Li, Fang, Lin,
/// AAAI 2019) with samples as columns, exact spectral norms, exact output-block solves (Newton,
/// bisection, closed form), a linear solve with X̃X̃ᵀ + εI per APG step and the objective as a
/// Bregman integral by quadrature — not a transcription of this code. Regenerate the fixture with
///
///     python3 scripts/lpom_reference_independent.py > data/fixtures/lpom/reference.json
///
/// The cases cover every activation (ReLU, leaky ReLU α = 0.2, sigmoid β = ¼, tanh, ELU α = 1.5
/// β = 1.5, softplus), softmax cross-entropy and squared loss (identity, sigmoid and ReLU outputs),
/// automatic θ = 2/(2+ρ) and 1/(1+ρ) (Jacobi), a fixed θ with two alternations, relative and
/// absolute ridges, the X-phase stopping rule and the APG step tolerance. Each case runs under
/// every implementation that must give the same iterates: both Gram systems, the batch-space
/// and full-space APG, serial and concurrent per-layer work, and `mse` for squared loss.
final class LPOMGoldenTests: XCTestCase {
    struct Reference: Decodable { let cases: [Case] }
    struct Case: Decodable {
        struct Config: Decodable {
            let mu: [Double], sweep: String, fixedPointIterations: Int, fixedPointTolerance: Double
            let relaxation: Double, apgIterations: Int, apgRestart: Bool, apgTolerance: Double
            let ridge: Double, relativeRidge: Bool, alternations: Int
        }
        struct Inputs: Decodable { let x: [Double], labels: [Int32], weights: [[Double]], biases: [[Double]] }
        struct Expected: Decodable {
            let loss: Double, accuracy: Double, normSquared: [Double?], levels: [[Double]]
            let weights: [[Double]], biases: [[Double]], objective: Double, residuals: [Double]
            let fixedPointIterations: Int, fixedPointChange: Double, apgSteps: [[Int]]
        }
        let name: String, activation: String, alpha: Double, output: String, loss: String
        let sizes: [Int], batch: Int, config: Config, inputs: Inputs, expected: Expected
    }

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    static let reference: Reference = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("data/fixtures/lpom/reference.json")
        guard let data = try? Data(contentsOf: url), let r = try? LPOMGoldenTests.decoder.decode(Reference.self, from: data) else {
            fatalError("cannot read \(url.path); regenerate it with scripts/lpom_reference_independent.py")
        }
        return r
    }()

    /// An implementation variant: which Gram system, batch-space APG, concurrency, mse for squared.
    struct Variant: CustomStringConvertible {
        var gram = LPOMGramSystem.auto, batchSpace = true, parallel = false, mse = false
        var description: String { "gram \(gram.rawValue), batch-space \(batchSpace), parallel \(parallel), mse \(mse)" }
    }

    static let variants: [Variant] = [
        Variant(), Variant(gram: .features, batchSpace: false), Variant(gram: .batch), Variant(gram: .batch, batchSpace: false),
        Variant(parallel: true), Variant(mse: true),
    ]

    /// The trainer of case `c` under `v`, before its step.
    func trainer(_ c: Case, _ v: Variant) throws -> LPOMTrainer<Double> {
        let kind = try XCTUnwrap(ActivationKind(rawValue: c.activation)), out = try XCTUnwrap(ActivationKind(rawValue: c.output))
        let spec = ModelSpec.mlp(input: c.sizes[0], hidden: Array(c.sizes.dropFirst().dropLast()), output: c.sizes.last!,
                                 activation: kind, alpha: kind.usesAlpha ? c.alpha : nil, outputActivation: out)
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: spec, rng: &rng)
        let dense = spec.layers.compactMap { $0.type == "dense" ? $0.name : nil }
        for (k, name) in dense.enumerated() {
            try net.parameters.set(name + ".weight", Tensor(shape: [c.sizes[k + 1], c.sizes[k]], data: c.inputs.weights[k]))
            try net.parameters.set(name + ".bias", Tensor(shape: [c.sizes[k + 1]], data: c.inputs.biases[k]))
        }
        var config = LPOMConfiguration()
        config.mu = c.config.mu
        config.sweep = try XCTUnwrap(LPOMSweep(rawValue: c.config.sweep))
        config.fixedPointIterations = c.config.fixedPointIterations
        config.fixedPointTolerance = c.config.fixedPointTolerance
        config.relaxation = c.config.relaxation
        config.apgIterations = c.config.apgIterations
        config.apgRestart = c.config.apgRestart
        config.apgTolerance = c.config.apgTolerance
        config.ridge = c.config.ridge
        config.relativeRidge = c.config.relativeRidge
        config.alternations = c.config.alternations
        config.gramSystem = v.gram
        config.batchSpaceAPG = v.batchSpace
        config.parallel = v.parallel
        let loss: LossKind = c.loss == "squared" ? (v.mse ? .mse : .squaredError) : .crossEntropy
        return try LPOMTrainer(network: net, loss: loss, configuration: config)
    }

    func testOneStepMatchesTheIndependentReference() throws {
        for c in Self.reference.cases {
            for v in Self.variants where !(v.mse && c.loss != "squared") {
                let t = try trainer(c, v)
                let x = Tensor(shape: [c.batch, c.sizes[0]], data: c.inputs.x)
                let report = try t.step(inputs: x, labels: c.inputs.labels)
                let e = c.expected, what = "\(c.name), \(v)"
                assertClose(report.loss, e.loss, rtol: 1e-12, "\(what): loss")
                XCTAssertEqual(report.accuracy, e.accuracy, what)
                for k in 1...t.depth { assertClose(t.levels[k].x.data, e.levels[k - 1], rtol: 1e-10, atol: 1e-12, "\(what): X level \(k)") }
                for k in 0..<t.depth {
                    assertClose(t.layers[k].W.data, e.weights[k], rtol: 1e-10, atol: 1e-12, "\(what): W of layer \(k)")
                    assertClose(t.layers[k].bias.data, e.biases[k], rtol: 1e-10, atol: 1e-12, "\(what): b of layer \(k)")
                    assertClose(report.extra["residual.\(t.names[k])"] ?? .nan, e.residuals[k], rtol: 1e-6, atol: 1e-11,
                                "\(what): W-optimality residual of layer \(k)")
                }
                // The objective through LPOMPenalty's closed forms vs the reference's quadrature.
                assertClose(report.extra["lpom_objective"] ?? .nan, e.objective, rtol: 1e-10, atol: 1e-12, "\(what): objective")
                XCTAssertEqual(report.extra["fixed_point_iterations"], Double(e.fixedPointIterations), what)
                assertClose(report.extra["fixed_point_change"] ?? .nan, e.fixedPointChange, rtol: 1e-6, "\(what): last change")
                if c.config.apgTolerance > 0 {
                    for k in 0..<t.depth {
                        XCTAssertEqual(report.extra["apg_iterations.\(t.names[k])"], Double(e.apgSteps.map { $0[k] }.reduce(0, +)),
                                       "\(what): APG steps of layer \(k)")
                    }
                }
                if c.name.contains("batchspace") && v.batchSpace {
                    XCTAssertTrue(t.usesBatchSpace(layer: 0), "\(what): the case must exercise the batch-space APG")
                }
            }
        }
    }

    /// The automatic θ = 2/(2+ρ) uses a power-iteration estimate of ‖W‖₂²; on the reference's
    /// weights (spectral gap σ₂/σ₁ ≤ 0.7) the first estimate (30 steps) has converged to the exact
    /// norm, which is what makes the golden comparison of the automatic θ exact to 1e-9.
    func testPowerIterationEstimateIsTheExactSpectralNorm() throws {
        for c in Self.reference.cases {
            let t = try trainer(c, Variant())
            try t.prepare(inputs: Tensor(shape: [c.batch, c.sizes[0]], data: c.inputs.x), labels: c.inputs.labels)
            t.estimateNorms()
            for k in 1..<t.depth {
                assertClose(t.layers[k].normSquared, try XCTUnwrap(c.expected.normSquared[k]), rtol: 1e-12, "\(c.name): ‖W‖₂² of layer \(k)")
            }
        }
    }

    /// The fixture holds every activation and both losses, so that a case cannot be dropped silently.
    func testTheReferenceCoversEveryActivationAndLoss() {
        let cases = Self.reference.cases
        XCTAssertEqual(Set(cases.map(\.activation)), Set(ActivationKind.allCases.filter { $0 != .identity }.map(\.rawValue)))
        XCTAssertEqual(Set(cases.map(\.loss)), ["squared", "cross-entropy"])
        XCTAssertTrue(cases.contains { $0.config.relaxation == 0 && $0.config.sweep == "jacobi" })
        XCTAssertTrue(cases.contains { $0.config.fixedPointTolerance > 0 })
        XCTAssertTrue(cases.contains { $0.config.apgTolerance > 0 && $0.config.alternations > 1 })
        XCTAssertTrue(cases.contains { !$0.config.relativeRidge })
    }
}
