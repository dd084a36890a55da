/// The order in which a run visits its samples: passes over the data, each a fresh shuffle cut
/// into mini-batches, numbered batch by batch across passes.
///
/// Pass p (p = 0, 1, …) is the permutation of the N samples drawn from
/// `SplitMix64.stream(seed, p + firstStream)`, cut into batches of b. A pass ends with its
/// incomplete batch (⌈N/b⌉ batches: every sample once per epoch) or skips it (⌊N/b⌋ full batches,
/// as generative training has always drawn them). Batch j is batch j mod B of pass ⌊j/B⌋, B the
/// batches per pass, so a run resumed at any batch continues exactly the batches it would have seen.
public struct BatchOrder: Sendable {
    /// Samples N.
    public let samples: Int
    /// Batch size b.
    public let batchSize: Int
    /// Seed of the permutation streams.
    public let seed: UInt64
    /// The stream of pass 0.
    public let firstStream: UInt64
    /// Whether a pass skips its incomplete last batch.
    public let fullBatchesOnly: Bool
    private var pass = -1
    private var order: [Int] = []

    /// An order over `samples` samples (≥ 1, and ≥ `batchSize` with `fullBatchesOnly`).
    public init(samples: Int, batchSize: Int, seed: UInt64, firstStream: UInt64 = 0, fullBatchesOnly: Bool = false) {
        precondition(batchSize >= 1 && samples >= (fullBatchesOnly ? batchSize : 1),
                     "BatchOrder: \(samples) samples for batches of \(batchSize)")
        self.samples = samples; self.batchSize = batchSize; self.seed = seed
        self.firstStream = firstStream; self.fullBatchesOnly = fullBatchesOnly
    }

    /// Batches per pass B.
    public var batchesPerPass: Int { fullBatchesOnly ? samples / batchSize : (samples + batchSize - 1) / batchSize }

    /// The pass batch `j` belongs to.
    public func pass(ofBatch j: Int) -> Int { j / batchesPerPass }

    /// The sample indices of batch `j` (drawing its pass's permutation when `j` starts another pass).
    public mutating func indices(ofBatch j: Int) -> ArraySlice<Int> {
        let p = pass(ofBatch: j)
        if p != pass {
            var rng = SplitMix64.stream(seed: seed, UInt64(p) + firstStream)
            order = randomPermutation(samples, using: &rng)
            pass = p
        }
        let lo = (j % batchesPerPass) * batchSize
        return order[lo..<min(samples, lo + batchSize)]
    }
}
