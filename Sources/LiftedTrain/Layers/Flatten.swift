/// Reshapes `[n, …]` to `[n, features]` (the same memory); the backward pass restores the shape.
public final class Flatten<Scalar: NNScalar>: Layer {
    public let spec = LayerSpec(type: "flatten")
    private var inputShape: [Int] = []

    /// A flatten layer.
    public init() {}

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        if training { inputShape = x.shape }
        return x.reshaped([x.rows, x.cols])
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        needInput ? dy.reshaped(inputShape) : nil
    }
}

/// Reshapes `[n, features]` to `[n, C, H, W]` (the same memory), PyTorch's `nn.Unflatten(1, (C, H, W))`:
/// the seam between the dense and the transposed-convolution layers of a generator.
public final class Unflatten<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// The per-sample output shape.
    public let shape: [Int]
    private var inputShape: [Int] = []

    /// An unflatten layer to per-sample `shape`.
    public init(shape: [Int]) {
        self.shape = shape
        var l = LayerSpec(type: "unflatten")
        l.shape = shape
        spec = l
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        if training { inputShape = x.shape }
        return x.reshaped([x.rows] + shape)
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        needInput ? dy.reshaped(inputShape) : nil
    }
}
