import LiftedTrain

/// Trial-parallel inversion on one machine (`lpom surf --threads N`): every Adam descent of an
/// `Inverter` (one per visited snapshot), and the final forward pass of its results, cuts its
/// rows into `context.workers` contiguous groups that run at once — one `ComputeContext.run`
/// region per phase, the machinery the image layers split their batches with (`SpinPool`
/// workers, OpenBLAS on one thread inside) — and each group descends on its own copy of the
/// problem: its own network (layer work buffers and saved activations) and residual, the same
/// weights (shared copy-on-write: nothing writes them while inverting) and the same A.
///
/// Why groups and not BLAS threads: a trial-step is a chain of mid-sized products, im2col/col2im,
/// batch-norm and activation passes and the Adam update; threaded BLAS speeds up only the
/// products (measured 1.01–1.05× on two threads), while the trials of a batch never interact —
/// batch norm uses the snapshot's running statistics (`Network.inputGradientMode`) and every
/// other step is per row — so each group computes what it would compute in the whole batch,
/// and the phase needs one synchronisation instead of several per product.
public final class InversionWorkers<Scalar: NNScalar> {
    /// The split: at most `workers` groups.
    public let context: ComputeContext
    /// The problem group 0 runs on (the inverter's own).
    public let problem: InversionProblem<Scalar>
    /// The problems of groups 1 ..< workers.
    let replicas: [InversionProblem<Scalar>]

    /// Workers for `problem`: `context.workers − 1` copies of its network (built from its spec;
    /// layer types outside LiftedTrain through `extensions`) with its A.
    public init(context: ComputeContext, problem: InversionProblem<Scalar>, extensions: [any LayerExtension] = []) throws {
        self.context = context
        self.problem = problem
        var rng = SplitMix64(seed: 0)   // initial weights, replaced by the problem's before any use
        replicas = try (1..<max(1, context.workers)).map { _ in
            let network = try Network<Scalar>(spec: problem.network.spec, context: .serial, extensions: extensions, rng: &rng)
            return InversionProblem(network: network, measurement: problem.measurement, perTrial: problem.perTrialMeasurements)
        }
    }

    /// The problems of the first `count` groups, every copy holding the weights and buffers the
    /// problem's network holds now (whatever snapshot was loaded last).
    func problems(count: Int) -> [InversionProblem<Scalar>] {
        let copies = replicas.prefix(count - 1)
        for r in copies {
            r.network.parameters.values = problem.network.parameters.values
            r.network.buffers.values = problem.network.buffers.values
        }
        return [problem] + copies
    }
}
