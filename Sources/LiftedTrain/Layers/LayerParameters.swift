/// Pointers to a layer's weight and bias and to their gradients, for its kernels.
struct WeightAndBias<Scalar: NNScalar> {
    let weight: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>
    let weightGradient: UnsafeMutablePointer<Scalar>, biasGradient: UnsafeMutablePointer<Scalar>
}

extension ParameterStore {
    /// Calls `body` with pointers to `values[w]`, `values[b]`, `grads[w]` and `grads[b]`. The two
    /// gradients are moved out of the store for the call and back (no copy), so both can be
    /// written at once — two mutable borrows of `grads` would overlap.
    func withWeightAndBias<R>(_ w: Int, _ b: Int, _ body: (WeightAndBias<Scalar>) -> R) -> R {
        var gw: [Scalar] = [], gb: [Scalar] = []
        swap(&gw, &grads[w].data); swap(&gb, &grads[b].data)
        defer { swap(&gw, &grads[w].data); swap(&gb, &grads[b].data) }
        return values[w].data.withUnsafeBufferPointer { pw in
            values[b].data.withUnsafeBufferPointer { pb in
                gw.withUnsafeMutableBufferPointer { pgw in
                    gb.withUnsafeMutableBufferPointer { pgb in
                        body(WeightAndBias(weight: pw.baseAddress!, bias: pb.baseAddress!,
                                           weightGradient: pgw.baseAddress!, biasGradient: pgb.baseAddress!))
                    }
                }
            }
        }
    }
}
