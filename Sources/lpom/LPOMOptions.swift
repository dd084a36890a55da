import ArgumentParser
import LiftedTrain
import MPITransport

extension LPOMSweep: ExpressibleByArgument {}
extension LPOMGramSystem: ExpressibleByArgument {}
extension LPOMWeightStep: ExpressibleByArgument {}

/// Options of `lpom train --method lpom`: one flag per field of `LPOMConfiguration` (whose
/// defaults they show), and `makeTrainer` building the LPOM trainer from them. The loss comes
/// from the general `--loss` flag, the output activation from `--output-activation`.
struct LPOMOptions: ParsableArguments {
    static let defaults = LPOMConfiguration()

    @Option(parsing: .number, help: ArgumentHelp("LPOM penalty μ: one value for every layer, or a comma-separated list with one value per dense layer (input side first).",
                               discussion: "μ of the last layer acts as an inverse step size; the ratios μ[k+1]/μ[k] set the contraction of the hidden fixed points."))
    var mu: String = LPOMOptions.defaults.mu.map { formatNumber($0) }.joined(separator: ",")

    @Option(help: "Order of the activation sweeps: gauss-seidel (output to input, one level after another) or jacobi (all levels at once, in parallel).")
    var sweep: LPOMSweep = LPOMOptions.defaults.sweep

    @Option(parsing: .number, help: "Cap on the fixed-point sweeps of one X-update.")
    var fixedPointIterations: Int = LPOMOptions.defaults.fixedPointIterations

    @Option(parsing: .number, help: "Stop the sweeps when the largest relative change of an activation block is below this.")
    var fixedPointTolerance: Double = LPOMOptions.defaults.fixedPointTolerance

    @Option(parsing: .number, help: "Relaxation θ of the fixed-point step X ← X + θ(φ(…) − X): 0 = automatic from the contraction estimate, 1 = the paper's plain iteration.")
    var relaxation: Double = LPOMOptions.defaults.relaxation

    @Option(parsing: .number, help: "Accelerated proximal-gradient (FISTA) steps per W-update (the cap when --apg-tolerance is set).")
    var apgIterations: Int = LPOMOptions.defaults.apgIterations

    @Option(parsing: .number, help: ArgumentHelp("Stop a layer's FISTA steps once ‖ΔW̃‖_F ≤ τ·‖W̃‖_F (W̃ = [W, b] at the start of the W-update); 0 = always --apg-iterations steps.",
                               discussion: "With a small --ridge this solves the W-subproblem to convergence, the paper's pseudo-inverse step."))
    var apgTolerance: Double = LPOMOptions.defaults.apgTolerance

    @Flag(inversion: .prefixedNo, help: "Restart the APG momentum when it points against the last step.")
    var apgRestart: Bool = LPOMOptions.defaults.apgRestart

    @Option(parsing: .number, help: "Ridge of the regularised pseudo-inverse (X̃ᵀX̃ + εI)⁻¹ in the W-update (relative to the layer input scale unless --no-relative-ridge): small = fit the batch (Gauss–Newton), large = gradient step 1/(βε).")
    var ridge: Double = LPOMOptions.defaults.ridge

    @Flag(inversion: .prefixedNo, help: "Scale --ridge by the mean squared row norm of each layer input (ε = ridge·mean‖x̃‖²); without it ε = ridge for every layer.")
    var relativeRidge: Bool = LPOMOptions.defaults.relativeRidge

    @Option(help: "Metric of the W-update: pseudo-inverse (the paper's step through the regularised pseudo-inverse) or gradient (plain FISTA step 1/(β‖X̃‖₂²), no linear solve).")
    var weightStep: LPOMWeightStep = LPOMOptions.defaults.weightStep

    @Option(help: "Gram system of the pseudo-inverse: auto (the smaller), batch (b × b) or features ((d+1) × (d+1)).")
    var gramSystem: LPOMGramSystem = LPOMOptions.defaults.gramSystem

