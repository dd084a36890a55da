import ArgumentParser
import Foundation
import ImageData
import LiftedTrain
import Surfing

extension InversionMethod: ExpressibleByArgument {}
extension SnapshotSchedule: ExpressibleByArgument {}
extension LatentDistribution: ExpressibleByArgument {}

/// What the trials try to recover.
enum SurfTarget: String, ExpressibleByArgument, CaseIterable {
    case inRange = "in-range", testImages = "test-images"
}

/// How projected surfing minimises f inside a piece.
enum PieceSolver: String, ExpressibleByArgument, CaseIterable { case exact, gradient }

/// Whether latents are clipped to [−1, 1].
enum ClipMode: String, ExpressibleByArgument, CaseIterable { case auto, on, off }

struct SurfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "surf",
        abstract: "Invert a generator through its training history (surfing; Song, Fan, Lafferty 2019).",
        discussion: """
        Examples: the paper's protocol (Table 1; surfing first runs regular Adam on the same trials to \
        measure its schedule's budget; 300 trials on the paper's generators take 1–3 CPU hours); your \
        own images; a resumable run.
          lpom surf gen.h5 --protocol paper --method surfing
          lpom surf gen.h5 --protocol paper --method adam
          lpom surf gen.h5 --targets imgs/ --save found.h5 --grid found.png
          lpom surf gen.h5 --checkpoint ck/        (how far: lpom inspect ck/)

        Minimises f(x) = ½‖A G(x) − A y‖² over the latent x for --trials targets y, with A = I or a \
        Gaussian m×n matrix (--measurements m: one N(0, 1/m) matrix per run, or a fresh N(0, 1) one per \
        trial with --measurement-matrix per-trial, the paper protocol's). Methods: \
        adam (Adam on the final network only), restarts (Bora et al.: --restarts R × --restart-steps S, \
        lowest loss kept), surfing (Adam warm-started through the snapshots, state reset at each; \
        --schedule front-loaded: --first-steps on θ_0 halving down to --min-steps; uniform: \
        --steps-per-snapshot; the final network gets --steps), projected (projected-gradient surfing \
        over the linear pieces within --tau of x; ReLU dense generators). Targets: in-range (y = G(x*), \
        x* and x_init from U[−1,1]^k for GANs or N(0, I) for a VAE, from the history's training method \
        unless --prior) with success ‖x̂ − x*‖ < --tolerance; test-images (held-out images of \
        the history's data set, per-pixel RMSE √(‖G(x̂) − y‖²/n)); or your own (--targets: images or \
        latents). Trials run as one batch of up to \
        1024 rows (every product one BLAS call; solved trials leave the batch); --batch-size 1 runs them one at a time.
        """)

    @Argument(help: "History of a generator (dense/conv_transpose2d/batchnorm layers, image-shaped output).")
    var history: String

    @Option(help: "paper: the authors' released protocol (per-k Adam step, published schedule rescaled to regular Adam's mean, from checkpoint 1, 60000 final steps, fresh N(0,1) A per trial); lpom: lpom's defaults. Explicit options override either.")
    var `protocol`: SurfProtocol = .lpom

    @Option(parsing: .number, help: "Number of trials.")
    var trials = 300

    @Option(help: "adam | restarts | surfing | projected.")
    var method: InversionMethod = .surfing

    @Option(parsing: .number, help: "Gaussian measurements m (0 < m ≤ n); default none: plain inversion (A = I).")
    var measurements: Int?

    @Option(help: "in-range (y = G(x*)) | test-images (held-out images; --data-dir).")
    var target: SurfTarget = .inRange

    @Option(parsing: .number, help: "Latent size k; checked against the model's input size.")
    var latent: Int?

    @Option(help: "Latent prior uniform (U[−1,1]^k) | normal (N(0,I)); default from the history's training method (vae → normal); paper protocol with test-images and --measurements: normal starts, clipped (compress.py).")
    var prior: LatentDistribution?

    @Option(help: "Clip x to [−1, 1] after each step: auto (for the uniform prior, and the paper protocol's test-images with --measurements), on, off.")
    var clip: ClipMode = .auto

    @Option(parsing: .number, help: "Seed of x*, x_init, A and the test-image choice.")
    var seed: UInt64 = 0

    @Option(parsing: .number, help: "Success (and stop) when ‖x − x*‖ < tolerance.")
    var tolerance = 0.01

    @Option(parsing: .number, help: "Step budget on the final network (default 60000; paper protocol with --measurements: 20000 adam, 15000 surfing).")
    var steps: Int?

    @Option(parsing: .number, help: "Adam learning rate on x (default 0.01; paper protocol: 0.001 for DCGAN and WGAN-GP at k ≥ 20; with --measurements 0.01 for surfing, 0.002 for adam and restarts).")
    var lr: Double?

    @Option(parsing: .number, help: "Adam learning rate on the final network (default --lr; paper protocol with --measurements: 0.002).")
    var finalLr: Double?

    @Option(help: "Intermediate-snapshot budget: front-loaded | uniform | paper (default front-loaded; paper protocol: paper, or uniform 3000 with --measurements).")
    var schedule: SnapshotSchedule?

    @Option(help: "Schedule paper: total steps before the final network: N, measured (regular Adam's mean iterations of its successful trials, run first on the same trials) or published (the authors' numbers for this model and k).")
    var prefinalBudget: PrefinalBudget = .measured

    @Option(parsing: .number, help: "Surfing starts at this snapshot index (default 0 = θ_0; paper protocol: 1, the first checkpoint after θ_0).")
    var firstSnapshot: Int?

    @Option(help: "Network path: history (the training snapshots) | linear (θ_0 → θ_T on a straight line, same number of points: the homotopy ablation).")
    var path: SurfPath = .history

    @Option(parsing: .number, help: "Put M − 1 networks on the straight line between every two consecutive snapshots (finer spacing where the path jumps; default 1 = none).")
    var refine = 1

    @Option(help: "Measurement matrix: shared (one N(0,1/m) A per run) | per-trial (a fresh N(0,1) A per trial, the authors'); default shared, paper protocol per-trial.")
    var measurementMatrix: MeasurementDraw?

    @Option(parsing: .number, help: "Stop a trial on the final network once ‖∇f‖ < this (paper protocol with --measurements: 5e-4 on every network for surfing, none for adam and restarts).")
    var finalGtol: Double?

    @Option(parsing: .number, help: "Front-loaded: steps on θ_0.")
    var firstSteps = 1000

    @Option(parsing: .number, help: "Front-loaded: the floor the budget halves down to.")
    var minSteps = 50

    @Option(parsing: .number, help: "Uniform: steps on every intermediate snapshot.")
    var stepsPerSnapshot = 100

    @Option(parsing: .number, help: "Use about K + 1 snapshots: every ⌈T/K⌉-th and the final one (default: all).")
    var snapshots: Int?

    @Option(parsing: .number, help: "Surfing: end a trial's intermediate snapshot early once ‖∇f_t(x)‖ < this (default: spend the budget).")
    var snapshotGtol: Double?

    @Option(parsing: .number, help: "Random restarts R (method restarts).")
    var restarts = 10

    @Option(parsing: .number, help: "Steps per restart S (method restarts).")
    var restartSteps = 1000

    @Option(parsing: .number, help: "Stop a trial when its loss falls by less than 1e-4 (relative) over this many steps (default: 1000 for test-images, off for in-range and for the paper protocol's test-images with --measurements; 0 = off).")
    var plateauWindow: Int?

    @Option(parsing: .number, help: "Trials per batch (default: all at once, up to 1024 rows; 1 = one at a time).")
    var batchSize: Int?

    @Option(parsing: .number, help: "Projected: slack τ on |pre-activation| for the pieces searched.")
    var tau = 0.05

    @Option(parsing: .number, help: "Projected: at most this many pieces per snapshot.")
    var maxPieces = 64

    @Option(parsing: .number, help: "Projected: projected-gradient steps per piece.")
    var pieceSteps = 200

    @Option(parsing: .number, help: "Projected: piece-search rounds per snapshot, each from the last round's x, until x stops (1 = Algorithm 3.2 as written).")
    var pieceRounds = 1

    @Option(help: "Your own targets: a PNG, a folder of PNGs, an IDX file, a .npy array or an HDF5 dataset (FILE.h5:NAME); rows of n pixels are images (integers 0–255 or floats in [0, 1]), rows of k values are latents x* (y = G(x*), success measured). Overrides --target; at most --trials rows.")
    var targets: String?

    @Option(help: "Write x̂, G(x̂), the targets, x* (when known) and per trial loss, RMSE, distance, success and iterations to this new HDF5 file.")
    var save: String?

    @Option(help: "Run only trials FROM:TO (0-based, TO excluded) of the --trials drawn — the same trials, A and starts as in the whole run — to split a long run into pieces that are kept and merged (scripts/surf_merge_pieces.py). Needs an explicit --prefinal-budget under --schedule paper.")
    var trialRange: String?

    @Option(help: "Save the Adam descents on the final network in this directory every --checkpoint-every steps, and continue from what it holds: a killed run, started again with the same command, ends exactly as an uninterrupted one. The files are deleted when the run has finished (unless --keep-checkpoint); `lpom inspect DIR` shows how far the run has got.")
    var checkpoint: String?

    @Option(parsing: .number, help: "Steps between checkpoints (--checkpoint).")
    var checkpointEvery = 1000

    @Flag(help: "Keep the --checkpoint files when the run has finished. Regular Adam's (--method adam) can then be continued to a larger --steps: the same command with more steps runs only the steps after the saved ones, and ends exactly as a run given that budget from the start.")
    var keepCheckpoint = false

    /// `--trial-range` as a range of trial indices (validated).
    var trialRows: Range<Int>? {
        guard let t = trialRange else { return nil }
        let parts = t.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, a < b, b <= trials else { return nil }
        return a..<b
    }

    @Option(help: "Projected: how each piece is minimised: exact (its convex QP, identity output only; the default there) or gradient (--piece-steps projected-gradient steps).")
    var pieceSolver: PieceSolver?

    @Option(parsing: .number, help: "Projected: piece-search rounds on the final network, until x stops (default --piece-rounds).")
    var finalPieceRounds: Int?

    @Option(help: "Data set of test-images targets (default: the history's).")
    var dataset: DatasetName?

    @OptionGroup var data: DataOptions

    @Option(parsing: .number, help: "Threads: the trials of every Adam phase (and the final forward pass) split into this many groups that run at once, each on its own copy of the network with single-threaded BLAS; the results equal one thread's up to rounding.")
    var threads = 1

    @Option(help: "Write an SVG of the distribution (CDF) of ‖x̂ − x*‖.")
    var plotDistances: String?

    @Option(help: "Write targets beside reconstructions as an image grid (.svg or .png).")
    var grid: String?

    @Option(parsing: .number, help: "Upscale factor of a --grid .png: each pixel becomes an N×N block.")
    var gridScale: Int = PNG.defaultScale

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard trials >= 1 && trials <= 100_000 else { throw ValidationError("--trials must be between 1 and 100000, got \(trials)") }
        if let t = trialRange, trialRows == nil {
            throw ValidationError("--trial-range must be FROM:TO with 0 ≤ FROM < TO ≤ --trials (\(trials)), got '\(t)'")
        }
        if let m = measurements, m <= 0 { throw ValidationError("--measurements must be positive, got \(m)") }
        if let k = latent, k <= 0 { throw ValidationError("--latent must be positive, got \(k)") }
        guard tolerance > 0, tolerance.isFinite else { throw ValidationError("--tolerance must be positive, got \(tolerance)") }
        for (name, v) in [("--lr", lr), ("--final-lr", finalLr), ("--final-gtol", finalGtol)] {
            if let v { guard v > 0, v.isFinite else { throw ValidationError("\(name) must be positive, got \(v)") } }
        }
        if let steps { guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") } }
        guard refine >= 1 && refine <= 10_000 else { throw ValidationError("--refine must be between 1 and 10000, got \(refine)") }
        if let f = firstSnapshot, f < 0 { throw ValidationError("--first-snapshot must be ≥ 0, got \(f)") }
        if case .steps(let n) = prefinalBudget, n > 1_000_000_000 { throw ValidationError("--prefinal-budget must be at most 1000000000, got \(n)") }
        if let r = finalPieceRounds, r < 1 || r > 1_000_000 { throw ValidationError("--final-piece-rounds must be between 1 and 1000000, got \(r)") }
        guard checkpointEvery >= 1 && checkpointEvery <= 1_000_000_000 else {
            throw ValidationError("--checkpoint-every must be between 1 and 1000000000, got \(checkpointEvery)")
        }
        if keepCheckpoint && checkpoint == nil { throw ValidationError("--keep-checkpoint keeps the files of --checkpoint DIR; give it a directory") }
        if checkpoint != nil && method == .projected {
            throw ValidationError("--checkpoint saves Adam descents; --method projected does not take it")
        }
        if measurementMatrix == .perTrial && method == .projected {
            throw ValidationError("--method projected works with one shared A; drop --measurement-matrix per-trial")
        }
        let cap = 1_000_000_000
        for (name, v) in [("--steps", steps ?? 1), ("--first-steps", firstSteps), ("--min-steps", minSteps),
                          ("--steps-per-snapshot", stepsPerSnapshot), ("--restart-steps", restartSteps), ("--piece-steps", pieceSteps)]
        where v > cap {
            throw ValidationError("\(name) must be at most \(cap), got \(v)")
        }
        guard firstSteps >= 0, minSteps >= 0, stepsPerSnapshot >= 0 else {
            throw ValidationError("--first-steps, --min-steps and --steps-per-snapshot must be ≥ 0")
        }
        if let g = snapshotGtol, !(g > 0 && g.isFinite) { throw ValidationError("--snapshot-gtol must be positive, got \(g)") }
        if let k = snapshots, k < 1 { throw ValidationError("--snapshots must be at least 1, got \(k)") }
        guard restarts >= 1, restartSteps >= 1 else { throw ValidationError("--restarts and --restart-steps must be at least 1") }
        if let w = plateauWindow, w < 0 { throw ValidationError("--plateau-window must be ≥ 0, got \(w)") }
        if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be at least 1, got \(b)") }
        guard tau >= 0, tau.isFinite, maxPieces >= 1, maxPieces <= 1 << 20, pieceSteps >= 1, pieceRounds >= 1, pieceRounds <= 1_000_000 else {
            throw ValidationError("--tau must be ≥ 0, --max-pieces between 1 and 1048576, --piece-steps and --piece-rounds at least 1 (rounds at most 1000000)")
        }
        if method == .restarts && restarts > 10_000_000 / max(1, trials) {
            throw ValidationError("--trials × --restarts must be at most 10000000 (got \(trials) × \(restarts))")
        }
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        guard gridScale >= 1 && gridScale <= 32 else { throw ValidationError("--grid-scale must be in 1…32, got \(gridScale)") }
        if let g = grid, !(g.hasSuffix(".svg") || g.hasSuffix(".png")) {
            throw ValidationError("--grid writes .svg or .png files, got '\(g)'")
        }
        if let save {
            guard save.hasSuffix(".h5") || save.hasSuffix(".hdf5") else { throw ValidationError("--save writes an HDF5 file (.h5 or .hdf5), got '\(save)'") }
            if FileManager.default.fileExists(atPath: save) { throw ValidationError("--save \(save) exists; choose a new file (nothing is overwritten)") }
        }
        if plotDistances != nil && target == .testImages {
            throw ValidationError("--plot-distances needs in-range targets (x* is unknown for test images)")
        }
    }

    func run() throws {
        guard launchedByMPIRun() else { return try surf() }
        do { try surf() } catch { endDistributedRun(after: error) }
    }

    /// Runs the trials (under mpirun with N ranks, this rank's share; `SurfParallel.swift`).
    func surf() throws {
        let ranks = try SurfRanks.start()
        let setup = try SurfSetup(self)
        if ranks != nil, setup.problem.perTrialMeasurements != nil {
            throw CommandError("a measurement matrix per trial (--measurement-matrix per-trial, the paper protocol's compressed sensing) is not split over ranks yet: run it in one process, or pass --measurement-matrix shared")
        }
        if ranks != nil, checkpoint != nil {
            throw CommandError("--checkpoint is not supported under mpirun yet (each rank would need its own files): run it in one process with --threads, or drop --checkpoint")
        }
        if setup.trialRows != nil && setup.needsMeasuredBudget {
            throw CommandError("--trial-range runs a piece of the trials, but --prefinal-budget measured would measure regular Adam's budget on that piece only: run regular Adam's pieces first, merge them (scripts/surf_merge_pieces.py) and pass its mean_successful_iterations as --prefinal-budget N")
        }
        if let checkpoint {
            try InversionCheckpoint.claim(checkpoint, workers: threads, batchSize: setup.settings.batchSize)
        }
        let t0 = now(), c0 = cpuSeconds()
        // A continued run reports the whole run's time: what it had taken up to its last save
        // (checkpoint clock.json, the budget-measuring Adam's files included) plus this invocation.
        let before = checkpoint.map { dir in
            [dir, dir + "/reference"].map { InversionCheckpoint.savedTime(in: $0) }.max { $0.seconds < $1.seconds }!
        } ?? InversionCheckpoint.RunTime(seconds: 0, cpuSeconds: 0)
        let elapsed: @Sendable () -> InversionCheckpoint.RunTime = {
            InversionCheckpoint.RunTime(seconds: before.seconds + now() - t0, cpuSeconds: before.cpuSeconds + cpuSeconds() - c0)
        }
        var reference: (results: [TrialResult], seconds: Double)? = nil
        if setup.needsMeasuredBudget {
            // The paper schedule's total: regular Adam's mean iterations over its successful
            // trials, measured on these very trials (PaperProtocol.meanSuccessfulIterations).
            let a = setup.referenceAdamSettings
            let r = try invert(setup, a, label: "regular Adam (measuring the budget)", ranks: ranks, elapsed: elapsed)
            guard let mean = PaperProtocol.meanSuccessfulIterations(r) else {
                throw CommandError("regular Adam solved none of the \(r.count) trials, so its mean iteration count (the paper schedule's budget) is undefined; pass --prefinal-budget N or published")
            }
            setup.settings.prefinalBudget = Int(mean.rounded(.toNearestOrEven))
            reference = (r, now() - t0)
        }
        let results = try invert(setup, setup.settings, label: nil, ranks: ranks, elapsed: elapsed)
        let total = elapsed(), seconds = total.seconds, cpu = total.cpuSeconds
        if let ranks {
            ranks.reportTimes(total: seconds)
            if !ranks.isRoot { return }
        }
        let summary = SurfSummary(results)
        if let plotDistances { try distancePlot(results).write(to: plotDistances) }
        if let grid {
            let recon = setup.problem.generate(Tensor(shape: [results.count, setup.problem.latentSize],
                                                      data: results.flatMap { $0.x.map { Float($0) } }))
            try ImageGrid(targets: setup.trials.signals, reconstructions: recon, shape: setup.imageShape, scale: gridScale).write(to: grid)
        }
        if let save { try SurfTargets.save(save, results: results, trials: setup.trials, problem: setup.problem) }
        report(summary, results: results, setup: setup, seconds: seconds, cpu: cpu, reference: reference, before: before)
        if let checkpoint, !keepCheckpoint {
            InversionCheckpoint.removeFiles(in: checkpoint + "/reference")
            InversionCheckpoint.removeFiles(in: checkpoint)
        }
    }

    /// What identifies this run in its checkpoints: every option that changes what is computed
    /// (as resolved: the settings, the trials' seed, range and targets, A) and the generator
    /// (its final network's digest, `SurfSetup.historyDigest`; not the history's path, so a
    /// checkpoint continues wherever the same history is, e.g. on a new machine). Threads, output and checkpoint options are left out: they change nothing
    /// the descent computes per trial (a chunk's file is also named by its rows). So is regular
    /// Adam's budget: a trial's descent does not depend on it (the run of S steps is the first S
    /// steps of any longer one, `InverterTests.testALongerBudgetKeepsTheShorterRunAsItsPrefix`),
    /// so its checkpoint continues to a larger `--steps` (a smaller one than the saved step is
    /// refused when the file is read).
    func checkpointFingerprint(_ settings: InversionSettings, setup: SurfSetup) -> String {
        var s = settings
        if s.method == .adam { s.finalSteps = 0 }
        let parts: [String] = [
            "lpom \(lpomVersion)", "history with final network \(setup.historyDigest) (\(setup.snapshotCount) snapshots)",
            "trials \(trials) range \(trialRange ?? "all") seed \(seed) target \(targets ?? target.rawValue) prior \(setup.prior.rawValue)",
            "measurements \(measurements.map(String.init) ?? "none") matrix \(measurementMatrix?.rawValue ?? "default") protocol \(self.protocol.rawValue)",
            "path \(path.rawValue) refine \(refine) dataset \(dataset?.rawValue ?? "history's")",
            "settings \(s)",
        ]
        return parts.joined(separator: "; ")
    }

    /// Runs one inverter with a progress bar over its phases (under mpirun: this rank's share of
    /// the trials, then every rank's results in trial order, on every rank).
    private func invert(_ setup: SurfSetup, _ s: InversionSettings, label: String?, ranks: SurfRanks?,
                        elapsed: @escaping @Sendable () -> InversionCheckpoint.RunTime) throws -> [TrialResult] {
        let budgets = setup.phaseBudgets(s), total = budgets.reduce(0, +)
        let bar = ProgressBar(total: total, unit: "step", quiet: output.quiet || output.json || !(ranks?.isRoot ?? true))
        var offsets: [Int] = [0]
        for b in budgets { offsets.append(offsets.last! + b) }
        let inverter = setup.makeInverter(s)
        if let checkpoint {
            // The budget-measuring regular Adam of the same invocation keeps its own files.
            inverter.checkpoint = InversionCheckpoint(directory: label == nil ? checkpoint : checkpoint + "/reference",
                                                      every: checkpointEvery, fingerprint: checkpointFingerprint(s, setup: setup))
            inverter.checkpoint?.elapsed = elapsed
        }
        let prefix = label.map { "\($0): " } ?? ""
        inverter.progress = { p in
            let base = p.phase < offsets.count ? offsets[p.phase] : 0
            bar.update(min(total, base + p.step), suffix: "\(prefix)snapshot \(p.phase + 1)/\(p.phases), \(p.active) active")
        }
        var results = try inverter.run(ranks?.share(of: setup.trials) ?? setup.trials)
        if let ranks { results = ranks.gather(results, total: setup.trials.count, latent: setup.problem.latentSize) }
        bar.clear()
        return results
    }

    private func report(_ s: SurfSummary, results: [TrialResult], setup: SurfSetup, seconds: Double, cpu: Double,
                        reference: (results: [TrialResult], seconds: Double)?, before: InversionCheckpoint.RunTime) {
        let set = setup.settings
        let totalSteps = results.reduce(0) { $0 + $1.iterations }
        func num(_ x: Double?) -> Any { x.map { $0.isFinite ? $0 as Any : NSNull() } ?? NSNull() }
        if output.json {
            var obj: [String: Any] = [
                "history": history, "method": method.rawValue, "trials": results.count, "target": targets ?? target.rawValue,
                "trials_drawn": trials, "trial_range": setup.trialRows.map { [$0.lowerBound, $0.upperBound] as Any } ?? NSNull(),
                "latent": setup.problem.latentSize, "n": setup.problem.signalSize, "prior": setup.prior.rawValue,
                "measurements": num(measurements.map(Double.init)), "snapshots_used": setup.snapshotsUsed,
                "snapshots_in_history": setup.snapshotCount, "seconds": seconds, "cpu_seconds": cpu, "seed": seed, "tolerance": tolerance,
                "mean_iterations": s.meanIterations, "median_iterations": s.medianIterations,
                "mean_final_iterations": s.meanFinalIterations, "mean_rmse": s.meanRMSE, "median_rmse": s.medianRMSE,
                "mean_loss": num(s.meanLoss), "total_steps": totalSteps,
                "protocol": self.protocol.rawValue, "learning_rate": set.learningRate, "denormals": Denormals.description,
                "blas_kernels": BLASCore.name, "blas_kernels_replaced": BLASKernelChoice.replaced ?? NSNull(),
                "final_learning_rate": set.finalLearningRate ?? set.learningRate, "final_steps": set.finalSteps,
                "gradient_tolerance": ["snapshots": num(set.snapshotGradientTolerance), "final": num(set.finalGradientTolerance)],
                "clip": set.clip, "plateau_window": num(set.plateauWindow.map(Double.init)),
                "schedule": set.schedule.rawValue, "first_snapshot": set.firstSnapshot, "path": path.rawValue,
                "measurement_matrix": measurements == nil ? NSNull() : (measurementMatrix ?? (self.protocol == .paper ? .perTrial : .shared)).rawValue,
                "successes": results.map { $0.success == true ? "1" : "0" }.joined(),
                "mean_successful_iterations": num(PaperProtocol.meanSuccessfulIterations(results)),
            ]
            if method == .surfing {
                let budgets = setup.makeInverter(set).phaseBudgets()
                obj["prefinal_budget"] = budgets.dropLast().reduce(0, +)
                obj["snapshots_used"] = budgets.count
            }
            if let reference {
                let r = SurfSummary(reference.results)
                obj["reference_adam"] = [
                    "success_rate": num(r.successRate), "mean_iterations": r.meanIterations,
                    "mean_successful_iterations": num(PaperProtocol.meanSuccessfulIterations(reference.results)),
                    "successes": reference.results.map { $0.success == true ? "1" : "0" }.joined(),
                    "seconds": reference.seconds,
                ] as [String: Any]
            }
            if before.seconds > 0 {
                // Of "seconds" and "cpu_seconds": the part taken before the last save of an earlier invocation.
                obj["seconds_before_continued"] = before.seconds
                obj["cpu_seconds_before_continued"] = before.cpuSeconds
            }
            obj["success_rate"] = num(s.successRate)
            obj["median_distance"] = num(s.medianDistance)
            if method == .projected { obj["mean_pieces"] = s.meanPieces }
            obj["results"] = results.map { r -> [String: Any] in
                var d: [String: Any] = ["x": r.x, "loss": num(r.loss), "iterations": r.iterations,
                                        "final_iterations": r.finalIterations, "rmse": num(r.rmse)]
                if let dist = r.distance { d["distance"] = num(dist) }
                if let ok = r.success { d["success"] = ok }
                if method == .projected { d["pieces"] = r.pieces }
                return d
            }
            printJSON(obj)
            return
        }
        let a = measurements.map { "A: \($0)×\(setup.problem.signalSize) Gaussian" } ?? "A = I"
        print("history \(history): k = \(setup.problem.latentSize), n = \(setup.problem.signalSize), \(setup.snapshotCount) snapshots (\(setup.snapshotsUsed) used), prior \(setup.prior.rawValue), \(a)")
        print("\(method.rawValue), \(results.count) \(targets.map { "--targets \($0)" } ?? target.rawValue) trials, seed \(seed), protocol \(self.protocol.rawValue), step \(set.learningRate)"
              + (method == .surfing ? ", path \(path.rawValue), \(setup.makeInverter(set).phaseBudgets().dropLast().reduce(0, +)) steps before the final network" : ""))
        if let reference, let rate = SurfSummary(reference.results).successRate {
            print(String(format: "  regular Adam first (budget): %.1f%% success, mean %.0f iterations of the successful trials",
                         100 * rate, PaperProtocol.meanSuccessfulIterations(reference.results) ?? .nan))
        }
        print("")
        if let rate = s.successRate {
            print(String(format: "  success (‖x̂ − x*‖ < %g)  %6.1f%%", tolerance, 100 * rate))
            print(String(format: "  median ‖x̂ − x*‖          %10.4g", s.medianDistance ?? .nan))
        }
        print(String(format: "  iterations mean/median   %8.1f / %.0f", s.meanIterations, s.medianIterations))
        print(String(format: "  final-network mean       %8.1f", s.meanFinalIterations))
        print(String(format: "  per-pixel RMSE mean/med  %10.4g / %.4g", s.meanRMSE, s.medianRMSE))
        print(String(format: "  loss mean                %10.4g", s.meanLoss))
        if method == .projected { print(String(format: "  pieces searched mean     %8.1f", s.meanPieces)) }
        print(String(format: "  time                     %8.2f s  (%d steps, %.3g ms per trial-step)", seconds, totalSteps,
                     totalSteps > 0 ? 1000 * seconds / Double(totalSteps) : 0)
              + (before.seconds > 0 ? String(format: "; %.2f s of it before this run was continued from its checkpoint", before.seconds) : ""))
    }

    private func distancePlot(_ results: [TrialResult]) -> LinePlot {
        let d = results.compactMap(\.distance).map { max($0, 1e-12) }.sorted()
        var p = LinePlot(title: "‖x̂ − x*‖ of \(method.rawValue) on \(URL(fileURLWithPath: history).lastPathComponent)",
                         xLabel: "log10 ‖x̂ − x*‖", yLabel: "fraction of trials ≤")
        let x = d.map { log10($0) }
        let y = d.indices.map { Double($0 + 1) / Double(d.count) }
        p.series.append(.init(name: method.rawValue, x: x, y: y))
        p.series.append(.init(name: "tolerance", x: [log10(tolerance), log10(tolerance)], y: [0, 1]))
        p.yRange = (0, 1)
        return p
    }
}

/// Summary statistics of a run.
struct SurfSummary {
    let successRate: Double?, medianDistance: Double?
    let meanIterations: Double, medianIterations: Double, meanFinalIterations: Double
    let meanRMSE: Double, medianRMSE: Double, meanLoss: Double, meanPieces: Double

    init(_ r: [TrialResult]) {
        func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            guard !s.isEmpty else { return .nan }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let ok = r.compactMap(\.success)
        successRate = ok.isEmpty ? nil : Double(ok.filter { $0 }.count) / Double(ok.count)
        let d = r.compactMap(\.distance)
        medianDistance = d.isEmpty ? nil : median(d)
        meanIterations = mean(r.map { Double($0.iterations) })
        medianIterations = median(r.map { Double($0.iterations) })
        meanFinalIterations = mean(r.map { Double($0.finalIterations) })
        meanRMSE = mean(r.map(\.rmse)); medianRMSE = median(r.map(\.rmse))
        meanLoss = mean(r.map(\.loss)); meanPieces = mean(r.map { Double($0.pieces) })
    }
}

/// User + system CPU seconds of this process (timings on a shared machine).
func cpuSeconds() -> Double {
    var u = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &u)
    #else
    getrusage(RUSAGE_SELF, &u)
    #endif
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
}
