/// Fixed input normalisation y = (x − mean) / std, recorded in the model JSON so the file alone
/// says how inputs are prepared.
public final class Normalize<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    let mean: Scalar
    let invStd: Scalar

    /// A normalisation layer; `std` must be positive (checked by the model builder).
    public init(mean: Double, std: Double) {
        spec = LayerSpec(type: "normalize", mean: mean, std: std)
        self.mean = Scalar(mean)
        self.invStd = Scalar(1 / std)
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        var y = x
        let shift = Tensor<Scalar>(repeating: -mean, shape: x.shape)
        y.add(shift)
        y.scale(by: invStd)
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        guard needInput else { return nil }
        var dx = dy
        dx.scale(by: invStd)
        return dx
    }
}
