import Foundation

/// Builds layers from their `LayerSpec`s for one network: checks each description against the
/// shape it receives, draws initial parameters, and registers them in the network's stores.
/// Layer types defined outside `LiftedTrain` (ArchFromOpt's recurrences) are built by the
/// `extensions` the factory is given; the layers that split work get its `context`.
public final class LayerFactory<Scalar: NNScalar> {
    /// Trainable parameters of the network being built.
    public let parameters: ParameterStore<Scalar>
    /// Non-trainable buffers (batch-norm statistics).
    public let buffers: ParameterStore<Scalar>
    /// How weights are drawn.
    public let initialization: Initialization
    /// The generator the draws come from.
    public var rng: SplitMix64
    /// How the built layers use the machine.
    public let context: ComputeContext
    /// Builders of the external layer types, by type string.
    public let extensions: [String: any LayerExtension]

    /// The most scalars a network built here may hold (parameters and buffers together), and the
    /// most one sample may occupy at a layer's output or in a convolution's unfolded patches:
    /// 2^26 (256 MiB as Float). Model descriptions are read from files, so their sizes are checked
    /// against it before anything is allocated; this package's largest networks (the DCGAN
    /// generator, 6.5 M parameters) are far below it.
    public static var maxElements: Int { 1 << 26 }
    /// Scalars registered so far (a tied block counts at every application, each of which draws
    /// its own initial tensors).
    private var reserved = 0

