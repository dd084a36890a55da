// Data-parallel LPOM (`LPOMTrainer.collective`): every rank draws the same global mini-batch of
// B samples and keeps the activation levels of its share (`dataShard`) of the rows. The X-phase
// is per sample and needs no data from other ranks; what the one-process iterates depend on that
// is a sum over samples is summed over ranks by allreduce:
//
// - the W-update's Gram matrix X̃ᵀX̃ ((d+1) × (d+1) per layer, once per W-phase; the feature
//   system is used, since X̃X̃ᵀ couples rows of different ranks) and the mean row norm of the
//   relative ridge ε;
// - the APG gradient Δ = Rᵀ P = Rᵀ X̃ (X̃ᵀX̃ + εI)⁻¹ (m × (d+1) per layer per APG step; the
//   full-space steps, since the batch-space ones carry b × m coefficients per rank);
// - the X-phase stopping test: ‖C − X‖² and ‖X‖² of every level per sweep (2L numbers), and
//   of the output level's inner fixed point per inner iteration (2 numbers; cross-entropy);
// - the loss, the correct count, and the diagnostics (objective, W-optimality residuals).
//
// The power-iteration estimates of ‖W‖₂ and the APG restart test act on W, equal on every rank.
// So N ranks compute the iterates of one process on the whole batch, up to the rounding of the sums.
extension LPOMTrainer: DataParallelTraining {
    /// Whether this step's batch is split over several ranks.
    var sharded: Bool { (collective?.size ?? 1) > 1 }

    /// This rank's rows of the global batch. Every rank needs at least one row.
    func shard(inputs: Tensor<Scalar>, labels: [Int32]) throws -> (Tensor<Scalar>, [Int32]) {
        let c = collective!
        guard configuration.weightStep == .pseudoInverse else {
            throw TrainingError("data-parallel LPOM takes the pseudo-inverse weight step (the gradient step's ‖X̃‖₂ would need a distributed power iteration)")
        }
        globalBatch = inputs.rows
        guard globalBatch >= c.size else {
            throw TrainingError("data-parallel LPOM: a batch of \(globalBatch) samples cannot give each of \(c.size) ranks a share; use a batch size (and a training set size modulo it) of at least \(c.size)")
        }
        let rows = dataShard(rows: globalBatch, rank: c.rank, size: c.size)
        var x = Tensor<Scalar>(zeros: [rows.count, inputs.cols])
        x.gatherRows(from: inputs, indices: ArraySlice(Array(rows)))
        return (x, Array(labels[rows]))
    }

    /// Loss and correct count of the output level over the global batch.
    func globalLoss() -> (loss: Double, correct: Int) {
        let local = loss.evaluate(levels[depth].x, labels: labels)
        guard sharded else { return local }
        return collective!.globalMean(loss: local.loss, correct: local.correct, rows: batch, of: globalBatch)
    }

    /// Turns the levels' local ‖C − X‖² and ‖X‖² into relative changes over the whole batch (summed
    /// over ranks when the batch or the levels are split) and flags unbounded levels. Levels
    /// outside `owned` contribute zeros (layer-parallel: another rank owns them).
    func shareChanges(levels owned: ClosedRange<Int>) {
        let n = depth + 1
        var v = [Double](repeating: 0, count: 3 * n)
        for i in owned {
            v[i] = levels[i].diffSquared; v[n + i] = levels[i].normSquared
            v[2 * n + i] = isBounded(levels[i].x) ? 0 : 1
        }
        let split = sharded || partition != nil
        if split { (partition?.collective ?? collective!).sum(&v) }
        unboundedLevels = Array(v[(2 * n)...])
        guard split else { return }
        let rows = sharded ? globalBatch : batch
        for i in 1...depth {
            levels[i].change = relative(v[i], xSquared: v[n + i], count: rows * sizes[i])
        }
    }
}
