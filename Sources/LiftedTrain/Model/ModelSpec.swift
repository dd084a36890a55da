import Foundation

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
