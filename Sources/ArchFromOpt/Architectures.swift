import LiftedTrain

/// Networks generated from optimizer recurrences (Li, Yang, Chen, Lin, ACML 2018).
public enum ArchFromOpt {
    /// The layer types of this module (`recurrence`), for the factory that builds a network:
    /// `Network(spec:…, extensions: [ArchFromOpt.layers], …)` or `Network.load(from:…extensions:)`.
    public static let layers: any LayerExtension = RecurrenceExtension()
}

/// The architectures of Li, Yang, Chen & Lin (ACML 2018): each optimizer's network and its special case.
public enum Architecture: String, CaseIterable, Sendable {
    /// GD: x_{k+1} = T(x_k).
    case plain
    /// Heavy ball with β₁ = 1, β₂ = 0: x_{k+1} = T(x_k) + x_k.
    case resnet
    /// Heavy ball with the momentum of Theorem 2: β₁ = β_k, β₂ = −β_k, β_k = k/(k+2).
    case hbnet
    /// Nesterov with the slides' λ-sequence coefficients.
    case agdnet
    /// Nesterov with α = 1, β = 0: x_{k+1} = Σ_{j≤k} T_j(x_j).
    case densenet
    /// ADMM with the coefficients of its own iteration (slides, eq. (1)).
    case admmnet
    /// ADMM relaxed with α = β = ½ on the latest states: merge-and-run.
    case dmrnet

    /// The recurrence layer for this architecture.
    public func recurrence(name: String, depth: Int, block: Block, learnable: Bool) -> LayerSpec {
        switch self {
        case .plain:
            return Recurrences.gradientDescent(name: name, depth: depth, block: block)
        case .resnet:
            return Recurrences.heavyBall(name: name, depth: depth, block: block, beta1: { _ in 1 }, beta2: { _ in 0 },
                                         learnable: learnable)
        case .hbnet:
            return Recurrences.heavyBall(name: name, depth: depth, block: block,
                                         beta1: { Recurrences.heavyBallMomentum($0) },
                                         beta2: { -Recurrences.heavyBallMomentum($0) }, learnable: learnable)
        case .agdnet:
            return Recurrences.nesterov(name: name, depth: depth, block: block, alpha: Recurrences.nesterovAlpha,
                                        beta: { _, _ in 0 }, learnable: learnable)
        case .densenet:
            return Recurrences.nesterov(name: name, depth: depth, block: block, alpha: { _, _ in 1 },
                                        beta: { _, _ in 0 }, learnable: learnable)
        case .admmnet:
            return Recurrences.admm(name: name, depth: depth, block: block, coefficients: .optimizer, learnable: learnable)
        case .dmrnet:
            return Recurrences.admm(name: name, depth: depth, block: block, coefficients: .dmrnet, learnable: learnable)
        }
    }

    /// A classifier: a stem lifting the input to `width` channels (conv 3×3 + BN + ReLU + 2×2
    /// max-pool for images, dense + BN + ReLU for vectors), the recurrence of `depth` blocks, and a
    /// head (global average pool for images) with a dense layer to `classes` logits.
    /// Throws a message for depth < 1, a width outside 1…1024, or an input the stem cannot take.
    public func model(inputShape: [Int], classes: Int, depth: Int, width: Int, convolutional: Bool,
                      learnable: Bool) throws -> ModelSpec {
        guard depth >= 1 else { throw ModelError("depth must be at least 1 (the number of blocks T), got \(depth)") }
        guard depth <= 200 else { throw ModelError("depth \(depth) is too large (at most 200)") }
        guard width >= 1 && width <= 1024 else {
            throw ModelError("width must be between 1 and 1024 channels/features, got \(width)")
        }
        let features = inputShape.reduce(1, *)
        var layers: [LayerSpec] = []
        if convolutional {
            guard inputShape.count == 3, inputShape[1] >= 2, inputShape[2] >= 2 else {
                throw ModelError("a convolutional \(rawValue) needs [channels, height, width] input of at least 2×2, got \(inputShape)")
            }
            layers = [LayerSpec(type: "conv2d", name: "layers.0", inChannels: inputShape[0], outChannels: width,
                                kernel: 3, stride: 1, padding: 1),
                      LayerSpec(type: "batchnorm", name: "layers.1", channels: width, eps: 1e-5, momentum: 0.1),
                      LayerSpec(type: "relu"),
                      LayerSpec(type: "maxpool2d", kernel: 2, stride: 2)]
            layers.append(recurrence(name: "layers.\(layers.count)", depth: depth, block: .conv(channels: width), learnable: learnable))
            layers.append(LayerSpec(type: "global_avgpool"))
        } else {
            layers = [LayerSpec(type: "flatten"),
                      LayerSpec(type: "dense", name: "layers.1", in: features, out: width),
                      LayerSpec(type: "batchnorm", name: "layers.2", channels: width, eps: 1e-5, momentum: 0.1),
                      LayerSpec(type: "relu")]
            layers.append(recurrence(name: "layers.\(layers.count)", depth: depth, block: .dense(width: width), learnable: learnable))
        }
        layers.append(LayerSpec(type: "dense", name: "layers.\(layers.count)", in: width, out: classes))
        return ModelSpec(inputShape: inputShape, layers: layers)
    }
}
