/// Element-wise activation y = φ(z).
public final class Activation<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Which φ.
    public let kind: ActivationKind
    /// The parameter of leaky ReLU / ELU.
    public let alpha: Scalar
    private var z = Tensor<Scalar>(zeros: [0])
    private var y = Tensor<Scalar>(zeros: [0])
    /// Splits passes of ≥ 64K elements over the context's workers.
    public let context: ComputeContext

    /// An activation layer.
    public init(_ kind: ActivationKind, alpha: Double? = nil, context: ComputeContext = .serial) {
        self.kind = kind
        self.context = context
        let a = alpha ?? kind.defaultAlpha
        self.alpha = Scalar(a)
        spec = LayerSpec(type: kind.rawValue, alpha: kind.usesAlpha ? a : nil)
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        // Into fresh storage (no copy of x first: x is shared with the caller).
        var out = Tensor<Scalar>(shape: x.shape, data: Scalar.uninitializedArray(count: x.count))
        x.data.withUnsafeBufferPointer { px in
            out.data.withUnsafeMutableBufferPointer { po in
                context.run(px.count, minimumPerPart: Activation.minimumPerPart) { _, r in
                    Scalar.activationForward(kind, alpha: alpha, from: UnsafeBufferPointer(rebasing: px[r]),
                                             into: UnsafeMutableBufferPointer(rebasing: po[r]))
                }
            }
        }
        if training { z = x; y = out }
        return out
    }

    /// Elements per part of a parallel split (ComputeContext.run).
    static var minimumPerPart: Int { 1 << 16 }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        var dx = Tensor<Scalar>(shape: dy.shape, data: Scalar.uninitializedArray(count: dy.count))
        z.data.withUnsafeBufferPointer { pz in
            y.data.withUnsafeBufferPointer { py in
                dy.data.withUnsafeBufferPointer { pg in
                    dx.data.withUnsafeMutableBufferPointer { pd in
                        context.run(pg.count, minimumPerPart: Activation.minimumPerPart) { _, r in
                            Scalar.activationBackward(kind, alpha: alpha, z: UnsafeBufferPointer(rebasing: pz[r]),
                                                      y: UnsafeBufferPointer(rebasing: py[r]),
                                                      dy: UnsafeBufferPointer(rebasing: pg[r]),
                                                      into: UnsafeMutableBufferPointer(rebasing: pd[r]))
                        }
                    }
                }
            }
        }
        return dx
    }
}
