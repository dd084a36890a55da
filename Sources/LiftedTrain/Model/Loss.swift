/// The training losses, averaged over the batch.
public enum LossKind: String, CaseIterable, Sendable, Codable {
    /// Softmax cross-entropy on logits: L = (1/b) Σ (log Σ_j e^{y_j} − y_label).
    case crossEntropy = "cross-entropy"
    /// Squared error on one-hot labels: L = (1/b) Σ ½‖y − onehot(label)‖².
    case squaredError = "squared-error"
    /// Square loss on real-valued regression targets: L = (1/b) Σ ½‖f(x) − y‖²
    /// (`evaluate(_:targets:)`). On class labels it is `squaredError` (targets = one-hot labels).
    case mse

    /// Loss (batch mean) and number of correct argmax predictions.
    public func evaluate<S: NNScalar>(_ output: Tensor<S>, labels: [Int32]) -> (loss: Double, correct: Int) {
        evaluate(output, labels: labels, gradientPointer: nil)
    }

    /// Loss (batch mean) and number of correct argmax predictions, with ∂L/∂output written
    /// into `gradient` (resized as needed).
    public func evaluate<S: NNScalar>(_ output: Tensor<S>, labels: [Int32],
                                      gradient: inout Tensor<S>) -> (loss: Double, correct: Int) {
        withUnsafeMutablePointer(to: &gradient) { evaluate(output, labels: labels, gradientPointer: $0) }
    }

    private func evaluate<S: NNScalar>(_ output: Tensor<S>, labels: [Int32],
                                       gradientPointer gradient: UnsafeMutablePointer<Tensor<S>>?) -> (loss: Double, correct: Int) {
        let b = output.rows
        let c = output.cols
        precondition(labels.count == b, "loss: \(labels.count) labels for \(b) outputs")
        // Labels index the output row: out-of-range labels would read past it.
        precondition(labels.allSatisfy { $0 >= 0 && Int($0) < c }, "loss: a label is outside 0..<\(c)")
        if let g = gradient, g.pointee.shape != output.shape { g.pointee = Tensor(zeros: output.shape) }
        switch self {
        case .crossEntropy:
            let (sum, correct) = output.data.withUnsafeBufferPointer { po in
                labels.withUnsafeBufferPointer { pl in
                    if let g = gradient {
                        return g.pointee.data.withUnsafeMutableBufferPointer { pg in
                            S.softmaxCrossEntropy(logits: po, labels: pl, classes: c, grad: pg, scale: S(1) / S(b))
                        }
                    }
                    return S.softmaxCrossEntropy(logits: po, labels: pl, classes: c, grad: nil, scale: 1)
                }
            }
            return (sum / Double(b), correct)
        case .squaredError, .mse:
            var diff = output
            var correct = 0
            for r in 0..<b {
                let row = r * c
                var arg = 0
                for j in 1..<c where output.data[row + j] > output.data[row + arg] { arg = j }
                if arg == Int(labels[r]) { correct += 1 }
                diff.data[row + Int(labels[r])] -= 1
            }
            let loss = Double(diff.squaredNorm) / (2 * Double(b))
            if let g = gradient {
                diff.scale(by: S(1) / S(b))
                g.pointee = diff
            }
            return (loss, correct)
        }
    }

    /// Regression loss L = (1/b) Σ ½‖f(x) − y‖² against real targets `[b, outputs]` (every kind:
    /// the square loss is the only loss defined on real-valued targets).
    public func evaluate<S: NNScalar>(_ output: Tensor<S>, targets: Tensor<S>) -> Double {
        LossKind.squareLoss(output, targets: targets, gradient: nil)
    }

    /// Regression loss as `evaluate(_:targets:)`, with ∂L/∂output = (f − y)/b written into `gradient`.
    public func evaluate<S: NNScalar>(_ output: Tensor<S>, targets: Tensor<S>, gradient: inout Tensor<S>) -> Double {
        withUnsafeMutablePointer(to: &gradient) { LossKind.squareLoss(output, targets: targets, gradient: $0) }
    }

    /// The residual r = f − y (BLAS axpy) and ½‖r‖²/b (BLAS dot).
    static func squareLoss<S: NNScalar>(_ output: Tensor<S>, targets: Tensor<S>,
                                        gradient: UnsafeMutablePointer<Tensor<S>>?) -> Double {
        precondition(output.count == targets.count && output.rows == targets.rows,
                     "loss: targets \(targets.shape) for outputs \(output.shape)")
        let b = output.rows
        var diff = output
        diff.add(targets, scaledBy: -1)
        let loss = Double(diff.squaredNorm) / (2 * Double(max(b, 1)))
        if let g = gradient {
            diff.scale(by: S(1) / S(max(b, 1)))
            g.pointee = Tensor(shape: output.shape, data: diff.data)
        }
        return loss
    }
}
