import LiftedTrain

/// The fields of a `{"type": "recurrence", …}` layer (docs/HISTORY-FORMAT.md) beyond its `name`:
/// the blocks T_b, the states after the input, and the state it outputs. They travel in the
/// layer spec's `payload`; this is their typed form.
public struct RecurrenceSpec: Codable, Equatable, Sendable {
    /// Which optimizer the layer comes from (`gd`, `heavy_ball`, `nesterov`, `admm`, …; informative).
    public var recurrence: String?
    /// The blocks T_b, each a sequence of layers.
    public var blocks: [[LayerSpec]]
    /// The states after the input (state 0), each a weighted sum of terms.
    public var states: [RecurrenceState]
    /// The state the layer outputs (default: the last).
    public var output: Int?

    /// A recurrence description from its parts.
    public init(recurrence: String?, blocks: [[LayerSpec]], states: [RecurrenceState], output: Int? = nil) {
        self.recurrence = recurrence; self.blocks = blocks; self.states = states; self.output = output
    }

    /// The recurrence fields of `spec`; a message naming the layer when they are missing or malformed.
    public init(_ spec: LayerSpec, label: String = "layer") throws {
        guard spec.kind == .external(RecurrenceExtension.type) else {
            throw ModelError("\(label) is a '\(spec.type)' layer, not a recurrence")
        }
        let name = spec.name ?? "recurrence"
        guard let payload = spec.payload, payload.fields["blocks"] != nil, payload.fields["states"] != nil else {
            throw ModelError("\(label) (\(name)) needs 'blocks' and at least one entry in 'states'")
        }
        do { self = try payload.decode(RecurrenceSpec.self) } catch let DecodingError.keyNotFound(key, ctx) {
            throw ModelError("\(label) (\(name)) lacks '\(key.stringValue)' at '\(Self.path(ctx))'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ModelError("\(label) (\(name)) has a wrong type at '\(Self.path(ctx))'")
        } catch {
            throw ModelError("\(label) (\(name)) has malformed recurrence fields")
        }
    }

    private static func path(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    /// The layer spec `{"type": "recurrence", "name": name, …}` holding these fields.
    public func layerSpec(name: String) -> LayerSpec {
        var l = LayerSpec(type: RecurrenceExtension.type, name: name)
        // Encoding plain Codable values into a JSON object cannot fail.
        l.payload = try! LayerPayload(encoding: self)
        return l
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

/// Builds `{"type": "recurrence", …}` layers: give `ArchFromOpt.layers` to the network factory.
public struct RecurrenceExtension: LayerExtension {
    /// The model JSON type string.
    public static let type = "recurrence"
    public var layerTypes: [String] { [Self.type] }
    public func hasWeights(_ spec: LayerSpec) -> Bool { true }
    public func build<Scalar: NNScalar>(_ spec: LayerSpec, inputShape: [Int], factory: LayerFactory<Scalar>,
                                        label: String) throws -> (any Layer<Scalar>, [Int]) {
        (try RecurrenceLayer(spec: spec, inputShape: inputShape, factory: factory, label: label), inputShape)
    }
}
