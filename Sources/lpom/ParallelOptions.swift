import ArgumentParser
import MPITransport
import Foundation
import HistoryStore
import LiftedTrain

/// How a run under `mpirun` splits its work over the ranks.
enum ParallelMode: String, ExpressibleByArgument, CaseIterable {
    /// One process (the default; under `mpirun` only with one rank).
    case none
    /// The global mini-batch split over ranks; gradients (sgd, adam) or the W-update's sums over
    /// samples (lpom) are summed by allreduce.
    case data
    /// LPOM only: each rank owns a contiguous group of dense layers and the activation levels
    /// they produce; neighbours exchange boundary activations.
    case layers
}

/// The X-phase exchange of layer-parallel LPOM.
enum ExchangeMode: String, ExpressibleByArgument, CaseIterable {
    /// Jacobi sweeps, neighbours' values of the previous sweep (the one-process `--sweep jacobi` iterates).
    case sync
    /// Each rank sweeps with the latest neighbour values it has received, never waiting inside the X-phase.
    case async
}

/// `lpom train` options of a distributed run (started by `mpirun -np N`).
struct ParallelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Under mpirun: split the run over the ranks by data (sgd, adam, lpom: each rank a share of every batch) or by layers (lpom: each rank a group of layers); none: one process.",
                               discussion: "Start with `mpirun -np N lpom train --parallel data …` (as root add --allow-run-as-root). Rank 0 writes the history."))
    var parallel: ParallelMode = .none

    @Option(help: "Layer-parallel LPOM's activation exchange: sync (Jacobi sweeps, the iterates of --sweep jacobi) or async (each rank uses the latest neighbour values, no barrier).")
    var exchange: ExchangeMode = .sync
}

/// The ranks of a distributed `lpom train` run and how they split it.
final class Cluster {
    let comm: MPICommunicator
    let mode: ParallelMode
    let exchange: ExchangeMode
    var rank: Int { comm.rank }
    var size: Int { comm.size }
    /// Rank 0 writes the history and prints; the others train silently.
    var isRoot: Bool { comm.rank == 0 }

    init(comm: MPICommunicator, mode: ParallelMode, exchange: ExchangeMode) {
        self.comm = comm; self.mode = mode; self.exchange = exchange
    }

    private var termination: DispatchSourceSignal?

    /// When mpirun ends the job (SIGTERM: a rank died or failed), rank 0 says what the history
    /// `writer` keeps before it goes, as one line.
    func noteTermination(of writer: HistoryWriter) {
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        let size = self.size
        source.setEventHandler {
            printErr("Error: mpirun ended the job (another of its \(size) ranks stopped, see below) — history \(writer.path) keeps \(writer.snapshotCount) snapshots up to step \(writer.lastStep ?? 0); continue it with lpom train --resume \(writer.path)")
            _exit(1)
        }
        source.resume()
        termination = source
    }

    /// Connects `trainer` to the ranks; throws one line when the method cannot be split this way.
    func attach(_ trainer: any Trainer<Float>) throws {
        switch mode {
        case .none: return
        case .data:
            guard let t = trainer as? DataParallelTraining else {
                throw CommandError("--parallel data trains sgd, adam and lpom; method \(trainer.method) cannot be split over ranks")
            }
            guard trainer.network.buffers.values.isEmpty else {
                throw CommandError("--parallel data: the network has batch statistics (\(trainer.network.buffers.names.joined(separator: ", "))), which each rank would compute on its share alone")
            }
            t.collective = comm
        case .layers:
            guard let t = trainer as? LPOMTrainer<Float> else {
                throw CommandError("--parallel layers splits LPOM's layers over ranks; --method \(trainer.method) trains by backpropagation, whose layers depend on each other in every step — use --parallel data")
            }
            do { try t.distributeLayers(over: comm, asynchronous: exchange == .async) } catch { throw CommandError(reported(error)) }
            if isRoot && !(ProcessInfo.processInfo.environment["LPOM_QUIET_PARTITION"] != nil) {
                printErr("layer-parallel LPOM (\(exchange.rawValue)) on \(size) ranks: \(t.partitionDescription)")
            }
        }
    }

    /// The provenance fields of this session.
    func record(_ p: inout TrainingRecord.Provenance) {
        p.ranks = size
        p.parallel = mode.rawValue
        if mode == .layers { p.exchange = exchange.rawValue }
    }

    /// Rank 0 broadcasts its arguments and every rank compares them with its own: ranks started
    /// with different arguments end the job with one line (and no rank waits forever).
    func checkSameArguments(_ arguments: [String]) throws {
        var mine = Array(arguments.joined(separator: "\u{1f}").utf8)
        var length = [Double(mine.count)]
        length.withUnsafeMutableBytes { comm.broadcast($0, root: 0) }
        var root = [UInt8](repeating: 0, count: Int(length[0]))
        if isRoot { root = mine }
        root.withUnsafeMutableBytes { comm.broadcast($0, root: 0) }
        var differing = [root == mine ? 0.0 : Double(rank + 1)]
        differing.withUnsafeMutableBufferPointer { comm.maximum($0) }
        mine.removeAll()
        if differing[0] > 0 {
            throw CommandError("rank \(Int(differing[0]) - 1) was started with other arguments than rank 0; every rank of an mpirun job must run the same lpom command")
        }
    }

