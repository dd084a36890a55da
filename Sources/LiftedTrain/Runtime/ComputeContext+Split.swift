/// Work sharing inside the image layers (convolution, batch norm, pooling, element-wise
/// activations): a batch is cut into `workers` contiguous ranges of samples (or elements) that
/// run at once, each with its own work buffers and a single-threaded BLAS call per product.
///
/// Why not only BLAS threads: a convolution's products are small (`[C, 9C] × [9C, 4·196]` per
/// im2col chunk), so splitting each of them over two threads costs a synchronisation per chunk,
/// and everything between the products (im2col, layout swaps, batch norm, ReLU, pooling) would
/// stay on one core. Splitting the batch keeps every core busy through the whole layer, as
/// PyTorch's intra-op parallelism does.
///
/// While a split runs, OpenBLAS is switched to one thread (its products run inside the workers
/// and must not spawn more) and restored afterwards. For a whole image network
/// `ComputeContext.training(_:threads:)` keeps OpenBLAS on one thread throughout: OpenBLAS's idle
/// threads spin for a while after each threaded call, and on a 2-core machine that spinning takes
/// a core from the workers (measured: HB-Net width 32 gained only 1.3× from a second core until
/// this was done).
extension ComputeContext {
    /// The number of parts a split of `count` items makes when each part should hold at least
    /// `minimumPerPart` items.
    @inline(__always)
    public func parts(_ count: Int, minimumPerPart: Int = 1) -> Int {
        max(1, min(workers, count / max(1, minimumPerPart)))
    }

    /// Parts for a BLAS level-1 operation (axpy, scal) on `n` elements: split over the workers
    /// only while OpenBLAS runs single-threaded with `splitsVectors` (image networks), for
    /// n ≥ 64K; otherwise one part, and OpenBLAS threads it as before.
    public func vectorParts(_ n: Int) -> Int {
        guard splitsVectors, workers > 1, n >= 1 << 16, BLASThreads.current == 1 else { return 1 }
        return parts(n, minimumPerPart: 1 << 15)
    }

    /// Range `i` of `parts` near-equal contiguous ranges of 0..<count.
    public static func range(_ i: Int, of parts: Int, count: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let lo = i * base + min(i, extra)
        return lo..<(lo + base + (i < extra ? 1 : 0))
    }

    /// Calls `body(i, range_i)` for the `parts` ranges of 0..<count, at once when `parts` > 1 and
    /// the context has the workers (otherwise one after another, on the caller). Bodies must
    /// write disjoint memory (or their own part's slots).
    public func run(_ count: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
        if parts <= 1 { body(0, 0..<count); return }
        let blas = BLASThreads.current
        if blas > 1 { BLASThreads.set(1) }
        let ran = threads?.pool.run(parts, { i in body(i, Self.range(i, of: parts, count: count)) }) ?? false
        if !ran {   // too many parts, or a nested or concurrent call: serial
            for i in 0..<parts { body(i, Self.range(i, of: parts, count: count)) }
        }
        if blas > 1 { BLASThreads.set(blas) }
    }

    /// `run` over `parts(count, minimumPerPart:)` ranges.
    public func run(_ count: Int, minimumPerPart: Int, _ body: (Int, Range<Int>) -> Void) {
        run(count, parts: parts(count, minimumPerPart: minimumPerPart), body)
    }
}
