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
