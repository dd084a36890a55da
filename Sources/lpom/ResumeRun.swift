import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain

/// `lpom train --resume FILE`: continues the run a history records, from its last snapshot,
/// exactly as if it had never stopped.
///
/// - Settings come from the typed training record (`TrainingRecord`), never from its `argv`;
///   the network from the last snapshot; the optimizer state from `/resume` (saved with that
///   snapshot). A history without `/resume` (written before lpom saved it) is resumed with a
///   warning that the optimizer state starts afresh; an LPOM one lacking `lpom_configuration`
///   is refused.
/// - Without `--epochs` the run keeps its length, and its schedule continues where it stopped.
///   `--epochs E` above the recorded count extends the run: the steps up to the old end keep
///   their schedule, and the added steps get a schedule segment of their own (a warm restart,
///   Loshchilov & Hutter 2017), recorded as an extension. Fewer epochs are refused.
/// - Only `--epochs`, `--threads`, `--quiet`, `--json`, `--plot` and `--data-dir` may accompany
///   it; any other option would be ignored or contradict the history and is refused. The data
///   files must hash to the ones the run read; they are looked for where the run read them
///   unless `--data-dir` is given. Threads default to those of the last session.
/// - The session appends its own provenance entry to the record.
extension TrainCommand {
    /// The options `--resume` accepts beside the file.
    static let optionsAllowedWithResume: Set<String> = ["--resume", "--epochs", "--threads", "--quiet", "--json", "--plot", "--data-dir",
                                                                  "--parallel", "--exchange"]

    /// The arguments of this invocation of `lpom train`: those a test or `lpom compare` parsed
    /// in-process (`recordedArguments`), else the process's own.
    static var invocationArguments: [String] { recordedArguments ?? Array(CommandLine.arguments.dropFirst(2)) }

    /// Parses `arguments` and remembers them as this invocation's (what `--resume` checks and
    /// new histories record). Shadows `ParsableArguments.parse` for in-process callers.
    static func parse(_ arguments: [String]? = nil) throws -> TrainCommand {
        if let arguments { recordedArguments = arguments }
        return try parseFromArguments(arguments)
    }

    private static func parseFromArguments<C: ParsableArguments>(_ arguments: [String]?) throws -> C {
        try C.parse(arguments)
    }

    /// Throws one line when `arguments` give an option that `--resume` does not take (`allowed`,
    /// named in the message by `hint`).
    static func refuseOptionsBesideResume(_ arguments: [String], path: String, allowed: Set<String> = optionsAllowedWithResume,
                                          hint: String = "--epochs to extend the run, --threads, --quiet, --json, --plot and --data-dir") throws {
        for token in arguments.prefix(while: { $0 != "--" }) where token.hasPrefix("-") && Double(token) == nil {
            let name = String(token.split(separator: "=", maxSplits: 1).first ?? "")
            if !allowed.contains(name) {
                throw CommandError("\(name) cannot be given with --resume: \(path) continues with the settings it records (with --resume only \(hint) are allowed)")
            }
        }
    }

    /// Continues the run saved in `path` from its last snapshot.
    /// Under mpirun every rank reads the history; rank 0 alone appends to it, once every rank has
    /// read it (the number of ranks and the split may differ from the earlier sessions').
    func resumeRun(from path: String, arguments: [String], cluster: Cluster? = nil) throws -> RunSummary {
        let reader = try HistoryReader(path: path)
        var record = try reader.trainingRecord()
        if record.model != nil { throw CommandError("\(path): a --model run; it is continued by resumeGenerative") }
        try Self.refuseOptionsBesideResume(arguments, path: path)
        guard let lastStep = reader.snapshotSteps.last else { throw CommandError("\(path): holds no snapshot to resume from") }
        for (key, present) in [("epochs", record.epochs != nil), ("batch_size", record.batchSize != nil), ("seed", record.seed != nil),
                               ("snapshot_every", record.snapshotEvery != nil), ("method", record.method != nil)] where !present {
            throw CommandError("\(path): its training record has no '\(key)'; --resume continues runs written by lpom train")
        }
        let state = try reader.resumeState()
        // The network runs under the context of the run's own settings: its threads (or --threads)
        // and convolution algorithm.
        let threadCount = resumeThreads(record)
        let spec: ModelSpec
        do { spec = try ModelSpec.parse(reader.model) } catch { throw CommandError("\(path): \(error)") }
        let context = ComputeContext.training(spec, threads: threadCount,
                                              convolution: record.convAlgorithm.flatMap(ConvolutionAlgorithm.init(rawValue:)) ?? .auto)
        context.configureOpenBLAS()
        let network = try loadNetwork(from: reader, snapshot: -1, context: context)
        reader.close()
        var limits = data
        if limits.dataDir == nil, let dir = Self.recordedDataDirectory(record) { limits.dataDir = dir }
        limits.trainLimit = record.trainLimit ?? 0
        limits.testLimit = record.testLimit ?? 0
        let sets = try Self.trainingSets(record, data: limits, history: path)
        let train = sets.train
        let files = try dataFileDigests(try record.imageSet.map { try ImageDataset.files($0, directory: limits.directory) } ?? [])
        try Self.checkSameData(files, as: record, path: path)
        let stepsPerEpoch = (train.count + (record.batchSize ?? 1) - 1) / max(1, record.batchSize ?? 1)
        if let recorded = record.stepsPerEpoch, recorded != stepsPerEpoch {
            throw CommandError("\(path): the data give \(stepsPerEpoch) steps per epoch, the run took \(recorded); not the data it was trained on")
        }
        record.stepsPerEpoch = stepsPerEpoch
        try extend(&record, lastStep: lastStep, stepsPerEpoch: stepsPerEpoch, path: path)
        let total = stepsPerEpoch * (record.epochs ?? 0)
        guard lastStep < total else { throw CommandError("\(path) already holds all \(total) steps; pass a larger --epochs to extend it") }
        noteIfNotBitIdentical(record, threads: threadCount)
        let trainer = try Self.makeTrainer(record: record, network: network, path: path)
        try cluster?.attach(trainer)
        if let state {
            do { try trainer.importState(state.arrays) } catch { throw CommandError("\(path): \(error)") }
        } else if lastStep > 0 {
            printErr("warning: \(path) holds no optimizer state (/resume; written before lpom saved it): step \(lastStep) on starts from a fresh \(trainer.method) state, so the run will differ from an uninterrupted one")
        }
        var session = sessionProvenance(event: "resume", fromStep: lastStep, threads: threadCount, dataFiles: files)
        cluster?.record(&session)
        record.provenance = (record.provenance ?? []) + [session]
        cluster?.comm.barrier()
        let label = record.arch == nil || record.arch == "mlp" ? hiddenWidths(network.spec) : record.arch ?? ""
        if let cluster, !cluster.isRoot {
            return try execute(trainer: trainer, record: record, label: label, writer: nil, data: sets, startStep: lastStep, cluster: cluster)
        }
        let writer = try HistoryWriter.openForAppend(path: path, training: record.json(), writing: .background)
        if !output.quiet { printErr("resuming \(path) at step \(lastStep) of \(total)") }
        return try execute(trainer: trainer, record: record, label: label, writer: writer, data: sets, startStep: lastStep,
                           resuming: true, cluster: cluster)
    }

