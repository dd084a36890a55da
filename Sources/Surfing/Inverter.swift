import Foundation
import LiftedTrain
import Synchronization

/// How the latent x is searched for.
public enum InversionMethod: String, CaseIterable, Sendable {
    /// Adam on the final network only ("regular Adam" in the paper's tables).
    case adam
    /// Bora et al. (2017): R random restarts × S Adam steps on the final network, keep the lowest loss.
    case restarts
    /// Song, Fan & Lafferty (2019), Algorithm 3.1 with Adam: warm-started through the snapshots.
    case surfing
    /// Algorithm 3.2: projected-gradient surfing over the linear pieces near x (ReLU dense generators).
    case projected
}

/// How the steps of the intermediate snapshots θ_0 … θ_{T−1} are budgeted.
public enum SnapshotSchedule: String, CaseIterable, Sendable {
    /// Front-loaded: `firstSteps` on θ_0 (x must first reach the minimiser of f_0 from a random
    /// start), then halving at every snapshot down to `minSteps` (later snapshots move the
    /// minimiser a little, so a warm start needs few steps). Our reading of the authors'
    /// "front-loaded" budget, whose exact numbers the paper does not give.
    case frontLoaded = "front-loaded"
    /// `stepsPerSnapshot` on every intermediate snapshot.
    case uniform
    /// The authors' released GD_surfing.py (github jdlafferty/surfing, codes/Fashion-MNIST/<MODEL>):
    /// weights [4000×2, 2000×4, 1000×8, 500×16, 250×32, 125×37] over the 99 intermediate
    /// networks, rescaled so that they sum to `prefinalBudget` (the authors: regular Adam's mean
    /// iteration count) and rounded half to even (`np.round`). See `PaperSchedule`.
    case paper

    /// Steps on intermediate snapshot number `j` (0 = the first visited); `.paper` needs the
    /// count and total, see `PaperSchedule` (here it answers `uniform`).
    public func steps(_ j: Int, first: Int, min lo: Int, uniform: Int) -> Int {
        switch self {
        case .uniform, .paper: return uniform
        case .frontLoaded:
            var s = first
            for _ in 0..<min(j, 62) { s /= 2; if s <= lo { break } }
            return Swift.max(lo, s)
        }
    }
}

/// The authors' per-snapshot budget (GD_surfing.py): published weights over 99 intermediate
/// networks, rescaled to a total and rounded half to even as `np.round` does.
public enum PaperSchedule {
    /// The published weights, one per intermediate network (2 + 4 + 8 + 16 + 32 + 37 = 99).
    public static let weights: [Double] = [Double](repeating: 4000, count: 2) + [Double](repeating: 2000, count: 4)
        + [Double](repeating: 1000, count: 8) + [Double](repeating: 500, count: 16)
        + [Double](repeating: 250, count: 32) + [Double](repeating: 125, count: 37)

    /// Steps on each of `count` intermediate networks summing to about `budget`. For 99 networks
    /// exactly the released code's `np.round(grid / sum(grid) * budget)`; for another count
    /// (fewer snapshots, the homotopy ablation) network j takes the weight at the same relative
    /// position, 99·j/count, so the shape of the schedule is kept.
    public static func steps(count: Int, budget: Int) -> [Int] {
        guard count > 0 else { return [] }
        let w = (0..<count).map { weights[min(weights.count - 1, $0 * weights.count / count)] }
        let total = w.reduce(0, +)
        return w.map { Int(($0 / total * Double(budget)).rounded(.toNearestOrEven)) }
    }
}

