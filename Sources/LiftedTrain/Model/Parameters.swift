/// The flat, named parameter map of a network (`"layers.0.weight"` → tensor), with one gradient
/// tensor beside each value — the single address space that optimizers, LPOM's per-layer
/// updates, history files and the inverter all use (PyTorch's `state_dict`, MLX `flattened()`).
public final class ParameterStore<Scalar: NNScalar> {
    /// Names in registration (model) order.
    public private(set) var names: [String] = []
    /// Values, parallel to `names`.
    public var values: [Tensor<Scalar>] = []
    /// Gradients, parallel to `names` (same shapes as the values).
    public var grads: [Tensor<Scalar>] = []
    private var index: [String: Int] = [:]
    /// When true, the layers registered here skip their parameter-gradient work in `backward`
    /// (Dense, Conv2D, ConvTranspose2D, BatchNorm): only ∂L/∂input is computed — about half the
    /// FLOPs — and `grads` keep whatever they held before. For optimising over a network's
    /// *inputs* with the weights fixed (generator inversion, `Surfing`).
    public var frozen = false

    /// An empty store.
    public init() {}

    /// Registers a parameter and returns its slot.
    @discardableResult
    public func register(_ name: String, _ value: Tensor<Scalar>) -> Int {
        if let i = index[name] { values[i] = value; grads[i] = Tensor(zeros: value.shape); return i }
        index[name] = names.count
        names.append(name)
        values.append(value)
        grads.append(Tensor(zeros: value.shape))
        return names.count - 1
    }

    /// The slot of a name, if registered.
    public func slot(of name: String) -> Int? { index[name] }

    /// Value by name.
    public subscript(name: String) -> Tensor<Scalar>? {
        get { index[name].map { values[$0] } }
    }

    /// Replaces a value by name; the shape must match (checked, with a message).
    public func set(_ name: String, _ value: Tensor<Scalar>) throws {
        guard let i = index[name] else { throw ModelError("no parameter named '\(name)'") }
        guard values[i].shape == value.shape else {
            throw ModelError("parameter '\(name)' has shape \(values[i].shape), got \(value.shape)")
        }
        values[i] = Tensor(shape: values[i].shape, data: value.data)
    }

    /// Total number of scalars.
    public var scalarCount: Int { values.reduce(0) { $0 + $1.count } }

    /// (name, shape) for every parameter, in order.
    public var shapes: [(name: String, shape: [Int])] { zip(names, values).map { ($0, $1.shape) } }

    /// Every value as Float32 arrays by name (what a history snapshot stores).
    public func floatArrays() -> [String: [Float]] {
        var d: [String: [Float]] = [:]
        for (n, v) in zip(names, values) {
            d[n] = Scalar.toFloats(v.data)
        }
        return d
    }

    /// True when every value is finite; otherwise the first non-finite name.
    public func firstNonFinite() -> String? {
        for (n, v) in zip(names, values) where !v.isFinite { return n }
        return nil
    }
}
