import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import LiftedTrain

/// The training, validation and test sets of a run. The validation set is the last
/// `--validation` samples of the training data (`LiftedTrain.ValidationSplit`); settings are
/// chosen on it, and the test set is evaluated once, at the end.
struct DataSplits {
    /// The first count − N training samples (then the first `--train-limit` of them).
    var train: TensorDataset<Float>
    /// The last N training samples, in file order; nil when N = 0.
    var validation: TensorDataset<Float>?
    var test: TensorDataset<Float>

    /// `f` applied to every set (regression targets built from images).
    func map(_ f: (TensorDataset<Float>) throws -> TensorDataset<Float>) rethrows -> DataSplits {
        DataSplits(train: try f(train), validation: try validation.map(f), test: try f(test))
    }

    /// Holds out the last `n` samples of `train` (a set built in memory, e.g. teacher-student);
    /// `what` names the option that sets the training-set size in the error.
    init(holdingOut n: Int, of train: TensorDataset<Float>, test: TensorDataset<Float>, what: String) throws {
        guard let r = ValidationSplit.ranges(count: train.count, holdOut: n) else {
            throw CommandError(holdOutError(n, count: train.count, of: "training samples (\(what))"))
        }
        self.init(train: n == 0 ? train : train.rows(r.train), validation: n == 0 ? nil : train.rows(r.validation), test: test)
    }

    init(train: TensorDataset<Float>, validation: TensorDataset<Float>?, test: TensorDataset<Float>) {
        self.train = train; self.validation = validation; self.test = test
    }
}

/// The one line for a `--validation N` that leaves no training sample.
private func holdOutError(_ n: Int, count: Int, of what: String) -> String {
    "--validation \(n) must be smaller than the \(count) \(what): it holds out the last N of them and trains on the rest"
}

extension DataOptions {
    /// Training, validation and test images of `name`: the last `n` training images (file
    /// order) are the validation set, the first count − n the training set, of which
    /// `--train-limit` keeps the first; `--test-limit` the first test images.
    func splits(_ name: DatasetName, holdOut n: Int) throws -> DataSplits {
        let ds = try ImageDataset.load(name, directory: directory)
        guard let r = ValidationSplit.ranges(count: ds.train.count, holdOut: n) else {
            throw CommandError(holdOutError(n, count: ds.train.count, of: "training images of \(name.rawValue)"))
        }
        func tensors(_ s: LabeledImages, limit: Int) -> TensorDataset<Float> {
            let k = limit > 0 ? min(limit, s.count) : s.count
            return TensorDataset(pixels: s.pixels, labels: s.labels, count: k, features: s.rows * s.cols)
        }
        let train = n == 0 ? ds.train : ds.train.rows(r.train)
        return DataSplits(train: tensors(train, limit: trainLimit),
                          validation: n == 0 ? nil : tensors(ds.train.rows(r.validation), limit: 0),
                          test: tensors(ds.test, limit: testLimit))
    }

    /// The validation size N of the run a history records: its training JSON's `validation`
    /// (a `--validation` option must agree with it), else the option, else 0. `recorded` says
    /// whether the history names N (histories written before the option do not).
    func validationSize(record: TrainingRecord, history: String) throws -> (n: Int, recorded: Bool) {
        guard let stored = record.validation else { return (validation ?? 0, false) }
        if let validation, validation != stored {
            throw CommandError("--validation \(validation) disagrees with \(history), which was trained with --validation \(stored); drop the option")
        }
        return (stored, true)
    }
}

/// Which set `lpom eval` evaluates.
enum EvalSplit: String, ExpressibleByArgument, CaseIterable {
    case test, validation, train

    /// The prefix of metric names in histories and JSON: test_, val_, train_.
    var metricPrefix: String { self == .validation ? "val" : rawValue }
    /// The word in printed lines.
    var label: String { self == .train ? "training" : rawValue }
}

extension DataSplits {
    /// The set of `split`, or a one-line error when the run has no validation set.
    func set(_ split: EvalSplit, history: String, recorded: Bool) throws -> TensorDataset<Float> {
        switch split {
        case .test: return test
        case .train: return train
        case .validation:
            if let validation { return validation }
            throw CommandError(recorded
                ? "\(history) was trained on every training image (--validation 0): it has no validation set"
                : "\(history) does not record a validation split; pass --validation N, the N it was trained with")
        }
    }
}
