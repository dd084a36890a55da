/// How a network uses the machine: how many workers a split may use, whether Tensor axpy/scal are
/// split too, which convolution algorithm 3×3 convolutions take, and the OpenBLAS threads the run
/// expects. The caller makes one and hands it to `Network(spec:…context:…)` (or to a layer's
/// initialiser); every layer that splits work keeps it from construction on.
///
/// Why at construction and not per call: the layers that split (Conv2D, BatchNorm, Activation,
/// MaxPool2D, ArchFromOpt's recurrence sums) read two stored integers of their own context per
/// forward or backward pass, so the hot loops look nothing up, and the `Layer` protocol keeps its
/// two methods. A network runs under one context for its life; build it again (or load it
/// again from its history) to run it differently. Nothing about a context changes a result beyond
/// rounding: splits sum the same terms in other orders, Winograd and im2col compute the same
/// convolution (`WinogradTests`, `ParallelTests`).
///
/// The workers of a context with `workers` > 1 are threads of its own (`SpinPool`), started with
/// the context and stopped when the last copy of it goes away.
public struct ComputeContext: Sendable {
    /// Ranges a split may use (1: everything runs on the calling thread).
    public let workers: Int
    /// Whether Tensor axpy/scal through `add(_:scaledBy:on:)` and `scale(by:on:)` are split too.
    public let splitsVectors: Bool
    /// The algorithm of 3×3 stride-1 "same" convolutions built under this context.
    public let convolution: ConvolutionAlgorithm
    /// OpenBLAS threads this context expects (`configureOpenBLAS()` sets them).
    public let blasThreads: Int
    /// The worker threads (nil for one worker).
    let threads: WorkerThreads?

    /// A context of `workers` split ranges (clamped to 1…256), vector splits off or on, the given
    /// convolution algorithm, and `blasThreads` OpenBLAS threads (default: `workers`).
    public init(workers: Int = 1, splitsVectors: Bool = false, convolution: ConvolutionAlgorithm = .auto,
                blasThreads: Int? = nil) {
        let w = min(256, max(1, workers))
        self.workers = w
        self.splitsVectors = splitsVectors
        self.convolution = convolution
        self.blasThreads = max(1, blasThreads ?? w)
        threads = w > 1 ? WorkerThreads(extra: w - 1) : nil
    }

    /// One worker, no vector splits, `auto` convolutions: everything on the calling thread.
    public static let serial = ComputeContext()

    /// The context of a training run of `spec` on `threads` cores: image networks (3-D input)
    /// split their batches over `threads` workers with single-threaded BLAS (a convolution's
    /// products are too small to repay BLAS's own threads, see `ComputeContext.run`); other
    /// networks give the threads to BLAS and split only element-wise passes of ≥ 64K elements.
    public static func training(_ spec: ModelSpec, threads: Int,
                                convolution: ConvolutionAlgorithm = .auto) -> ComputeContext {
        let image = spec.inputShape.count == 3 && threads > 1
        return ComputeContext(workers: threads, splitsVectors: image, convolution: convolution,
                              blasThreads: image ? 1 : threads)
    }

    /// Sets OpenBLAS's thread count (process state of the C library, see `BLASThreads`) to
    /// `blasThreads`. Call once before running networks built under this context.
    public func configureOpenBLAS() { BLASThreads.set(blasThreads) }
}

/// The threads of one context's splits; stops them when the last context holding it goes away.
final class WorkerThreads: Sendable {
    let pool: SpinPool
    init(extra: Int) { pool = SpinPool(extra: extra) }
    deinit { pool.stop() }
}
