import ArchFromOpt
import ArgumentParser
import Foundation
import LiftedTrain

/// Opens a history and rebuilds the network of one snapshot.
func loadNetwork(from reader: HistoryReader, snapshot: Int) throws -> Network<Float> {
    ArchFromOpt.register()
    return try Network<Float>.load(from: reader, snapshot: snapshot)
}

/// The `training` JSON of a history as a dictionary (empty when absent or not JSON).
func trainingInfo(_ reader: HistoryReader) -> [String: Any] {
    trainingInfo(json: reader.training)
}

/// A `training` JSON text as a dictionary (empty when not a JSON object).
func trainingInfo(json: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Test-set accuracy and loss of a snapshot saved in a history.")

    @Argument(help: "History file written by `lpom train` (or any file following the history format).")
    var history: String

    @Option(help: "Data set (default: the one the history was trained on).")
    var dataset: DatasetName?

    @OptionGroup var data: DataOptions

    @Option(help: "Snapshot index: 0 is θ_0, −1 (default) the final θ, −2 the one before …")
    var snapshot: Int = -1

    @Flag(help: "Evaluate every snapshot and print the accuracy curve.")
    var all = false

    @Option(help: "Loss to report (default: the history's training loss, else cross-entropy).")
    var loss: LossKind?

    @OptionGroup var output: OutputOptions

    func run() throws {
        let reader = try HistoryReader(path: history)
        defer { reader.close() }
        let info = trainingInfo(reader)
        if let sets = try regressionData(info: info, data: data, history: history) {
            let t = reader.snapshotCount
            let k = snapshot < 0 ? t + snapshot : snapshot
            try evaluateRegression(reader: reader, test: sets.test, snapshots: all ? Array(0..<t) : [k], json: output.json)
            return
        }
        guard let name = dataset ?? (info["dataset"] as? String).flatMap(DatasetName.init(rawValue:)) else {
            throw CommandError("\(history): the history does not name its data set; pass --dataset mnist or fashion-mnist")
        }
        let lossKind = loss ?? (info["loss"] as? String).flatMap(LossKind.init(rawValue:)) ?? .crossEntropy
        let network = try loadNetwork(from: reader, snapshot: snapshot)
        let (_, test) = try data.load(name)
        guard test.inputs.cols == network.inputSize else {
            throw CommandError("\(history): the model takes \(network.inputSize) inputs but \(name.rawValue) images have \(test.inputs.cols) pixels")
        }
        let indices = all ? Array(0..<reader.snapshotCount) : [snapshot < 0 ? reader.snapshotCount + snapshot : snapshot]
        var results: [[String: Any]] = []
        for k in indices {
            let net = k == indices.last && !all ? network : try loadNetwork(from: reader, snapshot: k)
            let r = evaluate(net, on: test, loss: lossKind)
            results.append(["snapshot": k, "step": reader.snapshotSteps[k], "test_accuracy": r.accuracy, "test_loss": r.loss])
        }
        if output.json {
            var obj = results.last ?? [:]
            obj["history"] = history
            obj["dataset"] = name.rawValue
            obj["test_images"] = test.count
            if all { obj["snapshots"] = results }
            printJSON(obj)
        } else {
            if all { print("snapshot   step  test acc  test loss") }
            for r in results {
                if all {
                    print(String(format: "%8d %6d  %7.2f%%  %9.4f", r["snapshot"] as! Int, r["step"] as! Int,
                                 100 * (r["test_accuracy"] as! Double), r["test_loss"] as! Double))
                } else {
                    print(String(format: "snapshot %d (step %d) on %d %@ test images: accuracy %.2f%%, loss %.4f",
                                 r["snapshot"] as! Int, r["step"] as! Int, test.count, name.rawValue,
                                 100 * (r["test_accuracy"] as! Double), r["test_loss"] as! Double))
                }
            }
        }
    }
}
