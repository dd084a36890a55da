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
