/// Fully connected layer, PyTorch convention: weight `[out, in]`, bias `[out]`, y = x Wᵀ + b.
///
/// Under a context of several workers a pass is split over them, each worker making
/// single-threaded BLAS calls on its part (see `ComputeContext.run`): the forward product and the
/// input gradient by contiguous ranges of samples, the weight gradient by ranges of output rows (each worker owns its rows of dW = dyᵀ x, so no partial gradients are reduced).
/// Every element is the same BLAS dot product as in the unsplit call; one part is the unsplit call.
public final class Dense<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Input features.
    public let inputSize: Int
    /// Output features.
    public let outputSize: Int
    let store: ParameterStore<Scalar>
    let w: Int
    let b: Int
    /// Splits passes over the context's workers.
    public let context: ComputeContext
    private var x = Tensor<Scalar>(zeros: [0])
    private var onesVector = OnesVector<Scalar>()

    /// A dense layer whose parameters live in `store` under `name.weight` and `name.bias`.
    public init(name: String, inputSize: Int, outputSize: Int, store: ParameterStore<Scalar>,
                weight: Tensor<Scalar>, bias: Tensor<Scalar>, context: ComputeContext = .serial) {
        self.context = context
        spec = LayerSpec(type: "dense", name: name, in: inputSize, out: outputSize)
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.store = store
        w = store.register(name + ".weight", weight)
        b = store.register(name + ".bias", bias)
    }

    /// Samples (or output rows) per part at least: smaller parts do not repay a worker's wake-up.
    static var minimumPerPart: Int { 16 }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let n = x.rows, m = outputSize, k = inputSize
        precondition(x.count == n * k, "dense \(spec.name ?? ""): input \(x.shape), expected \(k) features")
        var y = Tensor<Scalar>(zeros: [n, m])
        let ones = onesVector(n)
        x.data.withUnsafeBufferPointer { px in
            store.values[w].data.withUnsafeBufferPointer { pw in
                store.values[b].data.withUnsafeBufferPointer { pb in
                    ones.withUnsafeBufferPointer { po in
                        y.data.withUnsafeMutableBufferPointer { py in
                            let (xs, ws, bs, os, ys) = (px.baseAddress!, pw.baseAddress!, pb.baseAddress!, po.baseAddress!, py.baseAddress!)
                            context.run(n, minimumPerPart: Self.minimumPerPart) { _, r in
                                // y_r ← 1 bᵀ + x_r Wᵀ (as `affine`, on rows r)
                                let yr = ys + r.lowerBound * m
                                Scalar.ger(m: r.count, n: m, alpha: 1, x: os, y: bs, a: yr, lda: m)
                                Scalar.gemm(transA: false, transB: true, m: r.count, n: m, k: k, alpha: 1,
                                            a: xs + r.lowerBound * k, lda: k, b: ws, ldb: k, beta: 1, c: yr, ldc: m)
                            }
                        }
                    }
                }
            }
        }
        if training { self.x = x }
        return y
    }

    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let n = dy.rows, m = outputSize, k = inputSize
        if !store.frozen {
            // dW = dyᵀ x by ranges of output rows ;  db = dyᵀ 1 (one small gemv)
            dy.data.withUnsafeBufferPointer { pdy in
                x.data.withUnsafeBufferPointer { px in
                    store.grads[w].data.withUnsafeMutableBufferPointer { pdw in
                        let (dys, xs, dws) = (pdy.baseAddress!, px.baseAddress!, pdw.baseAddress!)
                        context.run(m, minimumPerPart: Self.minimumPerPart) { _, r in
                            Scalar.gemm(transA: true, transB: false, m: r.count, n: k, k: n, alpha: 1,
                                        a: dys + r.lowerBound, lda: m, b: xs, ldb: k, beta: 0,
                                        c: dws + r.lowerBound * k, ldc: k)
                        }
                    }
                }
                onesVector(n).withUnsafeBufferPointer { po in
                    store.grads[b].data.withUnsafeMutableBufferPointer { pdb in
                        Scalar.gemv(trans: true, m: n, n: m, alpha: 1, a: pdy.baseAddress!, lda: m,
                                    x: po.baseAddress!, beta: 0, y: pdb.baseAddress!)
                    }
                }
            }
        }
        guard needInput else { return nil }
        // dx = dy W, by ranges of samples
        var dx = Tensor<Scalar>(zeros: [n, k])
        dy.data.withUnsafeBufferPointer { pdy in
            store.values[w].data.withUnsafeBufferPointer { pw in
                dx.data.withUnsafeMutableBufferPointer { pdx in
                    let (dys, ws, dxs) = (pdy.baseAddress!, pw.baseAddress!, pdx.baseAddress!)
                    context.run(n, minimumPerPart: Self.minimumPerPart) { _, r in
                        Scalar.gemm(transA: false, transB: false, m: r.count, n: k, k: m, alpha: 1,
                                    a: dys + r.lowerBound * m, lda: m, b: ws, ldb: k, beta: 0,
                                    c: dxs + r.lowerBound * k, ldc: k)
                    }
                }
            }
        }
        return dx
    }
}
