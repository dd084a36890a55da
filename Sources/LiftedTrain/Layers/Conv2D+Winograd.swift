/// Which algorithm 3×3 stride-1 "same" convolutions use (`ComputeContext.convolution`, fixed
/// when a convolution is built).
public enum ConvolutionAlgorithm: String, CaseIterable, Sendable {
    /// Winograd F(2×2, 3×3) where it applies (see `Conv2D.usesWinograd`), im2col elsewhere.
    case auto
    /// im2col and one product per chunk everywhere.
    case im2col
}

/// Work memory of the Winograd path, kept between steps.
final class WinogradBuffers<Scalar: NNScalar> {
    /// U [16, O, C] of the current weights.
    let u = WorkBuffer<Scalar>()
    /// V [16, C, tiles] per chunk; in training the whole batch (chunk at start·16·C·tiles).
    let v = WorkBuffer<Scalar>()
    /// M (forward) or dM (backward) per part.
    let m = WorkBuffer<Scalar>()
    /// dV per part (backward).
    let dv = WorkBuffer<Scalar>()
    /// Padded planes per part.
    let work = WorkBuffer<Scalar>()
    /// dU and db per part (backward).
    let du = WorkBuffer<Scalar>()
    /// Ones for the bias gradient.
    let ones = WorkBuffer<Scalar>()
    var vHoldsBatch = false
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

    /// The layout of a chunk of `m` samples.
    private func chunkLayout(_ m: Int) -> WinogradChunk {
        WinogradChunk(samples: m, channels: inChannels, outChannels: outChannels, height: height, width: width)
    }

    /// y = W ⋆ x + b by Winograd F(2×2, 3×3), chunk by chunk over the parts of the batch
    /// (`WinogradConvolution`); in training V keeps every chunk for the backward pass.
    func forwardWinograd(_ x: Tensor<Scalar>, n: Int, training: Bool) -> Tensor<Scalar> {
        let (o, c, h, wd) = (outChannels, inChannels, height, width)
        var y = Tensor<Scalar>(shape: [n, o, h, wd], data: Scalar.uninitializedArray(count: n * o * h * wd))
        let chunk = winogradChunk(n)
        let parts = context.parts(n, minimumPerPart: chunk)
        let (sv, mPart, workPart) = (sampleV, sampleM * chunk, workPerPart)
        let us = winograd.u.reserve(16 * o * c)
        let vs = winograd.v.reserve(training ? sv * n : parts * sv * chunk)
        let (ms, works) = (winograd.m.reserve(parts * mPart), winograd.work.reserve(parts * workPart))
        x.data.withUnsafeBufferPointer { px in
        y.data.withUnsafeMutableBufferPointer { py in
        store.withWeightAndBias(w, b) { wb in
            let (xs, ys) = (px.baseAddress!, py.baseAddress!)
            Winograd.kernelTransform(wb.weight, o: o, c: c, u: us)
            context.run(n, parts: parts) { part, range in
                let (mp, work) = (ms + part * mPart, works + part * workPart)
                for (start, m) in ImageGeometry.chunks(range, size: chunk) {
                    let (g, v) = (chunkLayout(m), vs + (training ? start * sv : part * sv * chunk))
                    WinogradConvolution.transformInput(xs + start * c * h * wd, g, v: v, work: work)
                    WinogradConvolution.forwardChunk(u: us, v: v, g, bias: wb.bias, m: mp, work: work, y: ys + start * o * h * wd)
                }
            }
        }}}
        winograd.vHoldsBatch = training
        if training {
            self.x = x.data
            batch = n
            forwardParts = parts
        }
        return y
    }

    /// dW = Gᵀ (Σ dM Vᵀ) G, db and dx by the adjoint transforms, chunk by chunk over the parts
    /// of the forward split; each part sums dU, db into its own slots, added at the end.
    func backwardWinograd(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let n = batch
        let (o, c, h, wd) = (outChannels, inChannels, height, width)
        let frozen = store.frozen
        let chunk = winogradChunk(n)
        let reuse = winograd.vHoldsBatch
        let parts = reuse ? forwardParts : context.parts(n, minimumPerPart: chunk)
        let sv = sampleV
        // Backward after an eval-mode forward: V is recomputed chunk by chunk.
        let vs = reuse ? winograd.v.pointer : winograd.v.reserve(parts * sv * chunk)
        var dx = needInput ? Scalar.uninitializedArray(count: n * c * h * wd) : [0]
        let (mPart, dvPart, duPart) = (sampleM * chunk, needInput ? sv * chunk : 0, frozen ? 0 : 16 * o * c + o)
        let (ms, dvs) = (winograd.m.reserve(parts * mPart), winograd.dv.reserve(max(1, parts * dvPart)))
        let (works, workPart) = (winograd.work.reserve(parts * workPerPart), workPerPart)
        let dus = winograd.du.zeros(max(1, parts * duPart))
        let (us, one) = (UnsafePointer(winograd.u.pointer), winograd.ones.ones(h * wd))
        if !frozen { store.grads[w].zero() }
        x.withUnsafeBufferPointer { px in
        dy.data.withUnsafeBufferPointer { pdy in
        dx.withUnsafeMutableBufferPointer { pdx in
        store.withWeightAndBias(w, b) { wb in
            let (xs, dys, dxs) = (px.baseAddress!, pdy.baseAddress!, pdx.baseAddress!)
            context.run(n, parts: parts) { part, range in
                let (dm, dv, du, work) = (ms + part * mPart, dvs + part * dvPart, dus + part * duPart, works + part * workPart)
                for (start, m) in ImageGeometry.chunks(range, size: chunk) {
                    let (g, v) = (chunkLayout(m), vs + (reuse ? start * sv : part * sv * chunk))
                    if !reuse && !frozen { WinogradConvolution.transformInput(xs + start * c * h * wd, g, v: v, work: work) }
                    let dyc = dys + start * o * h * wd
                    WinogradConvolution.transformOutputGradient(dyc, g, dm: dm, work: work)
                    if !frozen { WinogradConvolution.kernelGradientChunk(dm: dm, v: v, dy: dyc, g, ones: one, du: du) }
                    if needInput {
                        WinogradConvolution.inputGradientChunk(u: us, dm: dm, g, dv: dv, work: work, dx: dxs + start * c * h * wd)
                    }
                }
            }
            guard !frozen else { return }
            for part in 1..<max(1, parts) { Scalar.axpy(n: duPart, alpha: 1, x: dus + part * duPart, y: dus) }
            Winograd.kernelTransformAdjoint(dus, o: o, c: c, dw: wb.weightGradient)
            wb.biasGradient.update(from: dus + 16 * o * c, count: o)
        }}}}
        return needInput ? Tensor<Scalar>(shape: [n, c, h, wd], data: dx) : nil
    }
}

/// Elements of V (or M) per chunk: 256K (1 MB of Float) measured fastest for HB-Net width 32
/// on 12,000 samples (5.67–5.84 s against 6.03–6.21 s at 128K and 6.53–6.88 s at 1M–2M).
let winogradBudget = 1 << 18
