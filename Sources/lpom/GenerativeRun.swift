import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import LiftedTrain
import Surfing

extension TrainCommand {
    /// Checks the options of `--model` runs that involve the rest of the command.
    func validateGenerative() throws {
        guard let model = gen.model else { return }
        if resume != nil { throw ValidationError("--resume continues a --model run with the settings it records; drop --model") }
        if method != .sgd { throw ValidationError("--model \(model.rawValue) trains with Adam; drop --method \(method.rawValue)") }
        if arch.arch != .mlp { throw ValidationError("--model sets the networks itself (--generator paper|fc); drop --arch \(arch.arch.rawValue)") }
        if epochs != nil { throw ValidationError("--model runs count generator updates: use --steps instead of --epochs") }
        if let v = data.validation, v != 0 { throw ValidationError("--validation holds out images to choose classifier settings on; --model runs have no validation metric, drop it") }
        if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be at least 1, got \(b)") }
        if snapshotEvery == .epoch { throw ValidationError("--model runs count generator updates, not epochs: give --snapshot-every N or log:K") }
        guard threads >= 0 && threads <= 256 else { throw ValidationError("--threads must be between 0 and 256, got \(threads)") }
        if let lr { guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") } }
        if model != .vae && lr != nil { throw ValidationError("--lr sets the VAE's learning rate; for --model \(model.rawValue) use --g-lr and --d-lr") }
        if model == .vae && (gen.gLr != nil || gen.dLr != nil) { throw ValidationError("--model vae takes --lr (default 0.001), not --g-lr/--d-lr") }
    }

    var defaultGenerativeHistoryPath: String {
        "runs/\(gen.model?.rawValue ?? "gen")-\(gen.generator.rawValue)-k\(gen.latent)-\(dataset.rawValue)-s\(seed).h5"
    }

    /// Trains the generative model of `--model` and writes the generator's history.
    /// The history records `argv` as the command line (nil: the process's own arguments).
    func performGenerative(_ model: GenerativeMethod, recording argv: [String]? = nil) throws -> GenerativeSummary {
        WorkMemory.keepFreedBuffers()   // as classifier runs: a step's megabyte arrays are not page-faulted in again
        let threadCount = threads > 0 ? threads : BLASThreads.current
        _ = blasOnlyContext(threads: threadCount)
        let path = history ?? defaultGenerativeHistoryPath
        if FileManager.default.fileExists(atPath: path) && !overwrite {
            throw CommandError("\(path) exists; pass --overwrite to replace it")
        }
        let (train, _) = try data.load(dataset)
        let b = batchSize ?? 128
        guard train.count >= b else {
            throw CommandError("\(dataset.rawValue) has \(train.count) training images, fewer than one batch of \(b); lower --batch-size")
        }
        let setup = gen.setup(model, lr: lr)
        let trainer: any GenerativeTrainer<Float> = try setup.makeTrainer(seed: seed)
        let record = try generativeRecord(setup: setup, trainer: trainer, batchSize: b, argv: argv ?? Self.invocationArguments, threads: threadCount,
                                          dataFiles: try dataFileDigests(try ImageDataset.files(dataset, directory: data.directory)))
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        let writer = try HistoryWriter(path: path, model: setup.generatorSpec.json(), training: record.json(),
                                       createdBy: "lpom \(lpomVersion)", parameters: trainer.generator.parameters.shapes,
                                       buffers: trainer.generator.buffers.shapes, writing: .background)
        announceSize(path: path, spacing: snapshotEvery, totalSteps: gen.steps, stepsPerEpoch: 0, network: trainer.generator,
                     stateScalars: trainer.exportSnapshotState().scalarCount)
        var loop = TrainingLoop<Float>(steps: gen.steps, batchSize: b, seed: seed, snapshotEvery: 0)
        loop.spacing = snapshotEvery
        let recorder = RunRecorder(trainer: trainer, writer: writer, total: gen.steps, epochs: nil, startStep: 0,
                                   quiet: output.quiet || output.json)
        let t0 = now()
        try runClosingHistory(writer, finish: recorder.finish) {
            try loop.run(trainer, train: train, test: nil, observer: recorder)
        }
        let seconds = now() - t0
        try packIfRecorded(writer.path, record: record, quiet: output.quiet || output.json)
        if let samples = gen.sampleGrid { try sampleGrid(trainer.generator, prior: model.prior, seed: seed, latent: gen.latent).write(to: samples) }
        return GenerativeSummary(model: model, architecture: gen.generator, latent: gen.latent, dataset: dataset.rawValue,
                                 steps: gen.steps, seconds: seconds, history: writer.path, snapshots: writer.snapshotCount,
                                 last: recorder.lastMetrics, samples: gen.sampleGrid)
    }

    /// 64 samples of the final generator in eval mode (batch norm with running statistics).
    func sampleGrid(_ g: Network<Float>, prior: LatentDistribution, seed: UInt64, latent: Int) -> SampleGrid {
        var rng = SplitMix64.stream(seed: seed, 99)
        let z: Tensor<Float> = prior.sample(rows: 64, latent: latent, using: &rng)
        let y = g.forward(z, training: false)
        let n = g.outputSize
        return SampleGrid(images: (0..<64).map { Array(y.data[($0 * n)..<(($0 + 1) * n)]) }, side: Int(Double(n).squareRoot()))
    }
}

/// What a generative run produced.
struct GenerativeSummary {
    var model: GenerativeMethod
    var architecture: GeneratorArchitecture
    var latent: Int
    var dataset: String
    var steps: Int
    var seconds: Double
    var history: String
    var snapshots: Int
    var last: [String: Double]
    var samples: String?

    func report(json asJSON: Bool) {
        if asJSON {
            var o: [String: Any] = ["model": model.rawValue, "architecture": architecture.rawValue, "latent": latent,
                                    "dataset": dataset, "steps": steps, "seconds": seconds,
                                    "seconds_per_step": seconds / Double(steps), "history": history,
                                    "snapshots": snapshots, "last_metrics": last.mapValues { $0.isFinite ? $0 : 0 }]
            if let samples { o["samples"] = samples }
            printJSON(o)
            return
        }
        let m = last.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: ", ")
        print("\(model.rawValue) (\(architecture.rawValue), k = \(latent)) on \(dataset): \(steps) steps in "
              + String(format: "%.1f s (%.1f ms/step)", seconds, 1000 * seconds / Double(steps))
              + "; last step \(m); history \(history) (\(snapshots) snapshots)" + (samples.map { "; samples \($0)" } ?? ""))
    }
}
