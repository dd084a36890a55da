import Foundation
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain
import Surfing

/// Everything `lpom surf` prepares before inverting: the generator from the history (checked to
/// be one), its snapshots, A, the trials and the inverter.
final class SurfSetup {
    let problem: InversionProblem<Float>
    let trials: InversionTrials<Float>
    /// The trials of the whole run this one runs (`--trial-range`), nil for all.
    let trialRows: Range<Int>?
    let prior: LatentDistribution
    let snapshotCount: Int
    let imageShape: [Int]
    /// The history's training method (gan, wgan, wgan-gp, vae) and the protocol's choices.
    let model: String
    /// The resolved settings (the paper protocol's, where the user gave none).
    var settings: InversionSettings
    /// The network path surfing follows (the history's snapshots, or the linear ablation).
    let snapshots: GeneratorSnapshots
    /// Schedule paper with `--prefinal-budget measured`: regular Adam runs first.
    let needsMeasuredBudget: Bool
    /// The workers the trials split over (nil on one thread).
    let workers: InversionWorkers<Float>?
    /// What identifies the generator in a checkpoint's fingerprint: a digest of the final
    /// network's parameters and buffers, not the history's path or size, so that a checkpoint
    /// continues on another machine whose history was trained again bit for bit (the sweep checks
    /// that first: scripts/surf_retrain_check.py) or copied elsewhere, and is refused on another
    /// generator. A history is written by one deterministic training run, so its final network
    /// decides the snapshots before it.
    /// Computed when first asked (a checkpoint is used): it reads the final snapshot again.
    private(set) lazy var historyDigest: String = {
        do { return try finalDigest() } catch { return "unreadable final snapshot (\(error))" }
    }()
    private let finalDigest: () throws -> String

