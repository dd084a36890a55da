/// 2-D convolution (cross-correlation, as PyTorch's `nn.Conv2d`) on NCHW batches:
/// y[n, o, oh, ow] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x[n, c, oh·s − p + i, ow·s − p + j].
///
/// The patches of a chunk of samples are unfolded into `col [C·kh·kw, m·Ho·Wo]` (im2col) so
/// the whole chunk is one BLAS product `W [O, C·kh·kw] · col`; the backward pass is two more
/// products (dW = dY colᵀ, dcol = Wᵀ dY) and a fold back (col2im).
public final class Conv2D<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Channels in and out.
    public let inChannels: Int, outChannels: Int
    /// Square kernel size, stride and zero padding.
    public let kernel: Int, stride: Int, padding: Int
    /// Input and output spatial extents.
    public let height: Int, width: Int, outHeight: Int, outWidth: Int
    let store: ParameterStore<Scalar>
    let w: Int, b: Int
    var x: [Scalar] = []
    var batch = 0
    // Work buffers reused across steps (im2col writes every element, so no clearing is needed).
    private var col: [Scalar] = []
    var colHoldsBatch = false
    private var ybuf: [Scalar] = []
    private var dcol: [Scalar] = []
    private var onesVector = OnesVector<Scalar>()
    /// Work buffers of the Winograd path (Conv2D+Winograd.swift).
    let winograd = WinogradBuffers<Scalar>()
    /// Splits the batch over the context's workers; its `convolution` picks im2col or Winograd.
    public let context: ComputeContext

    /// A convolution whose parameters live in `store` as `name.weight [O, C, k, k]` and `name.bias [O]`.
    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                inputHeight: Int, inputWidth: Int, store: ParameterStore<Scalar>,
                weight: Tensor<Scalar>, bias: Tensor<Scalar>, context: ComputeContext = .serial) {
        precondition(weight.shape == [outChannels, inChannels, kernel, kernel] && bias.shape == [outChannels],
                     "Conv2D: weight \(weight.shape), bias \(bias.shape)")
        spec = LayerSpec(type: "conv2d", name: name, inChannels: inChannels, outChannels: outChannels,
                         kernel: kernel, stride: stride, padding: padding)
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        height = inputHeight; width = inputWidth
        outHeight = ImageGeometry.outputSize(inputHeight, kernel: kernel, stride: stride, padding: padding)
        outWidth = ImageGeometry.outputSize(inputWidth, kernel: kernel, stride: stride, padding: padding)
        precondition(outHeight > 0 && outWidth > 0, "Conv2D: kernel \(kernel) does not fit \(inputHeight)×\(inputWidth)")
        self.store = store
        self.context = context
        w = store.register(name + ".weight", weight)
        b = store.register(name + ".bias", bias)
    }

    private var patch: Int { inChannels * kernel * kernel }
    private var positions: Int { outHeight * outWidth }

    /// Unfolds `m` samples from `x` into `col` (`[C·k·k, m·Ho·Wo]`).
    private func unfold(_ x: UnsafePointer<Scalar>, m: Int, into col: UnsafeMutablePointer<Scalar>) {
        ImageKernels.im2col(x, n: m, c: inChannels, h: height, w: width, kh: kernel, kw: kernel, stride: stride,
                      padding: padding, ho: outHeight, wo: outWidth, col: col)
    }

    /// Parts the batch was split into by the last training forward pass (its chunks' columns are
    /// laid out by that split, so backward must walk the same one).
    var forwardParts = 1
    /// Whether the last forward pass took the Winograd path (backward takes the same one).
    var forwardUsedWinograd = false

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let n = x.count / (inChannels * height * width)
        precondition(n * inChannels * height * width == x.count, "Conv2D: input \(x.shape) is not [n, \(inChannels), \(height), \(width)]")
        forwardUsedWinograd = usesWinograd
        if forwardUsedWinograd { return forwardWinograd(x, n: n, training: training) }
        let (o, p, k) = (outChannels, positions, patch)
        let sampleIn = inChannels * height * width
        var y = Tensor<Scalar>(shape: [n, o, outHeight, outWidth], data: Scalar.uninitializedArray(count: n * o * p))
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * p)
        // The batch is cut into `parts` sample ranges that run at once (ComputeContext.run), each walking its
        // own chunks with its own slice of ybuf (and of col in eval mode).
        let parts = context.parts(n, minimumPerPart: chunk)
        ImageGeometry.reserve(&ybuf, parts * o * chunk * p)
        // In training every chunk keeps its own columns (at start·k·p) for the backward pass.
        let colNeed = training ? k * p * n : parts * k * chunk * p
        ImageGeometry.reserve(&col, colNeed)
        let one = onesVector(chunk * p)
        x.data.withUnsafeBufferPointer { px in
        col.withUnsafeMutableBufferPointer { pcol in
        ybuf.withUnsafeMutableBufferPointer { pyb in
        y.data.withUnsafeMutableBufferPointer { pyy in
        store.values[w].data.withUnsafeBufferPointer { pw in
        store.values[b].data.withUnsafeBufferPointer { pb in
        one.withUnsafeBufferPointer { po in
            let (xs, cols, ys, out) = (px.baseAddress!, pcol.baseAddress!, pyb.baseAddress!, pyy.baseAddress!)
            let (wt, bias, ones) = (pw.baseAddress!, pb.baseAddress!, po.baseAddress!)
            context.run(n, parts: parts) { part, range in
                let yp = ys + part * o * chunk * p
                var start = range.lowerBound
                while start < range.upperBound {
                    let m = min(chunk, range.upperBound - start)
                    // Each chunk's product runs right after its unfold, while the columns are in cache.
                    let c = cols + (training ? start * k * p : part * k * chunk * p)
                    unfold(xs + start * sampleIn, m: m, into: c)
                    // yp ← b 1ᵀ, then yp ← W col + yp.
                    Scalar.gemm(transA: false, transB: false, m: o, n: m * p, k: 1, alpha: 1,
                                a: bias, lda: 1, b: ones, ldb: m * p, beta: 0, c: yp, ldc: m * p)
                    Scalar.gemm(transA: false, transB: false, m: o, n: m * p, k: k, alpha: 1,
                                a: wt, lda: k, b: c, ldb: m * p, beta: 1, c: yp, ldc: m * p)
                    ImageGeometry.swapLeadingAxes(yp, a: o, b: m, p: p, into: out + start * o * p)
                    start += m
                }
            }
        }}}}}}}
        colHoldsBatch = training
        if training {
            self.x = x.data
            batch = n
            forwardParts = parts
        }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        if forwardUsedWinograd { return backwardWinograd(dy, needInput: needInput) }
        let n = batch
        let (o, p, k) = (outChannels, positions, patch)
        precondition(dy.count == n * o * p, "Conv2D.backward: dy \(dy.shape) for batch \(n)")
        let frozen = store.frozen
        let (cin, q, kk) = (inChannels, height * width, kernel * kernel)
        let gathered = stride == 1 && padding <= kernel - 1   // dx by the flipped kernel: every element written
        var dxData = !needInput ? [0] : gathered ? Scalar.uninitializedArray(count: n * cin * q)
                                                 : Scalar.filledArray(0, count: n * cin * q)  // col2im accumulates
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * p)
        let reuse = colHoldsBatch
        let parts = reuse ? forwardParts : context.parts(n, minimumPerPart: chunk)
        // The flipped, channel-swapped kernel for the stride-1 input gradient.
        var flipped: [Scalar] = []
        if needInput && gathered {
            let wv = store.values[w].data
            flipped = wv
            for oc in 0..<o {
                for ch in 0..<cin {
                    for t in 0..<kk { flipped[(ch * o + oc) * kk + (kk - 1 - t)] = wv[(oc * cin + ch) * kk + t] }
                }
            }
        }
        // Per-part work slices: dY chunk, dcol (or the unfolded dY of the gathered path), dx chunk.
        let dcolPart = needInput ? (gathered ? o * kk * chunk * q : k * chunk * p) : 0
        ImageGeometry.reserve(&dcol, max(1, parts * dcolPart))
        var dxbuf = Scalar.uninitializedArray(count: needInput && gathered ? parts * cin * chunk * q : 1)
        var dybuf: [Scalar] = []
        swap(&dybuf, &ybuf)
        ImageGeometry.reserve(&dybuf, parts * o * chunk * p)
        if !reuse && !frozen { ImageGeometry.reserve(&col, parts * k * chunk * p) }
        if col.isEmpty { col = [0] }
        // Parts after the first add their dW, db into scratch, summed into the gradient at the end.
        var scratch = Scalar.filledArray(0, count: frozen ? 1 : max(1, (parts - 1) * (o * k + o)))
        if !frozen {
            store.grads[w].zero()
            store.grads[b].zero()
        }
        // The gradients are moved out of the store (no copy) for the pointers and moved back.
        var gw: [Scalar] = [0], gb: [Scalar] = [0]
        if !frozen { swap(&gw, &store.grads[w].data); swap(&gb, &store.grads[b].data) }
        let one = onesVector(chunk * p)
        x.withUnsafeBufferPointer { px in
        dy.data.withUnsafeBufferPointer { pdy in
        col.withUnsafeMutableBufferPointer { pcol in
        dybuf.withUnsafeMutableBufferPointer { pdb in
        dcol.withUnsafeMutableBufferPointer { pdc in
        dxbuf.withUnsafeMutableBufferPointer { pxb in
        scratch.withUnsafeMutableBufferPointer { psc in
        gw.withUnsafeMutableBufferPointer { pgw in
        gb.withUnsafeMutableBufferPointer { pgb in
        store.values[w].data.withUnsafeBufferPointer { pw in
        flipped.withUnsafeBufferPointer { pwf in
        one.withUnsafeBufferPointer { po in
        dxData.withUnsafeMutableBufferPointer { pdx in
            let dxp: UnsafeMutablePointer<Scalar>? = needInput ? pdx.baseAddress! : nil
            let (xs, dys, cols, dybs, dcols, dxbs) = (px.baseAddress!, pdy.baseAddress!, pcol.baseAddress!,
                                                     pdb.baseAddress!, pdc.baseAddress!, pxb.baseAddress!)
            let (scr, wt, wf, ones) = (psc.baseAddress!, pw.baseAddress!, pwf.baseAddress, po.baseAddress!)
            let (gW, gB) = (pgw.baseAddress!, pgb.baseAddress!)
            context.run(n, parts: parts) { part, range in
                let myW = part == 0 ? gW : scr + (part - 1) * (o * k + o)
                let myB = part == 0 ? gB : myW + o * k
                let dyp = dybs + part * o * chunk * p
                let dcp = dcols + part * dcolPart
                let dxb = dxbs + part * cin * chunk * q
                var start = range.lowerBound
                while start < range.upperBound {
                    let m = min(chunk, range.upperBound - start)
                    let c = cols + (reuse ? start * k * p : part * k * chunk * p)
                    if !reuse && !frozen { unfold(xs + start * cin * q, m: m, into: c) }
                    ImageGeometry.swapLeadingAxes(dys + start * o * p, a: m, b: o, p: p, into: dyp)
                    if !frozen {
                        // dW += dY colᵀ ; db += dY 1
                        Scalar.gemm(transA: false, transB: true, m: o, n: k, k: m * p, alpha: 1,
                                    a: dyp, lda: m * p, b: c, ldb: m * p, beta: 1, c: myW, ldc: k)
                        Scalar.gemv(trans: false, m: o, n: m * p, alpha: 1, a: dyp, lda: m * p,
                                    x: ones, beta: 1, y: myB)
                    }
                    if let dxp {
                        if gathered {
                            // Stride 1: dx = conv(dY, W̃) with W̃[c, o, i, j] = W[o, c, k−1−i, k−1−j] and padding
                            // k−1−p — an unfold (gather) and one product instead of a scatter-add fold.
                            ImageKernels.im2col(dys + start * o * p, n: m, c: o, h: outHeight, w: outWidth,
                                          kh: kernel, kw: kernel, stride: 1, padding: kernel - 1 - padding,
                                          ho: height, wo: width, col: dcp)
                            Scalar.gemm(transA: false, transB: false, m: cin, n: m * q, k: o * kk, alpha: 1,
                                        a: wf!, lda: o * kk, b: dcp, ldb: m * q, beta: 0, c: dxb, ldc: m * q)
                            ImageGeometry.swapLeadingAxes(dxb, a: cin, b: m, p: q, into: dxp + start * cin * q)
                        } else {
                            // dcol = Wᵀ dY, folded back onto the input (col2im).
                            Scalar.gemm(transA: true, transB: false, m: k, n: m * p, k: o, alpha: 1,
                                        a: wt, lda: k, b: dyp, ldb: m * p, beta: 0, c: dcp, ldc: m * p)
                            ImageKernels.col2im(dcp, n: m, c: cin, h: height, w: width, kh: kernel, kw: kernel,
                                          stride: stride, padding: padding, ho: outHeight, wo: outWidth,
                                          x: dxp + start * cin * q)
                        }
                    }
                    start += m
                }
            }
            if !frozen {
                for part in 1..<max(1, parts) {
                    Scalar.axpy(n: o * k, alpha: 1, x: scr + (part - 1) * (o * k + o), y: gW)
                    Scalar.axpy(n: o, alpha: 1, x: scr + (part - 1) * (o * k + o) + o * k, y: gB)
                }
            }
        }}}}}}}}}}}}}
        if !frozen { swap(&gw, &store.grads[w].data); swap(&gb, &store.grads[b].data) }
        ybuf = dybuf
        return needInput ? Tensor<Scalar>(shape: [n, cin, height, width], data: dxData) : nil
    }
}