/// Settings of an inversion run (defaults: the paper's protocol).
public struct InversionSettings: Sendable {
    /// Method.
    public var method: InversionMethod = .surfing
    /// Adam on x (Kingma & Ba): η, β₁, β₂, ε — the paper's 0.01, 0.9, 0.999, 1e-8.
    public var learningRate = 0.01, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    /// Clip x to [−1, 1] after every step (GAN latents).
    public var clip = true
    /// Success: ‖x − x*‖ < tolerance (0.01 in the paper); a trial stops when it gets there.
    public var tolerance = 0.01
    /// Step budget on the final network (the paper: up to 60,000).
    public var finalSteps = 60_000
    /// Intermediate-snapshot schedule and its numbers.
    public var schedule: SnapshotSchedule = .frontLoaded
    public var firstSteps = 1000, minSteps = 50, stepsPerSnapshot = 100
    /// Schedule `.paper`: the total of the intermediate networks' steps.
    public var prefinalBudget = 6_687
    /// Visit about K + 1 snapshots (every ⌈T/K⌉-th); nil visits all.
    public var snapshots: Int? = nil
    /// Surfing starts at this snapshot index (0: θ_0; the authors' code starts at checkpoint
    /// `inter`, index 1 of a history saved every `inter` steps from step 0).
    public var firstSnapshot = 0
    /// Adam step on the final network when it differs from `learningRate` (the authors'
    /// compressX.py: step/5 there); nil: `learningRate`.
    public var finalLearningRate: Double? = nil
    /// On the final network, a trial stops once ‖∇f(x)‖ < this (compressX.py's test, which it
    /// applies on every network); nil: only success, plateau or the budget stop it.
    public var finalGradientTolerance: Double? = nil
    /// On an intermediate snapshot, a trial ends its phase early once ‖∇f_t(x)‖ < this (our
    /// addition: the paper's "until convergence" with no test given); nil spends the whole budget.
    public var snapshotGradientTolerance: Double? = nil
    /// Random restarts R × steps S (Bora et al.: 10 × 1000).
    public var restarts = 10, restartSteps = 1000
    /// Stop a trial on the final network when its loss fell by less than `plateauTolerance`
    /// (relative) over `plateauWindow` steps; nil: only success or the budget stops it. Used
    /// when x* is unknown (real images), where success cannot be tested.
    public var plateauWindow: Int? = nil
    public var plateauTolerance = 1e-4
    /// Trials processed together (one row each in every BLAS product); 1 = one at a time.
    public var batchSize = 1 << 30
    /// Projected-gradient surfing: slack τ, piece cap, projected-gradient steps per piece and
    /// its step size η (nil: 1/L from a power-iteration estimate of ‖J‖²).
    public var tau = 0.05, maxPieces = 64, pieceSteps = 200
    public var pieceStepSize: Double? = nil
    /// Projected: rounds of the piece search per snapshot, each re-centred at the previous round's
    /// best x, until x stops moving. 1 is Algorithm 3.2 as written (one round per snapshot,
    /// enough when the snapshots are close); more rounds let x cross several pieces per snapshot.
    public var pieceRounds = 1
    /// Projected: rounds on the final network (nil: `pieceRounds`); the analysed algorithm
    /// iterates there until x stops moving.
    public var finalPieceRounds: Int? = nil
    /// Projected, identity output: each piece's convex QP solved exactly (`exactPieceMinimum`)
    /// instead of `pieceSteps` projected-gradient steps.
    public var exactPieces = false

    /// Defaults.
    public init() {}
}

/// The outcome of one trial.
public struct TrialResult: Sendable {
    /// x̂.
    public var x: [Double]
    /// f(x̂) on the final network.
    public var loss: Double
    /// Steps taken in all (every snapshot, every restart).
    public var iterations: Int
    /// Steps taken on the final network.
    public var finalIterations: Int
    /// ‖x̂ − x*‖ (nil when x* is unknown).
    public var distance: Double?
    /// ‖x̂ − x*‖ < tolerance (nil when x* is unknown).
    public var success: Bool?
    /// Per-pixel RMSE √(‖G(x̂) − y‖²/n) on the final network.
    public var rmse: Double
    /// Projected method: linear pieces searched in all.
    public var pieces: Int = 0

    /// A result with every field given (results gathered from other processes).
    public init(x: [Double], loss: Double, iterations: Int, finalIterations: Int, distance: Double? = nil,
                success: Bool? = nil, rmse: Double, pieces: Int = 0) {
        self.x = x; self.loss = loss; self.iterations = iterations; self.finalIterations = finalIterations
        self.distance = distance; self.success = success; self.rmse = rmse; self.pieces = pieces
    }
}

