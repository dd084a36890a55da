/// The batch Jacobian of a network's outputs with respect to all its parameters,
///
///     J[i·c + k, p] = ∂f_k(θ, x_i) / ∂θ_p,     J ∈ ℝ^{(b·c) × P},
///
/// rows ordered sample-major (sample i, output k), columns in the flat order of the
/// `ParameterStore` (each parameter's elements row-major, parameters in registration order:
/// `layers.0.weight`, `layers.0.bias`, …).
///
/// Batched scheme: every sample is repeated c times and pushed forward once as a batch of b·c
/// rows; the backward pass starts from Δ_out[i·c + k] = e_k, so that row i·c + k of the signal Δ_l
/// at the output of dense layer l is ∂f_k(x_i)/∂(its pre-activation). Then the row of J for dense
/// layer l is vec(Δ_l[r] a_l[r]ᵀ) (BLAS ger) for its weight and Δ_l[r] for its bias, with a_l the
/// layer's input. The propagation Δ ← Δ W is a BLAS gemm; activations use their own backward.
public final class BatchJacobian<Scalar: NNScalar> {
    /// The network differentiated.
    public let network: Network<Scalar>
    /// Flat offset of every parameter slot in a row of J.
    public let offsets: [Int]
    /// Total number of parameters P (columns of J).
    public let parameterCount: Int
    private var repeated = Tensor<Scalar>(zeros: [0])

    /// A Jacobian evaluator for dense networks (dense, activation and normalize layers).
    public init(network: Network<Scalar>) {
        self.network = network
        var o: [Int] = []
        var p = 0
        for v in network.parameters.values { o.append(p); p += v.count }
        offsets = o
        parameterCount = p
    }

    /// Network outputs f `[b, c]` and the Jacobian J `[b·c, P]` at the current parameters, for
    /// inputs `[b, inputSize]`. `jacobian` is resized as needed and reused between calls.
    @discardableResult
    public func evaluate(_ inputs: Tensor<Scalar>, into jacobian: inout Tensor<Scalar>) -> Tensor<Scalar> {
        let b = inputs.rows
        let c = network.outputSize
        let rows = b * c
        // The batch with each sample repeated c times (no copy when c = 1).
        let x: Tensor<Scalar>
        if c == 1 {
            x = inputs
        } else {
            repeated.resize([rows, inputs.cols])
            var idx: [Int] = []
            idx.reserveCapacity(rows)
            for i in 0..<b { for _ in 0..<c { idx.append(i) } }
            repeated.gatherRows(from: inputs, indices: idx[...])
            x = repeated
        }
        // Forward, keeping every dense layer's input.
        var denseInputs: [Int: Tensor<Scalar>] = [:]
        var h = x
        for (i, l) in network.layers.enumerated() {
            if l is Dense<Scalar> { denseInputs[i] = h }
            h = l.forward(h, training: true)
        }
        // f: rows i·c of the repeated output.
        var f = Tensor<Scalar>(zeros: [b, c])
        if c == 1 { f = h } else { f.gatherRows(from: h, indices: stride(from: 0, to: rows, by: c).map { $0 }[...]) }

        let P = parameterCount
        if jacobian.shape != [rows, P] { jacobian.resize([rows, P]) }
        jacobian.zero()
        // Δ_out[i·c + k] = e_k.
        var delta = Tensor<Scalar>(zeros: [rows, c])
        delta.data.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { p[r * c + r % c] = 1 }
        }
        for (i, l) in network.layers.enumerated().reversed() {
            if let d = l as? Dense<Scalar> {
                let a = denseInputs[i]!
                let (nIn, nOut) = (d.inputSize, d.outputSize)
                let ow = offsets[d.w], ob = offsets[d.b]
                delta.data.withUnsafeBufferPointer { pd in
                    a.data.withUnsafeBufferPointer { pa in
                        jacobian.data.withUnsafeMutableBufferPointer { pj in
                            let J = pj.baseAddress!
                            for r in 0..<rows {
                                let dr = pd.baseAddress! + r * nOut
                                Scalar.ger(m: nOut, n: nIn, alpha: 1, x: dr, y: pa.baseAddress! + r * nIn,
                                           a: J + r * P + ow, lda: nIn)
                                (J + r * P + ob).update(from: dr, count: nOut)
                            }
                        }
                    }
                }
                if i > 0 { delta = matmul(delta, network.parameters.values[d.w]) }
            } else if i > 0 {
                guard let dx = l.backward(delta, needInput: true) else { break }
                delta = dx
            }
        }
        return f
    }

    /// The empirical tangent kernel J Jᵀ `[b·c, b·c]` on `inputs` (BLAS gemm), with the outputs.
    public func kernel(_ inputs: Tensor<Scalar>) -> (kernel: Tensor<Scalar>, outputs: Tensor<Scalar>) {
        var j = Tensor<Scalar>(zeros: [0])
        let f = evaluate(inputs, into: &j)
        return (matmul(j, j, transposeB: true), f)
    }
}

extension ParameterStore {
    /// All parameter values concatenated in store order (the column order of `BatchJacobian`).
    public func flattened() -> [Scalar] {
        var out: [Scalar] = []
        out.reserveCapacity(scalarCount)
        for v in values { out.append(contentsOf: v.data) }
        return out
    }
}
