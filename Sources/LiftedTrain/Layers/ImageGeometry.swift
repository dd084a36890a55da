/// Shapes and buffer helpers shared by the image layers (NCHW, PyTorch conventions).
public enum ImageGeometry {
    /// Output extent of a convolution or pooling window: ⌊(n + 2p − k) / s⌋ + 1 (0 or less: does not fit).
    public static func outputSize(_ n: Int, kernel k: Int, stride s: Int, padding p: Int) -> Int {
        guard s > 0 else { return 0 }
        let span = n + 2 * p - k
        return span < 0 ? 0 : span / s + 1
    }

    /// Output extent of a transposed convolution: (n − 1)s − 2p + k + output padding.
    public static func transposedOutputSize(_ n: Int, kernel k: Int, stride s: Int, padding p: Int, outputPadding op: Int) -> Int {
        (n - 1) * s - 2 * p + k + op
    }

    /// How many samples of one im2col chunk keep its columns under ~256K elements (1 MB of
    /// Float: the product then packs them from cache).
    static func chunk(samples n: Int, columnElementsPerSample e: Int) -> Int {
        max(1, min(n, (1 << 18) / max(1, e)))
    }

    /// The chunks (first sample, samples) of at most `size` samples that cover `range`, in order.
    static func chunks(_ range: Range<Int>, size: Int) -> [(start: Int, count: Int)] {
        stride(from: range.lowerBound, to: range.upperBound, by: max(1, size)).map { ($0, min(size, range.upperBound - $0)) }
    }
}