/// Progress of a run: phase (snapshot) number, phases, and the steps done in the phase.
public struct InversionProgress: Sendable {
    public var phase: Int, phases: Int, step: Int, phaseSteps: Int, active: Int
}

/// Runs an inversion method over a generator's snapshots for a set of trials.
public final class Inverter<Scalar: NNScalar> {
    /// The objective (its network receives each snapshot in turn).
    public let problem: InversionProblem<Scalar>
    /// The generator's training snapshots (the last is the final network).
    public let snapshots: GeneratorSnapshots
    /// Settings.
    public let settings: InversionSettings
    /// Called now and then with the run's progress (on the calling thread).
    public var progress: ((InversionProgress) -> Void)?
    /// Workers that descend groups of the trials at once (nil: every descent on `problem` alone).
    public let workers: InversionWorkers<Scalar>?
    /// Save the descents on the final network here, and continue saved ones (nil: no checkpoints).
    public var checkpoint: InversionCheckpoint?

    /// An inverter for `problem` over `snapshots`; with `workers` (made for `problem`), the Adam
    /// descents split their trials over them.
    public init(problem: InversionProblem<Scalar>, snapshots: GeneratorSnapshots, settings: InversionSettings,
                workers: InversionWorkers<Scalar>? = nil) {
        precondition(workers.map { $0.problem === problem } ?? true, "Inverter: workers made for another problem")
        self.problem = problem; self.snapshots = snapshots; self.settings = settings; self.workers = workers
    }

    /// The final network's snapshot index.
    var last: Int { snapshots.count - 1 }

    /// Inverts every trial; the network holds the final snapshot afterwards.
    public func run(_ trials: InversionTrials<Scalar>) throws -> [TrialResult] {
        precondition(snapshots.count > 0, "Inverter: no snapshots")
        switch settings.method {
        case .adam: return try runAdam(trials, restarts: 1, steps: settings.finalSteps)
        case .restarts: return try runAdam(trials, restarts: settings.restarts, steps: settings.restartSteps)
        case .surfing: return try runSurfing(trials)
        case .projected: return try runProjected(trials)
        }
    }

    // MARK: Adam and restarts

    private func runAdam(_ trials: InversionTrials<Scalar>, restarts: Int, steps: Int) throws -> [TrialResult] {
        try snapshots.load(last, into: problem.network)
        let n = trials.count, r = min(restarts, trials.starts.count)
        // Rows are (restart, trial) pairs, restart-major.
        var x = Tensor<Scalar>(zeros: [r * n, problem.latentSize])
        for j in 0..<r { scatter(trials.starts[j], into: &x, rows: Array(j * n..<(j + 1) * n)) }
        let signals = tile(trials.signals, r), truth = trials.truth.map { tile($0, r) }
        let rowTrials = (0..<(r * n)).map { $0 % n }
        let state = DescentState(x: x, measured: problem.measure(signals, trials: rowTrials), truth: truth, trialCount: n)
        try descend(state, rows: Array(0..<(r * n)), steps: steps, final: true, phase: 0, phases: 1)
        // Keep each trial's lowest-loss restart.
        let losses = problem.values(generated: generate(state.x), measuredTargets: state.measured, trials: rowTrials)
        var best = Array(0..<n), iterations = [Int](repeating: 0, count: n)
        for i in 0..<n {
            for j in 0..<r {
                iterations[i] += state.iterations[j * n + i]
                if losses[j * n + i] < losses[best[i]] || !losses[best[i]].isFinite { best[i] = j * n + i }
            }
        }
        return results(x: gather(state.x, best), trials: trials, iterations: iterations,
                       finalIterations: iterations)
    }

    // MARK: Surfing

    /// The snapshots surfing visits, in order (from `firstSnapshot`, every ⌈T/K⌉-th with
    /// `snapshots` K, always ending at the final network).
    public func visitedSnapshots() -> [Int] {
        let all = snapshots.indices(using: settings.snapshots, from: settings.firstSnapshot)
        return all
    }