    init(_ c: SurfCommand) throws {
        // `--threads`: the trials split over that many workers (InversionWorkers). OpenBLAS stays on
        // one thread throughout, as for image networks (`ComputeContext.training`): its idle threads
        // yield for a while after every threaded call, taking time from the workers.
        let context = ComputeContext(workers: c.threads, blasThreads: 1)
        context.configureOpenBLAS()
        let reader = try HistoryReader(path: c.history)
        let network = try loadNetwork(from: reader, snapshot: -1)
        let path = c.history
        // A generator takes a latent vector and outputs an image.
        guard network.spec.inputShape.count == 1 else {
            throw CommandError("\(path): not a generator: its input is \(network.spec.inputShape) (an image), not a latent vector")
        }
        let k = network.inputSize, n = network.outputSize
        guard let shape = Self.imageShape(network.outputShape), k < n else {
            throw CommandError("\(path): not a generator: it maps \(k) inputs to \(network.outputShape) outputs, which is not an image (expected [C, H, W] or a square number of pixels larger than the input)")
        }
        imageShape = shape
        if let l = c.latent, l != k {
            throw CommandError("\(path): --latent \(l) disagrees with the model, whose input (latent) size is \(k)")
        }
        if let m = c.measurements, m > n {
            throw CommandError("--measurements \(m) exceeds the signal size n = \(n) (need 0 < m ≤ n)")
        }
        if c.method == .projected { try ProjectedSurfing.checkArchitecture(network.spec) }
        let record = trainingRecord(reader)
        model = record.method ?? ""
        let paper = c.protocol == .paper
        // compress.py (the paper's Fig. 4): held-out test images through m measurements.
        let paperImages = paper && c.measurements != nil && c.targets == nil && c.target == .testImages
        // The latent prior (of x* and the starts): compress.py's N(0, I) starts there; else the
        // training JSON's `latent_prior` when it names one (lpom's generative trainers write it),
        // else from the method (vae → N(0, I)).
        prior = c.prior ?? (paperImages ? PaperProtocol.compressedImageStart : nil)
            ?? record.latentPrior.flatMap(LatentDistribution.init(rawValue:))
            ?? LatentDistribution.prior(forTrainingMethod: record.method)
        let draw = c.measurementMatrix ?? (paper ? .perTrial : .shared)
        var shared: MeasurementMatrix<Float>? = nil, perTrial: [MeasurementMatrix<Float>]? = nil
        if let m = c.measurements {
            switch draw {
            case .shared:
                var rng = SplitMix64.stream(seed: c.seed, 1 << 32)
                shared = MeasurementMatrix.gaussian(m: m, n: n, rng: &rng)
            case .perTrial:
                // Trial i's A from its own stream (the same A whatever the batch or trial count).
                perTrial = (c.trialRows ?? 0..<c.trials).map { i in
                    var rng = SplitMix64.stream(seed: c.seed, (1 << 33) + UInt64(i))
                    return MeasurementMatrix.gaussian(m: m, n: n, std: 1, rng: &rng)
                }
            }
        }
        problem = InversionProblem(network: network, measurement: shared, perTrial: perTrial)
        workers = context.workers > 1 ? try InversionWorkers(context: context, problem: problem, extensions: layerExtensions) : nil
        let restarts = c.method == .restarts ? c.restarts : 1
        let all = try Self.makeTrials(c, problem: problem, record: record, prior: prior, restarts: restarts)
        trialRows = c.trialRows
        trials = trialRows.map { all.subset(Array($0)) } ?? all
        let snaps = GeneratorSnapshots(steps: reader.snapshotSteps) { try reader.values(at: $0, for: network) }
        snapshotCount = snaps.count
        finalDigest = { try Self.finalNetworkDigest(reader, network) }
        snapshots = (c.path == .linear ? try snaps.linearPath() : snaps).refined(c.refine)
        if paper && snaps.count != 101 && c.method != .adam && c.method != .restarts {
            printErr("warning: \(path): the paper protocol expects 101 snapshots (θ_0 and 100 checkpoints every `inter` steps); this history has \(snaps.count)")
        }

        // Settings: explicit options, else the protocol's (PaperProtocol documents each), else lpom's.
        let compressed = c.measurements != nil
        var s = InversionSettings()
        s.method = c.method; s.tolerance = c.tolerance
        s.learningRate = c.lr ?? (paper ? PaperProtocol.learningRate(model: model, latent: k, compressed: compressed, method: c.method) : 0.01)
        s.finalLearningRate = c.finalLr ?? (paper ? PaperProtocol.finalLearningRate(compressed: compressed, method: c.method) : nil)
        s.finalSteps = c.steps ?? (paper ? PaperProtocol.finalSteps(method: c.method, compressed: compressed) : 60_000)
        s.clip = c.clip == .on || (c.clip == .auto && (prior == .uniform || paperImages))
        s.schedule = c.schedule ?? (paper ? (compressed ? .uniform : .paper) : .frontLoaded)
        s.firstSteps = c.firstSteps; s.minSteps = c.minSteps
        s.stepsPerSnapshot = paper && compressed && c.schedule == nil ? PaperProtocol.compressedStepsPerSnapshot : c.stepsPerSnapshot
        s.firstSnapshot = (c.firstSnapshot ?? (paper ? 1 : 0)) * c.refine   // an index of the history, after refinement
        s.snapshots = c.snapshots; s.restarts = c.restarts; s.restartSteps = c.restartSteps
        let gtol = paper ? PaperProtocol.gradientTolerance(compressed: compressed, method: c.method) : nil
        s.snapshotGradientTolerance = c.snapshotGtol ?? gtol
        s.finalGradientTolerance = c.finalGtol ?? gtol
        var measured = false
        switch c.prefinalBudget {
        case .steps(let b): s.prefinalBudget = b
        case .published:
            guard let b = PaperProtocol.publishedMeans[model]?[k] else {
                throw CommandError("--prefinal-budget published: the authors give budgets for gan, wgan, wgan-gp and vae at k = 5, 10, 20, not \(model.isEmpty ? "this model" : model) at k = \(k); pass a number")
            }
            s.prefinalBudget = b
        case .measured: measured = s.schedule == .paper && (c.method == .surfing)
        }
        needsMeasuredBudget = measured
        let window = c.plateauWindow ?? (trials.truth == nil && !paperImages ? 1000 : 0)
        s.plateauWindow = window > 0 ? window : nil
        // Default: every trial in one batch, but no more than 1024 rows (restarts count as rows),
        // which bounds the activations held for the backward pass.
        s.batchSize = c.batchSize ?? 1024
        s.tau = c.tau; s.maxPieces = c.maxPieces; s.pieceSteps = c.pieceSteps; s.pieceRounds = c.pieceRounds
        s.finalPieceRounds = c.finalPieceRounds
        let identityOutput = !network.spec.layers.contains { ["sigmoid", "tanh"].contains($0.type) }
        if c.pieceSolver == .exact && !identityOutput {
            throw CommandError("\(path): --piece-solver exact needs an identity output (the piece's f is then a convex quadratic); this generator ends in \(network.spec.layers.last?.type ?? "?")")
        }
        s.exactPieces = (c.pieceSolver ?? (identityOutput ? .exact : .gradient)) == .exact
        settings = s
    }

