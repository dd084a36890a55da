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

    /// How its layers use the machine (fixed at construction; see `ComputeContext`).
    public let context: ComputeContext

    /// Builds the network and draws its initial parameters from `rng`. Its layers run under
    /// `context`; layer types defined outside `LiftedTrain` are built by `extensions`
    /// (e.g. `[ArchFromOpt.layers]` for recurrence networks).
    public init(spec: ModelSpec, initialization: Initialization = .auto, context: ComputeContext = .serial,
                extensions: [any LayerExtension] = [], rng: inout SplitMix64) throws {
        self.spec = spec
        self.context = context
        guard !spec.inputShape.isEmpty, spec.inputShape.allSatisfy({ $0 > 0 }), spec.inputShape.count == 1 || spec.inputShape.count == 3,
              LayerFactory<Scalar>.elementCount(spec.inputShape) != nil else {
            throw ModelError("input_shape \(spec.inputShape) is not supported (expected [features] or [channels, height, width] with positive sizes, at most \(LayerFactory<Scalar>.maxElements) values)")
        }
        guard !spec.layers.isEmpty else { throw ModelError("the model has no layers") }
        let factory = LayerFactory<Scalar>(parameters: parameters, buffers: buffers, initialization: initialization, rng: rng,
                                           context: context, extensions: extensions)
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
