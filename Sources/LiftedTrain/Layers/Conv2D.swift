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
    /// The input of the last training forward pass and its batch size.
    var x: [Scalar] = []
    var batch = 0
    /// The im2col view of this convolution.
    let shape: ConvolutionShape
    // Work memory kept between steps (a kernel writes every element before another reads it;
    // only the partial sums are zeroed per pass): the unfolded columns (in training those of
    // the whole batch, for the backward pass), each part's product or dY chunk, dcol or the
    // unfolded dY, the dx chunks, the flipped kernel, the partial dW, db of the parts after
    // the first, and ones.
    let col = WorkBuffer<Scalar>(), product = WorkBuffer<Scalar>(), dcol = WorkBuffer<Scalar>()
    let dxChunk = WorkBuffer<Scalar>(), flipped = WorkBuffer<Scalar>(), partials = WorkBuffer<Scalar>()
    let ones = WorkBuffer<Scalar>()
    var colHoldsBatch = false
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
        shape = ConvolutionShape(channels: inChannels, height: inputHeight, width: inputWidth, kernel: kernel,
                                 stride: stride, padding: padding, outHeight: outHeight, outWidth: outWidth)
        self.store = store
        self.context = context
        w = store.register(name + ".weight", weight)
        b = store.register(name + ".bias", bias)
    }

    /// Parts the batch was split into by the last training forward pass (its chunks' columns are
    /// laid out by that split, so backward must walk the same one).
    var forwardParts = 1
    /// Whether the last forward pass took the Winograd path (backward takes the same one).
    var forwardUsedWinograd = false

    /// y = W ⋆ x + b, chunk by chunk: each part of the batch (`ComputeContext.run`) unfolds its
    /// chunks and multiplies them (`ConvolutionKernels`) into its own slice of the work memory.
    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let n = x.count / shape.sampleSize
        precondition(n * shape.sampleSize == x.count, "Conv2D: input \(x.shape) is not [n, \(inChannels), \(height), \(width)]")
        forwardUsedWinograd = usesWinograd
        if forwardUsedWinograd { return forwardWinograd(x, n: n, training: training) }
        let (o, p, k, g) = (outChannels, shape.positions, shape.patch, shape)
        var y = Tensor<Scalar>(shape: [n, o, outHeight, outWidth], data: Scalar.uninitializedArray(count: n * o * p))
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * p)
        let parts = context.parts(n, minimumPerPart: chunk)
        // In training every chunk keeps its own columns (at start·K·P) for the backward pass.
        let cols = col.reserve(training ? k * p * n : parts * k * chunk * p)
        let products = product.reserve(parts * o * chunk * p)
        let one = ones.ones(chunk * p)
        x.data.withUnsafeBufferPointer { px in
        y.data.withUnsafeMutableBufferPointer { py in
        store.withWeightAndBias(w, b) { wb in
            let (xs, ys) = (px.baseAddress!, py.baseAddress!)
            context.run(n, parts: parts) { part, range in
                for (start, m) in ImageGeometry.chunks(range, size: chunk) {
                    // Each chunk's product runs right after its unfold, while the columns are in cache.
                    let c = cols + (training ? start * k * p : part * k * chunk * p)
                    ConvolutionKernels.unfold(xs + start * g.sampleSize, m: m, g, col: c)
                    ConvolutionKernels.convolutionChunk(col: c, m: m, positions: p, patch: k, outChannels: o,
                                                        weight: wb.weight, bias: (wb.bias, one),
                                                        product: products + part * o * chunk * p, y: ys + start * o * p)
                }
            }
        }}}
        colHoldsBatch = training
        if training {
            self.x = x.data
            batch = n
            forwardParts = parts
        }
        return y
    }

    /// dW = Σ dY colᵀ, db = Σ dY 1 and dx, chunk by chunk over the parts of the forward split;
    /// the parts after the first sum dW, db into their own slots, added at the end.
    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        if forwardUsedWinograd { return backwardWinograd(dy, needInput: needInput) }
        let n = batch
        let (o, p, k, g) = (outChannels, shape.positions, shape.patch, shape)
        precondition(dy.count == n * o * p, "Conv2D.backward: dy \(dy.shape) for batch \(n)")
        let frozen = store.frozen
        let (cin, q, kk) = (inChannels, height * width, kernel * kernel)
        let gathered = stride == 1 && padding <= kernel - 1   // dx by the flipped kernel: every element written
        var dx = !needInput ? [0] : gathered ? Scalar.uninitializedArray(count: n * cin * q)
                                             : Scalar.filledArray(0, count: n * cin * q)  // col2im accumulates
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * p)
        let reuse = colHoldsBatch
        let parts = reuse ? forwardParts : context.parts(n, minimumPerPart: chunk)
        // Per-part work slices: dY chunk, dcol (or the unfolded dY of the gathered path), dx chunk, dW and db.
        let dcolPart = needInput ? (gathered ? o * kk * chunk * q : k * chunk * p) : 0
        let dxPart = needInput && gathered ? cin * chunk * q : 0
        let (dyPart, gradPart) = (o * chunk * p, o * k + o)
        let cols = reuse || frozen ? col.pointer : col.reserve(parts * k * chunk * p)
        let (dyChunks, dcols) = (product.reserve(parts * dyPart), dcol.reserve(max(1, parts * dcolPart)))
        let dxChunks = dxChunk.reserve(max(1, parts * dxPart))
        let partial = frozen ? partials.pointer : partials.zeros(max(1, (parts - 1) * gradPart))
        let flippedWeight = flipped.reserve(needInput && gathered ? o * cin * kk : 1)
        let one = ones.ones(chunk * p)
        if !frozen {
            store.grads[w].zero()
            store.grads[b].zero()
        }
        let flippedShape = ConvolutionKernels.flippedShape(of: g, outChannels: o)
        x.withUnsafeBufferPointer { px in
        dy.data.withUnsafeBufferPointer { pdy in
        dx.withUnsafeMutableBufferPointer { pdx in
        store.withWeightAndBias(w, b) { wb in
            let (xs, dys, dxs) = (px.baseAddress!, pdy.baseAddress!, pdx.baseAddress!)
            if needInput && gathered {
                ConvolutionKernels.flippedKernel(wb.weight, outChannels: o, channels: cin, kernel: kernel, into: flippedWeight)
            }
            context.run(n, parts: parts) { part, range in
                let dW = part == 0 ? wb.weightGradient : partial + (part - 1) * gradPart
                let db = part == 0 ? wb.biasGradient : dW + o * k
                let (dyT, dc) = (dyChunks + part * dyPart, dcols + part * dcolPart)
                for (start, m) in ImageGeometry.chunks(range, size: chunk) {
                    let c = cols + (reuse ? start * k * p : part * k * chunk * p)
                    if !reuse && !frozen { ConvolutionKernels.unfold(xs + start * cin * q, m: m, g, col: c) }
                    ImageKernels.swapLeadingAxes(dys + start * o * p, a: m, b: o, p: p, into: dyT)
                    if !frozen {
                        ConvolutionKernels.weightGradientChunk(dy: dyT, col: c, columns: m * p, outChannels: o, patch: k,
                                                               dw: dW, bias: (db, one))
                    }
                    guard needInput else { continue }
                    if gathered {
                        ConvolutionKernels.unfold(dys + start * o * p, m: m, flippedShape, col: dc)
                        ConvolutionKernels.convolutionChunk(col: dc, m: m, positions: q, patch: o * kk, outChannels: cin,
                                                            weight: flippedWeight, bias: nil,
                                                            product: dxChunks + part * dxPart, y: dxs + start * cin * q)
                    } else {
                        ConvolutionKernels.transposedConvolutionChunk(dy: dyT, m: m, g, outChannels: o, weight: wb.weight,
                                                                      dcol: dc, x: dxs + start * cin * q)
                    }
                }
            }
            guard !frozen else { return }
            for part in 1..<max(1, parts) {
                Scalar.axpy(n: o * k, alpha: 1, x: partial + (part - 1) * gradPart, y: wb.weightGradient)
                Scalar.axpy(n: o, alpha: 1, x: partial + (part - 1) * gradPart + o * k, y: wb.biasGradient)
            }
        }}}}
        return needInput ? Tensor<Scalar>(shape: [n, cin, height, width], data: dx) : nil
    }
}
