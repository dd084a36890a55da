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