    /// Step budget of each visited snapshot (the last is the final network's `finalSteps`).
    public func phaseBudgets() -> [Int] {
        let visit = visitedSnapshots()
        let intermediate = visit.count - 1
        let s = settings
        var out: [Int]
        switch s.schedule {
        case .paper: out = PaperSchedule.steps(count: intermediate, budget: s.prefinalBudget)
        case .frontLoaded, .uniform:
            out = (0..<intermediate).map { s.schedule.steps($0, first: s.firstSteps, min: s.minSteps, uniform: s.stepsPerSnapshot) }
        }
        out.append(s.finalSteps)
        return out
    }

    private func runSurfing(_ trials: InversionTrials<Scalar>) throws -> [TrialResult] {
        let visit = visitedSnapshots(), budgets = phaseBudgets()
        let all = Array(0..<trials.count)
        let state = DescentState(x: trials.starts[0], measured: problem.measure(trials.signals, trials: all), truth: trials.truth)
        let k = problem.latentSize
        var first = 0
        // A checkpointed run continues after the last intermediate snapshot it finished.
        if let c = checkpoint, let saved = try PhaseCheckpoint.load(c.phasesPath, fingerprint: c.fingerprint, phases: visit.count,
                                                                   trials: trials.count, latent: k) {
            state.x = Tensor(shape: [trials.count, k], data: ChunkCheckpoint.values(saved.x, count: trials.count * k)!)   // size checked
            state.iterations = saved.iterations
            first = saved.phase + 1
        }
        for (j, t) in visit.enumerated() where j >= first {
            try snapshots.load(t, into: problem.network)
            let isFinal = j == visit.count - 1
            if isFinal { state.iterationsBeforeFinal = state.iterations }
            try descend(state, rows: all, steps: budgets[j], final: isFinal, phase: j, phases: visit.count)
            if let c = checkpoint, !isFinal {
                try PhaseCheckpoint(fingerprint: c.fingerprint, phase: j, phases: visit.count, trials: trials.count, latent: k,
                                    x: ChunkCheckpoint.hex(state.x.data), iterations: state.iterations).save(to: c.phasesPath)
                c.saveTime(tag: "phases")
                if InversionCheckpoint.interruptAfterPhase?(j) == true { throw InversionInterrupted() }
            }
        }
        return results(x: state.x, trials: trials, iterations: state.iterations,
                       finalIterations: zip(state.iterations, state.iterationsBeforeFinal).map { $0 - $1 })
    }

    // MARK: The batched Adam descent

    /// Everything the trials carry between phases: x, Ay, x*, and step counts.
    final class DescentState {
        var x: Tensor<Scalar>
        let measured: Tensor<Scalar>
        let truth: Tensor<Scalar>?
        var iterations: [Int]
        var iterationsBeforeFinal: [Int]
        /// Trials N: state row r is trial r mod N (restarts stack N rows per restart).
        let trialCount: Int
        init(x: Tensor<Scalar>, measured: Tensor<Scalar>, truth: Tensor<Scalar>?, trialCount: Int? = nil) {
            self.x = x; self.measured = measured; self.truth = truth
            iterations = [Int](repeating: 0, count: x.rows); iterationsBeforeFinal = iterations
            self.trialCount = trialCount ?? x.rows
        }
        /// The trial of each state row in `rows`.
        func trialsOf(_ rows: [Int]) -> [Int] { rows.map { $0 % trialCount } }
    }

