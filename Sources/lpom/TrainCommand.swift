import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import LiftedTrain

/// Training methods behind the trainer seam.
enum TrainMethod: String, ExpressibleByArgument, CaseIterable {
    case sgd, adam, lpom, ggn
    case admm, bcd, penalty, askari
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier (MLP, convolutional or recurrence network), a GAN or a VAE on MNIST or Fashion-MNIST, saving its snapshots in a history.",
        discussion: """
        Saves θ_0, a snapshot every --snapshot-every steps and the final θ into an HDF5 history, \
        evaluates the test set after every epoch (with --validation N: the validation set after every \
        epoch and the test set once, at the end), and prints a table (or JSON with --json). \
        A killed run keeps every completed snapshot; continue it with --resume FILE. \
        Convolutional and recurrence networks: --arch; GANs and VAEs: --model (sections below).

        Examples:
          lpom train --dataset mnist --layers 300,100 --epochs 10 --history runs/sgd.h5 --plot runs/sgd.svg
          lpom train --method lpom --layers 300 --epochs 5 --history runs/lpom.h5
          lpom train --arch hbnet --block conv --method adam --epochs 3 --history runs/hbnet.h5
          lpom train --model dcgan --steps 2000 --snapshot-every log:40 --history runs/gan.h5
        """)

    @OptionGroup(title: "Core options") var core: TrainCoreOptions

    @OptionGroup(title: "Data") var data: DataOptions

    @OptionGroup(title: "Training details") var details: TrainDetailOptions

    @OptionGroup(title: "Architecture (networks from optimizer recurrences)") var arch: ArchOptions

    @OptionGroup(title: "LPOM options (--method lpom)") var lpom: LPOMOptions

    @OptionGroup(title: "Lifted methods (--method admm, bcd, penalty, askari: full batch, one iteration per epoch, one-hot squared loss)") var liftedOptions: LiftedOptions

    @OptionGroup(title: "Regression and GGN options (--task regression, --method ggn)") var ggn: GGNOptions

    @OptionGroup(title: "Generative models (--model; the history stores the generator)") var gen: GenerativeOptions

    @OptionGroup(title: "Distributed training (under mpirun)") var distributed: ParallelOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if gen.model != nil { return try validateGenerative() }
        if resume != nil {
            guard threads >= 0 && threads <= 256 else { throw ValidationError("--threads must be between 0 and 256, got \(threads)") }
            return
        }
        let e = epochs ?? 10
        guard e >= 1 else { throw ValidationError("--epochs must be at least 1, got \(e)") }
        guard e <= 100_000 else { throw ValidationError("--epochs \(e) is too many") }
        guard (batchSize ?? 100) >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize ?? 100)") }
        guard threads >= 0 && threads <= 256 else { throw ValidationError("--threads must be between 0 and 256, got \(threads)") }
        if let lr { guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") } }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        if let alpha { guard alpha.isFinite, alpha >= 0 else { throw ValidationError("--alpha must be ≥ 0, got \(alpha)") } }
        _ = try parseLayers(layers)
        if method.lifted != nil && batchSize != nil {
            throw ValidationError("--method \(method.rawValue) is full-batch (one iteration on the whole training set per epoch); drop --batch-size")
        }
        if arch.arch != .mlp && (method == .lpom || method.lifted != nil) {
            throw ValidationError("--method \(method.rawValue) trains multilayer perceptrons only; use sgd or adam with --arch \(arch.arch.rawValue)")
        }
    }

    /// The arguments recorded in a history (information only) and checked by `--resume`. By
    /// default the process's own `lpom train …` arguments; `TrainCommand.parse(_:)` sets them
    /// for in-process callers (tests, `lpom compare`).
    nonisolated(unsafe) static var recordedArguments: [String]? = nil

    var defaultHistoryPath: String {
        let l = arch.arch == .mlp ? layers.replacingOccurrences(of: ",", with: "-") : arch.tag
        return "runs/\(method.rawValue)-\(ggn.datasetLabel(dataset))-\(l)-s\(seed).h5"
    }

    func run() throws {
        guard launchedByMPIRun() else { return try run(recording: nil) }
        do { try run(recording: nil) } catch { endDistributedRun(after: error) }
    }

    /// `run()` recording `argv` in the history as the command line (what `--resume` re-parses)
    /// instead of the process's own `lpom train …` arguments (nil): for in-process calls.
    func run(recording argv: [String]?) throws {
        if let model = gen.model { return try performGenerative(model, recording: argv).report(json: output.json) }
        if let resume, let summary = try resumeIfGenerative(resume, arguments: argv ?? Self.invocationArguments) {
            return summary.report(json: output.json)
        }
        let summary = try perform(recording: argv)
        if summary.isRoot { summary.report(json: output.json) }
    }

    /// Trains (or resumes) and returns what happened, printing nothing on stdout. The history
    /// records `argv` as the command line (nil: the process's own arguments).
    func perform(recording argv: [String]? = nil) throws -> RunSummary {
        WorkMemory.keepFreedBuffers()
        let cluster = try distributed.cluster(method: resume == nil ? method.rawValue : nil, arguments: argv ?? Self.invocationArguments)
        if let resume { return try resumeRun(from: resume, arguments: argv ?? Self.invocationArguments, cluster: cluster) }
        let path = history ?? defaultHistoryPath
        if cluster?.isRoot ?? true, FileManager.default.fileExists(atPath: path) && !overwrite {
            throw CommandError("\(path) exists; pass --overwrite to replace it, or --resume \(path) to continue it")
        }
        let sets = try ggn.load(dataset, data: data, seed: seed, validation: data.validation ?? 0)
        let train = sets.train
        let hidden = try parseLayers(layers)
        // MNIST and Fashion-MNIST images are square and single-channel; rows are [n, side²].
        let side = Int(Double(train.inputs.cols).squareRoot().rounded())
        let outputs = train.targets?.cols ?? 10
        let spec = try arch.model(inputShape: side * side == train.inputs.cols ? [1, side, side] : [train.inputs.cols], classes: outputs)
            ?? ggn.adjust(ModelSpec.mlp(input: train.inputs.cols, hidden: hidden, output: outputs,
                                        activation: activation, alpha: alpha, outputActivation: outputActivation))
        let threadCount = threads > 0 ? threads : BLASThreads.current
        var rng = SplitMix64(seed: seed)
        let network = try Network<Float>(spec: spec, initialization: initialization, context: computeContext(for: spec),
                                         extensions: layerExtensions, rng: &rng)
        let trainer = try makeTrainer(network: network)
        try cluster?.attach(trainer)
        let files = ggn.isTeacherStudent ? [] : try dataFileDigests(try ImageDataset.files(dataset, directory: data.directory))
        let b = method.lifted != nil ? train.count : batchSize ?? 100
        var record = try newRecord(trainer: trainer, argv: argv ?? Self.invocationArguments, stepsPerEpoch: (train.count + b - 1) / b,
                                   threads: threadCount, dataFiles: files)
        record.batchSize = b
        cluster?.record(&record.provenance![0])
        if let cluster, !cluster.isRoot {
            return try execute(trainer: trainer, record: record, label: layers, writer: nil, data: sets, startStep: 0, cluster: cluster)
        }
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        let writer = try HistoryWriter(path: path, model: spec.json(), training: record.json(),
                                       createdBy: "lpom \(lpomVersion)", parameters: network.parameters.shapes,
                                       buffers: network.buffers.shapes, writing: .background)
        announceSize(path: path, spacing: snapshotEvery, totalSteps: (record.stepsPerEpoch ?? 0) * (record.epochs ?? 0),
                     stepsPerEpoch: record.stepsPerEpoch ?? 0, network: network,
                     stateScalars: trainer.exportSnapshotState().scalarCount)
        return try execute(trainer: trainer, record: record, label: arch.arch == .mlp ? layers : arch.tag, writer: writer,
                           data: sets, startStep: 0, cluster: cluster)
    }

    /// The trainer for `--method`.
    func makeTrainer(network: Network<Float>) throws -> any Trainer<Float> {
        let loss = trainingLoss
        switch method {
        case .sgd:
            return GradientTrainer(network: network, loss: loss,
                                   optimizer: SGD<Float>(learningRate: Float(lr ?? 0.1), momentum: Float(momentum),
                                                         nesterov: nesterov, weightDecay: Float(weightDecay)),
                                   schedule: schedule)
        case .adam:
            return GradientTrainer(network: network, loss: loss,
                                   optimizer: Adam<Float>(learningRate: Float(lr ?? 1e-3), weightDecay: Float(weightDecay)),
                                   schedule: schedule)
        case .lpom:
            return try lpom.makeTrainer(network: network, loss: loss, seed: seed)
        case .ggn:
            return ggn.makeTrainer(network: network)
        case .admm, .bcd, .penalty, .askari:
            return try liftedOptions.makeTrainer(method.lifted!, network: network)
        }
    }

    /// The loss minimised (mse for --task regression; see `GGNOptions.effectiveLoss`).
    var trainingLoss: LossKind { method.lifted != nil ? .squaredError : ggn.effectiveLoss(loss, method: method) }

    /// Runs the loop the record describes (epochs, batch size, seed, snapshots, loss, schedule
    /// segments) with progress and history, from `startStep`; returns the summary. `label` names
    /// the network in the summary (`--layers` or the architecture tag).
    ///
    /// In a distributed run every rank calls this; `writer` is nil on every rank but 0, which
    /// then trains without history, progress or evaluation (`executeWorker`).
    func execute(trainer: any Trainer<Float>, record: TrainingRecord, label: String, writer: HistoryWriter?,
                 data sets: DataSplits, startStep: Int, resuming: Bool = false, cluster: Cluster? = nil) throws -> RunSummary {
        guard let writer else { return try executeWorker(trainer: trainer, record: record, data: sets, startStep: startStep, cluster: cluster) }
        cluster?.noteTermination(of: writer)
        let train = sets.train
        var loop = TrainingLoop<Float>(epochs: record.epochs ?? 10, batchSize: record.batchSize ?? 100, seed: record.seed ?? 0,
                                       snapshotEvery: record.snapshotEvery ?? 40)
        loop.spacing = record.snapshotSpacing
        loop.evaluationLoss = record.loss.flatMap(LossKind.init(rawValue:)) ?? .crossEntropy
        loop.scheduleSegments = record.scheduleSegments
        let total = loop.stepsPerEpoch(samples: train.count) * loop.epochs
        let recorder = RunRecorder(trainer: trainer, writer: writer, total: total,
                                   epochs: loop.epochs, startStep: startStep, quiet: output.quiet || output.json)
        let t0 = now()
        try runClosingHistory(writer, finish: recorder.finish) {
            try loop.run(trainer, train: train, validation: sets.validation, test: sets.test, startStep: startStep,
                         resuming: resuming, observer: recorder)
        }
        let seconds = now() - t0
        try packIfRecorded(writer.path, record: record, quiet: output.quiet || output.json)
        cluster?.reportTimes(total: seconds)
        let dataset = record.dataset ?? ""
        if let plot { try recorder.plot(title: "\(trainer.method) on \(dataset), \(label)", regression: train.targets != nil).write(to: plot) }
        var summary = RunSummary(method: trainer.method, dataset: dataset, layers: label, parameters: trainer.network.parameters.scalarCount,
                          epochs: loop.epochs,
                          steps: total, seconds: seconds, history: writer.path, snapshots: writer.snapshotCount,
                          seed: loop.seed, rows: recorder.rows, lastLoss: recorder.lastLoss, regression: train.targets != nil,
                          validation: sets.validation?.count ?? 0, threads: trainer.network.context.workers)
        summary.peakMemoryMB = PeakMemory.megabytes()
        return summary
    }
}

