import Foundation
import LiftedTrain
import MPITransport
import Surfing

/// Trial-parallel `lpom surf` under `mpirun -np N`: every rank builds the same trials from the
/// seed (each trial draws from its own stream, so a trial does not depend on who runs it), runs
/// its contiguous share of them (`dataShard`) as one batch, and rank 0 gathers the results in
/// trial order and reports them. Every rank reads the history; only rank 0 prints or writes.
struct SurfRanks {
    let comm: MPICommunicator

    /// The ranks of this surf run, or nil for one process (no mpirun, or one rank).
    static func start() throws -> SurfRanks? {
        guard launchedByMPIRun(), MPICommunicator.announcedSize > 1 else { return nil }
        let comm = MPICommunicator.shared
        try Cluster(comm: comm, mode: .none, exchange: .sync).checkSameArguments(Array(CommandLine.arguments.dropFirst()))
        return SurfRanks(comm: comm)
    }

    var isRoot: Bool { comm.rank == 0 }

    /// Per-rank compute / wait / communication seconds on rank 0 (`LPOM_MPI_STATS=1`).
    func reportTimes(total: Double) {
        Cluster(comm: comm, mode: .none, exchange: .sync).reportTimes(total: total)
    }

    /// This rank's trials.
    func share(of trials: InversionTrials<Float>) -> InversionTrials<Float> {
        let rows = dataShard(rows: trials.count, rank: comm.rank, size: comm.size)
        func pick(_ t: Tensor<Float>) -> Tensor<Float> {
            var out = Tensor<Float>(zeros: [rows.count, t.cols])
            out.gatherRows(from: t, indices: ArraySlice(Array(rows)))
            return out
        }
        return InversionTrials(signals: pick(trials.signals), truth: trials.truth.map(pick), starts: trials.starts.map(pick))
    }

    /// Every rank's results in trial order (on every rank; one sum over ranks of a table in which
    /// each rank fills its own rows: x, loss, iterations, final iterations, distance, success, RMSE, pieces).
    func gather(_ mine: [TrialResult], total: Int, latent k: Int) -> [TrialResult] {
        let w = k + 7
        let rows = dataShard(rows: total, rank: comm.rank, size: comm.size)
        var table = [Double](repeating: 0, count: total * w)
        for (j, r) in mine.enumerated() {
            let o = (rows.lowerBound + j) * w
            for (i, v) in r.x.enumerated() { table[o + i] = v }
            table[o + k] = r.loss; table[o + k + 1] = Double(r.iterations); table[o + k + 2] = Double(r.finalIterations)
            table[o + k + 3] = r.distance ?? .infinity
            table[o + k + 4] = r.success.map { $0 ? 1 : 0 } ?? -1
            table[o + k + 5] = r.rmse; table[o + k + 6] = Double(r.pieces)
        }
        comm.sum(&table)
        return (0..<total).map { i in
            let o = i * w
            return TrialResult(x: Array(table[o..<(o + k)]), loss: table[o + k], iterations: Int(table[o + k + 1]),
                        finalIterations: Int(table[o + k + 2]), distance: table[o + k + 3].isInfinite ? nil : table[o + k + 3],
                        success: table[o + k + 4] < 0 ? nil : table[o + k + 4] > 0, rmse: table[o + k + 5],
                        pieces: Int(table[o + k + 6]))
        }
    }
}