    /// Adam (state reset) for at most `steps` steps on `rows`, in chunks of `batchSize` rows. On
    /// the final network a row leaves its batch (which is compacted) once ‖x − x*‖ < tolerance,
    /// its loss plateaus (when enabled) or turns non-finite. With `workers`, the rows are first
    /// cut into contiguous groups that descend at once, one per worker (`InversionWorkers`).
    /// On the final network with a `checkpoint`, each chunk continues its saved descent and saves
    /// as it goes; a checkpoint that cannot be continued, or an interruption, is thrown once
    /// every group has stopped.
    func descend(_ s: DescentState, rows: [Int], steps: Int, final: Bool, phase: Int, phases: Int) throws {
        guard steps > 0 else { return }
        let parts = workers?.context.parts(rows.count) ?? 1
        guard parts > 1, let workers else {
            let out = descendGroup(s, rows: rows[...], problem: problem, steps: steps, final: final) { step, active in
                self.progress?(InversionProgress(phase: phase, phases: phases, step: step, phaseSteps: steps, active: active))
            }
            if let e = out.failure { throw e }
            finish(s, rows: rows[...], out)
            return
        }
        let problems = workers.problems(count: parts)
        let groups = (0..<parts).map { GroupState(active: ComputeContext.range($0, of: parts, count: rows.count).count) }
        workers.context.run(rows.count, parts: parts) { i, range in
            let report: (Int, Int) -> Void = { step, active in
                groups[i].active.store(active, ordering: .relaxed)
                guard i == 0, let progress = self.progress else { return }   // the caller's thread reports
                let all = groups.reduce(0) { $0 + $1.active.load(ordering: .relaxed) }
                progress(InversionProgress(phase: phase, phases: phases, step: step, phaseSteps: steps, active: all))
            }
            groups[i].outcome = descendGroup(s, rows: rows[range], problem: problems[i], steps: steps, final: final, report: report)
            groups[i].active.store(0, ordering: .relaxed)
        }
        if let e = groups.lazy.compactMap({ $0.outcome?.failure }).first(where: { !($0 is InversionInterrupted) })
            ?? groups.lazy.compactMap({ $0.outcome?.failure }).first {
            throw e
        }
        for (i, g) in groups.enumerated() {
            finish(s, rows: rows[ComputeContext.range(i, of: parts, count: rows.count)], g.outcome!)
        }
    }

    /// G(x) `[b, n]` (eval mode), the rows split over the workers as in `descend`.
    func generate(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let parts = workers?.context.parts(x.rows) ?? 1
        guard parts > 1, let workers else { return problem.generate(x) }
        let problems = workers.problems(count: parts), n = problem.signalSize
        var g = Tensor<Scalar>(zeros: [x.rows, n])
        g.data.withUnsafeMutableBufferPointer { pg in
            let out = pg.baseAddress!   // each part writes its own rows
            workers.context.run(x.rows, parts: parts) { i, range in
                let part = problems[i].generate(gather(x, Array(range)))
                part.data.withUnsafeBufferPointer { (out + range.lowerBound * n).update(from: $0.baseAddress!, count: $0.count) }
            }
        }
        return g
    }

    /// One worker's group of a descent: its outcome, and its rows still descending (for progress).
    private final class GroupState: @unchecked Sendable {
        let active: Atomic<Int>
        var outcome: GroupOutcome?
        init(active: Int) { self.active = Atomic(active) }
    }

    /// Where a group's rows ended: x̂ `[rows, k]` and the steps each took, in the group's row order;
    /// or why it stopped early (a checkpoint it could not continue or save, an interruption).
    private struct GroupOutcome {
        var x: Tensor<Scalar>
        var iterations: [Int]
        var failure: Error?
    }

    /// Writes a group's outcome into the state.
    private func finish(_ s: DescentState, rows: ArraySlice<Int>, _ out: GroupOutcome) {
        scatter(out.x, into: &s.x, rows: Array(rows))
        for (j, r) in rows.enumerated() { s.iterations[r] += out.iterations[j] }
    }

    /// The descent of `rows` on `problem` in chunks of `batchSize` rows; reads the state, writes nothing to it.
    private func descendGroup(_ s: DescentState, rows: ArraySlice<Int>, problem: InversionProblem<Scalar>, steps: Int,
                              final: Bool, report: (Int, Int) -> Void) -> GroupOutcome {
        var out = GroupOutcome(x: Tensor(zeros: [rows.count, problem.latentSize]), iterations: [])
        let chunk = max(1, settings.batchSize)
        var start = rows.startIndex
        while start < rows.endIndex {
            let part = rows[start..<min(rows.endIndex, start + chunk)]
            let o = descendChunk(s, rows: part, problem: problem, steps: steps, final: final, report: report)
            if let e = o.failure { out.failure = e; return out }
            out.x.data.withUnsafeMutableBufferPointer { d in
                o.x.data.withUnsafeBufferPointer { (d.baseAddress! + out.iterations.count * problem.latentSize).update(from: $0.baseAddress!, count: $0.count) }
            }
            out.iterations += o.iterations
            start += chunk
        }
        return out
    }

