/// Which algorithm 3×3 stride-1 "same" convolutions use (`ComputeContext.convolution`, fixed
/// when a convolution is built).
public enum ConvolutionAlgorithm: String, CaseIterable, Sendable {
    /// Winograd F(2×2, 3×3) where it applies (see `Conv2D.usesWinograd`), im2col elsewhere.
    case auto
    /// im2col and one product per chunk everywhere.
    case im2col
}

/// Work memory of the Winograd path, reused across steps (a class: its arrays are borrowed at
/// the same time, which a struct property of the layer would not allow).
final class WinogradBuffers<Scalar: NNScalar> {
    /// U [16, O, C] of the current weights.
    var u: [Scalar] = []
    /// V [16, C, tiles] per chunk; in training the whole batch (chunk at start·16·C·tiles).
    var v: [Scalar] = []
    /// M (forward) or dM (backward) per part.
    var m: [Scalar] = []
    /// dV per part (backward).
    var dv: [Scalar] = []
    /// Padded planes per part.
    var work: [Scalar] = []
    /// dU per part (backward).
    var du: [Scalar] = []
    var vHoldsBatch = false
    var planeOnes = OnesVector<Scalar>()
}

extension Conv2D {
    /// Winograd F(2×2, 3×3) is used for 3×3 kernels, stride 1, padding 1, even planes and at
    /// least 8 input and output channels (below that its 16 products of inner size C are too
    /// thin to beat one im2col product; the 1-channel stem of the image models stays im2col).
    public var usesWinograd: Bool {
        context.convolution == .auto && kernel == 3 && stride == 1 && padding == 1
            && height % 2 == 0 && width % 2 == 0 && inChannels >= 8 && outChannels >= 8
    }

    private var tiles: Int { Winograd.tiles(h: height, w: width) }
    private var workPerPart: Int { Winograd.workSize(h: height, w: width) }
    /// Elements per sample of V (or dV) and of M (or dM): 16 planes of `tiles` per channel, plus
    /// each plane's slack, so a chunk of m samples, 16·(C·m·tiles + slack), fits in m of them.
    private var sampleV: Int { 16 * (inChannels * tiles + Winograd.planeSlack) }
    private var sampleM: Int { 16 * (outChannels * tiles + Winograd.planeSlack) }

    /// Samples per chunk: V and M of a chunk stay under `winogradBudget` elements, and every
    /// worker gets at least one chunk.
    func winogradChunk(_ n: Int) -> Int {
        let perWorker = (n + context.workers - 1) / context.workers
        return max(1, min(perWorker, winogradBudget / (16 * max(inChannels, outChannels) * tiles)))
    }

    func forwardWinograd(_ x: Tensor<Scalar>, n: Int, training: Bool) -> Tensor<Scalar> {
        let (o, c, t, h, wd) = (outChannels, inChannels, tiles, height, width)
        var y = Tensor<Scalar>(shape: [n, o, h, wd], data: Scalar.uninitializedArray(count: n * o * h * wd))
        let chunk = winogradChunk(n)
        let parts = context.parts(n, minimumPerPart: chunk)
        ImageGeometry.reserve(&winograd.u, 16 * o * c)
        store.values[w].data.withUnsafeBufferPointer { pw in
            winograd.u.withUnsafeMutableBufferPointer { Winograd.kernelTransform(pw.baseAddress!, o: o, c: c, u: $0.baseAddress!) }
        }
        let (sv, slack) = (sampleV, Winograd.planeSlack)
        let vNeed = training ? sv * n : parts * sv * chunk
        ImageGeometry.reserve(&winograd.v, vNeed)
        let mPart = sampleM * chunk
        ImageGeometry.reserve(&winograd.m, parts * mPart)
        ImageGeometry.reserve(&winograd.work, parts * workPerPart)
        let workPart = workPerPart
        x.data.withUnsafeBufferPointer { px in
        y.data.withUnsafeMutableBufferPointer { py in
        winograd.u.withUnsafeBufferPointer { pu in
        winograd.v.withUnsafeMutableBufferPointer { pv in
        winograd.m.withUnsafeMutableBufferPointer { pm in
        winograd.work.withUnsafeMutableBufferPointer { pwk in
        store.values[b].data.withUnsafeBufferPointer { pb in
            let (xs, ys, us, vs, ms, wks, bias) = (px.baseAddress!, py.baseAddress!, pu.baseAddress!, pv.baseAddress!,
                                                   pm.baseAddress!, pwk.baseAddress!, pb.baseAddress!)
            context.run(n, parts: parts) { part, range in
                let mp = ms + part * mPart, work = wks + part * workPart
                var start = range.lowerBound
                while start < range.upperBound {
                    let m = min(chunk, range.upperBound - start)
                    let ld = m * t, vks = c * ld + slack, mks = o * ld + slack
                    let v = vs + (training ? start * sv : part * sv * chunk)
                    WinogradLanes<Scalar>.input(xs + start * c * h * wd, n: m, c: c, h: h, w: wd, v: v, ld: ld, ks: vks, work: work)
                    for k in 0..<16 {
                        Scalar.gemm(transA: false, transB: false, m: o, n: ld, k: c, alpha: 1, a: us + k * o * c, lda: c,
                                    b: v + k * vks, ldb: ld, beta: 0, c: mp + k * mks, ldc: ld)
                    }
                    WinogradLanes<Scalar>.output(mp, ld: ld, ks: mks, n: m, o: o, h: h, w: wd, bias: bias, y: ys + start * o * h * wd,
                                          work: work)
                    start += m
                }
            }
        }}}}}}}
        winograd.vHoldsBatch = training
        if training {
            self.x = x.data
            batch = n
            forwardParts = parts
        }
        return y
    }

