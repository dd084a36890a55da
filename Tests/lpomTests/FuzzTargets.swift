import ArchFromOpt
import Foundation
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain
import Surfing
@testable import lpom

/// The reader entry points that the libFuzzer harnesses of `fuzz/` drive and that
/// `FuzzRegressionTests` replays every saved crasher through (scripts/fuzz.sh compiles this file
/// into the harnesses, so both run the same calls). Each runs the code a command runs on a file
/// it did not write and throws where the input is bad; a trap is a bug.
enum FuzzTargets {
    /// The data directory the fuzzed commands are pointed at: absent, so that naming a data set
    /// costs one failed file lookup instead of loading MNIST.
    static let missingDataDirectory = "/nonexistent/lpom-fuzz-data"

    /// IDX data. The first byte picks the entry point: even → `IDXFile(bytes:)` on the rest;
    /// odd → `LabeledImages(imagesBytes:labelsBytes:)`, the rest split into images and labels
    /// where bytes 1–2 (big-endian, modulo the length) say.
    static func idx(_ data: [UInt8]) throws {
        guard let mode = data.first else { throw DataError("empty input") }
        if mode & 1 == 0 {
            _ = try IDXFile(bytes: Array(data.dropFirst()), name: "fuzz.idx")
            return
        }
        guard data.count >= 3 else { throw DataError("no split") }
        let rest = Array(data.dropFirst(3))
        let split = (Int(data[1]) << 8 | Int(data[2])) % (rest.count + 1)
        _ = try LabeledImages(imagesBytes: Array(rest[..<split]), labelsBytes: Array(rest[split...]))
    }

    /// The image files `lpom surf --targets` reads: the first byte picks the reader — even →
    /// `PNGImage(bytes:)`, odd → `NPYArray(bytes:)` — on the rest.
    static func images(_ data: [UInt8]) throws {
        guard let mode = data.first else { throw DataError("empty input") }
        if mode & 1 == 0 { _ = try PNGImage(bytes: Array(data.dropFirst()), name: "fuzz.png") }
        else { _ = try NPYArray(bytes: Array(data.dropFirst()), name: "fuzz.npy") }
    }

    /// A history file, as `lpom eval` loads it before evaluating: open and validate (format,
    /// JSON attributes, /snapshot_step, /theta and /buffers shapes, metrics), parse the training
    /// JSON, build the model from its JSON and check every parameter and buffer shape against
    /// it, then read the final snapshot.
    static func history(path: String) throws {
        let reader = try HistoryReader(path: path)
        defer { reader.close() }
        _ = try reader.trainingRecord()
        _ = try loadNetwork(from: reader, snapshot: -1)
    }

    /// JSON text. The first byte picks the parser: even → a model (`model` attribute), odd → a
    /// training description (`training` attribute).
    static func json(_ data: [UInt8]) throws {
        guard let mode = data.first else { throw ModelError("empty input") }
        let text = String(decoding: data.dropFirst(), as: UTF8.self)
        if mode & 1 == 0 { try model(text) } else { try training(text) }
    }

    /// What the commands do with a model JSON: parse, build the network (recurrence layers of
    /// ArchFromOpt included), describe it, and run one sample through it when it is small.
    static func model(_ text: String) throws {
        let spec = try ModelSpec.parse(text)
        _ = spec.mlpShape
        _ = describe(spec)
        var rng = SplitMix64(seed: 0)
        let network = try Network<Float>(spec: spec, extensions: layerExtensions, rng: &rng)
        guard network.parameters.scalarCount <= 1 << 16, network.inputSize <= 1 << 12 else { return }
        _ = network.forward(Tensor(zeros: [1] + spec.inputShape))
    }

    /// The training-record decoder under test: the typed `TrainingRecord` every command reads.
    static func trainingRecord(_ text: String) throws -> TrainingRecord { try TrainingRecord.decode(text, path: "fuzz.h5") }

    /// What the commands read from a training record, each command's reads on their own (the
    /// first error is rethrown after all ran): `eval` and `ntk` the regression task (teacher–
    /// student sizes or data set), data set and loss names; `surf` the latent prior; `inspect`
    /// the hyperparameters and provenance; `train --resume` the data sets the record names.
    static func training(_ text: String) throws {
        let record = try trainingRecord(text)
        var first: Error?
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch { first = first ?? error }
        }
        let data = try DataOptions.parse(["--data-dir", missingDataDirectory])
        attempt { _ = try regressionData(record: record, data: data, history: "fuzz.h5") }
        attempt { _ = try TrainCommand.trainingSets(record, data: data, history: "fuzz.h5") }
        _ = record.imageSet
        _ = record.loss.flatMap(LossKind.init(rawValue:))
        _ = record.latentPrior.flatMap(LatentDistribution.init(rawValue:))
            ?? LatentDistribution.prior(forTrainingMethod: record.method)
        _ = (record.hyperparameters ?? [:]).map { "\($0.key) \($0.value)" }
        _ = record.scheduleSegments
        _ = record.json()
        if let first { throw first }
    }
}
