/// Data-parallel gradient training (`GradientTrainer.collective`): every rank draws the same
/// global mini-batch of B samples, trains on its share (`dataShard`) of b_r rows, and the
/// gradients of the global mean loss (1/B) Σ_i ℓ_i = Σ_r (b_r/B) · (1/b_r) Σ_{i∈r} ℓ_i are summed
/// over ranks (one allreduce per parameter tensor) before the identical optimizer update on every
/// rank. So N ranks compute the iterates of one process on the whole batch, up to the rounding
/// of the sums. Layers with batch statistics would see only their share; the command line refuses
/// them.
struct DataParallelShard<Scalar: NNScalar> {
    var inputs = Tensor<Scalar>(zeros: [0])
    var labels: [Int32] = []
    var targets = Tensor<Scalar>(zeros: [0])
    var rows: Range<Int> = 0..<0
    var global = 0

    /// Picks this rank's rows of a global batch of `inputs`.
    mutating func select(_ inputs: Tensor<Scalar>, collective c: any Collective) {
        global = inputs.rows
        rows = dataShard(rows: global, rank: c.rank, size: c.size)
        self.inputs.resize([rows.count, inputs.cols])
        self.inputs.gatherRows(from: inputs, indices: ArraySlice(Array(rows)))
    }

    /// The share's weight b_r/B in the global mean.
    var weight: Scalar { global == 0 ? 0 : Scalar(rows.count) / Scalar(global) }
}

extension Collective {
    /// Sums `(loss · b_r, correct)` of every rank's share: the global mean loss and the correct count.
    func globalMean(loss: Double, correct: Int, rows: Int, of total: Int) -> (loss: Double, correct: Int) {
        var v = [rows > 0 ? loss * Double(rows) : 0, Double(correct)]
        sum(&v)
        return (v[0] / Double(max(total, 1)), Int(v[1].rounded()))
    }

    /// Sums every gradient tensor of `parameters` over ranks.
    func sumGradients<S: NNScalar>(_ parameters: ParameterStore<S>) {
        for i in parameters.grads.indices { sum(&parameters.grads[i]) }
    }
}