    func backwardWinograd(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let n = batch
        let (o, c, t, h, wd) = (outChannels, inChannels, tiles, height, width)
        let frozen = store.frozen
        let chunk = winogradChunk(n)
        let reuse = winograd.vHoldsBatch
        let parts = reuse ? forwardParts : context.parts(n, minimumPerPart: chunk)
        let (sv, slack) = (sampleV, Winograd.planeSlack)
        if !reuse {
            // Backward after an eval-mode forward: V is recomputed chunk by chunk.
            let need = parts * sv * chunk
            ImageGeometry.reserve(&winograd.v, need)
        }
        var dxData = needInput ? Scalar.uninitializedArray(count: n * c * h * wd) : [0]
        let mPart = sampleM * chunk, dvPart = needInput ? sv * chunk : 0, duPart = frozen ? 0 : 16 * o * c + o
        ImageGeometry.reserve(&winograd.m, parts * mPart)
        ImageGeometry.reserve(&winograd.dv, max(1, parts * dvPart))
        ImageGeometry.reserve(&winograd.work, parts * workPerPart)
        winograd.du = Scalar.filledArray(0, count: max(1, parts * duPart))
        let workPart = workPerPart
        let ones = winograd.planeOnes(h * wd)
        x.withUnsafeBufferPointer { px in
        dy.data.withUnsafeBufferPointer { pdy in
        dxData.withUnsafeMutableBufferPointer { pdx in
        winograd.u.withUnsafeBufferPointer { pu in
        winograd.v.withUnsafeMutableBufferPointer { pv in
        winograd.m.withUnsafeMutableBufferPointer { pm in
        winograd.dv.withUnsafeMutableBufferPointer { pdv in
        winograd.du.withUnsafeMutableBufferPointer { pdu in
        winograd.work.withUnsafeMutableBufferPointer { pwk in
        ones.withUnsafeBufferPointer { po in
            let (xs, dys, dxs, us, vs) = (px.baseAddress!, pdy.baseAddress!, pdx.baseAddress!, pu.baseAddress!, pv.baseAddress!)
            let (ms, dvs, dus, wks, one) = (pm.baseAddress!, pdv.baseAddress!, pdu.baseAddress!, pwk.baseAddress!, po.baseAddress!)
            context.run(n, parts: parts) { part, range in
                let dm = ms + part * mPart, dvp = dvs + part * dvPart, du = dus + part * duPart, work = wks + part * workPart
                var start = range.lowerBound
                while start < range.upperBound {
                    let m = min(chunk, range.upperBound - start)
                    let ld = m * t, vks = c * ld + slack, mks = o * ld + slack
                    let v = vs + (reuse ? start * sv : part * sv * chunk)
                    if !reuse && !frozen {
                        WinogradLanes<Scalar>.input(xs + start * c * h * wd, n: m, c: c, h: h, w: wd, v: v, ld: ld, ks: vks, work: work)
                    }
                    let dyc = dys + start * o * h * wd
                    WinogradLanes<Scalar>.outputAdjoint(dyc, n: m, o: o, h: h, w: wd, dm: dm, ld: ld, ks: mks, work: work)
                    if !frozen {
                        // dU_k += dM_k V_kᵀ ; db += Σ dy
                        for k in 0..<16 {
                            Scalar.gemm(transA: false, transB: true, m: o, n: c, k: ld, alpha: 1, a: dm + k * mks, lda: ld,
                                        b: v + k * vks, ldb: ld, beta: 1, c: du + k * o * c, ldc: c)
                        }
                        for s in 0..<m {
                            Scalar.gemv(trans: false, m: o, n: h * wd, alpha: 1, a: dyc + s * o * h * wd, lda: h * wd,
                                        x: one, beta: 1, y: du + 16 * o * c)
                        }
                    }
                    if needInput {
                        // dV_k = U_kᵀ dM_k, then the overlapping sum of B dV Bᵀ.
                        for k in 0..<16 {
                            Scalar.gemm(transA: true, transB: false, m: c, n: ld, k: o, alpha: 1, a: us + k * o * c, lda: c,
                                        b: dm + k * mks, ldb: ld, beta: 0, c: dvp + k * vks, ldc: ld)
                        }
                        WinogradLanes<Scalar>.inputAdjoint(dvp, ld: ld, ks: vks, n: m, c: c, h: h, w: wd, dx: dxs + start * c * h * wd,
                                                    work: work)
                    }
                    start += m
                }
            }
            guard !frozen else { return }
            for part in 1..<max(1, parts) { Scalar.axpy(n: duPart, alpha: 1, x: dus + part * duPart, y: dus) }
            store.grads[w].zero()
            store.grads[w].data.withUnsafeMutableBufferPointer {
                Winograd.kernelTransformAdjoint(dus, o: o, c: c, dw: $0.baseAddress!)
            }
            store.grads[b].data.withUnsafeMutableBufferPointer {
                $0.baseAddress!.update(from: dus + 16 * o * c, count: o)
            }
        }}}}}}}}}}
        return needInput ? Tensor<Scalar>(shape: [n, c, h, wd], data: dxData) : nil
    }
}

/// Elements of V (or M) per chunk: 256K (1 MB of Float) measured fastest for HB-Net width 32
/// on 12,000 samples (5.67–5.84 s against 6.03–6.21 s at 128K and 6.53–6.88 s at 1M–2M).
let winogradBudget = 1 << 18