    /// The number of elements of `shape`, or nil if a size is negative, the product overflows or
    /// it exceeds `maxElements`.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, p <= maxElements else { return nil }
            n = p
        }
        return n
    }

    /// Counts the tensors of `shapes` (a layer's parameters and buffers) against `maxElements`
    /// before they are allocated.
    private func reserve(_ shapes: [[Int]], _ label: String) throws {
        var total = reserved
        for shape in shapes {
            guard let n = Self.elementCount(shape), total + n <= Self.maxElements else {
                throw ModelError("\(label) would bring the network past \(Self.maxElements) parameters (tensors \(shapes)); too large")
            }
            total += n
        }
        reserved = total
    }

    /// Checks the per-sample size of a convolution's unfolded patches (`C·k·k` values at each
    /// of `positions` places) against `maxElements`.
    private func checkUnfolded(_ shape: [Int], _ label: String) throws {
        guard Self.elementCount(shape) != nil else {
            throw ModelError("\(label): its unfolded patches (\(shape.map(String.init).joined(separator: "·")) values per sample) exceed \(Self.maxElements)")
        }
    }

    /// A factory over the given stores, building the external types of `extensions` (the first
    /// extension naming a type builds it).
    public init(parameters: ParameterStore<Scalar>, buffers: ParameterStore<Scalar>, initialization: Initialization,
                rng: SplitMix64, context: ComputeContext = .serial, extensions: [any LayerExtension] = []) {
        self.parameters = parameters; self.buffers = buffers; self.initialization = initialization; self.rng = rng
        self.context = context
        var byType: [String: any LayerExtension] = [:]
        for e in extensions { for t in e.layerTypes where byType[t] == nil { byType[t] = e } }
        self.extensions = byType
    }

    /// A weight tensor of `shape` with fan-in `fanIn`, fan-out `fanOut`, scaled for activation φ.
    public func weight(shape: [Int], fanIn: Int, fanOut: Int, activation: ActivationKind) -> Tensor<Scalar> {
        let std = initialization.std(inputs: fanIn, outputs: fanOut, activation: activation)
        return initialization == .uniform
            ? .randomUniform(shape: shape, lo: -std * 3.0.squareRoot(), hi: std * 3.0.squareRoot(), using: &rng)
            : .randomNormal(shape: shape, std: std, using: &rng)
    }

    /// Builds `specs` in order from per-sample `inputShape`; returns the layers and the output shape.
    /// `context` prefixes error messages (e.g. "layer " or "layers.2 block 0 layer ").
    public func buildSequence(_ specs: [LayerSpec], inputShape: [Int], context: String) throws -> ([any Layer<Scalar>], [Int]) {
        var shape = inputShape
        var out: [any Layer<Scalar>] = []
        for (i, l) in specs.enumerated() {
            let next = nextActivation(in: specs, after: i)
            let lastDense = l.kind == .dense && !specs[(i + 1)...].contains { $0.kind == .dense }
            let before = (parameters.values.map(\.shape), buffers.values.map(\.shape))
            let (layer, s) = try build(l, inputShape: shape, nextActivation: next, label: "\(context)\(i)",
                                       isOutputDense: lastDense)
            try checkNamesKeptShapes(before, label: "\(context)\(i) (\(l.name ?? l.type))")
            guard Self.elementCount(s) != nil else {
                throw ModelError("\(context)\(i) (\(l.name ?? l.type)) outputs \(s) per sample, more than \(Self.maxElements) values")
            }
            out.append(layer)
            shape = s
        }
        return (out, shape)
    }

    /// A layer registering a name an earlier layer registered shares that parameter (how a
    /// recurrence ties the weights of a block it applies twice) and must give it the same shape;
    /// two layers of one name and different shapes would leave one of them with the other's
    /// tensor. `before` holds the shapes of the parameters and buffers before the layer was built.
    private func checkNamesKeptShapes(_ before: ([[Int]], [[Int]]), label: String) throws {
        for (store, shapes) in [(parameters, before.0), (buffers, before.1)] {
            for (k, shape) in shapes.enumerated() where store.values[k].shape != shape {
                throw ModelError("\(label) registers '\(store.names[k])' of shape \(store.values[k].shape), but an earlier "
                    + "layer has it with shape \(shape); layer names must be unique")
            }
        }
    }

    /// The activation following layer `i` (before the next layer with weights), which picks the
    /// initialisation scale of layer `i`'s weights.
    func nextActivation(in specs: [LayerSpec], after i: Int) -> ActivationKind {
        for l in specs[(i + 1)...] {
            switch l.kind {
            case .activation(let k): return k
            case .external(let t): if extensions[t]?.hasWeights(l) ?? true { return .identity }
            default: if l.kind.hasWeights { return .identity }
            }
        }
        return .identity
    }

    private func image(_ shape: [Int], _ label: String, _ type: String) throws -> (c: Int, h: Int, w: Int) {
        guard shape.count == 3 else {
            throw ModelError("\(label) (\(type)) needs [channels, height, width] input but receives \(shape)")
        }
        return (shape[0], shape[1], shape[2])
    }

    /// Builds one layer for per-sample input `inputShape`; returns it and its output shape.
    /// `isOutputDense` marks the last dense layer of a sequence (NTK initialisation draws its
    /// weights as random signs, Du et al.'s a_r ∈ {±1}).
    public func build(_ l: LayerSpec, inputShape shape: [Int], nextActivation: ActivationKind,
                      label: String, isOutputDense: Bool = false) throws -> (any Layer<Scalar>, [Int]) {
        let width = shape.reduce(1, *)
        func named() throws -> String {
            guard let n = l.name, !n.isEmpty else { throw ModelError("\(label) (\(l.type)) needs a 'name'") }
            return n
        }
        func positive(_ v: Int?, _ field: String, default d: Int? = nil, min lo: Int = 1) throws -> Int {
            guard let x = v ?? d else { throw ModelError("\(label) (\(l.type)) needs '\(field)'") }
            guard x >= lo, x <= 1 << 20 else { throw ModelError("\(label) (\(l.type)) has an impossible \(field) \(x)") }
            return x
        }
        switch l.kind {
        case .dense:
            guard let a = l.in, let b = l.out, let name = l.name else {
                throw ModelError("\(label) (dense) needs 'name', 'in' and 'out'")
            }
            guard a == width else { throw ModelError("\(label) (\(name)) takes \(a) inputs but receives \(width)") }
            guard b > 0, b <= 1 << 24, a <= 1 << 24 else { throw ModelError("\(label) (\(name)) has an impossible size \(a)→\(b)") }
            try reserve([[b, a], [b]], "\(label) (\(name))")
            let w: Tensor<Scalar> = initialization == .ntk && isOutputDense
                ? .randomSigns(shape: [b, a], using: &rng)
                : weight(shape: [b, a], fanIn: a, fanOut: b, activation: nextActivation)
            return (Dense(name: name, inputSize: a, outputSize: b, store: parameters, weight: w, bias: Tensor(zeros: [b])), [b])
        case .conv2d, .convTranspose2d:
            let name = try named()
            let (c, h, w) = try image(shape, label, l.type)
            let ci = try positive(l.inChannels, "in_channels"), co = try positive(l.outChannels, "out_channels")
            let k = try positive(l.kernel, "kernel"), s = try positive(l.stride, "stride", default: 1)
            let p = try positive(l.padding, "padding", default: 0, min: 0)
            guard ci == c else { throw ModelError("\(label) (\(name)) takes \(ci) channels but receives \(c) (input \(shape))") }
            if l.kind == .conv2d {
                let ho = ImageGeometry.outputSize(h, kernel: k, stride: s, padding: p)
                let wo = ImageGeometry.outputSize(w, kernel: k, stride: s, padding: p)
                guard ho > 0, wo > 0 else {
                    throw ModelError("\(label) (\(name)): a \(k)×\(k) kernel with padding \(p) does not fit a \(h)×\(w) input")
                }
                try reserve([[co, ci, k, k], [co]], "\(label) (\(name))")
                try checkUnfolded([ci, k, k, ho, wo], "\(label) (\(name))")
                let wt = weight(shape: [co, ci, k, k], fanIn: ci * k * k, fanOut: co * k * k, activation: nextActivation)
                return (Conv2D(name: name, inChannels: ci, outChannels: co, kernel: k, stride: s, padding: p,
                               inputHeight: h, inputWidth: w, store: parameters, weight: wt, bias: Tensor(zeros: [co]),
                               context: context),
                        [co, ho, wo])
            }
            let op = try positive(l.outputPadding, "output_padding", default: 0, min: 0)
            guard op < s || op < 1 else { throw ModelError("\(label) (\(name)): output_padding \(op) must be smaller than stride \(s)") }
            let ho = ImageGeometry.transposedOutputSize(h, kernel: k, stride: s, padding: p, outputPadding: op)
            let wo = ImageGeometry.transposedOutputSize(w, kernel: k, stride: s, padding: p, outputPadding: op)
            guard ho > 0, wo > 0 else { throw ModelError("\(label) (\(name)): padding \(p) leaves no output") }
            try reserve([[ci, co, k, k], [co]], "\(label) (\(name))")
            try checkUnfolded([co, k, k, h, w], "\(label) (\(name))")
            // PyTorch's fan-in of a transposed convolution's weight [C_in, C_out, k, k] is C_out·k·k.
            let wt = weight(shape: [ci, co, k, k], fanIn: co * k * k, fanOut: ci * k * k, activation: nextActivation)
            return (ConvTranspose2D(name: name, inChannels: ci, outChannels: co, kernel: k, stride: s, padding: p,
                                    outputPadding: op, inputHeight: h, inputWidth: w, store: parameters, weight: wt,
                                    bias: Tensor(zeros: [co])), [co, ho, wo])
        case .maxPool2d, .avgPool2d:
            let (c, h, w) = try image(shape, label, l.type)
            let k = try positive(l.kernel, "kernel"), s = try positive(l.stride, "stride", default: k)
            let p = try positive(l.padding, "padding", default: 0, min: 0)
            let ho = ImageGeometry.outputSize(h, kernel: k, stride: s, padding: p)
            let wo = ImageGeometry.outputSize(w, kernel: k, stride: s, padding: p)
            guard ho > 0, wo > 0, 2 * p <= k else {
                throw ModelError("\(label) (\(l.type)): a \(k)×\(k) window with padding \(p) does not fit a \(h)×\(w) input")
            }
            let layer: any Layer<Scalar> = l.kind == .maxPool2d
                ? MaxPool2D(channels: c, height: h, width: w, kernel: k, stride: s, padding: p, context: context)
                : AvgPool2D(channels: c, height: h, width: w, kernel: k, stride: s, padding: p)
            return (layer, [c, ho, wo])
        case .globalAvgPool:
            let (c, h, w) = try image(shape, label, l.type)
            return (GlobalAvgPool(channels: c, plane: h * w), [c])
        case .flatten:
            return (Flatten(), [width])
        case .unflatten:
            guard let to = l.shape, to.count == 3, to.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }), to.reduce(1, *) == width else {
                throw ModelError("\(label) (unflatten) needs a 'shape' [channels, height, width] with \(width) elements, got \(l.shape.map { "\($0)" } ?? "none")")
            }
            return (Unflatten(shape: to), to)
        case .batchNorm:
            let name = try named()
            let c = shape.count == 3 ? shape[0] : width
            if let declared = l.channels, declared != c {
                throw ModelError("\(label) (\(name)) normalises \(declared) channels but receives \(c) (input \(shape))")
            }
            let eps = l.eps ?? 1e-5, m = l.momentum ?? 0.1
            guard eps > 0, eps.isFinite, m >= 0, m <= 1 else {
                throw ModelError("\(label) (\(name)) needs eps > 0 and momentum in [0, 1]")
            }
            try reserve([[c], [c], [c], [c]], "\(label) (\(name))")
            return (BatchNorm(name: name, channels: c, plane: shape.count == 3 ? shape[1] * shape[2] : 1, eps: eps,
                              momentum: m, store: parameters, buffers: buffers, context: context), shape)
        case .normalize:
            guard let m = l.mean, let s = l.std, s > 0, m.isFinite else {
                throw ModelError("\(label) (normalize) needs 'mean' and a positive 'std'")
            }
            return (Normalize(mean: m, std: s), shape)
        case .activation(let k):
            return (Activation(k, alpha: l.alpha, context: context), shape)
        case .external(let t):
            guard let builder = extensions[t] else {
                let known = extensions.keys.sorted()
                throw ModelError("\(label) has unknown type '\(t)'"
                                 + (known.isEmpty ? " (no layer extensions were given to build it)" : " (extensions given: \(known.joined(separator: ", ")))"))
            }
            return try builder.build(l, inputShape: shape, factory: self, label: label)
        }
    }
}

/// Layer types defined outside `LiftedTrain` (ArchFromOpt's `recurrence`), given to the factory
/// that builds a network (`Network(spec:…extensions:…)`, `LayerFactory(…extensions:)`). A type's
/// own fields reach it as the spec's `payload`.
public protocol LayerExtension: Sendable {
    /// The `type` strings it builds.
    var layerTypes: [String] { get }
    /// Whether a layer of this spec has weights of its own (the initialisation scale of a layer's
    /// weights comes from the activation after it, up to the next layer with weights).
    func hasWeights(_ spec: LayerSpec) -> Bool
    /// Builds the layer for per-sample `inputShape`, returning it and its output shape; inner
    /// layers are built with `factory` (which holds the network's stores, generator and context).
    func build<Scalar: NNScalar>(_ spec: LayerSpec, inputShape: [Int], factory: LayerFactory<Scalar>,
                                 label: String) throws -> (any Layer<Scalar>, [Int])
}