    /// Per-rank seconds computing, waiting and communicating, gathered on rank 0 and printed
    /// there (`LPOM_MPI_STATS=1`; for bench/mpi_bench.sh).
    func reportTimes(total: Double) {
        guard ProcessInfo.processInfo.environment["LPOM_MPI_STATS"] != nil else { return }
        var all = [Double](repeating: 0, count: 4 * size)
        let mpi = comm.communicationSeconds + comm.waitSeconds
        all[4 * rank] = total - mpi; all[4 * rank + 1] = comm.waitSeconds
        all[4 * rank + 2] = comm.communicationSeconds; all[4 * rank + 3] = Double(comm.bytesSent)
        comm.sum(&all)
        guard isRoot else { return }
        for r in 0..<size {
            printErr(String(format: "mpi-stats rank %d: compute %.3f s, wait %.3f s, communicate %.3f s, sent %.1f MB", r,
                            all[4 * r], all[4 * r + 1], all[4 * r + 2], all[4 * r + 3] / 1e6))
        }
    }
}

extension ParallelOptions {
    /// The cluster of this process, or nil for a one-process run (no mpirun, or mpirun with one
    /// rank and no --parallel). Refuses `--parallel` outside mpirun, several ranks without
    /// `--parallel`, and a split the method cannot take — one line each, before any MPI call.
    func cluster(method: String?, arguments: [String]) throws -> Cluster? {
        guard MPICommunicator.launchedByMPIRun else {
            guard parallel == .none else {
                throw CommandError("--parallel \(parallel.rawValue) splits a run over ranks started by mpirun (mpirun -np N lpom train … --parallel \(parallel.rawValue)); started without mpirun, lpom is one process — drop --parallel")
            }
            return nil
        }
        let ranks = MPICommunicator.announcedSize
        if parallel == .none {
            guard ranks == 1 else {
                throw CommandError("mpirun started \(ranks) ranks but --parallel is none: every rank would train the same run into the same history; give --parallel data or --parallel layers")
            }
            return nil
        }
        if let method, parallel == .layers && method != "lpom" {
            throw CommandError("--parallel layers splits LPOM's layers over ranks; --method \(method) trains by backpropagation, whose layers depend on each other in every step — use --parallel data")
        }
        if let method, parallel == .data && !["sgd", "adam", "lpom"].contains(method) {
            throw CommandError("--parallel data trains sgd, adam and lpom, not \(method)")
        }
        let cluster = Cluster(comm: MPICommunicator.shared, mode: parallel, exchange: exchange)
        try cluster.checkSameArguments(arguments)
        return cluster
    }
}

/// Whether `mpirun` started this process (read from the environment; MPI is not initialised).
func launchedByMPIRun() -> Bool { MPICommunicator.launchedByMPIRun }

/// Ends a distributed run that failed: rank 0 prints the error as one line; another rank prints
/// only if it is still alive two seconds later (its error was its own, not one every rank hit),
/// then the whole job is ended so that no rank waits forever for a peer that stopped.
func endDistributedRun(after error: Error) -> Never {
    let rank = MPICommunicator.announcedRank
    if rank != 0 { sleep(2) }
    let message = LPOMCommand.message(for: error)
    printErr(rank == 0 ? "Error: \(message)" : "Error (rank \(rank)): \(message)")
    let code = LPOMCommand.exitCode(for: error).rawValue
    MPICommunicator.endJob(code == 0 ? 1 : code)
}

extension TrainCommand {
    /// A rank other than 0 of a distributed run: the same loop on the same batches, without
    /// history, progress or evaluation (rank 0 does those).
    func executeWorker(trainer: any Trainer<Float>, record: TrainingRecord, data sets: DataSplits, startStep: Int,
                       cluster: Cluster?) throws -> RunSummary {
        var loop = TrainingLoop<Float>(epochs: record.epochs ?? 10, batchSize: record.batchSize ?? 100, seed: record.seed ?? 0,
                                       snapshotEvery: record.snapshotEvery ?? 40)
        loop.scheduleSegments = record.scheduleSegments
        loop.evaluateEachEpoch = false
        let t0 = now()
        try loop.run(trainer, train: sets.train, test: nil, startStep: startStep, observer: nil)
        let seconds = now() - t0
        cluster?.reportTimes(total: seconds)
        var summary = RunSummary(method: trainer.method, dataset: record.dataset ?? "", layers: "", parameters: 0, epochs: loop.epochs,
                                 steps: 0, seconds: seconds, history: "", snapshots: 0, seed: loop.seed, rows: [], lastLoss: .nan,
                                 regression: false)
        summary.isRoot = false
        return summary
    }
}
