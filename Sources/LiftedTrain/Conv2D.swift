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
    private var x: [Scalar] = []
    private var batch = 0
    // Work buffers reused across steps (im2col writes every element, so no clearing is needed).
    private var col: [Scalar] = []
    private var colHoldsBatch = false
    private var ybuf: [Scalar] = []
    private var dcol: [Scalar] = []
    private var onesVector = OnesVector<Scalar>()

    /// A convolution whose parameters live in `store` as `name.weight [O, C, k, k]` and `name.bias [O]`.
    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                inputHeight: Int, inputWidth: Int, store: ParameterStore<Scalar>,
                weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
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
        w = store.register(name + ".weight", weight)
        b = store.register(name + ".bias", bias)
    }

    private var patch: Int { inChannels * kernel * kernel }
    private var positions: Int { outHeight * outWidth }

    /// Unfolds samples start..<start+m into `col` at element `offset` (`col` grows to fit).
    private func unfold(_ px: UnsafePointer<Scalar>, start: Int, m: Int, into col: inout [Scalar], offset: Int = 0) {
        let need = offset + patch * m * positions
        if col.count < need { col = Scalar.filledArray(0, count: need) }
        col.withUnsafeMutableBufferPointer {
            Scalar.im2col(px + start * inChannels * height * width, n: m, c: inChannels, h: height, w: width,
                          kh: kernel, kw: kernel, stride: stride, padding: padding, ho: outHeight, wo: outWidth,
                          col: $0.baseAddress! + offset)
        }
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let n = x.count / (inChannels * height * width)
        precondition(n * inChannels * height * width == x.count, "Conv2D: input \(x.shape) is not [n, \(inChannels), \(height), \(width)]")
        let (o, p, k) = (outChannels, positions, patch)
        var y = Tensor<Scalar>(shape: [n, o, outHeight, outWidth], data: Scalar.uninitializedArray(count: n * o * p))
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * p)
        if ybuf.count < o * chunk * p { ybuf = Scalar.filledArray(0, count: o * chunk * p) }
        // Sized before the loop: growing it mid-batch would drop the columns of earlier chunks.
        if training && col.count < k * p * n { col = Scalar.filledArray(0, count: k * p * n) }
        let one = onesVector(chunk * p)
        x.data.withUnsafeBufferPointer { px in
            var start = 0
            while start < n {
                let m = min(chunk, n - start)
                // In training every chunk keeps its own columns for the backward pass; each chunk's
                // product runs right after its unfold, while the columns are still in cache.
                let offset = training ? start * k * p : 0
                unfold(px.baseAddress!, start: start, m: m, into: &col, offset: offset)
                store.values[b].data.withUnsafeBufferPointer { pb in
                    store.values[w].data.withUnsafeBufferPointer { pw in
                        col.withUnsafeBufferPointer { pcol in
                            let pc = UnsafeBufferPointer(rebasing: pcol[offset...])
                            one.withUnsafeBufferPointer { po in
                                ybuf.withUnsafeMutableBufferPointer { py in
                                    // ybuf ← b 1ᵀ, then ybuf ← W col + ybuf.
                                    Scalar.gemm(transA: false, transB: false, m: o, n: m * p, k: 1, alpha: 1,
                                                a: pb.baseAddress!, lda: 1, b: po.baseAddress!, ldb: m * p,
                                                beta: 0, c: py.baseAddress!, ldc: m * p)
                                    Scalar.gemm(transA: false, transB: false, m: o, n: m * p, k: k, alpha: 1,
                                                a: pw.baseAddress!, lda: k, b: pc.baseAddress!, ldb: m * p,
                                                beta: 1, c: py.baseAddress!, ldc: m * p)
                                }
                            }
                        }
                    }
                }
                ybuf.withUnsafeBufferPointer { py in
                    y.data.withUnsafeMutableBufferPointer { pyy in
                        ImageGeometry.swapLeadingAxes(py.baseAddress!, a: o, b: m, p: p, into: pyy.baseAddress! + start * o * p)
                    }
                }
                start += m
            }
        }
        colHoldsBatch = training
        if training {
            self.x = x.data
            batch = n
        }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let n = batch
        let (o, p, k) = (outChannels, positions, patch)
        precondition(dy.count == n * o * p, "Conv2D.backward: dy \(dy.shape) for batch \(n)")
        let frozen = store.frozen
        if !frozen {
            store.grads[w].zero()
            store.grads[b].zero()
        }
        let gathered = stride == 1 && padding <= kernel - 1   // dx by the flipped kernel: every element written
        var dx = needInput ? Tensor<Scalar>(shape: [n, inChannels, height, width],
                                            data: gathered ? Scalar.uninitializedArray(count: n * inChannels * height * width)
                                                           : Scalar.filledArray(0, count: n * inChannels * height * width)) : nil  // col2im accumulates
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * p)
        let reuse = colHoldsBatch
        // The flipped, channel-swapped kernel for the stride-1 input gradient.
        var flipped: [Scalar]? = nil
        var dxbuf: [Scalar] = []
        if needInput && gathered {
            let kk = kernel * kernel
            let wv = store.values[w].data
            var f = wv
            for oc in 0..<o {
                for ch in 0..<inChannels {
                    for t in 0..<kk { f[(ch * o + oc) * kk + (kk - 1 - t)] = wv[(oc * inChannels + ch) * kk + t] }
                }
            }
            flipped = f
            dxbuf = Scalar.uninitializedArray(count: inChannels * chunk * height * width)
            let need = o * kk * chunk * height * width
            if dcol.count < need { dcol = Scalar.filledArray(0, count: need) }
        }
        var dybuf: [Scalar] = []
        swap(&dybuf, &ybuf)
        if dybuf.count < o * chunk * p { dybuf = Scalar.filledArray(0, count: o * chunk * p) }
        if needInput && dcol.count < k * chunk * p { dcol = Scalar.filledArray(0, count: k * chunk * p) }
        let one = onesVector(chunk * p)
        x.withUnsafeBufferPointer { px in
            var start = 0
            while start < n {
                let m = min(chunk, n - start)
                if !reuse && !frozen { unfold(px.baseAddress!, start: start, m: m, into: &col) }
                let colOffset = reuse ? start * k * p : 0
                dy.data.withUnsafeBufferPointer { pdy in
                    dybuf.withUnsafeMutableBufferPointer { pd in
                        ImageGeometry.swapLeadingAxes(pdy.baseAddress! + start * o * p, a: m, b: o, p: p, into: pd.baseAddress!)
                    }
                }
                dybuf.withUnsafeBufferPointer { pd in
                    if !frozen { col.withUnsafeBufferPointer { pcol in
                        let pc = UnsafeBufferPointer(rebasing: pcol[colOffset...])
                        // dW += dY colᵀ ; db += dY 1
                        store.grads[w].data.withUnsafeMutableBufferPointer { pgw in
                            Scalar.gemm(transA: false, transB: true, m: o, n: k, k: m * p, alpha: 1,
                                        a: pd.baseAddress!, lda: m * p, b: pc.baseAddress!, ldb: m * p,
                                        beta: 1, c: pgw.baseAddress!, ldc: k)
                        }
                        one.withUnsafeBufferPointer { po in
                            store.grads[b].data.withUnsafeMutableBufferPointer { pgb in
                                Scalar.gemv(trans: false, m: o, n: m * p, alpha: 1, a: pd.baseAddress!, lda: m * p,
                                            x: po.baseAddress!, beta: 1, y: pgb.baseAddress!)
                            }
                        }
                    } }
                    guard needInput else { return }
                    if let wf = flipped {
                        // Stride 1: dx = conv(dY, W̃) with W̃[c, o, i, j] = W[o, c, k−1−i, k−1−j] and padding
                        // k−1−p — an unfold (gather) and one product instead of a scatter-add fold.
                        let kk = kernel * kernel, q = height * width
                        dy.data.withUnsafeBufferPointer { pdy in
                            dcol.withUnsafeMutableBufferPointer { pdc in
                                Scalar.im2col(pdy.baseAddress! + start * o * p, n: m, c: o, h: outHeight, w: outWidth,
                                              kh: kernel, kw: kernel, stride: 1, padding: kernel - 1 - padding,
                                              ho: height, wo: width, col: pdc.baseAddress!)
                                wf.withUnsafeBufferPointer { pwf in
                                    dxbuf.withUnsafeMutableBufferPointer { pxb in
                                        Scalar.gemm(transA: false, transB: false, m: inChannels, n: m * q, k: o * kk, alpha: 1,
                                                    a: pwf.baseAddress!, lda: o * kk, b: pdc.baseAddress!, ldb: m * q,
                                                    beta: 0, c: pxb.baseAddress!, ldc: m * q)
                                        dx!.data.withUnsafeMutableBufferPointer { pdx in
                                            ImageGeometry.swapLeadingAxes(pxb.baseAddress!, a: inChannels, b: m, p: q,
                                                                          into: pdx.baseAddress! + start * inChannels * q)
                                        }
                                    }
                                }
                            }
                        }
                        return
                    }
                    // dcol = Wᵀ dY, folded back onto the input (col2im).
                    store.values[w].data.withUnsafeBufferPointer { pw in
                        dcol.withUnsafeMutableBufferPointer { pdc in
                            Scalar.gemm(transA: true, transB: false, m: k, n: m * p, k: o, alpha: 1,
                                        a: pw.baseAddress!, lda: k, b: pd.baseAddress!, ldb: m * p,
                                        beta: 0, c: pdc.baseAddress!, ldc: m * p)
                            dx!.data.withUnsafeMutableBufferPointer { pdx in
                                Scalar.col2im(pdc.baseAddress!, n: m, c: inChannels, h: height, w: width, kh: kernel, kw: kernel,
                                              stride: stride, padding: padding, ho: outHeight, wo: outWidth,
                                              x: pdx.baseAddress! + start * inChannels * height * width)
                            }
                        }
                    }
                }
                start += m
            }
        }
        ybuf = dybuf
        return dx
    }
}
