import ArchFromOpt
import LiftedTrain

/// Every layer type the command line builds beyond LiftedTrain's own: a history of any network
/// `lpom train` writes loads through these.
let layerExtensions: [any LayerExtension] = [ArchFromOpt.layers]

extension TrainCommand {
    /// The compute context of a classifier run on `spec` from `--threads` (0: OpenBLAS's default)
    /// and `--conv-algorithm`, with OpenBLAS's threads set to match (see
    /// `ComputeContext.training(_:threads:convolution:)`).
    func computeContext(for spec: ModelSpec) -> ComputeContext {
        let context = ComputeContext.training(spec, threads: threads > 0 ? threads : BLASThreads.current,
                                              convolution: arch.convAlgorithm)
        context.configureOpenBLAS()
        return context
    }
}

/// A context that gives all `threads` to OpenBLAS and splits nothing itself (generator training
/// and surfing mix large dense products with transposed convolutions: batch splits were measured
/// only on the image classifiers), with OpenBLAS's threads set.
func blasOnlyContext(threads: Int) -> ComputeContext {
    let context = ComputeContext(workers: 1, blasThreads: threads)
    context.configureOpenBLAS()
    return context
}
