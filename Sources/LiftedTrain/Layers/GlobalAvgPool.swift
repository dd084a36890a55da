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