    /// The digest of a history's final network: the values `network` loads from its last
    /// snapshot (the one definition `lpom surf` checkpoints and `lpom inspect` share).
    static func finalNetworkDigest(_ reader: HistoryReader, _ network: Network<Float>) throws -> String {
        digest(try reader.values(at: -1, for: network))
    }

    /// SHA-256 (its first 16 hex digits) over the names, sizes and bytes of the values, in name order.
    static func digest(_ snapshot: (parameters: [String: [Float]], buffers: [String: [Float]])) -> String {
        var sha = SHA256()
        for (kind, values) in [("parameter", snapshot.parameters), ("buffer", snapshot.buffers)] {
            for name in values.keys.sorted() {
                let v = values[name]!
                sha.update(Array("\(kind) \(name) \(v.count)\n".utf8))
                sha.update(v.withUnsafeBytes { Array($0) })
            }
        }
        return String(SHA256.hex(sha.finalize()).prefix(16))
    }

    /// Snapshots the method visits (1 for adam and restarts).
    var snapshotsUsed: Int {
        settings.method == .adam || settings.method == .restarts ? 1 : makeInverter(settings).visitedSnapshots().count
    }

    /// An inverter with the resolved settings.
    var inverter: Inverter<Float> { makeInverter(settings) }

    /// An inverter with settings `s` over this setup's problem and path.
    func makeInverter(_ s: InversionSettings) -> Inverter<Float> {
        Inverter(problem: problem, snapshots: snapshots, settings: s, workers: workers)
    }

    /// The settings regular Adam runs with to measure the paper schedule's budget: the same
    /// step, clip and tolerance, the final network only, the paper's 60,000 steps.
    var referenceAdamSettings: InversionSettings {
        var a = settings
        a.method = .adam
        a.finalLearningRate = nil
        return a
    }

    /// The step budget of each phase of `s` (for the progress bar).
    func phaseBudgets(_ s: InversionSettings) -> [Int] {
        switch s.method {
        case .adam: return [s.finalSteps]
        case .restarts: return [s.restartSteps]
        case .surfing: return makeInverter(s).phaseBudgets()
        case .projected:
            let visit = makeInverter(s).visitedSnapshots()
            return visit.indices.map { j in j == 0 ? s.schedule.steps(0, first: s.firstSteps, min: s.minSteps, uniform: s.stepsPerSnapshot) : s.pieceSteps }
        }
    }

    /// The trials of `--target` (in-range draws or held-out test images).
    static func makeTrials(_ c: SurfCommand, problem: InversionProblem<Float>, record: TrainingRecord,
                           prior: LatentDistribution, restarts: Int) throws -> InversionTrials<Float> {
        let n = problem.signalSize, k = problem.latentSize, path = c.history
        if let spec = c.targets {
            let shape = imageShape(problem.network.outputShape) ?? [1, 1, n]
            let loaded = try SurfTargets.load(spec, latent: k, imageShape: shape, limit: c.trials)
            return SurfTargets.trials(loaded, problem: problem, prior: prior, restarts: restarts, seed: c.seed)
        }
        switch c.target {
        case .inRange:
            return InversionTrials.inRange(generator: problem, count: c.trials, distribution: prior, restarts: restarts, seed: c.seed)
        case .testImages:
            guard let name = c.dataset ?? record.imageSet else {
                throw CommandError("\(path): the history does not name an image data set; pass --dataset mnist or fashion-mnist")
            }
            let test = try c.data.load(name).test
            guard test.inputs.cols == n else {
                throw CommandError("\(path): the generator outputs \(n) values but \(name.rawValue) images have \(test.inputs.cols) pixels")
            }
            guard c.trials <= test.count else {
                throw CommandError("--trials \(c.trials) exceeds the \(test.count) test images of \(name.rawValue)")
            }
            var rng = SplitMix64.stream(seed: c.seed, (1 << 32) + 1)
            let pick = Array(randomPermutation(test.count, using: &rng).prefix(c.trials))
            var y = Tensor<Float>(zeros: [pick.count, n])
            y.gatherRows(from: test.inputs.reshaped([test.count, n]), indices: pick[...])
            return InversionTrials.signals(y, latentSize: k, distribution: prior, restarts: restarts, seed: c.seed)
        }
    }

    /// [C, H, W] of an image-shaped output: [C, H, W] itself, or a flat square number of pixels as [1, s, s].
    static func imageShape(_ shape: [Int]) -> [Int]? {
        if shape.count == 3 { return shape }
        guard shape.count == 1, shape[0] >= 4 else { return nil }
        let s = Int(Double(shape[0]).squareRoot().rounded())
        return s * s == shape[0] ? [1, s, s] : nil
    }
}
