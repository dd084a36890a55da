import Dispatch
import Foundation

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
/// `BLASThreads.set(n)` sets `workers` to n too, so `--threads` means the same for every layer.
/// While a split runs, OpenBLAS is switched to one thread (its products run inside the workers
/// and must not spawn more) and restored afterwards. For a whole image network `use(threads:for:)`
/// keeps OpenBLAS on one thread throughout: OpenBLAS's idle threads spin for a while after each
/// threaded call, and on a 2-core machine that spinning takes a core from the workers
/// (measured: HB-Net width 32 gained only 1.3× from a second core until this was done).
public enum Parallel {
    /// Ranges a split may use (1: everything runs on the calling thread).
    nonisolated(unsafe) public static var workers = 1

    /// Sets the threads of a run on `spec`: image networks (3-D input) split their batches over
    /// `threads` workers with single-threaded BLAS; other networks give the threads to BLAS.
    public static func use(threads: Int, for spec: ModelSpec) {
        BLASThreads.set(threads)
        splitsVectors = spec.inputShape.count == 3 && threads > 1
        if splitsVectors { BLASThreads.setLibrary(1) }
    }

    /// Whether Tensor axpy/scal are split too (set by `use` for image networks).
    nonisolated(unsafe) public static var splitsVectors = false

    /// The number of parts a split of `count` items makes when each part should hold at least
    /// `minimumPerPart` items.
    public static func parts(_ count: Int, minimumPerPart: Int = 1) -> Int {
        max(1, min(workers, count / max(1, minimumPerPart)))
    }

    /// Parts for a BLAS level-1 operation (axpy, scal) on `n` elements: split over the workers
    /// only while OpenBLAS runs single-threaded (image networks, see `use`), for n ≥ 64K; otherwise
    /// one part, and OpenBLAS threads it as before.
    public static func vectorParts(_ n: Int) -> Int {
        guard splitsVectors, workers > 1, n >= 1 << 16, BLASThreads.current == 1 else { return 1 }
        return parts(n, minimumPerPart: 1 << 15)
    }

    /// Range `i` of `parts` near-equal contiguous ranges of 0..<count.
    public static func range(_ i: Int, of parts: Int, count: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let lo = i * base + min(i, extra)
        return lo..<(lo + base + (i < extra ? 1 : 0))
    }

    /// Calls `body(i, range_i)` for the `parts` ranges of 0..<count, at once when `parts` > 1.
    /// Bodies must write disjoint memory (or their own part's slots).
    public static func run(_ count: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
        if parts <= 1 { body(0, 0..<count); return }
        let blas = BLASThreads.current
        if blas > 1 { BLASThreads.setLibrary(1) }
        if !pool(parts - 1).run(parts, { i in body(i, range(i, of: parts, count: count)) }) {
            for i in 0..<parts { body(i, range(i, of: parts, count: count)) }   // nested or concurrent call: serial
        }
        if blas > 1 { BLASThreads.setLibrary(blas) }
    }

    /// One pool per number of extra threads, made on first use.
    nonisolated(unsafe) private static var pools: [Int: SpinPool] = [:]
    private static let poolsLock = NSLock()
    private static func pool(_ extra: Int) -> SpinPool {
        poolsLock.lock()
        defer { poolsLock.unlock() }
        if let p = pools[extra] { return p }
        let p = SpinPool(extra: extra)
        pools[extra] = p
        return p
    }

    /// `run` over `parts(count, minimumPerPart:)` ranges.
    public static func run(_ count: Int, minimumPerPart: Int, _ body: (Int, Range<Int>) -> Void) {
        run(count, parts: parts(count, minimumPerPart: minimumPerPart), body)
    }
}
