/// The im2col view of a 2-D convolution (NCHW, PyTorch's cross-correlation): `channels` input
/// planes of `height × width` per sample, a square `kernel × kernel` window moved by `stride`
/// over the zero-padded input, `outHeight × outWidth` output positions per plane.
struct ConvolutionShape {
    var channels: Int, height: Int, width: Int
    var kernel: Int, stride: Int, padding: Int
    var outHeight: Int, outWidth: Int
    /// Rows of the unfolded columns: C·k·k.
    var patch: Int { channels * kernel * kernel }
    /// Output positions per plane: Ho·Wo.
    var positions: Int { outHeight * outWidth }
    /// Input elements per sample: C·H·W.
    var sampleSize: Int { channels * height * width }
}

/// The convolution kernels that Conv2D and ConvTranspose2D orchestrate, one chunk of `m`
/// samples per call (the layers choose the chunks, split them over the workers and own every
/// buffer passed in). With col = im2col(x) `[C·k·k, m·P]` and W read as `[O, C·k·k]`:
///
///     forward         y  = W col + b 1ᵀ                 (`unfold`, `convolutionChunk`)
///     weight grad.    dW += dY colᵀ,  db += dY 1        (`weightGradientChunk`)
///     input grad.     dx += col2im(Wᵀ dY)               (`transposedConvolutionChunk`)
///                     or, stride 1: dx = conv(dY, W̃)    (`flippedKernel`, `unfold`, `convolutionChunk`)
///
/// where dY is the chunk's output gradient with its channel axis first (`[O, m·P]`). A
/// transposed convolution is the same maps with the roles of x and y exchanged.
enum ConvolutionKernels {
    /// col[(c·k + i)·k + j, s·P + oh·Wo + ow] = x[s, c, oh·stride − p + i, ow·stride − p + j]
    /// (0 in the padding) for the `m` samples of `x [m, C, H, W]`.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func unfold<T: NNScalar>(_ x: UnsafePointer<T>, m: Int, _ g: ConvolutionShape, col: UnsafeMutablePointer<T>) {
        ImageKernels.im2col(x, n: m, c: g.channels, h: g.height, w: g.width, kh: g.kernel, kw: g.kernel,
                            stride: g.stride, padding: g.padding, ho: g.outHeight, wo: g.outWidth, col: col)
    }

    /// y[s, o, t] = b[o] + Σ_r W[o, r] col[r, s·P + t] for the `m` samples of a chunk, from its
    /// unfolded columns `col [K, m·P]` and W `[O, K]`: product ← b 1ᵀ, product ← W col + product
    /// (two BLAS products; without a bias one, β = 0), then y `[m, O, P]` ← product `[O, m, P]`
    /// with its leading axes swapped. `ones` holds at least m·P ones.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func convolutionChunk<T: NNScalar>(col: UnsafePointer<T>, m: Int, positions p: Int, patch k: Int,
                                              outChannels o: Int, weight: UnsafePointer<T>,
                                              bias: (b: UnsafePointer<T>, ones: UnsafePointer<T>)?,
                                              product: UnsafeMutablePointer<T>, y: UnsafeMutablePointer<T>) {
        if let bias {
            T.gemm(transA: false, transB: false, m: o, n: m * p, k: 1, alpha: 1,
                   a: bias.b, lda: 1, b: bias.ones, ldb: m * p, beta: 0, c: product, ldc: m * p)
        }
        T.gemm(transA: false, transB: false, m: o, n: m * p, k: k, alpha: 1,
               a: weight, lda: k, b: col, ldb: m * p, beta: bias == nil ? 0 : 1, c: product, ldc: m * p)
        ImageKernels.swapLeadingAxes(product, a: o, b: m, p: p, into: y)
    }

    /// dW += dY colᵀ and db += dY 1 for one chunk: dY `[O, N]` (channel axis first), col
    /// `[K, N]`, dW `[O, K]`, N = m·P columns; `ones` holds at least N ones.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func weightGradientChunk<T: NNScalar>(dy: UnsafePointer<T>, col: UnsafePointer<T>, columns n: Int,
                                                 outChannels o: Int, patch k: Int, dw: UnsafeMutablePointer<T>,
                                                 bias: (db: UnsafeMutablePointer<T>, ones: UnsafePointer<T>)?) {
        T.gemm(transA: false, transB: true, m: o, n: k, k: n, alpha: 1, a: dy, lda: n, b: col, ldb: n,
               beta: 1, c: dw, ldc: k)
        if let bias {
            T.gemv(trans: false, m: o, n: n, alpha: 1, a: dy, lda: n, x: bias.ones, beta: 1, y: bias.db)
        }
    }

    /// x += col2im(Wᵀ dY) for the `m` samples of a chunk: dcol = Wᵀ dY `[K, m·P]` (BLAS), folded
    /// back onto the pixels it was unfolded from (the adjoint of `unfold`; x `[m, C, H, W]` is
    /// accumulated into). dY is `[O, m·P]` (channel axis first), W `[O, K]`, `g` the shape of the
    /// convolution whose adjoint this is.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func transposedConvolutionChunk<T: NNScalar>(dy: UnsafePointer<T>, m: Int, _ g: ConvolutionShape,
                                                        outChannels o: Int, weight: UnsafePointer<T>,
                                                        dcol: UnsafeMutablePointer<T>, x: UnsafeMutablePointer<T>) {
        T.gemm(transA: true, transB: false, m: g.patch, n: m * g.positions, k: o, alpha: 1,
               a: weight, lda: g.patch, b: dy, ldb: m * g.positions, beta: 0, c: dcol, ldc: m * g.positions)
        ImageKernels.col2im(dcol, n: m, c: g.channels, h: g.height, w: g.width, kh: g.kernel, kw: g.kernel,
                            stride: g.stride, padding: g.padding, ho: g.outHeight, wo: g.outWidth, x: x)
    }

    /// db[c] = Σ_{s, t} dY[s, c, t] for dY `[n, C, P]`: the row sums of dY read as `[n·C, P]`,
    /// then the column sums of those over n (two BLAS matrix–vector products). `rowSums` holds
    /// n·C elements of work memory, `ones` at least max(P, n) ones.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func biasGradient<T: NNScalar>(dy: UnsafePointer<T>, samples n: Int, channels c: Int, plane p: Int,
                                          ones: UnsafePointer<T>, rowSums: UnsafeMutablePointer<T>,
                                          db: UnsafeMutablePointer<T>) {
        T.gemv(trans: false, m: n * c, n: p, alpha: 1, a: dy, lda: p, x: ones, beta: 0, y: rowSums)
        T.gemv(trans: true, m: n, n: c, alpha: 1, a: rowSums, lda: c, x: ones, beta: 0, y: db)
    }

    /// W̃[c, o, i, j] = W[o, c, k−1−i, k−1−j] for W `[O, C, k, k]`: for stride 1 and padding p ≤ k − 1,
    /// the input gradient is the convolution of dY with W̃ and padding k − 1 − p — an unfold
    /// (gather) and one product instead of a scatter-add fold.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func flippedKernel<T: NNScalar>(_ w: UnsafePointer<T>, outChannels o: Int, channels c: Int, kernel k: Int,
                                           into flipped: UnsafeMutablePointer<T>) {
        let kk = k * k
        for oc in 0..<o {
            for ch in 0..<c {
                for t in 0..<kk { flipped[(ch * o + oc) * kk + (kk - 1 - t)] = w[(oc * c + ch) * kk + t] }
            }
        }
    }

    /// The shape of that gathered input gradient: dY `[O, Ho, Wo]` per sample unfolded by the
    /// k × k window with stride 1 and padding k − 1 − p onto the input's H × W positions.
    static func flippedShape(of g: ConvolutionShape, outChannels o: Int) -> ConvolutionShape {
        ConvolutionShape(channels: o, height: g.outHeight, width: g.outWidth, kernel: g.kernel, stride: 1,
                         padding: g.kernel - 1 - g.padding, outHeight: g.height, outWidth: g.width)
    }
}
