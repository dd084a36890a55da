import Foundation

/// One layer of a model description, as stored in a history's `model` JSON attribute
/// (HISTORY-FORMAT.md): `{"name": "layers.0", "type": "dense", "in": 784, "out": 300}`,
/// `{"type": "relu"}`, `{"type": "leaky_relu", "alpha": 0.01}`,
/// `{"type": "normalize", "mean": 0.1307, "std": 0.3081}`,
/// `{"name": "layers.0", "type": "conv2d", "in_channels": 1, "out_channels": 16, "kernel": 3, "stride": 1, "padding": 1}`,
/// `{"name": "layers.1", "type": "batchnorm", "channels": 16, "eps": 1e-5, "momentum": 0.1}`,
/// `{"type": "maxpool2d", "kernel": 2}`, `{"type": "global_avgpool"}`, `{"type": "flatten"}`,
/// and `{"type": "recurrence", …}` (docs/HISTORY-FORMAT.md, built by ArchFromOpt).
/// Absent fields are omitted from the JSON.
public struct LayerSpec: Codable, Equatable, Sendable {
    /// The layer type (`dense`, an activation name, `normalize`, `conv2d`, …).
    public var type: String
    /// The parameter prefix (`layers.K`) for layers with parameters.
    public var name: String?
    /// Input features (dense).
    public var `in`: Int?
    /// Output features (dense).
    public var out: Int?
    /// Negative slope (leaky ReLU) or saturation (ELU).
    public var alpha: Double?
    /// Normalisation mean.
    public var mean: Double?
    /// Normalisation standard deviation.
    public var std: Double?
    /// Input channels (conv2d, conv_transpose2d).
    public var inChannels: Int?
    /// Output channels (conv2d, conv_transpose2d).
    public var outChannels: Int?
    /// Square kernel / pooling window size.
    public var kernel: Int?
    /// Stride (default 1 for convolutions, the kernel size for pooling).
    public var stride: Int?
    /// Zero padding on each side (default 0).
    public var padding: Int?
    /// Extra output rows and columns of a transposed convolution (default 0).
    public var outputPadding: Int?
    /// Channels or features normalised (batchnorm).
    public var channels: Int?
    /// Variance ε (batchnorm, default 1e-5).
    public var eps: Double?
    /// Running-statistics momentum (batchnorm, default 0.1).
    public var momentum: Double?
    /// Which optimizer a recurrence layer comes from (`gd`, `heavy_ball`, `nesterov`, `admm`, …; informative).
    public var recurrence: String?
    /// The blocks T_K of a recurrence layer, each a sequence of layers.
    public var blocks: [[LayerSpec]]?
    /// The states of a recurrence layer after its input (state 0), each a weighted sum of terms.
    public var states: [RecurrenceState]?
    /// The state a recurrence layer outputs (default: the last).
    public var output: Int?
    /// The per-sample shape an `unflatten` layer produces (`[C, H, W]`).
    public var shape: [Int]?

    enum CodingKeys: String, CodingKey {
        case type, name, `in`, out, alpha, mean, std
        case inChannels = "in_channels", outChannels = "out_channels", kernel, stride, padding
        case outputPadding = "output_padding", channels, eps, momentum
        case recurrence, blocks, states, output, shape
    }

    /// A layer description.
    public init(type: String, name: String? = nil, in: Int? = nil, out: Int? = nil,
                alpha: Double? = nil, mean: Double? = nil, std: Double? = nil,
                inChannels: Int? = nil, outChannels: Int? = nil, kernel: Int? = nil, stride: Int? = nil,
                padding: Int? = nil, outputPadding: Int? = nil, channels: Int? = nil,
                eps: Double? = nil, momentum: Double? = nil) {
        self.type = type; self.name = name; self.in = `in`; self.out = out
        self.alpha = alpha; self.mean = mean; self.std = std
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
        self.channels = channels; self.eps = eps; self.momentum = momentum
    }
}

/// One state x_{k+1} of a recurrence layer: Σ over its terms of `coefficient · source`, where the
/// source is an earlier state x_j (`from`) or a block applied to it, T_b(x_j) (`from`, `block`).
public struct RecurrenceState: Codable, Equatable, Sendable {
    /// The terms of the sum.
    public var terms: [RecurrenceTerm]
    /// A state from its terms.
    public init(terms: [RecurrenceTerm]) { self.terms = terms }
}

