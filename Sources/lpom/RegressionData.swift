import Foundation
import HistoryStore
import ImageData
import LiftedTrain

/// The training, validation and test sets of a regression history, rebuilt from its training
/// record alone (teacher–student from its data seed, bottom-half ink from the image set in `data`;
/// the validation size from `DataOptions.validationSize`); nil for a classification history.
func regressionData(record r: TrainingRecord, data: DataOptions, history: String) throws -> DataSplits? {
    guard r.task == "regression" else { return nil }
    let held = try data.validationSize(record: r, history: history).n
    if let ts = r.teacherStudent {
        guard let d = ts.inputDim, let m = ts.teacherWidth, let n = ts.samples, let seed = ts.dataSeed else {
            throw CommandError("\(history): the training record's teacher_student entry is incomplete")
        }
        let task = TeacherStudentTask(inputDim: d, teacherWidth: m, samples: n, testSamples: ts.testSamples ?? 0, seed: seed)
        do { try task.checkSizes() } catch { throw CommandError("\(history): the training record's \(error)") }
        let (train, test) = task.make(Float.self)
        return try DataSplits(holdingOut: held, of: train, test: test, what: "samples")
    }
    guard let name = r.imageSet else {
        throw CommandError("\(history): a regression history whose data set this command cannot rebuild (teacher-student, mnist, fashion-mnist)")
    }
    return try data.splits(name, holdOut: held).map { try BottomHalfInk.make(from: $0) }
}

/// `lpom eval` on a regression history: the square loss of the chosen snapshots on `split`.
func evaluateRegression(reader: HistoryReader, on test: TensorDataset<Float>, split: EvalSplit = .test, snapshots: [Int], json: Bool) throws {
    let key = split.metricPrefix + "_loss"
    var results: [[String: Any]] = []
    for k in snapshots {
        let net = try loadNetwork(from: reader, snapshot: k)
        guard test.inputs.cols == net.inputSize else {
            throw CommandError("\(reader.path): the model takes \(net.inputSize) inputs but the data have \(test.inputs.cols)")
        }
        let r = evaluate(net, on: test, loss: .mse)
        results.append(["snapshot": k, "step": reader.snapshotSteps[k], key: r.loss])
    }
    if json {
        var obj = results.last ?? [:]
        obj["history"] = reader.path
        obj["\(split.rawValue)_samples"] = test.count
        obj["task"] = "regression"
        obj["split"] = split.rawValue
        if results.count > 1 { obj["snapshots"] = results }
        printJSON(obj)
        return
    }
    print("snapshot   step  \(split.label) loss (½ mean squared error on \(test.count) samples)")
    for r in results {
        print(String(format: "%8d %6d  %.6g", r["snapshot"] as! Int, r["step"] as! Int, r[key] as! Double))
    }
}