    private func descendChunk(_ s: DescentState, rows initial: ArraySlice<Int>, problem: InversionProblem<Scalar>, steps: Int,
                              final: Bool, report: (Int, Int) -> Void) -> GroupOutcome {
        let k = problem.latentSize
        var rows = Array(initial)
        // Where each row still descending writes its x̂ and counts its steps.
        var slots = Array(0..<rows.count)
        var out = GroupOutcome(x: Tensor(zeros: [rows.count, k]), iterations: [Int](repeating: 0, count: rows.count))
        var x = gather(s.x, rows), ay = gather(s.measured, rows)
        var truth = final ? s.truth.map { gather($0, rows) } : nil
        var m = Tensor<Scalar>(zeros: [rows.count, k]), v = m
        var grad = Tensor<Scalar>(zeros: [rows.count, k])
        let (b1, b2) = (settings.beta1, settings.beta2)
        let lr = Scalar(final ? settings.finalLearningRate ?? settings.learningRate : settings.learningRate)
        let eps = Scalar(settings.epsilon)
        let gradientTolerance = final ? settings.finalGradientTolerance : settings.snapshotGradientTolerance
        let window = final ? settings.plateauWindow : nil
        var reference = [Double](repeating: .infinity, count: rows.count)
        var step = 0
        let saving = final ? checkpoint : nil
        let file = saving.map { $0.path(rows: rows) }
        let entry = saving.map { _ in x.data }
        if let saving, let file, let entry {
            do {
                if let c = try ChunkCheckpoint.load(file, fingerprint: saving.fingerprint, rows: rows, entry: entry, latent: k) {
                    // Only regular Adam's fingerprint leaves the budget out (lpom's checkpointFingerprint).
                    guard c.step <= steps else {
                        throw CheckpointError(file, "was saved at step \(c.step) on the final network, beyond this run's \(steps) steps; continue it with --steps \(c.step) or more, or delete it to start afresh")
                    }
                    let a = c.slots.count
                    func restore(_ text: String, _ count: Int) -> [Scalar] { ChunkCheckpoint.values(text, count: count)! }   // sizes checked by load
                    slots = c.slots
                    rows = slots.map { Int(initial[initial.startIndex + $0]) }
                    x = Tensor(shape: [a, k], data: restore(c.x, a * k))
                    m = Tensor(shape: [a, k], data: restore(c.m, a * k)); v = Tensor(shape: [a, k], data: restore(c.v, a * k))
                    grad = Tensor(zeros: [a, k])
                    reference = ChunkCheckpoint.values(c.reference, count: a)!
                    out = GroupOutcome(x: Tensor(shape: [initial.count, k], data: restore(c.outX, initial.count * k)), iterations: c.outIterations)
                    ay = gather(s.measured, rows)
                    truth = s.truth.map { gather($0, rows) }   // checkpoints are of the final network only
                    step = c.step
                    report(step, rows.count)
                }
            } catch {
                out.failure = error
                return out
            }
        }
        /// Saves the chunk; true when the run should stop here (a test's interruption, a failed save).
        func save() -> Bool {
            guard let saving, let file, let entry else { return false }
            var current = out
            if !rows.isEmpty { scatter(x, into: &current.x, rows: slots) }
            let c = ChunkCheckpoint(fingerprint: saving.fingerprint, latent: k, rows: Array(initial), entryX: ChunkCheckpoint.hex(entry),
                                    step: step, slots: slots, x: ChunkCheckpoint.hex(x.data), m: ChunkCheckpoint.hex(m.data),
                                    v: ChunkCheckpoint.hex(v.data), reference: ChunkCheckpoint.hex(reference),
                                    outX: ChunkCheckpoint.hex(current.x.data), outIterations: current.iterations)
            do { try c.save(to: file) } catch {
                out.failure = CheckpointError(file, "cannot be written (\(error)); the run stops so that it can be continued from the last one saved")
                return true
            }
            saving.saveTime(tag: "chunk-\(initial.first ?? 0)")
            if InversionCheckpoint.interruptAfterSave?(step) == true { out.failure = InversionInterrupted(); return true }
            return false
        }
        while step < steps && !rows.isEmpty {
            step += 1
            let f = problem.valuesAndGradients(x, measuredTargets: ay, gradient: &grad, trials: s.trialsOf(rows))
            let c1 = Scalar(1 - pow(b1, Double(step))), c2 = Scalar(1 - pow(b2, Double(step)))
            x.data.withUnsafeMutableBufferPointer { px in
                grad.data.withUnsafeBufferPointer { pg in
                    m.data.withUnsafeMutableBufferPointer { pm in
                        v.data.withUnsafeMutableBufferPointer { pv in
                            Scalar.adamStep(p: px, g: pg, m: pm, v: pv, lr: lr, beta1: Scalar(b1), beta2: Scalar(b2),
                                            eps: eps, correction1: c1, correction2: c2)
                        }
                    }
                }
                if settings.clip { Scalar.clamp(px, lo: -1, hi: 1) }
            }
            for j in slots { out.iterations[j] += 1 }
            // Which rows stop here.
            var keep = [Int]()
            keep.reserveCapacity(rows.count)
            let dist = truth.map { rowDistances(x, $0) }
            // compressX.py tests ‖∇f‖ before its step; here after it, on the gradient just used.
            let gradientNorms = gradientTolerance != nil ? rowSquaredNorms(grad) : nil
            let checkPlateau = window.map { step % $0 == 0 } ?? false
            for i in rows.indices {
                var done = !f[i].isFinite
                if final, let d = dist, d[i] < settings.tolerance { done = true }
                if let g = gradientNorms, let tol = gradientTolerance, g[i] < tol * tol { done = true }
                if checkPlateau {
                    if reference[i].isFinite && reference[i] - f[i] <= settings.plateauTolerance * reference[i] { done = true }
                    reference[i] = f[i]
                }
                if !done { keep.append(i) }
            }
            if keep.count < rows.count {
                scatter(x, into: &out.x, rows: slots)
                x = gather(x, keep); ay = gather(ay, keep); m = gather(m, keep); v = gather(v, keep)
                truth = truth.map { gather($0, keep) }
                reference = keep.map { reference[$0] }
                rows = keep.map { rows[$0] }
                slots = keep.map { slots[$0] }
            }
            if step % 10 == 0 || step == steps || rows.isEmpty { report(step, rows.count) }
            if let every = saving?.every, step % every == 0 || step == steps || rows.isEmpty, save() { return out }
        }
        if !rows.isEmpty { scatter(x, into: &out.x, rows: slots) }
        return out
    }