/// One term `coefficient · x_from` or `coefficient · T_block(x_from)` of a recurrence state.
public struct RecurrenceTerm: Codable, Equatable, Sendable {
    /// Index of the state the term reads (0 is the layer's input).
    public var from: Int
    /// Index of the block applied to it; absent for the state itself.
    public var block: Int?
    /// The coefficient (the initial value when learnable).
    public var coefficient: Double
    /// Whether the coefficient is a trainable parameter.
    public var learnable: Bool?

    enum CodingKeys: String, CodingKey { case from, block, coefficient = "coef", learnable }

    /// A term.
    public init(from: Int, block: Int? = nil, coefficient: Double, learnable: Bool = false) {
        self.from = from; self.block = block; self.coefficient = coefficient
        self.learnable = learnable ? true : nil
    }
}

/// A whole network: input shape and layers in order — enough to rebuild it with no other input.
public struct ModelSpec: Codable, Equatable, Sendable {
    /// Shape of one input sample (without the batch axis).
    public var inputShape: [Int]
    /// The layers, applied in order.
    public var layers: [LayerSpec]

    enum CodingKeys: String, CodingKey { case inputShape = "input_shape", layers }

    /// A model from its parts.
    public init(inputShape: [Int], layers: [LayerSpec]) {
        self.inputShape = inputShape
        self.layers = layers
    }

    /// A multilayer perceptron `input → hidden… → output` with φ after every hidden layer
    /// (and `outputActivation` after the last, if given). Dense layers are named `layers.K`
    /// with K their index in the sequence, as PyTorch's `nn.Sequential` names them.
    public static func mlp(input: Int, hidden: [Int], output: Int, activation: ActivationKind,
                           alpha: Double? = nil, outputActivation: ActivationKind? = nil) -> ModelSpec {
        var layers: [LayerSpec] = []
        let sizes = [input] + hidden + [output]
        let act = LayerSpec(type: activation.rawValue, alpha: activation.usesAlpha ? (alpha ?? activation.defaultAlpha) : nil)
        for i in 0..<(sizes.count - 1) {
            layers.append(LayerSpec(type: "dense", name: "layers.\(layers.count)", in: sizes[i], out: sizes[i + 1]))
            if i < sizes.count - 2 {
                layers.append(act)
            } else if let oa = outputActivation, oa != .identity {
                layers.append(LayerSpec(type: oa.rawValue, alpha: oa.usesAlpha ? (alpha ?? oa.defaultAlpha) : nil))
            }
        }
        return ModelSpec(inputShape: [input], layers: layers)
    }

    /// Compact JSON with sorted keys.
    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        guard let d = try? enc.encode(self), let s = String(data: d, encoding: .utf8) else { return "{}" }
        return s
    }

    /// Parses a model JSON text; errors say what is wrong.
    public static func parse(_ json: String) throws -> ModelSpec {
        do {
            return try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError("model JSON lacks '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ModelError("model JSON has a wrong type at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw ModelError("model JSON is not valid: \(error.localizedDescription)")
        }
    }

    /// Hidden layer widths and activation, if this is a plain MLP of dense layers and one
    /// activation type (what LPOM trains); nil otherwise.
    public var mlpShape: (sizes: [Int], activation: ActivationKind, alpha: Double, outputActivation: ActivationKind)? {
        var sizes: [Int] = []
        var act: ActivationKind? = nil
        var alpha = 0.0
        var outAct = ActivationKind.identity
        for (i, l) in layers.enumerated() {
            if l.type == "dense" {
                guard let a = l.in, let b = l.out else { return nil }
                if sizes.isEmpty { sizes.append(a) } else if sizes.last != a { return nil }
                sizes.append(b)
            } else if let k = ActivationKind(rawValue: l.type) {
                let isLast = !layers[(i + 1)...].contains { $0.type == "dense" }
                if isLast { outAct = k; continue }
                if let a0 = act, a0 != k { return nil }
                act = k
                alpha = l.alpha ?? k.defaultAlpha
            } else { return nil }
        }
        guard sizes.count >= 2 else { return nil }
        return (sizes, act ?? .identity, alpha, outAct)
    }
}

/// A model that cannot be built or does not match its parameters; the message says why.
public struct ModelError: Error, CustomStringConvertible {
    /// One line naming the problem.
    public let description: String
    /// An error with its message.
    public init(_ description: String) { self.description = description }
}
