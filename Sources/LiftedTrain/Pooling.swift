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

    /// A max-pooling layer for inputs `[n, channels, height, width]`; `stride` defaults to `kernel`.
    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int? = nil, padding: Int = 0) {
        let s = stride ?? kernel
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
                    Scalar.maxPool(px.baseAddress!, planes: n * channels, h: height, w: width, k: kernel, stride: stride,
                                   padding: padding, ho: outHeight, wo: outWidth, y: py.baseAddress!, argmax: pa.baseAddress!)
                }
            }
        }
        if training { argmax = am; batch = n }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        guard needInput else { return nil }
        var dx = Tensor<Scalar>(zeros: [batch, channels, height, width])
        dy.data.withUnsafeBufferPointer { pdy in
            argmax.withUnsafeBufferPointer { pa in
                dx.data.withUnsafeMutableBufferPointer { pdx in
                    Scalar.maxPoolBackward(pdy.baseAddress!, argmax: pa.baseAddress!, count: pdy.count,
                                           planeIn: height * width, planeOut: outHeight * outWidth, dx: pdx.baseAddress!)
                }
            }
        }
        return dx
    }
}

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
                Scalar.avgPool(px.baseAddress!, planes: n * channels, h: height, w: width, k: kernel, stride: stride,
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
                Scalar.avgPoolBackward(pdy.baseAddress!, planes: batch * channels, h: height, w: width, k: kernel,
                                       stride: stride, padding: padding, ho: outHeight, wo: outWidth, dx: pdx.baseAddress!)
            }
        }
        return dx
    }
}

/// Global average pooling `[n, C, H, W] → [n, C]`: y[n, c] = mean over the plane (one BLAS gemv).
public final class GlobalAvgPool<Scalar: NNScalar>: Layer {
    public let spec = LayerSpec(type: "global_avgpool")
    /// Channels and plane size.
    public let channels: Int, plane: Int
    private var batch = 0
    private var inputShape: [Int] = []

    /// A global average pool for inputs of `channels` planes of `plane` pixels.
    public init(channels: Int, plane: Int) {
        self.channels = channels; self.plane = plane
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let n = x.count / (channels * plane)
        var y = Tensor<Scalar>(zeros: [n, channels])
        let avg = Scalar.filledArray(1 / Scalar(plane), count: plane)
        x.data.withUnsafeBufferPointer { px in
            avg.withUnsafeBufferPointer { pa in
                y.data.withUnsafeMutableBufferPointer { py in
                    Scalar.gemv(trans: false, m: n * channels, n: plane, alpha: 1, a: px.baseAddress!, lda: plane,
                                x: pa.baseAddress!, beta: 0, y: py.baseAddress!)
                }
            }
        }
        if training { batch = n; inputShape = x.shape }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        guard needInput else { return nil }
        var dx = Tensor<Scalar>(zeros: inputShape)
        let avg = Scalar.filledArray(1 / Scalar(plane), count: plane)
        // dx = dy ⊗ (1/plane) 1ᵀ
        dy.data.withUnsafeBufferPointer { pdy in
            avg.withUnsafeBufferPointer { pa in
                dx.data.withUnsafeMutableBufferPointer { pdx in
                    Scalar.ger(m: batch * channels, n: plane, alpha: 1, x: pdy.baseAddress!, y: pa.baseAddress!,
                               a: pdx.baseAddress!, lda: plane)
                }
            }
        }
        return dx
    }
}
