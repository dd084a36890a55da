/// A contiguous part of a labelled image set — the training and validation parts of the
/// validation split (`LiftedTrain.ValidationSplit`: the last N training images, in file order).
extension LabeledImages {
    /// The images of `range` (indices into this set), in order.
    public func rows(_ range: Range<Int>) -> LabeledImages {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "LabeledImages.rows: \(range) outside 0..<\(count)")
        let area = rows * cols
        // The shape and sizes agree by construction.
        return try! LabeledImages(count: range.count, rows: rows, cols: cols,
                                  pixels: Array(pixels[(range.lowerBound * area) ..< (range.upperBound * area)]),
                                  labels: Array(labels[range]))
    }
}
