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
/// How the WGAN-GP penalty is formed.
public enum PenaltyStyle: String, CaseIterable, Sendable {
    /// Gulrajani et al. (2017): x̂ = εx + (1 − ε)x̃ with one ε ~ U[0, 1] per sample, and the norm
    /// of each sample's whole input gradient.
    case perSample = "per-sample"
    /// The authors' released WGAN_GP.py (github jdlafferty/surfing, codes/Fashion-MNIST/WGAN-GP):
    /// ε ~ U[0, 1] drawn per pixel (`tf.random_uniform(shape=inputs.get_shape())`) and the norm
    /// over the image height axis only (`reduction_indices=[1]` of NHWC), one per (sample,
    /// channel, column), averaged. Not standard WGAN-GP; what produced the paper's numbers.
    case released
}

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
    /// pass with ∂L/∂D = 1. Leaves the critic's parameter gradients holding Σ_i ∂D(x_i)/∂θ, or,
    /// with `parameterGradients: false`, skips their products (the parameters are frozen for the
    /// pass; what the gradients then hold is unspecified).
    public static func inputGradient<S: NNScalar>(critic: Network<S>, at x: Tensor<S>,
                                                  parameterGradients: Bool = true) -> Tensor<S> {
        let store = critic.parameters, frozen = store.frozen
        if !parameterGradients { store.frozen = true }
        defer { store.frozen = frozen }
        let out = critic.forward(x, training: true)
        return critic.backward(Tensor(repeating: 1, shape: out.shape), needInputGradient: true)!
    }

    /// P at `xhat` (`[b, …]`), with ∂P/∂θ written into `critic.parameters.grads` (replacing them).
    /// Returns P and the mean gradient norm. `style` chooses the norm (per sample, or the
    /// released code's over one image axis); `imageShape` is the critic's input as [C, H, W].
    public static func apply<S: NNScalar>(critic: Network<S>, at xhat: Tensor<S>, weight lambda: Double,
                                          style: PenaltyStyle = .perSample, imageShape: [Int]? = nil) -> (penalty: Double, meanNorm: Double) {
        let layers = critic.layers, store = critic.parameters
        let out = critic.forward(xhat, training: true)
        // Ordinary backward pass with dy = 1, keeping δ_l (the gradient at each affine layer's output).
        var deltas: [Int: Tensor<S>] = [:]
        var g = Tensor<S>(repeating: 1, shape: out.shape)
        // Parameters frozen for this pass: its weight gradients would be overwritten below anyway.
        let frozen = store.frozen
        store.frozen = true
        for i in layers.indices.reversed() {
            if isAffine(layers[i]) { deltas[i] = g }
            g = layers[i].backward(g, needInput: true)!
        }
        store.frozen = frozen
        let (penalty, meanNorm) = penaltyDirection(&g, weight: lambda, style: style, imageShape: imageShape)
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
        return (penalty, meanNorm)
    }

    /// P of the gradients `g` (`[b, n]`, the critic's input gradients) and, written over `g`,
    /// r = ∂P/∂g. Per sample: P = (λ/b) Σ_i (‖g_i‖ − 1)². Released: the norms are taken over
    /// the image's height axis for every (sample, channel, column), P = λ · mean (s − 1)² over
    /// those b·C·W norms — what `tf.reduce_sum(tf.square(gradients), reduction_indices=[1])` on
    /// NHWC images computes in the authors' WGAN_GP.py.
    static func penaltyDirection<S: NNScalar>(_ g: inout Tensor<S>, weight lambda: Double, style: PenaltyStyle,
                                              imageShape: [Int]?) -> (penalty: Double, meanNorm: Double) {
        let b = g.rows, n = g.cols
        // Groups of `len` elements `stride` apart, starting at `starts` within a row.
        let (starts, len, stride): ([Int], Int, Int)
        switch style {
        case .perSample: (starts, len, stride) = ([0], n, 1)
        case .released:
            let shape = imageShape ?? squareImage(n)
            let (c, h, w) = (shape[0], shape[1], shape[2])
            precondition(c * h * w == n, "GradientPenalty: image shape \(shape) for \(n) inputs")
            starts = (0..<c).flatMap { ci in (0..<w).map { ci * h * w + $0 } }
            (len, stride) = (h, w)
        }
        let groups = b * starts.count
        var penalty = 0.0, normSum = 0.0
        g.data.withUnsafeMutableBufferPointer { pg in
            for i in 0..<b {
                for s0 in starts {
                    let p = pg.baseAddress! + i * n + s0
                    // A contiguous group is one BLAS dot; the released style's columns (28
                    // elements W apart) are summed directly.
                    var sq = 0.0
                    if stride == 1 { sq = Double(S.dot(n: len, x: p, y: p)) } else {
                        for j in 0..<len { let v = Double(p[j * stride]); sq += v * v }
                    }
                    let norm = sq.squareRoot()
                    penalty += (norm - 1) * (norm - 1)
                    normSum += norm
                    let c = S(norm > 0 ? 2 * lambda / Double(groups) * (norm - 1) / norm : 0)
                    if stride == 1 { S.scal(n: len, alpha: c, x: p) } else { for j in 0..<len { p[j * stride] *= c } }
                }
            }
        }
        return (lambda * penalty / Double(groups), normSum / Double(groups))
    }

    /// [1, s, s] for n = s² pixels, else [1, 1, n] (one group per sample).
    static func squareImage(_ n: Int) -> [Int] {
        let s = Int(Double(n).squareRoot().rounded())
        return s * s == n ? [1, s, s] : [1, 1, n]
    }

    /// P at `xhat` with ∂P/∂θ (written into the critic's gradients) by a central difference of
    /// parameter gradients along the penalty direction, for any critic — batch norm in training
    /// mode included, as the authors' WGAN-GP critic has. With S(X; θ) = Σ_i D(x_i) and
    /// r = ∂P/∂g at g = ∇_X S (held fixed), ∂P/∂θ = ∇_θ (rᵀ ∇_X S) = ∇_θ (d/dε) S(X + εr) |₀
    /// ≈ [∇_θ S(X + εr) − ∇_θ S(X − εr)] / 2ε, with ε such that max|εr| = `relativeStep` ·
    /// max(1, max|X|). Exact (up to rounding) where the critic is piecewise linear in X and no
    /// unit changes sign within ±εr; second-order accurate through batch norm's statistics
    /// (a Hessian-vector product by differences, Pearlmutter 1994 §2). Two forward and backward
    /// passes beyond the one for g.
    public static func applyByDifferences<S: NNScalar>(critic: Network<S>, at xhat: Tensor<S>, weight lambda: Double,
                                                       style: PenaltyStyle = .perSample, imageShape: [Int]? = nil,
                                                       relativeStep: Double = 1e-3) -> (penalty: Double, meanNorm: Double) {
        // Only ∇ₓ is needed here: every parameter gradient is replaced by the differences below.
        var g = inputGradient(critic: critic, at: xhat, parameterGradients: false)
        let shape = g.shape
        g = g.reshaped([xhat.rows, g.count / max(1, xhat.rows)])
        let result = penaltyDirection(&g, weight: lambda, style: style, imageShape: imageShape)
        let rMax = g.data.reduce(0.0) { max($0, abs(Double($1))) }
        let xMax = xhat.data.reduce(1.0) { max($0, abs(Double($1))) }
        let store = critic.parameters
        guard rMax > 0 else { for i in store.grads.indices { store.grads[i].zero() }; return result }
        let eps = relativeStep * xMax / rMax
        let r = g.reshaped(shape)
        func parameterGradient(_ sign: Double) -> [Tensor<S>] {
            var x = xhat.reshaped(shape)
            x.add(r, scaledBy: S(sign * eps))
            let out = critic.forward(x, training: true)
            _ = critic.backward(Tensor(repeating: 1, shape: out.shape), needInputGradient: false)
            return store.gradientCopy()
        }
        let plus = parameterGradient(1), minus = parameterGradient(-1)
        for i in store.grads.indices {
            store.grads[i] = plus[i]
            store.grads[i].add(minus[i], scaledBy: -1)
            store.grads[i].scale(by: S(1 / (2 * eps)))
        }
        return result
    }

    /// Value of P alone (for finite-difference checks).
    public static func value<S: NNScalar>(critic: Network<S>, at xhat: Tensor<S>, weight lambda: Double,
                                          style: PenaltyStyle = .perSample, imageShape: [Int]? = nil) -> Double {
        let g = inputGradient(critic: critic, at: xhat)
        let b = g.rows, n = g.count / max(1, b)
        // Plain loops (an independent evaluation for the finite-difference checks).
        let shape = style == .released ? (imageShape ?? squareImage(n)) : [1, 1, n]
        let (c, h, w) = (shape[0], shape[1], shape[2])
        var p = 0.0, groups = 0
        for i in 0..<b {
            for ci in 0..<c {
                for col in 0..<(style == .released ? w : 1) {
                    var sq = 0.0
                    if style == .released {
                        for row in 0..<h { let v = Double(g.data[i * n + ci * h * w + row * w + col]); sq += v * v }
                    } else {
                        for j in 0..<n { let v = Double(g.data[i * n + j]); sq += v * v }
                    }
                    p += (sq.squareRoot() - 1) * (sq.squareRoot() - 1)
                    groups += 1
                }
            }
        }
        return lambda * p / Double(groups)
    }

    static func isAffine<S>(_ l: any Layer<S>) -> Bool { l.spec.type == "dense" || l.spec.type == "conv2d" }
}
