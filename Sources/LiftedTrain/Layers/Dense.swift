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

/// Fully connected layer, PyTorch convention: weight `[out, in]`, bias `[out]`, y = x Wᵀ + b.
public final class Dense<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Input features.
    public let inputSize: Int
    /// Output features.
    public let outputSize: Int
    let store: ParameterStore<Scalar>
    let w: Int
    let b: Int
    private var x = Tensor<Scalar>(zeros: [0])
    private var onesVector = OnesVector<Scalar>()

    /// A dense layer whose parameters live in `store` under `name.weight` and `name.bias`.
    public init(name: String, inputSize: Int, outputSize: Int, store: ParameterStore<Scalar>,
                weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
        spec = LayerSpec(type: "dense", name: name, in: inputSize, out: outputSize)
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.store = store
        w = store.register(name + ".weight", weight)
        b = store.register(name + ".bias", bias)
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        var y = Tensor<Scalar>(zeros: [0])
        affine(x, weight: store.values[w], bias: store.values[b], ones: onesVector(x.rows), into: &y)
        if training { self.x = x }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let n = dy.rows
        guard !store.frozen else { return needInput ? matmul(dy, store.values[w]) : nil }
        // dW = dyᵀ x ;  db = dyᵀ 1 ;  dx = dy W
        gemm(dy, x, transposeA: true, into: &store.grads[w])
        let one = onesVector(n)
        dy.data.withUnsafeBufferPointer { pdy in
            one.withUnsafeBufferPointer { po in
                store.grads[b].data.withUnsafeMutableBufferPointer { pdb in
                    Scalar.gemv(trans: true, m: n, n: outputSize, alpha: 1, a: pdy.baseAddress!, lda: outputSize,
                                x: po.baseAddress!, beta: 0, y: pdb.baseAddress!)
                }
            }
        }
        guard needInput else { return nil }
        return matmul(dy, store.values[w])
    }
}

/// out ← x Wᵀ + 1 bᵀ for a batch `x` `[n, in]`, weight `[out, in]`, bias `[out]` and a vector of
/// n ones: the bias by a rank-1 update (BLAS ger), then the product (BLAS gemm) added to it.
func affine<Scalar: NNScalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>,
                              ones: [Scalar], into out: inout Tensor<Scalar>) {
    let n = x.rows, m = weight.rows
    precondition(ones.count == n && bias.count == m, "affine: \(n) rows, \(ones.count) ones, bias \(bias.shape)")
    out.resize([n, m])
    bias.data.withUnsafeBufferPointer { pb in
        ones.withUnsafeBufferPointer { po in
            out.data.withUnsafeMutableBufferPointer { py in
                Scalar.fill(py, with: 0)
                Scalar.ger(m: n, n: m, alpha: 1, x: po.baseAddress!, y: pb.baseAddress!, a: py.baseAddress!, lda: m)
            }
        }
    }
    gemm(x, weight, transposeB: true, into: &out, beta: 1)
}

/// Element-wise activation y = φ(z).
public final class Activation<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Which φ.
    public let kind: ActivationKind
    /// The parameter of leaky ReLU / ELU.
    public let alpha: Scalar
    private var z = Tensor<Scalar>(zeros: [0])
    private var y = Tensor<Scalar>(zeros: [0])

    /// An activation layer.
    public init(_ kind: ActivationKind, alpha: Double? = nil) {
        self.kind = kind
        let a = alpha ?? kind.defaultAlpha
        self.alpha = Scalar(a)
        spec = LayerSpec(type: kind.rawValue, alpha: kind.usesAlpha ? a : nil)
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        // Into fresh storage (no copy of x first: x is shared with the caller).
        var out = Tensor<Scalar>(shape: x.shape, data: Scalar.uninitializedArray(count: x.count))
        x.data.withUnsafeBufferPointer { px in
            out.data.withUnsafeMutableBufferPointer { po in
                Parallel.run(px.count, minimumPerPart: Activation.minimumPerPart) { _, r in
                    Scalar.activationForward(kind, alpha: alpha, from: UnsafeBufferPointer(rebasing: px[r]),
                                             into: UnsafeMutableBufferPointer(rebasing: po[r]))
                }
            }
        }
        if training { z = x; y = out }
        return out
    }

    /// Elements per part of a parallel split (Parallel).
    static var minimumPerPart: Int { 1 << 16 }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        var dx = Tensor<Scalar>(shape: dy.shape, data: Scalar.uninitializedArray(count: dy.count))
        z.data.withUnsafeBufferPointer { pz in
            y.data.withUnsafeBufferPointer { py in
                dy.data.withUnsafeBufferPointer { pg in
                    dx.data.withUnsafeMutableBufferPointer { pd in
                        Parallel.run(pg.count, minimumPerPart: Activation.minimumPerPart) { _, r in
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

/// A vector of ones for bias sums and rank-1 bias updates by BLAS, rebuilt only when the
/// length changes (layers keep one between steps instead of allocating it every call).
struct OnesVector<Scalar: NNScalar> {
    private var storage: [Scalar] = []

    /// n ones.
    mutating func callAsFunction(_ n: Int) -> [Scalar] {
        if storage.count != n { storage = Scalar.filledArray(1, count: n) }
        return storage
    }
}
