import Foundation
import HistoryStore
import ImageData
import JSONValues
import LiftedTrain
import Surfing

/// `lpom train --resume FILE` of a `--model` run (VAE, DCGAN, WGAN, WGAN-GP): continues from
/// the last snapshot exactly as if the run had never stopped.
///
/// - The generator comes from the last snapshot (θ and batch-norm statistics); the partner
///   network (discriminator, critic or encoder) from the spec the record stores, its values,
///   both Adam states and the noise stream's position from `/resume` (`GenerativeState`).
/// - Settings come from the typed training record, never from its argv: the model, steps, batch
///   size, seed, snapshot spacing, and the trainer's hyperparameters, which the rebuilt trainer
///   must reproduce exactly. The batches continue where they stopped (fixed by the seed).
/// - Only `--threads`, `--quiet`, `--json`, `--data-dir` and `--sample-grid` may accompany it.
///   The data files must hash to the ones the run read. A history written before lpom saved the
///   state of `--model` runs has no `/resume` and is refused (it cannot be continued exactly).
extension TrainCommand {
    /// The options `--resume` of a `--model` run accepts beside the file.
    static let optionsAllowedWithGenerativeResume: Set<String> = ["--resume", "--threads", "--quiet", "--json", "--data-dir", "--sample-grid"]

    /// Continues `path` when it holds a `--model` run (nil: another kind of run, for `resumeRun`).
    func resumeIfGenerative(_ path: String, arguments: [String]) throws -> GenerativeSummary? {
        guard !launchedByMPIRun() else { return nil }
        let reader = try HistoryReader(path: path)
        defer { reader.close() }
        let record = try reader.trainingRecord()
        guard record.model != nil else { return nil }
        guard let lastStep = reader.snapshotSteps.last else { throw CommandError("\(path): holds no snapshot to resume from") }
        return try resumeGenerative(from: path, reader: reader, record: record, lastStep: lastStep, arguments: arguments)
    }

    func resumeGenerative(from path: String, reader: HistoryReader, record original: TrainingRecord, lastStep: Int,
                          arguments: [String]) throws -> GenerativeSummary {
        var record = original
        try Self.refuseOptionsBesideResume(arguments, path: path, allowed: Self.optionsAllowedWithGenerativeResume,
                                           hint: "--threads, --quiet, --json, --data-dir and --sample-grid")
        guard let model = record.model.flatMap(GenerativeMethod.init(rawValue:)) else {
            throw CommandError("\(path): its training record names a model this lpom does not train ('\(record.model ?? "")')")
        }
        guard let steps = record.steps, let b = record.batchSize, let seed = record.seed, let datasetName = record.dataset,
              let dataset = DatasetName(rawValue: datasetName) else {
            throw CommandError("\(path): its training record lacks the steps, batch size, seed or data set of a --model run")
        }
        guard lastStep < steps else { throw CommandError("\(path) already holds all \(steps) steps") }
        guard let state = try reader.resumeState() else {
            throw CommandError("\(path): holds no resume state (written before lpom saved it for --model runs), so it cannot be continued exactly; start the run again")
        }
        let threadCount = resumeThreads(record)
        _ = blasOnlyContext(threads: threadCount)
        let generator = try loadNetwork(from: reader, snapshot: -1)
        guard let partnerJSON = model == .vae ? record.encoder : record.discriminator,
              let partnerSpec = try? ModelSpec.parse(String(decoding: JSONEncoder().encode(partnerJSON), as: UTF8.self)) else {
            throw CommandError("\(path): its training record has no readable \(model == .vae ? "encoder" : "discriminator") spec")
        }
        var rng = SplitMix64(seed: seed)
        let partner = try Network<Float>(spec: partnerSpec, rng: &rng)   // its values come from the resume state
        let trainer = try Self.generativeTrainer(model, generator: generator, partner: partner, record: record, seed: seed, path: path)
        do { try trainer.importState(state.arrays) } catch { throw CommandError("\(path): \(error)") }
        reader.close()

        var limits = data
        if limits.dataDir == nil, let dir = Self.recordedDataDirectory(record) { limits.dataDir = dir }
        limits.trainLimit = record.trainLimit ?? 0
        let (train, _) = try limits.load(dataset)
        let files = try dataFileDigests(try ImageDataset.files(dataset, directory: limits.directory))
        try Self.checkSameData(files, as: record, path: path)
        guard train.count >= b else { throw CommandError("\(dataset.rawValue) has \(train.count) training images, fewer than one batch of \(b)") }
        noteIfNotBitIdentical(record, threads: threadCount)
        record.provenance = (record.provenance ?? []) + [sessionProvenance(event: "resume", fromStep: lastStep, threads: threadCount, dataFiles: files)]
        let writer = try HistoryWriter.openForAppend(path: path, training: record.json(), writing: .background)
        if !output.quiet { printErr("resuming \(path) at step \(lastStep) of \(steps)") }
        var loop = TrainingLoop<Float>(steps: steps, batchSize: b, seed: seed, snapshotEvery: 0)
        loop.spacing = record.snapshotSpacing
        let recorder = RunRecorder(trainer: trainer, writer: writer, total: steps, epochs: nil, startStep: lastStep,
                                   quiet: output.quiet || output.json)
        let t0 = now()
        try runClosingHistory(writer, finish: recorder.finish) {
            try loop.run(trainer, train: train, test: nil, startStep: lastStep, resuming: true, observer: recorder)
        }
        let seconds = now() - t0
        try packIfRecorded(writer.path, record: record, quiet: output.quiet || output.json)
        let latent = generator.inputSize
        if let samples = gen.sampleGrid { try sampleGrid(generator, prior: model.prior, seed: seed, latent: latent).write(to: samples) }
        return GenerativeSummary(model: model, architecture: record.architecture.flatMap(GeneratorArchitecture.init(rawValue:)) ?? .paper,
                                 latent: latent, dataset: dataset.rawValue, steps: steps - lastStep, seconds: seconds, history: writer.path,
                                 snapshots: writer.snapshotCount, last: recorder.lastMetrics, samples: gen.sampleGrid)
    }

