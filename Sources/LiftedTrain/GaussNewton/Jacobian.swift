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

    /// The factors of J for one dense layer: row r of J restricted to the layer's weight is
    /// vec(delta[r] input[r]ᵀ), restricted to its bias delta[r].
    public struct LayerFactor {
        /// ∂f/∂(pre-activation) `[b·c, out]`.
        public var delta: Tensor<Scalar>
        /// The layer's input `[b·c, in]`.
        public var input: Tensor<Scalar>
        /// Parameter-store slots of the weight and the bias.
        public var weightSlot: Int, biasSlot: Int
    }

    /// Network outputs f `[b, c]` and the per-dense-layer factors of J at the current parameters,
    /// for inputs `[b, inputSize]` (one batched forward and backward pass, BLAS gemm).
    public func factors(_ inputs: Tensor<Scalar>) -> (outputs: Tensor<Scalar>, layers: [LayerFactor]) {
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
        // Δ_out[i·c + k] = e_k.
        var delta = Tensor<Scalar>(zeros: [rows, c])
        delta.data.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { p[r * c + r % c] = 1 }
        }
        var out: [LayerFactor] = []
        for (i, l) in network.layers.enumerated().reversed() {
            if let d = l as? Dense<Scalar> {
                out.append(LayerFactor(delta: delta, input: denseInputs[i]!, weightSlot: d.w, biasSlot: d.b))
                if i > 0 { delta = matmul(delta, network.parameters.values[d.w]) }
            } else if i > 0 {
                guard let dx = l.backward(delta, needInput: true) else { break }
                delta = dx
            }
        }
        return (f, out.reversed())
    }

    /// Network outputs f `[b, c]` and the Jacobian J `[b·c, P]` at the current parameters, for
    /// inputs `[b, inputSize]`. `jacobian` is resized as needed and reused between calls.
    @discardableResult
    public func evaluate(_ inputs: Tensor<Scalar>, into jacobian: inout Tensor<Scalar>) -> Tensor<Scalar> {
        let (f, layers) = factors(inputs)
        let rows = f.count
        let P = parameterCount
        if jacobian.shape != [rows, P] { jacobian.resize([rows, P]) }
        jacobian.zero()
        for lf in layers {
            let (nOut, nIn) = (lf.delta.cols, lf.input.cols)
            let ow = offsets[lf.weightSlot], ob = offsets[lf.biasSlot]
            lf.delta.data.withUnsafeBufferPointer { pd in
                lf.input.data.withUnsafeBufferPointer { pa in
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
        }
        return f
    }

    /// J Jᵀ `[b·c, b·c]` from the factors, without forming J:
    ///
    ///     J Jᵀ = Σ_l (Δ_l Δ_lᵀ) ⊙ (A_l A_lᵀ + 1 1ᵀ)
    ///
    /// (weight and bias of every dense layer l) — two BLAS gemms of inner size out_l and in_l per
    /// layer instead of one of inner size P, and the element-wise product kernel.
    public static func gram(_ layers: [LayerFactor]) -> Tensor<Scalar> {
        let n = layers.first?.delta.rows ?? 0
        var g = Tensor<Scalar>(zeros: [n, n])
        var dd = Tensor<Scalar>(zeros: [n, n])
        for lf in layers {
            var aa = Tensor<Scalar>(repeating: 1, shape: [n, n])
            gemm(lf.input, lf.input, transposeB: true, into: &aa, beta: 1)
            gemm(lf.delta, lf.delta, transposeB: true, into: &dd)
            aa.data.withUnsafeMutableBufferPointer { pa in
                dd.data.withUnsafeBufferPointer { pd in Scalar.multiply(UnsafeBufferPointer(pa), pd, into: pa) }
            }
            g.add(aa)
        }
        return g
    }

    /// Jᵀ α (length P, store order) from the factors, without forming J: for each dense layer the
    /// weight part is (diag(α) Δ_l)ᵀ A_l and the bias part (diag(α) Δ_l)ᵀ 1 (BLAS scal, gemm, gemv).
    public func transposeProduct(_ layers: [LayerFactor], _ alpha: [Scalar]) -> [Scalar] {
        var s = Scalar.filledArray(0, count: parameterCount)
        for lf in layers {
            let rows = lf.delta.rows, nOut = lf.delta.cols, nIn = lf.input.cols
            precondition(alpha.count == rows, "transposeProduct: \(alpha.count) coefficients for \(rows) rows")
            var scaled = lf.delta
            scaled.data.withUnsafeMutableBufferPointer { p in
                for r in 0..<rows { Scalar.scal(n: nOut, alpha: alpha[r], x: p.baseAddress! + r * nOut) }
            }
            let ow = offsets[lf.weightSlot], ob = offsets[lf.biasSlot]
            let ones = Scalar.filledArray(1, count: rows)
            scaled.data.withUnsafeBufferPointer { pd in
                lf.input.data.withUnsafeBufferPointer { pa in
                    s.withUnsafeMutableBufferPointer { ps in
                        Scalar.gemm(transA: true, transB: false, m: nOut, n: nIn, k: rows, alpha: 1, a: pd.baseAddress!, lda: nOut,
                                    b: pa.baseAddress!, ldb: nIn, beta: 0, c: ps.baseAddress! + ow, ldc: nIn)
                        ones.withUnsafeBufferPointer { po in
                            Scalar.gemv(trans: true, m: rows, n: nOut, alpha: 1, a: pd.baseAddress!, lda: nOut,
                                        x: po.baseAddress!, beta: 0, y: ps.baseAddress! + ob)
                        }
                    }
                }
            }
        }
        return s
    }

    /// The empirical tangent kernel J Jᵀ `[b·c, b·c]` on `inputs`, with the outputs (from the
    /// factors; `evaluate` + a gemm gives the same matrix).
    public func kernel(_ inputs: Tensor<Scalar>) -> (kernel: Tensor<Scalar>, outputs: Tensor<Scalar>) {
        let (f, layers) = factors(inputs)
        return (BatchJacobian.gram(layers), f)
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
