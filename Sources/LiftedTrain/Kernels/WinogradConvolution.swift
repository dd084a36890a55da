/// The layout of one chunk of `samples` images in the Winograd F(2×2, 3×3) domain (see
/// `Winograd`): 16 planes of V `[C, ld]` and of M `[O, ld]`, ld = samples · tiles, each plane
/// followed by `Winograd.planeSlack` elements.
struct WinogradChunk {
    var samples: Int, channels: Int, outChannels: Int, height: Int, width: Int
    /// Tiles of the chunk: the columns of every plane.
    var ld: Int { samples * Winograd.tiles(h: height, w: width) }
    /// Distance between the 16 planes of V (or dV) and of M (or dM).
    var vks: Int { channels * ld + Winograd.planeSlack }
    var mks: Int { outChannels * ld + Winograd.planeSlack }
}

/// The Winograd convolution kernels Conv2D orchestrates, one chunk per call (the layer owns U,
/// V, M, their gradients and the transforms' work memory, and splits the chunks over its workers):
///
///     forward        V = Bᵀ d B,  M_k = U_k V_k,  y = Aᵀ M A + b        (`transformInput`, `forwardChunk`)
///     output grad.   dM = A dY Aᵀ                                       (`transformOutputGradient`)
///     kernel grad.   dU_k += dM_k V_kᵀ,  db += Σ dy                     (`kernelGradientChunk`)
///     input grad.    dV_k = U_kᵀ dM_k,  dx = Σ B dV Bᵀ (overlapping)    (`inputGradientChunk`)
///
/// for the 16 positions k of the 4 × 4 transformed tile; U = G g Gᵀ (`Winograd.kernelTransform`).
enum WinogradConvolution {
    /// V ← Bᵀ d B for every 4 × 4 input tile d of the chunk's samples `x [m, C, H, W]`.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func transformInput<T: NNScalar>(_ x: UnsafePointer<T>, _ g: WinogradChunk, v: UnsafeMutablePointer<T>,
                                            work: UnsafeMutablePointer<T>) {
        WinogradLanes<T>.input(x, n: g.samples, c: g.channels, h: g.height, w: g.width, v: v, ld: g.ld, ks: g.vks, work: work)
    }

    /// M_k = U_k V_k for k = 0…15 (BLAS), then y `[m, O, H, W]` = Aᵀ M A + b per output tile.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func forwardChunk<T: NNScalar>(u: UnsafePointer<T>, v: UnsafePointer<T>, _ g: WinogradChunk,
                                          bias: UnsafePointer<T>, m: UnsafeMutablePointer<T>,
                                          work: UnsafeMutablePointer<T>, y: UnsafeMutablePointer<T>) {
        let (o, c, ld) = (g.outChannels, g.channels, g.ld)
        for k in 0..<16 {
            T.gemm(transA: false, transB: false, m: o, n: ld, k: c, alpha: 1, a: u + k * o * c, lda: c,
                   b: v + k * g.vks, ldb: ld, beta: 0, c: m + k * g.mks, ldc: ld)
        }
        WinogradLanes<T>.output(m, ld: ld, ks: g.mks, n: g.samples, o: o, h: g.height, w: g.width, bias: bias, y: y, work: work)
    }

    /// dM ← A dY Aᵀ per output tile of the chunk's `dy [m, O, H, W]`.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func transformOutputGradient<T: NNScalar>(_ dy: UnsafePointer<T>, _ g: WinogradChunk,
                                                     dm: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>) {
        WinogradLanes<T>.outputAdjoint(dy, n: g.samples, o: g.outChannels, h: g.height, w: g.width, dm: dm, ld: g.ld,
                                       ks: g.mks, work: work)
    }

    /// dU_k += dM_k V_kᵀ for k = 0…15 and db += Σ_{s, pixels} dy[s] (BLAS): `du` is dU `[16, O, C]`
    /// followed by db `[O]`; `ones` holds at least H·W ones.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func kernelGradientChunk<T: NNScalar>(dm: UnsafePointer<T>, v: UnsafePointer<T>, dy: UnsafePointer<T>,
                                                 _ g: WinogradChunk, ones: UnsafePointer<T>, du: UnsafeMutablePointer<T>) {
        let (o, c, ld, plane) = (g.outChannels, g.channels, g.ld, g.height * g.width)
        for k in 0..<16 {
            T.gemm(transA: false, transB: true, m: o, n: c, k: ld, alpha: 1, a: dm + k * g.mks, lda: ld,
                   b: v + k * g.vks, ldb: ld, beta: 1, c: du + k * o * c, ldc: c)
        }
        for s in 0..<g.samples {
            T.gemv(trans: false, m: o, n: plane, alpha: 1, a: dy + s * o * plane, lda: plane, x: ones, beta: 1,
                   y: du + 16 * o * c)
        }
    }

    /// dV_k = U_kᵀ dM_k for k = 0…15 (BLAS), then dx `[m, C, H, W]` = the overlapping sum of B dV Bᵀ.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func inputGradientChunk<T: NNScalar>(u: UnsafePointer<T>, dm: UnsafePointer<T>, _ g: WinogradChunk,
                                                dv: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>,
                                                dx: UnsafeMutablePointer<T>) {
        let (o, c, ld) = (g.outChannels, g.channels, g.ld)
        for k in 0..<16 {
            T.gemm(transA: true, transB: false, m: c, n: ld, k: o, alpha: 1, a: u + k * o * c, lda: c,
                   b: dm + k * g.mks, ldb: ld, beta: 0, c: dv + k * g.vks, ldc: ld)
        }
        WinogradLanes<T>.inputAdjoint(dv, ld: ld, ks: g.vks, n: g.samples, c: c, h: g.height, w: g.width, dx: dx, work: work)
    }
}
