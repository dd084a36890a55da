import ArgumentParser
import Foundation
import HistoryStore
import LiftedTrain

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one SGD epoch of 784-300-100-10 (batch 100, float32) on 1 and 2 threads, the share spent in BLAS, and the cost of snapshots.",
        discussion: "bench/run.sh runs this beside the PyTorch peer in the same go and prints the ratios.")

    @OptionGroup var data: DataOptions

    @Option(parsing: .number, help: "Thread counts to time, comma-separated.")
    var threads: String = "1,2"

    @Option(parsing: .number, help: "Hidden layer widths.")
    var layers: String = "300,100"

    @Option(parsing: .number, help: "Repetitions per setting (the fastest is reported).")
    var repeats: Int = 2

    @Flag(help: "Write the snapshots of the timed epoch on the training thread (as before background writing) instead of in the background as lpom train does.")
    var synchronousSnapshots = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        let (train, _) = try data.load(.mnist)
        let hidden = try parseLayers(layers)
        let counts = try threads.split(separator: ",").map { s -> Int in
            guard let t = Int(s), t >= 1 else { throw ValidationError("--threads takes positive integers, got '\(s)'") }
            return t
        }
        var results: [[String: Any]] = []
        for t in counts {
            let context = ComputeContext(workers: t)
            context.configureOpenBLAS()
            var best = Double.infinity, blas = 0.0, cpu = 0.0, withSnap = Double.infinity, inSnapshots = 0.0
            for _ in 0..<repeats {
                let c0 = cpuSeconds()
                let (s, b, _) = try epoch(train: train, hidden: hidden, snapshotEvery: 0, context: context)
                let c = cpuSeconds() - c0
                if s < best { best = s; blas = b; cpu = c }
                let (s2, _, w) = try epoch(train: train, hidden: hidden, snapshotEvery: 40, context: context)
                if s2 < withSnap { withSnap = s2; inSnapshots = w }
            }
            let rate = sgemmRate()
            let flops = Self.epochFlops(hidden: hidden, samples: train.count)
            results.append(["threads": t, "epoch_seconds": best, "epoch_cpu_seconds": cpu, "blas_fraction": blas / best,
                            "sgemm_gflops_n1024": rate / 1e9, "epoch_gflop": flops / 1e9,
                            "sgemm_fraction": flops / best / rate, "blas_core": BLASCore.name,
                            "epoch_seconds_snapshot_every_40": withSnap, "snapshot_call_seconds": inSnapshots,
                            "snapshot_overhead": withSnap / best - 1, "steps": (train.count + 99) / 100,
                            "snapshot_writing": synchronousSnapshots ? "synchronous" : "background"])
            if !output.json {
                print(String(format: "threads %d: epoch %.3f s (%.2f CPU s), %.0f%% in BLAS, %.0f%% of the sgemm rate (%.0f GFLOP/s); with a snapshot every 40 steps %.3f s (%+.1f%%)",
                             t, best, cpu, 100 * blas / best, 100 * flops / best / rate, rate / 1e9, withSnap, 100 * (withSnap / best - 1)))
            }
        }
        if output.json { printJSON(["lpom": results, "layers": layers, "batch_size": 100]) }
    }

    /// Floating-point operations of the epoch's products (2mnk each): forward through every layer,
    /// the weight gradient of every layer, and the input gradient of every layer but the first.
    static func epochFlops(hidden: [Int], samples: Int) -> Double {
        let widths = [784] + hidden + [10]
        var perSample = 0.0
        for l in 0..<(widths.count - 1) {
            let w = Double(widths[l] * widths[l + 1])
            perSample += 2 * w * (l == 0 ? 2 : 3)
        }
        return perSample * Double(samples)
    }

    /// The sgemm rate (flop/s) of a square n = 1024 product with the current OpenBLAS thread
    /// count, the best of 5 after a warm-up: the limit the epoch's fraction is stated against.
    private func sgemmRate() -> Double {
        let n = 1024
        let a = Tensor<Float>(repeating: 0.5, shape: [n, n]), b = Tensor<Float>(repeating: 0.25, shape: [n, n])
        var c = Tensor<Float>(zeros: [n, n])
        gemm(a, b, into: &c)
        var best = Double.infinity
        for _ in 0..<5 {
            let t0 = now()
            gemm(a, b, into: &c)
            best = min(best, now() - t0)
        }
        return 2 * Double(n * n * n) / best
    }

    /// One epoch; returns (seconds, seconds inside BLAS, seconds the training thread spent in
    /// `appendSnapshot` and `close`).
    private func epoch(train: TensorDataset<Float>, hidden: [Int], snapshotEvery: Int,
                       context: ComputeContext) throws -> (Double, Double, Double) {
        var rng = SplitMix64(seed: 1)
        let net = try Network<Float>(spec: .mlp(input: 784, hidden: hidden, output: 10, activation: .relu),
                                     context: context, rng: &rng)
        let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: SGD<Float>(learningRate: 0.1, momentum: 0.9))
        var loop = TrainingLoop<Float>(epochs: 1, batchSize: 100, seed: 1, snapshotEvery: snapshotEvery)
        loop.evaluateEachEpoch = false
        var writer: HistoryWriter? = nil
        let path = NSTemporaryDirectory() + "lpom-bench-\(getpid()).h5"
        if snapshotEvery > 0 {
            writer = try HistoryWriter(path: path, model: net.spec.json(), training: "{}", createdBy: "lpom bench",
                                       parameters: net.parameters.shapes, buffers: net.buffers.shapes,
                                       writing: synchronousSnapshots ? .synchronous : .background)
        }
        let observer = writer.map { SnapshotOnly(trainer: trainer, writer: $0) }
        let t0 = now()
        let (_, blas) = try BLASProfile.measure {
            try loop.run(trainer, train: train, test: nil, observer: observer)
            let c0 = now()
            try writer?.close()
            observer?.seconds += now() - c0
        }
        let s = now() - t0
        try? FileManager.default.removeItem(atPath: path)
        return (s, blas, observer?.seconds ?? 0)
    }
}

/// Writes snapshots, with the resume state as `lpom train` does, and nothing else
/// (benchmarking the cost of histories).
final class SnapshotOnly: TrainingObserver {
    let trainer: any Trainer<Float>
    let writer: HistoryWriter
    /// Seconds spent in `appendSnapshot` (the exported arrays included).
    var seconds = 0.0
    init(trainer: any Trainer<Float>, writer: HistoryWriter) { self.trainer = trainer; self.writer = writer }
    func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws {}
    func snapshotDue(step: Int) throws {
        let t0 = now()
        try writer.appendSnapshot(of: trainer, step: step)
        seconds += now() - t0
    }
    func didFinishEpoch(_ epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?) throws {}
}
