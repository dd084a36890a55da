/// Max pooling over k × k windows of NCHW batches (PyTorch's `nn.MaxPool2d`; padding acts as −∞).
/// The backward pass routes each output gradient to the position of its window's maximum.
public final class MaxPool2D<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Channels and input/output extents.
    public let channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int
    /// Window, stride and padding.
    public let kernel: Int, stride: Int, padding: Int
    private var argmax: [Int32] = []
    private var batch = 0
    /// Splits the planes over the context's workers.
    public let context: ComputeContext

    /// A max-pooling layer for inputs `[n, channels, height, width]`; `stride` defaults to `kernel`.
    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int? = nil, padding: Int = 0,
                context: ComputeContext = .serial) {
        let s = stride ?? kernel
        self.context = context
        spec = LayerSpec(type: "maxpool2d", kernel: kernel, stride: s, padding: padding)
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = s; self.padding = padding
        outHeight = ImageGeometry.outputSize(height, kernel: kernel, stride: s, padding: padding)
        outWidth = ImageGeometry.outputSize(width, kernel: kernel, stride: s, padding: padding)
        precondition(outHeight > 0 && outWidth > 0 && 2 * padding <= kernel, "MaxPool2D: window \(kernel) does not fit")
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let n = x.count / (channels * height * width)
        var y = Tensor<Scalar>(shape: [n, channels, outHeight, outWidth],
                               data: Scalar.uninitializedArray(count: n * channels * outHeight * outWidth))
        var am = [Int32](repeating: 0, count: y.count)
        x.data.withUnsafeBufferPointer { px in
            y.data.withUnsafeMutableBufferPointer { py in
                am.withUnsafeMutableBufferPointer { pa in
                    let (xs, ys, amax) = (px.baseAddress!, py.baseAddress!, pa.baseAddress!)
                    let (pin, pout) = (height * width, outHeight * outWidth)
                    context.run(n * channels, minimumPerPart: max(1, (1 << 16) / pin)) { _, r in
                        ImageKernels.maxPool(xs + r.lowerBound * pin, planes: r.count, h: height, w: width, k: kernel, stride: stride,
                                       padding: padding, ho: outHeight, wo: outWidth, y: ys + r.lowerBound * pout,
                                       argmax: amax + r.lowerBound * pout)
                    }
                }
            }
        }
        if training { argmax = am; batch = n }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        guard needInput else { return nil }
        let (pin, pout) = (height * width, outHeight * outWidth)
        var dx = Tensor<Scalar>(shape: [batch, channels, height, width], data: Scalar.uninitializedArray(count: batch * channels * pin))
        dy.data.withUnsafeBufferPointer { pdy in
            argmax.withUnsafeBufferPointer { pa in
                dx.data.withUnsafeMutableBufferPointer { pdx in
                    let (dys, amax, dxs) = (pdy.baseAddress!, pa.baseAddress!, pdx.baseAddress!)
                    // Each part zeroes its own planes of dx, then routes their gradients.
                    context.run(batch * channels, minimumPerPart: max(1, (1 << 16) / pin)) { _, r in
                        Scalar.fill(UnsafeMutableBufferPointer(start: dxs + r.lowerBound * pin, count: r.count * pin), with: 0)
                        ImageKernels.maxPoolBackward(dys + r.lowerBound * pout, argmax: amax + r.lowerBound * pout, count: r.count * pout,
                                               planeIn: pin, planeOut: pout, dx: dxs + r.lowerBound * pin)
                    }
                }
            }
        }
        return dx
    }
}
