/// Loss and accuracy of `network` on a whole data set, in batches, without training caches.
/// On a regression set (with `targets`) the loss is the square loss ½‖f − y‖² averaged over the
/// samples, whatever `loss` says, and the accuracy is NaN.
public func evaluate<S: NNScalar>(_ network: Network<S>, on data: TensorDataset<S>, loss: LossKind,
                                  batchSize: Int = 1000) -> (loss: Double, accuracy: Double) {
    var total = 0.0
    var correct = 0
    let f = data.inputs.cols
    var start = 0
    var batch = Tensor<S>(zeros: [0])
    while start < data.count {
        let n = min(batchSize, data.count - start)
        batch.resize([n, f])
        batch.gatherRows(from: data.inputs, indices: (start..<(start + n)).map { $0 }[...])
        let out = network.forward(batch)
        if let t = data.targets {
            var y = Tensor<S>(zeros: [n, t.cols])
            y.gatherRows(from: t, indices: (start..<(start + n)).map { $0 }[...])
            total += loss.evaluate(out, targets: y) * Double(n)
        } else {
            let (l, c) = loss.evaluate(out, labels: Array(data.labels[start..<(start + n)]))
            total += l * Double(n)
            correct += c
        }
        start += n
    }
    let accuracy = data.targets == nil ? Double(correct) / Double(max(1, data.count)) : .nan
    return (total / Double(max(1, data.count)), accuracy)
}
