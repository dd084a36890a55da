/// How dense weights are drawn at initialisation (biases start at zero).
public enum Initialization: String, CaseIterable, Sendable {
    /// N(0, 2/in) — He et al. 2015, for ReLU-like φ.
    case he
    /// N(0, 2/(in+out)) — Glorot & Bengio 2010, for sigmoid/tanh.
    case xavier
    /// U(−1/√in, 1/√in) — PyTorch's `nn.Linear` default.
    case uniform
    /// The customary choice for φ: He for ReLU-like activations, Xavier otherwise.
    case auto
    /// Du et al. (2018): N(0, 1) weights in every dense layer but the last, whose weights are
    /// ±1 with equal probability (a_r ~ unif{−1, 1}). With an output scale m^{-1/2} after the
    /// last layer (`normalize` with mean 0, std √m) a one-hidden-layer ReLU network is
    /// f(W, a, x) = m^{-1/2} Σ_r a_r relu(w_rᵀx) at initialisation (biases start at zero).
    case ntk

    func std(inputs: Int, outputs: Int, activation: ActivationKind) -> Double {
        switch self {
        case .he: return (2.0 / Double(inputs)).squareRoot()
        case .xavier: return (2.0 / Double(inputs + outputs)).squareRoot()
        case .uniform: return 1 / (3 * Double(inputs)).squareRoot()
        case .ntk: return 1
        case .auto:
            switch activation {
            case .relu, .leakyRelu, .elu, .softplus: return Initialization.he.std(inputs: inputs, outputs: outputs, activation: activation)
            default: return Initialization.xavier.std(inputs: inputs, outputs: outputs, activation: activation)
            }
        }
    }
}
