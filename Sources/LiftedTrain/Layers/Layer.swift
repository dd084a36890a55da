/// A layer with a hand-written forward and backward pass. A layer caches what its backward
/// pass needs from the last forward pass (llm.c style) and writes its parameter gradients into
/// the network's `ParameterStore`.
public protocol Layer<Scalar>: AnyObject {
    /// The scalar type.
    associatedtype Scalar: NNScalar
    /// The description this layer was built from.
    var spec: LayerSpec { get }
    /// y = layer(x) for a batch `x` of shape `[b, …]`.
    func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar>
    /// Given ∂L/∂y, stores ∂L/∂θ in the parameter store and returns ∂L/∂x
    /// (or nil when `needInput` is false and the layer can skip that product).
    func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>?
}
