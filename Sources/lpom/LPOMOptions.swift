import ArgumentParser
import LiftedTrain

/// Options of `lpom train --method lpom`. Owned by the LPOM work: every LPOM setting gets a flag
/// here, and `makeTrainer` builds the LPOM trainer from them.
struct LPOMOptions: ParsableArguments {
    @Option(help: "LPOM penalty μ: one value for every layer, or a comma-separated list, one per layer.")
    var mu: String = "2"

    /// The LPOM trainer for `network` minimising `loss`.
    func makeTrainer(network: Network<Float>, loss: LossKind, seed: UInt64) throws -> any Trainer<Float> {
        throw ValidationError("--method lpom is not available in this build yet")
    }
}