    /// The trainer of a `--model` run on `generator` and `partner`, built as a new run builds it
    /// (`GenerativeSetup.makeTrainer`) from the record's hyperparameters, which it must reproduce exactly.
    static func generativeTrainer(_ model: GenerativeMethod, generator: Network<Float>, partner: Network<Float>, record: TrainingRecord,
                                  seed: UInt64, path: String) throws -> any GenerativeTrainer<Float> {
        let hp = record.hyperparameters ?? [:]
        func value(_ key: String) throws -> Double {
            guard let v = hp[key] else { throw CommandError("\(path): the training record's hyperparameters lack '\(key)'") }
            return v
        }
        let adam = AdamSettings(beta1: try value("beta1"), beta2: try value("beta2"), epsilon: try value("adam_eps"))
        var setup = GenerativeSetup(method: model, architecture: record.architecture.flatMap(GeneratorArchitecture.init(rawValue:)) ?? .paper,
                                    latent: generator.inputSize)
        setup.adam = adam
        setup.gan.adam = adam
        if model == .vae {
            setup.vaeLearningRate = try value("lr")
        } else {
            setup.gan.generatorLearningRate = try value("lr_generator")
            setup.gan.discriminatorLearningRate = try value("lr_discriminator")
            guard let n = Int(exactly: try value("n_critic")), n >= 1 else { throw CommandError("\(path): n_critic is not a positive whole number") }
            setup.gan.criticSteps = n
            if model == .wgan { setup.gan.clip = try value("clip") }
            if let f = hp["g_forwards"] {
                guard let n = Int(exactly: f), n >= 1 else { throw CommandError("\(path): g_forwards is not a positive whole number") }
                setup.gan.generatorForwardsPerStep = n
            }
            if model == .wganGP {
                setup.gan.penaltyWeight = try value("gp_lambda")
                setup.gan.penaltyStyle = try value("gp_released") == 1 ? .released : .perSample
            }
        }
        let trainer: any GenerativeTrainer<Float>
        do { trainer = try setup.makeTrainer(generator: generator, partner: partner, seed: seed) } catch { throw CommandError("\(path): \(error)") }
        guard trainer.hyperparameters == hp else {
            throw CommandError("\(path): the rebuilt \(model.rawValue) trainer's settings \(trainer.hyperparameters.sorted { $0.key < $1.key }) differ from the recorded \(hp.sorted { $0.key < $1.key })")
        }
        return trainer
    }
}
