import Foundation
import TestSupport
import XCTest
@testable import LiftedTrain

/// The lifted trainers against the independent float64 NumPy reference
/// `scripts/lifted_reference.py` (samples as columns, `np.linalg.solve` for every system,
/// explicit augmented matrices, and a 20,000-step plain projected gradient for Askari et al.'s
/// non-negative blocks). Regenerate the fixture with
///
///     python3 scripts/lifted_reference.py > data/fixtures/lifted/reference.json
///
/// Each case runs its iterations on one full batch of 24 samples and compares every weight
/// and bias and the method's objective after every iteration.
final class LiftedGoldenTests: XCTestCase {
    struct Reference: Decodable { let cases: [Case] }
    struct Case: Decodable {
        let name: String, method: String, sizes: [Int], samples: Int, iterations: Int
        let config: [String: Double]
        let x: [Double], labels: [Int32], weights: [[Double]], biases: [[Double]]
        let expectedWeights: [[Double]], expectedBiases: [[Double]], objectives: [Double]
    }

    static let reference: Reference = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("data/fixtures/lifted/reference.json")
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        guard let data = try? Data(contentsOf: url), let r = try? d.decode(Reference.self, from: data) else {
            fatalError("cannot read \(url.path); regenerate it with scripts/lifted_reference.py")
        }
        return r
    }()

    /// The network of case `c` with the reference's initial weights.
    static func network(_ c: Case) throws -> Network<Double> {
        let spec = ModelSpec.mlp(input: c.sizes[0], hidden: Array(c.sizes.dropFirst().dropLast()), output: c.sizes.last!,
                                 activation: .relu, outputActivation: .identity)
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: spec, rng: &rng)
        let dense = spec.layers.compactMap { $0.type == "dense" ? $0.name : nil }
        for (k, name) in dense.enumerated() {
            try net.parameters.set(name + ".weight", Tensor(shape: [c.sizes[k + 1], c.sizes[k]], data: c.weights[k]))
            try net.parameters.set(name + ".bias", Tensor(shape: [c.sizes[k + 1]], data: c.biases[k]))
        }
        return net
    }

    /// The trainer of case `c`, with the reference's settings.
    static func trainer(_ c: Case, network net: Network<Double>) throws -> any Trainer<Double> {
        var config = LiftedConfiguration()
        let v = c.config
        switch c.method {
        case "admm":
            config.admmBeta = v["beta"]!; config.admmGamma = v["gamma"]!; config.admmWarmStart = Int(v["warm_start"]!)
            config.ridge = v["ridge"]!
            return try ADMMTrainer(network: net, configuration: config)
        case "bcd":
            config.bcdGamma = v["gamma"]!; config.bcdRho = v["rho"]!; config.bcdAlpha = v["alpha"]!
            return try BCDTrainer(network: net, configuration: config)
        case "askari":
            config.askariLambda = v["lambda"]!; config.askariWeightRidge = v["weight_ridge"]!
            config.askariSteps = 3000   // the NNLS blocks to convergence, like the reference's
            return try AskariTrainer(network: net, configuration: config)
        default:
            config.penaltyMu = v["mu"]!; config.penaltyGrowth = v["growth"]!; config.penaltySteps = Int(v["steps"]!)
            config.ridge = v["ridge"]!
            return try PenaltyTrainer(network: net, configuration: config)
        }
    }

    func testEveryMethodMatchesTheIndependentReference() throws {
        for method in ["admm", "bcd", "askari", "penalty"] {
            XCTAssertTrue(Self.reference.cases.contains { $0.method == method }, "no reference case for \(method)")
        }
        for c in Self.reference.cases {
            let net = try Self.network(c)
            let t = try Self.trainer(c, network: net)
            let x = Tensor(shape: [c.samples, c.sizes[0]], data: c.x)
            for i in 0..<c.iterations {
                let r = try t.step(inputs: x, labels: c.labels)
                assertClose(r.extra["\(c.method)_objective"] ?? .nan, c.objectives[i], rtol: 1e-8, atol: 1e-12,
                            "\(c.name): objective after iteration \(i + 1)")
            }
            let dense = net.spec.layers.compactMap { $0.type == "dense" ? $0.name : nil }
            for (k, name) in dense.enumerated() {
                assertClose(net.parameters.values[try XCTUnwrap(net.parameters.slot(of: name + ".weight"))].data, c.expectedWeights[k], rtol: 1e-7, atol: 1e-9,
                            "\(c.name): W of \(name)")
                assertClose(net.parameters.values[try XCTUnwrap(net.parameters.slot(of: name + ".bias"))].data, c.expectedBiases[k], rtol: 1e-7, atol: 1e-9,
                            "\(c.name): b of \(name)")
            }
        }
    }
}
