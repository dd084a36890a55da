import LiftedTrain

/// The WGAN-GP gradient penalty (Gulrajani et al. 2017) and its exact gradient with respect to
/// the critic's parameters:
///
///     P(θ) = (λ/b) Σ_i (‖∇ₓD(x̂_i; θ)‖ − 1)².
///
/// For a critic of affine layers (dense, conv2d) and piecewise-linear activations (ReLU, leaky
/// ReLU), without batch norm, D(x) = w_Lᵀ M_{L−1} W_{L−1} ⋯ M_1 W_1 x + c with the masks
/// M_l = diag φ′(z_l) locally constant, so
///
///     g_i = ∇ₓD(x̂_i) = W_1ᵀ M_1 ⋯ W_{L−1}ᵀ M_{L−1} w_L          (the ordinary backward pass, dy = 1)
///
/// is multilinear in the weights and independent of the biases. With r_i = ∂P/∂g_i =
/// (2λ/b)(‖g_i‖ − 1) g_i/‖g_i‖, ∂P/∂θ is the gradient of T(θ) = Σ_i r_iᵀ g_i(θ) = Σ_i w_Lᵀ M_{L−1} W_{L−1} ⋯ M_1 W_1 r_i
/// — the critic's *linearised* forward pass (no biases, masks held fixed) applied to r_i. Each
/// W_l appears once in T, between q_{l−1} (the linearised pass up to layer l's input) and δ_l
/// (what the ordinary backward pass delivered to layer l's output), so ∂T/∂W_l is the layer's
/// own weight gradient with input q_{l−1} and output gradient δ_l: Σ_i δ_{l,i} q_{l−1,i}ᵀ for a
/// dense layer, the convolution weight gradient for a conv layer. (Equivalently: back-propagating
/// r through the *reverse* linear network g = W_1ᵀ M_1 ⋯ w_L, whose conv layers are input
/// gradients; their weight gradient is the conv weight-gradient with the roles of input and
/// output gradient swapped.) ∂T/∂b_l = 0. Exact wherever no pre-activation is exactly zero —
/// almost everywhere; checked against central differences of P in the tests.
public enum GradientPenalty {
    /// Layer types the exact penalty gradient supports.
    public static let supportedLayerTypes: Set<String> = ["dense", "conv2d", "flatten", "relu", "leaky_relu", "identity"]

    /// Throws unless `critic` is a chain of dense/conv2d layers, flatten and piecewise-linear
    /// activations (no batch norm, no smooth activations, whose curvature the method ignores).
    public static func checkCritic(_ critic: ModelSpec) throws {
        for (i, l) in critic.layers.enumerated() where !supportedLayerTypes.contains(l.type) {
            throw ModelError("the WGAN-GP penalty gradient needs a critic of dense/conv2d layers and ReLU/leaky ReLU; layer \(i) is '\(l.type)'")
        }
    }

    /// ∇ₓD(x) for every row of `x` (shape of `x`'s per-layer input), by the ordinary backward
    /// pass with ∂L/∂D = 1. Leaves the critic's parameter gradients holding Σ_i ∂D(x_i)/∂θ.
    public static func inputGradient<S: NNScalar>(critic: Network<S>, at x: Tensor<S>) -> Tensor<S> {
        let out = critic.forward(x, training: true)
        return critic.backward(Tensor(repeating: 1, shape: out.shape), needInputGradient: true)!
    }

    /// P at `xhat` (`[b, …]`), with ∂P/∂θ written into `critic.parameters.grads` (replacing them).
    /// Returns P and the mean ‖∇ₓD(x̂_i)‖.
    public static func apply<S: NNScalar>(critic: Network<S>, at xhat: Tensor<S>, weight lambda: Double) -> (penalty: Double, meanNorm: Double) {
        let layers = critic.layers, store = critic.parameters
        let out = critic.forward(xhat, training: true)
        // Ordinary backward pass with dy = 1, keeping δ_l (the gradient at each affine layer's output).
        var deltas: [Int: Tensor<S>] = [:]
        var g = Tensor<S>(repeating: 1, shape: out.shape)
        for i in layers.indices.reversed() {
            if isAffine(layers[i]) { deltas[i] = g }
            g = layers[i].backward(g, needInput: true)!
        }
        // r_i = (2λ/b)(‖g_i‖ − 1) g_i / ‖g_i‖, row by row (BLAS dot and scal).
        let b = g.rows, n = g.cols
        var penalty = 0.0, normSum = 0.0
        g.data.withUnsafeMutableBufferPointer { pg in
            for i in 0..<b {
                let row = pg.baseAddress! + i * n
                let norm = Double(S.dot(n: n, x: row, y: row)).squareRoot()
                penalty += (norm - 1) * (norm - 1)
                normSum += norm
                let c = norm > 0 ? 2 * lambda / Double(b) * (norm - 1) / norm : 0
                S.scal(n: n, alpha: S(c), x: row)
            }
        }
        // The linearised forward pass on r: biases off, masks from the forward pass above.
        var q = g
        for (i, l) in layers.enumerated() {
            if let delta = deltas[i] {
                let bias = store.slot(of: l.spec.name! + ".bias")!
                let saved = store.values[bias]
                store.values[bias].zero()
                let p = l.forward(q, training: true)
                store.values[bias] = saved
                _ = l.backward(delta, needInput: false)
                store.grads[bias].zero()
                q = p
            } else if l.spec.type == "flatten" {
                q = l.forward(q, training: false)
            } else {
                q = l.backward(q, needInput: true)!  // q ⊙ φ′(z): the activation's cached z
            }
        }
        return (lambda * penalty / Double(b), normSum / Double(b))
    }

    /// Value of P alone (for finite-difference checks).
    public static func value<S: NNScalar>(critic: Network<S>, at xhat: Tensor<S>, weight lambda: Double) -> Double {
        let g = inputGradient(critic: critic, at: xhat)
        let b = g.rows, n = g.cols
        var p = 0.0
        for i in 0..<b {
            let norm = g.data[(i * n)..<((i + 1) * n)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            p += (norm - 1) * (norm - 1)
        }
        return lambda * p / Double(b)
    }

    static func isAffine<S>(_ l: any Layer<S>) -> Bool { l.spec.type == "dense" || l.spec.type == "conv2d" }
}