    @Option(parsing: .number, help: "X-update / W-update alternations per mini-batch.")
    var alternations: Int = LPOMOptions.defaults.alternations

    @Flag(help: "Run the per-layer updates one after another instead of concurrently (always so with --threads 1, except under mpirun).")
    var serial = false

    @Flag(inversion: .prefixedNo, help: "Record the LPOM objective and optimality residuals after every step (about one extra forward and backward pass).")
    var lpomDiagnostics: Bool = LPOMOptions.defaults.diagnostics

    /// The μ list parsed from `--mu`.
    var muValues: [Double] {
        get throws {
            let parts = mu.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            return try parts.map { p in
                guard let v = Double(p), v > 0, v.isFinite else {
                    throw ValidationError("--mu must be a positive number or a comma-separated list of them (one per dense layer), got '\(mu)'")
                }
                return v
            }
        }
    }

    func validate() throws {
        _ = try muValues
        guard fixedPointIterations >= 1 else { throw ValidationError("--fixed-point-iterations must be at least 1, got \(fixedPointIterations)") }
        guard fixedPointTolerance >= 0, fixedPointTolerance.isFinite else {
            throw ValidationError("--fixed-point-tolerance must be ≥ 0, got \(fixedPointTolerance)")
        }
        guard relaxation >= 0, relaxation < 2 else {
            throw ValidationError("--relaxation must be in [0, 2) (0 = automatic, 1 = plain fixed point), got \(relaxation)")
        }
        guard apgIterations >= 1 else { throw ValidationError("--apg-iterations must be at least 1, got \(apgIterations)") }
        guard apgTolerance >= 0, apgTolerance.isFinite else {
            throw ValidationError("--apg-tolerance must be ≥ 0 (0 = always --apg-iterations steps), got \(apgTolerance)")
        }
        guard ridge >= 0, ridge.isFinite else { throw ValidationError("--ridge must be ≥ 0, got \(ridge)") }
        guard alternations >= 1 else { throw ValidationError("--alternations must be at least 1, got \(alternations)") }
    }

    /// The configuration these flags describe.
    func configuration() throws -> LPOMConfiguration {
        var c = LPOMConfiguration()
        c.mu = try muValues
        c.sweep = sweep
        c.fixedPointIterations = fixedPointIterations
        c.fixedPointTolerance = fixedPointTolerance
        c.relaxation = relaxation
        c.apgIterations = apgIterations
        c.apgTolerance = apgTolerance
        c.apgRestart = apgRestart
        c.ridge = ridge
        c.relativeRidge = relativeRidge
        c.gramSystem = gramSystem
        c.weightStep = weightStep
        c.alternations = alternations
        c.parallel = !serial
        c.diagnostics = lpomDiagnostics
        return c
    }

    /// The LPOM trainer for `network` minimising `loss`. LPOM draws no random numbers (the
    /// activations start from a forward pass), so `seed` is unused.
    /// The per-layer tasks run concurrently only when the network's context has more than one
    /// worker: `--threads 1` is one core (OpenBLAS on one thread and no concurrent tasks). Ranks
    /// started by mpirun keep their concurrent tasks, as measured in notebook 06 (the async
    /// layer-parallel exchange was tuned with them).
    func makeTrainer(network: Network<Float>, loss: LossKind, seed: UInt64) throws -> any Trainer<Float> {
        var config = try configuration()
        if network.context.workers <= 1 && !MPICommunicator.launchedByMPIRun { config.parallel = false }
        let dense = network.spec.layers.filter { $0.type == "dense" }.count
        guard config.mu.count == 1 || config.mu.count == dense else {
            throw ValidationError("--mu has \(config.mu.count) values but the network has \(dense) dense layers; give one value or \(dense)")
        }
        do {
            return try LPOMTrainer<Float>(network: network, loss: loss, configuration: config)
        } catch let e as TrainingError {
            throw ValidationError(reported(e))
        } catch let e as ModelError {
            throw ValidationError(e.description)
        }
    }
}

private func formatNumber(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
}
