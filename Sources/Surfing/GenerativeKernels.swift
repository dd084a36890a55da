import LiftedTrain

/// The scalar types generative training runs in: every `NNScalar` (the generative losses below
/// are written once, generically, and compiled for `Float` and `Double` like LiftedTrain's kernels).
public typealias GenerativeScalar = NNScalar

extension NNScalar {
    /// Bernoulli negative log-likelihood Σ −[x log p + (1 − x) log(1 − p)] of targets x ∈ [0, 1]
    /// under probabilities p (the generator's sigmoid outputs), with p clamped to [ε, 1 − ε],
    /// ε = ulpOfOne (PyTorch's `BCELoss` clamps the logarithms instead). Writes
    /// `scale · ∂/∂p = scale · (p − x) / (p (1 − p))` into `grad` when given.
    public static func bernoulliNLL(p: UnsafeBufferPointer<Self>, x: UnsafeBufferPointer<Self>,
                                    grad: UnsafeMutableBufferPointer<Self>?, scale: Self) -> Double {
        GenerativeKernels.bernoulliNLL(p: p, x: x, grad: grad, scale: scale)
    }
}

/// Generic bodies of the generative kernels, compiled for `Float` and `Double` (`@specialized`).
enum GenerativeKernels {
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func bernoulliNLL<T: BinaryFloatingPoint & ElementaryScalar>(
        p: UnsafeBufferPointer<T>, x: UnsafeBufferPointer<T>, grad: UnsafeMutableBufferPointer<T>?, scale: T
    ) -> Double {
        precondition(p.count == x.count && (grad?.count ?? p.count) == p.count, "bernoulliNLL: sizes differ")
        let eps = T.ulpOfOne, hi = 1 - T.ulpOfOne
        var sum = 0.0
        for i in 0..<p.count {
            let pi = min(max(p[i], eps), hi), xi = x[i]
            sum -= Double(xi * T._log(pi) + (1 - xi) * T._log1p(-pi))
            grad?[i] = scale * (p[i] - xi) / (pi * (1 - pi))
        }
        return sum
    }
}

/// Logistic losses on a column of logits `l` `[b, 1]` (the discriminator's outputs):
/// label 1: softplus(−l) = −log σ(l); label 0: softplus(l) = −log(1 − σ(l)). Returns the mean
/// loss and ∂(mean)/∂l. b values per call, so a plain loop.
func logisticLoss<S: NNScalar>(_ l: Tensor<S>, label: Int) -> (loss: Double, grad: Tensor<S>) {
    let b = l.count
    var g = Tensor<S>(zeros: l.shape)
    var sum = 0.0
    for i in 0..<b {
        let z = Double(l.data[i])
        let s = z >= 0 ? 1 / (1 + _exp(-z)) : _exp(z) / (1 + _exp(z))
        // softplus(t) = max(t, 0) + log(1 + e^{−|t|})
        let t = label == 1 ? -z : z
        sum += max(t, 0) + _log1p(_exp(-abs(t)))
        g.data[i] = S((label == 1 ? s - 1 : s) / Double(b))
    }
    return (sum / Double(b), g)
}

/// `sign` · mean of a column, and its gradient `sign / b` (the Wasserstein critic terms).
func meanWithGradient<S: NNScalar>(_ l: Tensor<S>, sign: Double) -> (loss: Double, grad: Tensor<S>) {
    let b = l.count
    let mean = S.toDoubles(l.data).reduce(0, +) / Double(b)
    return (sign * mean, Tensor(repeating: S(sign / Double(b)), shape: l.shape))
}

@inline(__always) private func _exp(_ x: Double) -> Double { Double._exp(x) }
@inline(__always) private func _log1p(_ x: Double) -> Double { Double._log1p(x) }
