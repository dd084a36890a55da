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
        self.store = store
        w = store.register(name + ".weight", weight)
        b = store.register(name + ".bias", bias)
    }

    private var patch: Int { outChannels * kernel * kernel }
    private var pixels: Int { height * width }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let (ci, co, k, q) = (inChannels, outChannels, patch, pixels)
        let n = x.count / (ci * q)
        precondition(n * ci * q == x.count, "ConvTranspose2D: input \(x.shape) is not [n, \(ci), \(height), \(width)]")
        let outPlane = outHeight * outWidth
        var y = Tensor<Scalar>(zeros: [n, co, outHeight, outWidth])
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * q)
        var xbuf = Scalar.filledArray(0, count: ci * chunk * q)
        var col = Scalar.filledArray(0, count: k * chunk * q)
        x.data.withUnsafeBufferPointer { px in
            y.data.withUnsafeMutableBufferPointer { py in
                var start = 0
                while start < n {
                    let m = min(chunk, n - start)
                    xbuf.withUnsafeMutableBufferPointer { pxb in
                        ImageGeometry.swapLeadingAxes(px.baseAddress! + start * ci * q, a: m, b: ci, p: q, into: pxb.baseAddress!)
                        store.values[w].data.withUnsafeBufferPointer { pw in
                            col.withUnsafeMutableBufferPointer { pc in
                                // col = Wᵀ X, folded onto the output.
                                Scalar.gemm(transA: true, transB: false, m: k, n: m * q, k: ci, alpha: 1,
                                            a: pw.baseAddress!, lda: k, b: pxb.baseAddress!, ldb: m * q,
                                            beta: 0, c: pc.baseAddress!, ldc: m * q)
                                ImageKernels.col2im(pc.baseAddress!, n: m, c: co, h: outHeight, w: outWidth, kh: kernel, kw: kernel,
                                              stride: stride, padding: padding, ho: height, wo: width,
                                              x: py.baseAddress! + start * co * outPlane)
                            }
                        }
                    }
                    start += m
                }
                let one = Scalar.filledArray(1, count: co)
                store.values[b].data.withUnsafeBufferPointer { pb in
                    one.withUnsafeBufferPointer { po in
                        ImageKernels.channelAffine(py.baseAddress!, n: n, c: co, hw: outPlane, scale: po.baseAddress!,
                                             shift: pb.baseAddress!, y: py.baseAddress!)
                    }
                }
            }
        }
        if training { self.x = x.data; batch = n }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let n = batch
        let (ci, co, k, q) = (inChannels, outChannels, patch, pixels)
        let outPlane = outHeight * outWidth
        precondition(dy.count == n * co * outPlane, "ConvTranspose2D.backward: dy \(dy.shape) for batch \(n)")
        let frozen = store.frozen
        if frozen && !needInput { return nil }
        if !frozen { store.grads[w].zero() }
        // db[c] = Σ_{n,pixels} dy: row sums of dy [n·C_out, plane], then column sums over n.
        var rowSums = Scalar.filledArray(0, count: n * co)
        let onePlane = Scalar.filledArray(1, count: outPlane)
        let oneBatch = Scalar.filledArray(1, count: n)
        if !frozen { dy.data.withUnsafeBufferPointer { pdy in
            rowSums.withUnsafeMutableBufferPointer { pr in
                onePlane.withUnsafeBufferPointer { po in
                    Scalar.gemv(trans: false, m: n * co, n: outPlane, alpha: 1, a: pdy.baseAddress!, lda: outPlane,
                                x: po.baseAddress!, beta: 0, y: pr.baseAddress!)
                }
                oneBatch.withUnsafeBufferPointer { po in
                    store.grads[b].data.withUnsafeMutableBufferPointer { pgb in
                        Scalar.gemv(trans: true, m: n, n: co, alpha: 1, a: pr.baseAddress!, lda: co,
                                    x: po.baseAddress!, beta: 0, y: pgb.baseAddress!)
                    }
                }
            }
        } }
        var dx = needInput ? Tensor<Scalar>(zeros: [n, ci, height, width]) : nil
        let chunk = ImageGeometry.chunk(samples: n, columnElementsPerSample: k * q)
        var xbuf: [Scalar] = frozen ? [] : Scalar.filledArray(0, count: ci * chunk * q)
        var dcol = Scalar.filledArray(0, count: k * chunk * q)
        var dxbuf: [Scalar] = needInput ? Scalar.filledArray(0, count: ci * chunk * q) : []
        x.withUnsafeBufferPointer { px in
            dy.data.withUnsafeBufferPointer { pdy in
                var start = 0
                while start < n {
                    let m = min(chunk, n - start)
                    dcol.withUnsafeMutableBufferPointer { pdc in
                        ImageKernels.im2col(pdy.baseAddress! + start * co * outPlane, n: m, c: co, h: outHeight, w: outWidth,
                                      kh: kernel, kw: kernel, stride: stride, padding: padding, ho: height, wo: width,
                                      col: pdc.baseAddress!)
                        if !frozen { xbuf.withUnsafeMutableBufferPointer { pxb in
                            ImageGeometry.swapLeadingAxes(px.baseAddress! + start * ci * q, a: m, b: ci, p: q, into: pxb.baseAddress!)
                            // dW += X dcolᵀ
                            store.grads[w].data.withUnsafeMutableBufferPointer { pgw in
                                Scalar.gemm(transA: false, transB: true, m: ci, n: k, k: m * q, alpha: 1,
                                            a: pxb.baseAddress!, lda: m * q, b: pdc.baseAddress!, ldb: m * q,
                                            beta: 1, c: pgw.baseAddress!, ldc: k)
                            }
                        } }
                        guard needInput else { return }
                        // dX = W dcol
                        store.values[w].data.withUnsafeBufferPointer { pw in
                            dxbuf.withUnsafeMutableBufferPointer { pdb in
                                Scalar.gemm(transA: false, transB: false, m: ci, n: m * q, k: k, alpha: 1,
                                            a: pw.baseAddress!, lda: k, b: pdc.baseAddress!, ldb: m * q,
                                            beta: 0, c: pdb.baseAddress!, ldc: m * q)
                                dx!.data.withUnsafeMutableBufferPointer { pdx in
                                    ImageGeometry.swapLeadingAxes(pdb.baseAddress!, a: ci, b: m, p: q, into: pdx.baseAddress! + start * ci * q)
                                }
                            }
                        }
                    }
                    start += m
                }
            }
        }
        return dx
    }
}
