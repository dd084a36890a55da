import XCTest
@testable import LiftedTrain

/// What the LPOM test classes share: tiny Double trainers with deterministic weights.
class LPOMTestCase: XCTestCase {
    /// A trainer for input → hidden… → output with deterministic weights, prepared on a batch
    /// by a forward pass.
    func makeTrainer(sizes: [Int], activation: ActivationKind, output: ActivationKind = .identity,
                     loss: LossKind = .squaredError, seed: UInt64 = 7, batch: Int = 6, weightScale: Double = 1,
                     configure: (inout LPOMConfiguration) -> Void = { _ in }) throws -> LPOMTrainer<Double> {
        var rng = SplitMix64(seed: seed)
        let spec = ModelSpec.mlp(input: sizes[0], hidden: Array(sizes.dropFirst().dropLast()), output: sizes.last!,
                                 activation: activation, outputActivation: output)
        let net = try Network<Double>(spec: spec, initialization: .xavier, rng: &rng)
        for i in 0..<net.parameters.values.count {
            var v = net.parameters.values[i]
            if net.parameters.names[i].hasSuffix(".bias") {
                v = .randomNormal(shape: v.shape, std: 0.1, using: &rng)
            } else {
                v.scale(by: weightScale)
            }
            net.parameters.values[i] = v
        }
        var config = LPOMConfiguration()
        config.parallel = false
        configure(&config)
        let trainer = try LPOMTrainer(network: net, loss: loss, configuration: config)
        let x = Tensor<Double>.randomNormal(shape: [batch, sizes[0]], std: 1, using: &rng)
        let labels = (0..<batch).map { Int32($0 % sizes.last!) }
        try trainer.prepare(inputs: x, labels: labels)
        trainer.estimateNorms()
        return trainer
    }

    /// Moves the weights away from the ones the activations were computed with, so that no
    /// block starts at its optimum.
    func perturbWeights(_ t: LPOMTrainer<Double>, seed: UInt64 = 99, std: Double = 0.3) {
        var rng = SplitMix64(seed: seed)
        for l in t.layers {
            l.W.add(.randomNormal(shape: l.W.shape, std: std, using: &rng))
            l.bias.add(.randomNormal(shape: l.bias.shape, std: std, using: &rng))
        }
        t.preactivationsCurrent = false
        t.estimateNorms()
    }
}
