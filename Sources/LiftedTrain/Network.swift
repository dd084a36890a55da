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

/// A sequential network built from a `ModelSpec`, with its parameters in one named store.
public final class Network<Scalar: NNScalar> {
    /// The description it was built from (what histories store).
    public let spec: ModelSpec
    /// Trainable parameters by name.
    public let parameters = ParameterStore<Scalar>()
    /// Non-trainable state saved with each snapshot (batch-norm statistics).
    public let buffers = ParameterStore<Scalar>()
    /// The layers in order.
    public private(set) var layers: [any Layer<Scalar>] = []

    /// Builds the network and draws its initial parameters from `rng`.
    public init(spec: ModelSpec, initialization: Initialization = .auto, rng: inout SplitMix64) throws {
        self.spec = spec
        guard !spec.inputShape.isEmpty, spec.inputShape.allSatisfy({ $0 > 0 }), spec.inputShape.count == 1 || spec.inputShape.count == 3,
              LayerFactory<Scalar>.elementCount(spec.inputShape) != nil else {
            throw ModelError("input_shape \(spec.inputShape) is not supported (expected [features] or [channels, height, width] with positive sizes, at most \(LayerFactory<Scalar>.maxElements) values)")
        }
        guard !spec.layers.isEmpty else { throw ModelError("the model has no layers") }
        let factory = LayerFactory<Scalar>(parameters: parameters, buffers: buffers, initialization: initialization, rng: rng)
        let (built, shape) = try factory.buildSequence(spec.layers, inputShape: spec.inputShape, context: "layer ")
        rng = factory.rng
        layers = built
        outputShape = shape
        outputSize = shape.reduce(1, *)
    }

    /// Shape of one output sample.
    public let outputShape: [Int]
    /// Width of the output.
    public let outputSize: Int
    /// Width of one input sample.
    public var inputSize: Int { spec.inputShape.reduce(1, *) }

    /// The network's output for a batch `[b, inputSize]`. With `training`, layers keep what
    /// `backward` needs.
    public func forward(_ x: Tensor<Scalar>, training: Bool = false) -> Tensor<Scalar> {
        var h = x
        for l in layers { h = l.forward(h, training: training) }
        return h
    }

    /// Back-propagates ∂L/∂output through the last `forward(training: true)`, filling
    /// `parameters.grads`; returns ∂L/∂input when `needInputGradient`.
    @discardableResult
    public func backward(_ dy: Tensor<Scalar>, needInputGradient: Bool = false) -> Tensor<Scalar>? {
        var g: Tensor<Scalar>? = dy
        for (i, l) in layers.enumerated().reversed() {
            guard let cur = g else { break }
            let need = i > 0 || needInputGradient
            g = l.backward(cur, needInput: need)
        }
        return needInputGradient ? g : nil
    }

    /// Input-gradient mode (inverting a trained network): the parameters are `frozen` (backward
    /// computes only ∂L/∂input) and every batch-norm layer uses its running statistics in
    /// `forward(training: true)` as in eval mode, keeping what `backward` needs. The other layers'
    /// train and eval forwards are identical, so `forward(x, training: true)` followed by
    /// `backward(dy, needInputGradient: true)` then differentiates the eval-mode network.
    public var inputGradientMode = false {
        didSet {
            parameters.frozen = inputGradientMode
            for l in layers { (l as? BatchNorm<Scalar>)?.useRunningStatistics = inputGradientMode }
        }
    }

    /// Loads every parameter (and buffer) from name → Float32 arrays, checking names and sizes.
    public func load(parameters values: [String: [Float]], buffers bufs: [String: [Float]] = [:]) throws {
        for (i, n) in parameters.names.enumerated() {
            guard let v = values[n] else { throw ModelError("missing parameter '\(n)'") }
            guard v.count == parameters.values[i].count else {
                throw ModelError("parameter '\(n)' has \(v.count) values; the model needs shape \(parameters.values[i].shape)")
            }
            parameters.values[i] = Tensor(shape: parameters.values[i].shape, data: Scalar.fromFloats(v))
        }
        for (i, n) in buffers.names.enumerated() {
            guard let v = bufs[n], v.count == buffers.values[i].count else { throw ModelError("missing or misshapen buffer '\(n)'") }
            buffers.values[i] = Tensor(shape: buffers.values[i].shape, data: Scalar.fromFloats(v))
        }
    }
}