    // MARK: Results

    /// Per-trial results on the final network (which the network must hold).
    func results(x: Tensor<Scalar>, trials: InversionTrials<Scalar>, iterations: [Int], finalIterations: [Int],
                 pieces: [Int]? = nil) -> [TrialResult] {
        let g = generate(x)
        let all = Array(0..<trials.count)
        let loss = problem.values(generated: g, measuredTargets: problem.measure(trials.signals, trials: all), trials: all)
        var diff = g
        diff.add(trials.signals.reshaped([g.rows, g.cols]), scaledBy: -1)
        let sq = rowSquaredNorms(diff), n = Double(problem.signalSize)
        let dist = trials.truth.map { rowDistances(x, $0) }
        let xd = Scalar.toDoubles(x.data), k = problem.latentSize
        return (0..<trials.count).map { i in
            TrialResult(x: Array(xd[i * k..<(i + 1) * k]), loss: loss[i], iterations: iterations[i],
                        finalIterations: finalIterations[i], distance: dist?[i],
                        success: dist.map { $0[i] < settings.tolerance }, rmse: (sq[i] / n).squareRoot(),
                        pieces: pieces?[i] ?? 0)
        }
    }
}

/// `r` copies of a 2-D tensor's rows stacked.
func tile<Scalar: NNScalar>(_ t: Tensor<Scalar>, _ r: Int) -> Tensor<Scalar> {
    let flat = t.reshaped([t.rows, t.cols])
    guard r > 1 else { return flat }
    var data = [Scalar]()
    data.reserveCapacity(flat.count * r)
    for _ in 0..<r { data.append(contentsOf: flat.data) }
    return Tensor(shape: [t.rows * r, t.cols], data: data)
}
