/// Average pooling over k × k windows (PyTorch's `nn.AvgPool2d`, zero padding counted in the mean).
public final class AvgPool2D<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Channels and input/output extents.
    public let channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int
    /// Window, stride and padding.
    public let kernel: Int, stride: Int, padding: Int
    private var batch = 0

    /// An average-pooling layer for inputs `[n, channels, height, width]`; `stride` defaults to `kernel`.
    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int? = nil, padding: Int = 0) {
        let s = stride ?? kernel
        spec = LayerSpec(type: "avgpool2d", kernel: kernel, stride: s, padding: padding)
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = s; self.padding = padding
        outHeight = ImageGeometry.outputSize(height, kernel: kernel, stride: s, padding: padding)
        outWidth = ImageGeometry.outputSize(width, kernel: kernel, stride: s, padding: padding)
        precondition(outHeight > 0 && outWidth > 0 && 2 * padding <= kernel, "AvgPool2D: window \(kernel) does not fit")
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let n = x.count / (channels * height * width)
        var y = Tensor<Scalar>(zeros: [n, channels, outHeight, outWidth])
        x.data.withUnsafeBufferPointer { px in
            y.data.withUnsafeMutableBufferPointer { py in
                ImageKernels.avgPool(px.baseAddress!, planes: n * channels, h: height, w: width, k: kernel, stride: stride,
                               padding: padding, ho: outHeight, wo: outWidth, y: py.baseAddress!)
            }
        }
        if training { batch = n }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        guard needInput else { return nil }
        var dx = Tensor<Scalar>(zeros: [batch, channels, height, width])
        dy.data.withUnsafeBufferPointer { pdy in
            dx.data.withUnsafeMutableBufferPointer { pdx in
                ImageKernels.avgPoolBackward(pdy.baseAddress!, planes: batch * channels, h: height, w: width, k: kernel,
                                       stride: stride, padding: padding, ho: outHeight, wo: outWidth, dx: pdx.baseAddress!)
            }
        }
        return dx
    }
}
