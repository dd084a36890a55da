import Foundation

/// What a layer is: one of the types `LiftedTrain` builds, or a type a `LayerExtension` defines
/// (ArchFromOpt's `recurrence`), whose own fields travel in the spec's `payload`.
public enum LayerKind: Hashable, Sendable {
    case dense, conv2d, convTranspose2d, maxPool2d, avgPool2d, globalAvgPool, flatten, unflatten, batchNorm, normalize
    /// Element-wise φ.
    case activation(ActivationKind)
    /// A type defined outside `LiftedTrain`, by its `type` string.
    case external(String)

    private static let builtIn: [(String, LayerKind)] = [
        ("dense", .dense), ("conv2d", .conv2d), ("conv_transpose2d", .convTranspose2d), ("maxpool2d", .maxPool2d),
        ("avgpool2d", .avgPool2d), ("global_avgpool", .globalAvgPool), ("flatten", .flatten), ("unflatten", .unflatten),
        ("batchnorm", .batchNorm), ("normalize", .normalize),
    ]

    /// The kind of a model JSON `type` string.
    public init(type: String) {
        if let k = Self.builtIn.first(where: { $0.0 == type })?.1 { self = k; return }
        if let a = ActivationKind(rawValue: type) { self = .activation(a); return }
        self = .external(type)
    }

    /// The model JSON `type` string.
    public var type: String {
        switch self {
        case .activation(let a): return a.rawValue
        case .external(let t): return t
        default: return Self.builtIn.first { $0.1 == self }!.0
        }
    }

    /// Layers with weights of their own (dense and the convolutions; an external type says so
    /// through its extension).
    public var hasWeights: Bool { self == .dense || self == .conv2d || self == .convTranspose2d }
}

/// One layer of a model description, as stored in a history's `model` JSON attribute
/// (HISTORY-FORMAT.md): `{"name": "layers.0", "type": "dense", "in": 784, "out": 300}`,
/// `{"type": "relu"}`, `{"type": "leaky_relu", "alpha": 0.01}`,
/// `{"type": "normalize", "mean": 0.1307, "std": 0.3081}`,
/// `{"name": "layers.0", "type": "conv2d", "in_channels": 1, "out_channels": 16, "kernel": 3, "stride": 1, "padding": 1}`,
/// `{"name": "layers.1", "type": "batchnorm", "channels": 16, "eps": 1e-5, "momentum": 0.1}`,
/// `{"type": "maxpool2d", "kernel": 2}`, `{"type": "global_avgpool"}`, `{"type": "flatten"}`,
/// and types defined by extensions, e.g. `{"type": "recurrence", …}` (docs/HISTORY-FORMAT.md,
/// ArchFromOpt), whose other fields are the `payload`. Absent fields are omitted from the JSON.
public struct LayerSpec: Equatable, Sendable {
    /// What the layer is.
    public var kind: LayerKind
    /// The layer type string of the JSON (`dense`, an activation name, `normalize`, `conv2d`, …).
    public var type: String {
        get { kind.type }
        set { kind = LayerKind(type: newValue) }
    }
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
    /// The per-sample shape an `unflatten` layer produces (`[C, H, W]`).
    public var shape: [Int]?
    /// The fields of an `.external` layer beyond the ones above, for its extension to decode
    /// (`LayerPayload.decode`); nil for the built-in kinds.
    public var payload: LayerPayload?

    /// A layer description.
    public init(type: String, name: String? = nil, in: Int? = nil, out: Int? = nil,
                alpha: Double? = nil, mean: Double? = nil, std: Double? = nil,
                inChannels: Int? = nil, outChannels: Int? = nil, kernel: Int? = nil, stride: Int? = nil,
                padding: Int? = nil, outputPadding: Int? = nil, channels: Int? = nil,
                eps: Double? = nil, momentum: Double? = nil) {
        self.kind = LayerKind(type: type); self.name = name; self.in = `in`; self.out = out
        self.alpha = alpha; self.mean = mean; self.std = std
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
        self.channels = channels; self.eps = eps; self.momentum = momentum
    }
}

extension LayerSpec: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, name, `in`, out, alpha, mean, std
        case inChannels = "in_channels", outChannels = "out_channels", kernel, stride, padding
        case outputPadding = "output_padding", channels, eps, momentum, shape
    }

    /// Decodes the fields above; for an external type every other key goes into `payload`
    /// (for the built-in types other keys are ignored, as before extensions existed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(type: try c.decode(String.self, forKey: .type), name: try c.decodeIfPresent(String.self, forKey: .name),
                  in: try c.decodeIfPresent(Int.self, forKey: .in), out: try c.decodeIfPresent(Int.self, forKey: .out),
                  alpha: try c.decodeIfPresent(Double.self, forKey: .alpha), mean: try c.decodeIfPresent(Double.self, forKey: .mean),
                  std: try c.decodeIfPresent(Double.self, forKey: .std),
                  inChannels: try c.decodeIfPresent(Int.self, forKey: .inChannels),
                  outChannels: try c.decodeIfPresent(Int.self, forKey: .outChannels),
                  kernel: try c.decodeIfPresent(Int.self, forKey: .kernel), stride: try c.decodeIfPresent(Int.self, forKey: .stride),
                  padding: try c.decodeIfPresent(Int.self, forKey: .padding),
                  outputPadding: try c.decodeIfPresent(Int.self, forKey: .outputPadding),
                  channels: try c.decodeIfPresent(Int.self, forKey: .channels),
                  eps: try c.decodeIfPresent(Double.self, forKey: .eps), momentum: try c.decodeIfPresent(Double.self, forKey: .momentum))
        shape = try c.decodeIfPresent([Int].self, forKey: .shape)
        guard case .external = kind else { return }
        let all = try decoder.container(keyedBy: PayloadKey.self)
        var fields: [String: JSONValue] = [:]
        for key in all.allKeys where CodingKeys(stringValue: key.stringValue) == nil {
            fields[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
        }
        payload = fields.isEmpty ? nil : LayerPayload(fields: fields)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(self.in, forKey: .in); try c.encodeIfPresent(out, forKey: .out)
        try c.encodeIfPresent(alpha, forKey: .alpha); try c.encodeIfPresent(mean, forKey: .mean); try c.encodeIfPresent(std, forKey: .std)
        try c.encodeIfPresent(inChannels, forKey: .inChannels); try c.encodeIfPresent(outChannels, forKey: .outChannels)
        try c.encodeIfPresent(kernel, forKey: .kernel); try c.encodeIfPresent(stride, forKey: .stride)
        try c.encodeIfPresent(padding, forKey: .padding); try c.encodeIfPresent(outputPadding, forKey: .outputPadding)
        try c.encodeIfPresent(channels, forKey: .channels); try c.encodeIfPresent(eps, forKey: .eps)
        try c.encodeIfPresent(momentum, forKey: .momentum); try c.encodeIfPresent(shape, forKey: .shape)
        guard let payload else { return }
        var extra = encoder.container(keyedBy: PayloadKey.self)
        for (key, value) in payload.fields where CodingKeys(stringValue: key) == nil {
            try extra.encode(value, forKey: PayloadKey(key))
        }
    }
}
