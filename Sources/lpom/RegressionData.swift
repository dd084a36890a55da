import Foundation
import LiftedTrain

/// The training and test sets of a regression history, rebuilt from its training JSON alone
/// (teacher–student from its data seed, bottom-half ink from the image set in `data`); nil for a
/// classification history.
func regressionData(info: [String: Any], data: DataOptions, history: String) throws -> (train: TensorDataset<Float>, test: TensorDataset<Float>)? {
    guard (info["task"] as? String) == "regression" else { return nil }
    if let ts = info["teacher_student"] as? [String: Any] {
        guard let d = ts["input_dim"] as? Int, let m = ts["teacher_width"] as? Int, let n = ts["samples"] as? Int,
              let seed = (ts["data_seed"] as? NSNumber)?.uint64Value else {
            throw CommandError("\(history): the training JSON's teacher_student entry is incomplete")
        }
        let task = TeacherStudentTask(inputDim: d, teacherWidth: m, samples: n,
                                      testSamples: ts["test_samples"] as? Int ?? 0, seed: seed)
        do { try task.checkSizes() } catch { throw CommandError("\(history): the training JSON's \(error)") }
        return task.make(Float.self)
    }
    guard let name = (info["dataset"] as? String).flatMap(DatasetName.init(rawValue:)) else {
        throw CommandError("\(history): a regression history whose data set this command cannot rebuild (teacher-student, mnist, fashion-mnist)")
    }
    let (train, test) = try data.load(name)
    return (BottomHalfInk.make(from: train), BottomHalfInk.make(from: test))
}

/// `lpom eval` on a regression history: the test-set square loss of the chosen snapshots.
func evaluateRegression(reader: HistoryReader, test: TensorDataset<Float>, snapshots: [Int], json: Bool) throws {
    var results: [[String: Any]] = []
    for k in snapshots {
        let net = try loadNetwork(from: reader, snapshot: k)
        guard test.inputs.cols == net.inputSize else {
            throw CommandError("\(reader.path): the model takes \(net.inputSize) inputs but the data have \(test.inputs.cols)")
        }
        let r = evaluate(net, on: test, loss: .mse)
        results.append(["snapshot": k, "step": reader.snapshotSteps[k], "test_loss": r.loss])
    }
    if json {
        var obj = results.last ?? [:]
        obj["history"] = reader.path
        obj["test_samples"] = test.count
        obj["task"] = "regression"
        if results.count > 1 { obj["snapshots"] = results }
        printJSON(obj)
        return
    }
    print("snapshot   step  test loss (½ mean squared error on \(test.count) samples)")
    for r in results {
        print(String(format: "%8d %6d  %.6g", r["snapshot"] as! Int, r["step"] as! Int, r["test_loss"] as! Double))
    }
}
