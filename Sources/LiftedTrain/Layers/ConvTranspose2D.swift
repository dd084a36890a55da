/// Transposed 2-D convolution (PyTorch's `nn.ConvTranspose2d`), the adjoint of `Conv2D` in its
/// input: every input pixel scatters W[c, :, :, :] · x[n, c, ih, iw] onto the output window at
/// (ih·s − p, iw·s − p); Ho = (H − 1)s − 2p + k + output_padding. Weight `[C_in, C_out, k, k]`.
///
/// With `W` read as `[C_in, C_out·k·k]`, a chunk is one BLAS product `col = Wᵀ X` followed by a
/// fold (col2im); the backward pass unfolds dY (im2col) and uses two products.
public final class ConvTranspose2D<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Channels in and out.
    public let inChannels: Int, outChannels: Int
    /// Square kernel size, stride, zero padding and extra rows/columns on the output.
    public let kernel: Int, stride: Int, padding: Int, outputPadding: Int
    /// Input and output spatial extents.
    public let height: Int, width: Int, outHeight: Int, outWidth: Int
    let store: ParameterStore<Scalar>
    let w: Int, b: Int
    private var x: [Scalar] = []
    private var batch = 0
    /// The convolution this layer is the transpose of: from the output `[C_out, Ho, Wo]` back
    /// to the input `[C_in, H, W]` (its `channels` are C_out, its output positions H·W).
    let shape: ConvolutionShape
    // Work memory kept between steps: a chunk of x (or of dx) with its channel axis first, the
    // columns (col or dcol), the row sums of the bias gradient, and ones.
    private let channelMajor = WorkBuffer<Scalar>(), col = WorkBuffer<Scalar>()
    private let rowSums = WorkBuffer<Scalar>(), ones = WorkBuffer<Scalar>()

    /// A transposed convolution with parameters `name.weight [C_in, C_out, k, k]`, `name.bias [C_out]`.
    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, inputHeight: Int, inputWidth: Int, store: ParameterStore<Scalar>,
                weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
        precondition(weight.shape == [inChannels, outChannels, kernel, kernel] && bias.shape == [outChannels],
                     "ConvTranspose2D: weight \(weight.shape), bias \(bias.shape)")
        spec = LayerSpec(type: "conv_transpose2d", name: name, inChannels: inChannels, outChannels: outChannels,
                         kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding == 0 ? nil : outputPadding)
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
        height = inputHeight; width = inputWidth
        outHeight = ImageGeometry.transposedOutputSize(inputHeight, kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding)
        outWidth = ImageGeometry.transposedOutputSize(inputWidth, kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding)
        precondition(outHeight > 0 && outWidth > 0, "ConvTranspose2D: empty output")
        shape = ConvolutionShape(channels: outChannels, height: outHeight, width: outWidth, kernel: kernel,
                                 stride: stride, padding: padding, outHeight: inputHeight, outWidth: inputWidth)
        self.store = store
        w = store.register(name + ".weight", weight)
        b = store.register(name + ".bias", bias)
    }

    private var patch: Int { outChannels * kernel * kernel }
    private var pixels: Int { height * width }

    /// y = col2im(Wᵀ X) + b, chunk by chunk (`ConvolutionKernels.transposedConvolutionChunk`,
    /// X a chunk of x with its channel axis first).
    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let (ci, co, k, q) = (inChannels, outChannels, patch, pixels)
        let n = x.count / (ci * q)
        precondition(n * ci * q == x.count, "ConvTranspose2D: input \(x.shape) is not [n, \(ci), \(height), \(width)]")
        let outPlane = outHeight * outWidth
        var y = Tensor<Scalar>(zeros: [n, co, outHeight, outWidth])
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * q)
        let (xT, cols, one) = (channelMajor.reserve(ci * chunk * q), col.reserve(k * chunk * q), ones.ones(co))
        x.data.withUnsafeBufferPointer { px in
        y.data.withUnsafeMutableBufferPointer { py in
        store.withWeightAndBias(w, b) { wb in
            let (xs, ys) = (px.baseAddress!, py.baseAddress!)
            for (start, m) in ImageGeometry.chunks(0..<n, size: chunk) {
                ImageKernels.swapLeadingAxes(xs + start * ci * q, a: m, b: ci, p: q, into: xT)
                ConvolutionKernels.transposedConvolutionChunk(dy: xT, m: m, shape, outChannels: ci, weight: wb.weight,
                                                              dcol: cols, x: ys + start * co * outPlane)
            }
            ImageKernels.channelAffine(ys, n: n, c: co, hw: outPlane, scale: one, shift: wb.bias, y: ys)
        }}}
        if training { self.x = x.data; batch = n }
        return y
    }

    /// db = Σ dy per channel; per chunk dcol = im2col(dY), dW += X dcolᵀ and dX = W dcol
    /// (`ConvolutionKernels.weightGradientChunk`, `convolutionChunk`).
    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let n = batch
        let (ci, co, k, q) = (inChannels, outChannels, patch, pixels)
        let outPlane = outHeight * outWidth
        precondition(dy.count == n * co * outPlane, "ConvTranspose2D.backward: dy \(dy.shape) for batch \(n)")
        let frozen = store.frozen
        if frozen && !needInput { return nil }
        if !frozen { store.grads[w].zero() }
        var dx = needInput ? Scalar.uninitializedArray(count: n * ci * q) : [0]
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * q)
        let (xT, dcol) = (channelMajor.reserve(ci * chunk * q), col.reserve(k * chunk * q))
        let (sums, one) = (rowSums.reserve(n * co), ones.ones(max(outPlane, n)))
        x.withUnsafeBufferPointer { px in
        dy.data.withUnsafeBufferPointer { pdy in
        dx.withUnsafeMutableBufferPointer { pdx in
        store.withWeightAndBias(w, b) { wb in
            let (xs, dys, dxs) = (px.baseAddress!, pdy.baseAddress!, pdx.baseAddress!)
            if !frozen {
                ConvolutionKernels.biasGradient(dy: dys, samples: n, channels: co, plane: outPlane, ones: one,
                                                rowSums: sums, db: wb.biasGradient)
            }
            for (start, m) in ImageGeometry.chunks(0..<n, size: chunk) {
                ConvolutionKernels.unfold(dys + start * co * outPlane, m: m, shape, col: dcol)
                if !frozen {
                    ImageKernels.swapLeadingAxes(xs + start * ci * q, a: m, b: ci, p: q, into: xT)
                    ConvolutionKernels.weightGradientChunk(dy: xT, col: dcol, columns: m * q, outChannels: ci, patch: k,
                                                           dw: wb.weightGradient, bias: nil)
                }
                guard needInput else { continue }
                ConvolutionKernels.convolutionChunk(col: dcol, m: m, positions: q, patch: k, outChannels: ci,
                                                    weight: wb.weight, bias: nil, product: xT, y: dxs + start * ci * q)
            }
        }}}}
        return needInput ? Tensor<Scalar>(shape: [n, ci, height, width], data: dx) : nil
    }
}
