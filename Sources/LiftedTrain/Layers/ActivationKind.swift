/// The activation functions φ. All are non-decreasing and Lipschitz, as LPOM requires.
public enum ActivationKind: String, CaseIterable, Sendable, Codable {
    case relu, leakyRelu = "leaky_relu", sigmoid, tanh, elu, softplus, identity

    /// The Lipschitz constant β of φ (for the given `alpha` where it matters).
    public func lipschitz(alpha: Double) -> Double {
        switch self {
        case .relu, .identity, .softplus: return 1
        case .leakyRelu: return max(1, alpha)
        case .sigmoid: return 0.25
        case .tanh: return 1
        case .elu: return max(1, alpha)
        }
    }
}

extension ActivationKind {
    /// Whether the activation takes an `alpha` parameter.
    public var usesAlpha: Bool { self == .leakyRelu || self == .elu }
    /// The customary `alpha` (0.01 for leaky ReLU, 1 for ELU).
    public var defaultAlpha: Double { self == .leakyRelu ? 0.01 : (self == .elu ? 1 : 0) }
}
