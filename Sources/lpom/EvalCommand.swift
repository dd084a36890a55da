import ArchFromOpt
import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain

/// Opens a history and rebuilds the network of one snapshot (any layer type of `layerExtensions`),
/// running under `context`.
func loadNetwork(from reader: HistoryReader, snapshot: Int, context: ComputeContext = .serial) throws -> Network<Float> {
    try Network<Float>.load(from: reader, snapshot: snapshot, extensions: layerExtensions, context: context)
}

/// Checks a history's model against its /theta and /buffers shapes, as `loadNetwork` does,
/// without reading a snapshot; throws the same one-line `ModelError`.
func checkModel(of reader: HistoryReader) throws {
    _ = try Network<Float>.checked(against: reader, extensions: layerExtensions)
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Accuracy and loss of a snapshot saved in a history, on the test, validation or training set.",
        discussion: "Example: lpom eval run.h5 --snapshot -1 --split validation")

    @Argument(help: "History file written by `lpom train` (or any file following the history format).")
    var history: String

    @Option(help: "Data set (default: the one the history was trained on).")
    var dataset: DatasetName?

    @Option(help: "Directory holding mnist/ and fashion-mnist/ IDX files (default: $LPOM_DATA_DIR, else ./data).")
    var dataDir: String?

    @Option(parsing: .number, help: "Evaluate only the first N test images (0 = all).")
    var testLimit: Int = 0

    @Option(parsing: .number, help: "--split train: the first N training images (default: the run's own --train-limit).")
    var trainLimit: Int = 0

    @Option(parsing: .number, help: "--split validation: the last N training images (default: the N the run held out, from the history).")
    var validation: Int?

    /// The data options of `train`, from the ones above.
    var data: DataOptions {
        get throws {
            try DataOptions.parse((dataDir.map { ["--data-dir", $0] } ?? []) + ["--test-limit", "\(testLimit)", "--train-limit", "\(trainLimit)"]
                                  + (validation.map { ["--validation", "\($0)"] } ?? []))
        }
    }

    @Option(help: "Set to evaluate: test; validation (the last N training images the run held out: N from the history, else --validation N); train (the images the run trained on, with its --train-limit).")
    var split: EvalSplit = .test

    @Option(parsing: .number, help: "Snapshot index: 0 is θ_0, -1 (default) the final θ, -2 the one before …")
    var snapshot: Int = -1

    @Flag(help: "Evaluate every snapshot and print the accuracy curve.")
    var all = false

    @Option(help: "Loss to report (default: the history's training loss, else cross-entropy).")
    var loss: LossKind?

    @Flag(help: "Print one JSON object on stdout instead of the table.")
    var json = false

    func run() throws {
        let reader = try HistoryReader(path: history)
        defer { reader.close() }
        let record = trainingRecord(reader)
        let t = reader.snapshotCount
        let k = snapshot < 0 ? t + snapshot : snapshot
        guard k >= 0 && k < t else {
            throw CommandError("--snapshot \(snapshot) is outside the \(t) snapshots of \(history) (0 … \(t - 1), or -1 … -\(t) from the end)")
        }
        let indices = all ? Array(0..<t) : [k]
        // The run's own training set: its --train-limit unless one is given here.
        var data = try self.data
        if data.trainLimit == 0, let limit = record.trainLimit { data.trainLimit = limit }
        let (n, recorded) = try data.validationSize(record: record, history: history)
        if let sets = try regressionData(record: record, data: data, history: history) {
            try evaluateRegression(reader: reader, on: sets.set(split, history: history, recorded: recorded), split: split,
                                   snapshots: indices, json: json)
            return
        }
        guard let name = dataset ?? record.imageSet else {
            throw CommandError("\(history): the history does not name its data set; pass --dataset mnist or fashion-mnist")
        }
        let lossKind = loss ?? record.loss.flatMap(LossKind.init(rawValue:)) ?? .crossEntropy
        let network = try loadNetwork(from: reader, snapshot: k)
        let set = try data.splits(name, holdOut: n).set(split, history: history, recorded: recorded)
        guard set.inputs.cols == network.inputSize else {
            throw CommandError("\(history): the model takes \(network.inputSize) inputs but \(name.rawValue) images have \(set.inputs.cols) pixels")
        }
        let p = split.metricPrefix
        var results: [[String: Any]] = []
        for i in indices {
            let net = i == k && !all ? network : try loadNetwork(from: reader, snapshot: i)
            let r = evaluate(net, on: set, loss: lossKind)
            results.append(["snapshot": i, "step": reader.snapshotSteps[i], "\(p)_accuracy": r.accuracy, "\(p)_loss": r.loss])
        }
        if json {
            var obj = results.last ?? [:]
            obj["history"] = history
            obj["dataset"] = name.rawValue
            obj["split"] = split.rawValue
            obj["\(split.rawValue)_images"] = set.count
            if split != .test { obj["validation"] = n }
            if all { obj["snapshots"] = results }
            printJSON(obj)
        } else {
            if all { print("snapshot   step  \(p) acc  \(p) loss") }
            for r in results {
                if all {
                    print(String(format: "%8d %6d  %7.2f%%  %9.4f", r["snapshot"] as! Int, r["step"] as! Int,
                                 100 * (r["\(p)_accuracy"] as! Double), r["\(p)_loss"] as! Double))
                } else {
                    print(String(format: "snapshot %d (step %d) on %d %@ %@ images: accuracy %.2f%%, loss %.4f",
                                 r["snapshot"] as! Int, r["step"] as! Int, set.count, name.rawValue, split.label,
                                 100 * (r["\(p)_accuracy"] as! Double), r["\(p)_loss"] as! Double))
                }
            }
        }
    }
}
