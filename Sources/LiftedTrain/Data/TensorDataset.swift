/// A labelled data set held as one `[N, features]` tensor: class labels for classification,
/// or real-valued `targets` `[N, outputs]` for regression.
public struct TensorDataset<Scalar: NNScalar>: Sendable {
    /// Inputs, one sample per row.
    public var inputs: Tensor<Scalar>
    /// Class labels (may be empty for a regression set).
    public var labels: [Int32]
    /// Regression targets `[N, outputs]`, one row per sample; nil for a classification set.
    /// When present, training and evaluation use the square loss against them.
    public var targets: Tensor<Scalar>? = nil
    /// Number of samples.
    public var count: Int { inputs.rows }

    /// A data set from its parts (rows of `inputs` match `labels`).
    public init(inputs: Tensor<Scalar>, labels: [Int32]) {
        precondition(inputs.rows == labels.count, "TensorDataset: \(inputs.rows) rows, \(labels.count) labels")
        self.inputs = inputs; self.labels = labels
    }

    /// A regression set: inputs `[N, features]`, targets `[N, outputs]`, and optionally the class
    /// labels the samples came with (empty or N of them).
    public init(inputs: Tensor<Scalar>, targets: Tensor<Scalar>, labels: [Int32] = []) {
        precondition(inputs.rows == targets.rows, "TensorDataset: \(inputs.rows) rows, \(targets.rows) targets")
        precondition(labels.isEmpty || labels.count == inputs.rows, "TensorDataset: \(inputs.rows) rows, \(labels.count) labels")
        self.inputs = inputs; self.labels = labels; self.targets = targets
    }

    /// Pixel bytes (N × features) scaled by 1/255, with byte labels.
    public init(pixels: [UInt8], labels: [UInt8], count: Int, features: Int) {
        var x = Tensor<Scalar>(zeros: [count, features])
        pixels.withUnsafeBufferPointer { pb in
            x.data.withUnsafeMutableBufferPointer { Scalar.fromBytes(UnsafeBufferPointer(rebasing: pb[0..<(count * features)]), scale: Scalar(1) / 255, into: $0) }
        }
        self.inputs = x
        self.labels = labels.prefix(count).map { Int32($0) }
    }

    /// The first `n` samples.
    public func prefix(_ n: Int) -> TensorDataset { rows(0 ..< min(n, count)) }
}