/// What a training run produced.
struct RunSummary {
    /// `--layers` of an MLP, or the architecture tag (e.g. hbnet-conv-d3-w32) of `--arch`.
    var method: String, dataset: String, layers: String
    /// Trainable scalars of the network.
    var parameters: Int
    var epochs: Int, steps: Int
    var seconds: Double
    var history: String
    var snapshots: Int
    var seed: UInt64
    var rows: [RunRecorder.Row]
    /// Training loss of the last step.
    var lastLoss: Double
    /// A regression run (accuracies are NaN).
    var regression: Bool
    /// Training samples held out as the validation set (`--validation`; 0: none, and the test
    /// set is evaluated after every epoch instead of once at the end).
    var validation = 0
    /// Workers of the run's compute context (`--threads`, or OpenBLAS's default).
    var threads = 1
    /// False on the ranks of a distributed run other than 0, which report nothing.
    var isRoot = true
    /// The process's peak resident memory at the end of the run (MB; `PeakMemory`).
    var peakMemoryMB: Double?

    var testAccuracy: Double? { rows.last?.testAccuracy }
    /// Validation accuracy after the last epoch (nil without a validation set).
    var validationAccuracy: Double? { validation > 0 ? rows.last?.valAccuracy : nil }

    /// The JSON object of `lpom train --json` (JSON has no NaN: null instead).
    var json: [String: Any] {
        let last = rows.last
        func num(_ x: Double?) -> Any { x.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
        var o: [String: Any] = ["method": method, "dataset": dataset, "layers": layers, "parameters": parameters, "epochs": epochs,
                "threads": threads, "blas_kernels": BLASCore.name, "steps": steps,
                "seconds": seconds, "history": history, "snapshots": snapshots, "seed": seed,
                "test_accuracy": num(last?.testAccuracy), "test_loss": num(last?.testLoss),
                "train_loss": num(last?.trainLoss), "last_step_loss": num(lastLoss),
                "curve": rows.map { r in
                    var c: [String: Any] = ["epoch": r.epoch, "train_loss": num(r.trainLoss), "train_accuracy": num(r.trainAccuracy),
                                            "test_accuracy": num(r.testAccuracy), "test_loss": num(r.testLoss), "seconds": r.seconds,
                                            "cpu_seconds": num(r.cpuSeconds)]
                    if validation > 0 { c["val_accuracy"] = num(r.valAccuracy); c["val_loss"] = num(r.valLoss) }
                    return c
                }, "validation": validation, "peak_memory_mb": num(peakMemoryMB)]
        if validation > 0 { o["val_accuracy"] = num(last?.valAccuracy); o["val_loss"] = num(last?.valLoss) }
        return o
    }

    /// Prints the per-epoch table and a summary line, or the JSON object.
    func report(json asJSON: Bool) {
        if asJSON { printJSON(json); return }
        print(text)
    }

    /// The per-epoch table, an empty line and the summary line.
    var text: String {
        // With a validation set the table shows it, never the test set (evaluated once, below).
        let v = validation > 0
        var t = v ? "epoch  train loss  train acc   val loss   val acc  seconds\n" : "epoch  train loss  train acc  test loss  test acc  seconds\n"
        for r in rows {
            t += String(format: "%5d  %10.4f  %8.2f%%  %9.4f  %7.2f%%  %7.1f\n", r.epoch, r.trainLoss, 100 * r.trainAccuracy,
                        v ? r.valLoss : r.testLoss, 100 * (v ? r.valAccuracy : r.testAccuracy), r.seconds)
        }
        t += "\n"
        let tail = " after \(epochs) epochs, " + String(format: "%.1f s", seconds) + "; history \(history) (\(snapshots) snapshots)"
        let once = "evaluated once, after the last epoch;"
        if v && regression {
            return t + String(format: "final training loss %.4g, validation loss %.4g (last %d training samples); test loss %.4g, %@",
                              lastLoss, rows.last?.valLoss ?? .nan, validation, rows.last?.testLoss ?? .nan, once) + tail
        } else if v {
            return t + String(format: "validation accuracy %.2f%% (last %d training images); test accuracy %.2f%%, %@",
                              100 * (validationAccuracy ?? .nan), validation, 100 * (testAccuracy ?? .nan), once) + tail
        } else if regression {
            return t + String(format: "final training loss %.4g, test loss %.4g", lastLoss, rows.last?.testLoss ?? .nan) + tail
        }
        return t + "test accuracy " + String(format: "%.2f%%", 100 * (testAccuracy ?? .nan)) + tail
    }
}