    /// Threads of a resumed session: `--threads`, else those of the run's last session.
    func resumeThreads(_ record: TrainingRecord) -> Int {
        threads > 0 ? threads : (record.provenance?.last?.threads ?? BLASThreads.current)
    }

    /// Says (unless quiet) when this session's threads or BLAS kernels differ from the last
    /// session's, so that the continuation is not bit-identical.
    func noteIfNotBitIdentical(_ record: TrainingRecord, threads threadCount: Int) {
        guard let last = record.provenance?.last, !output.quiet, last.threads != threadCount || last.blasKernel != BLASCore.name else { return }
        printErr("note: \(threadCount) threads and \(BLASCore.name) kernels where the last session used \(last.threads) and \(last.blasKernel): sums run in another order, so the continuation is not bit-identical to an uninterrupted run")
    }

    /// Applies `--epochs` to a resumed record: the same length (or none given) keeps it, more
    /// epochs add an extension from the old end, fewer are refused.
    func extend(_ record: inout TrainingRecord, lastStep: Int, stepsPerEpoch: Int, path: String) throws {
        let old = record.epochs ?? 0
        guard let e = epochs, e != old else { return }
        guard e > old else {
            throw CommandError("--epochs \(e) is fewer than the \(old) epochs \(path) runs for; --resume keeps the run's length (omit --epochs) or extends it")
        }
        guard e <= 100_000 else { throw CommandError("--epochs \(e) is too many") }
        record.extensions = (record.extensions ?? []) + [.init(fromStep: old * stepsPerEpoch, previousEpochs: old, epochs: e,
                                                               resumedAtStep: lastStep, date: isoDate())]
        record.epochs = e
    }

    /// The directory the run read its image set from (`<dir>/<dataset>/<file>` of its first
    /// recorded data file), if it still exists: the default of `--data-dir` when resuming.
    static func recordedDataDirectory(_ record: TrainingRecord) -> String? {
        guard let file = record.provenance?.first(where: { $0.dataFiles != nil })?.dataFiles?.first else { return nil }
        let dir = URL(fileURLWithPath: file.path).deletingLastPathComponent().deletingLastPathComponent().path
        return FileManager.default.fileExists(atPath: dir) ? dir : nil
    }

    /// Refuses data files whose SHA-256 differs from the ones the run first recorded (matched by
    /// file name, so another `--data-dir` holding the same files is fine).
    static func checkSameData(_ files: [TrainingRecord.DataFile], as record: TrainingRecord, path: String) throws {
        guard let original = record.provenance?.first(where: { $0.dataFiles != nil })?.dataFiles else { return }
        let recorded = Dictionary(original.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.sha256) }) { a, _ in a }
        for f in files {
            let name = URL(fileURLWithPath: f.path).lastPathComponent
            if let want = recorded[name], want != f.sha256 {
                throw CommandError("\(path): \(f.path) is not the file the run was trained on (SHA-256 \(f.sha256.prefix(12))…, recorded \(want.prefix(12))…); pass the --data-dir it used")
            }
        }
    }
}

/// The hidden widths of a multilayer perceptron ("300,100"; "none" for a linear model).
func hiddenWidths(_ spec: ModelSpec) -> String {
    let outs = spec.layers.filter { $0.type == "dense" }.compactMap(\.out).dropLast()
    return outs.isEmpty ? "none" : outs.map(String.init).joined(separator: ",")
}
