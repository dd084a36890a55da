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
    let inverter: Inverter<Float>
    let trials: InversionTrials<Float>
    let prior: LatentDistribution
    let snapshotCount: Int
    let snapshotsUsed: Int
    let imageShape: [Int]
    let phaseBudgets: [Int]
    var budget: Int { phaseBudgets.reduce(0, +) }

    init(_ c: SurfCommand) throws {
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
        // The training JSON's `latent_prior` when it names one (lpom's generative trainers write it),
        // else from the method (vae → N(0, I)).
        prior = c.prior ?? record.latentPrior.flatMap(LatentDistribution.init(rawValue:))
            ?? LatentDistribution.prior(forTrainingMethod: record.method)
        let a = c.measurements.map { m -> MeasurementMatrix<Float> in
            var rng = SplitMix64.stream(seed: c.seed, 1 << 32)
            return MeasurementMatrix.gaussian(m: m, n: n, rng: &rng)
        }
        problem = InversionProblem(network: network, measurement: a)
        let restarts = c.method == .restarts ? c.restarts : 1
        switch c.target {
        case .inRange:
            trials = InversionTrials.inRange(generator: problem, count: c.trials, distribution: prior, restarts: restarts, seed: c.seed)
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
            trials = InversionTrials.signals(y, latentSize: k, distribution: prior, restarts: restarts, seed: c.seed)
        }
        var s = InversionSettings()
        s.method = c.method; s.learningRate = c.lr; s.tolerance = c.tolerance; s.finalSteps = c.steps
        s.clip = c.clip == .on || (c.clip == .auto && prior == .uniform)
        s.schedule = c.schedule; s.firstSteps = c.firstSteps; s.minSteps = c.minSteps; s.stepsPerSnapshot = c.stepsPerSnapshot
        s.snapshots = c.snapshots; s.snapshotGradientTolerance = c.snapshotGtol; s.restarts = c.restarts; s.restartSteps = c.restartSteps
        let window = c.plateauWindow ?? (c.target == .testImages ? 1000 : 0)
        s.plateauWindow = window > 0 ? window : nil
        // Default: every trial in one batch, but no more than 1024 rows (restarts count as rows),
        // which bounds the activations held for the backward pass.
        s.batchSize = c.batchSize ?? 1024
        s.tau = c.tau; s.maxPieces = c.maxPieces; s.pieceSteps = c.pieceSteps; s.pieceRounds = c.pieceRounds
        let snaps = GeneratorSnapshots(steps: reader.snapshotSteps) { try reader.values(at: $0, for: network) }
        snapshotCount = snaps.count
        inverter = Inverter(problem: problem, snapshots: snaps, settings: s)
        switch c.method {
        case .adam: phaseBudgets = [c.steps]; snapshotsUsed = 1
        case .restarts: phaseBudgets = [c.restartSteps]; snapshotsUsed = 1
        case .surfing, .projected:
            let visit = snaps.indices(using: c.snapshots)
            snapshotsUsed = visit.count
            phaseBudgets = visit.enumerated().map { j, t in
                if c.method == .projected { return j == 0 ? s.schedule.steps(0, first: s.firstSteps, min: s.minSteps, uniform: s.stepsPerSnapshot) : s.pieceSteps }
                return t == snaps.count - 1 ? c.steps
                    : s.schedule.steps(j, first: s.firstSteps, min: s.minSteps, uniform: s.stepsPerSnapshot)
            }
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
