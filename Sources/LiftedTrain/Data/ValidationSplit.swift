/// The validation split: the last `n` samples of a training set, in file order.
///
/// Settings (learning rate, μ, epochs, …) are chosen on a validation set held out of the
/// training data, and the test set is evaluated once, for the setting chosen; choosing on
/// the test set would make its accuracy an optimistic estimate.
///
/// The rule is the simplest one that needs no random numbers: of a training set of `count`
/// samples, the validation set is samples `count − n ..< count` and the training set samples
/// `0 ..< count − n` (any `--train-limit` then takes the first images of that part). On
/// MNIST with n = 10,000 this is the classic 50,000 / 10,000 split of `mnist.pkl.gz` (the
/// Theano deep-learning tutorials; Nielsen's *Neural Networks and Deep Learning*), whose
/// training and validation sets are the first 50,000 and the last 10,000 images of the
/// standard training file, in order (`scripts/mnist_pkl_to_idx.py` checks this).
public enum ValidationSplit {
    /// The training and validation sample ranges of a training set of `count` samples when the
    /// last `n` are held out, or nil unless 0 ≤ n < count (the training part must not be empty).
    public static func ranges(count: Int, holdOut n: Int) -> (train: Range<Int>, validation: Range<Int>)? {
        guard n >= 0, n < count else { return nil }
        return (0 ..< count - n, count - n ..< count)
    }
}

extension TensorDataset {
    /// The samples of `range` (indices into this set), in order: inputs, labels and targets.
    public func rows(_ range: Range<Int>) -> TensorDataset {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "TensorDataset.rows: \(range) outside 0..<\(count)")
        let f = inputs.cols
        let x = Tensor(shape: [range.count, f], data: Array(inputs.data[(range.lowerBound * f) ..< (range.upperBound * f)]))
        let l = labels.isEmpty ? [] : Array(labels[range])
        if let t = targets {
            let c = t.cols
            return TensorDataset(inputs: x, targets: Tensor(shape: [range.count, c], data: Array(t.data[(range.lowerBound * c) ..< (range.upperBound * c)])),
                                 labels: l)
        }
        return TensorDataset(inputs: x, labels: l)
    }
}
