import ArgumentParser
import Foundation
import LiftedTrain

extension TrainMethod {
    /// The lifted method this is (admm, bcd, penalty, askari), nil for the others.
    var lifted: LiftedMethod? { LiftedMethod(rawValue: rawValue) }
}

/// Options of `lpom train --method admm|bcd|penalty|askari`: one flag per field of
/// `LiftedConfiguration` (whose defaults they show), and `makeTrainer`. The lifted methods are
/// full-batch (their variables live per sample): one step is one iteration on the whole
/// training set, so an epoch is one iteration and --batch-size does not apply.
struct LiftedOptions: ParsableArguments {
    static let defaults = LiftedConfiguration()

    @Option(parsing: .number, help: "ADMM β: weight of ‖z_l − W_l a_{l−1}‖² (Taylor et al. 2016).")
    var admmBeta: Double = LiftedOptions.defaults.admmBeta

    @Option(parsing: .number, help: "ADMM γ: weight of ‖a_l − h(z_l)‖².")
    var admmGamma: Double = LiftedOptions.defaults.admmGamma

    @Option(parsing: .number, help: "ADMM iterations (epochs) at the start without the Lagrange multiplier update.")
    var admmWarmStart: Int = LiftedOptions.defaults.admmWarmStart

    @Option(parsing: .number, help: "BCD γ: weight of ‖V − σ(U)‖²/2 (Zeng et al. 2019).")
    var bcdGamma: Double = LiftedOptions.defaults.bcdGamma

    @Option(parsing: .number, help: "BCD ρ: weight of ‖U − W V − b‖²/2.")
    var bcdRho: Double = LiftedOptions.defaults.bcdRho

    @Option(parsing: .number, help: "BCD α: proximal weight of the W, U and output updates.")
    var bcdAlpha: Double = LiftedOptions.defaults.bcdAlpha

    @Option(parsing: .number, help: "Quadratic-penalty (MAC) μ at the first iteration (Carreira-Perpiñán & Wang 2014).")
    var penaltyMu: Double = LiftedOptions.defaults.penaltyMu

    @Option(parsing: .number, help: "Quadratic-penalty μ ← μ·growth after every iteration.")
    var penaltyGrowth: Double = LiftedOptions.defaults.penaltyGrowth

    @Option(parsing: .number, help: "Quadratic-penalty gradient steps per block and iteration.")
    var penaltySteps: Int = LiftedOptions.defaults.penaltySteps

    @Option(parsing: .number, help: "Askari λ: weight of ‖X_{l+1} − W_l X_l‖²/2 (Askari et al. 2018).")
    var askariLambda: Double = LiftedOptions.defaults.askariLambda

    @Option(parsing: .number, help: "Askari ridge of the weight updates (relative to the layer input scale).")
    var askariRidge: Double = LiftedOptions.defaults.askariWeightRidge

    @Option(parsing: .number, help: "Askari projected accelerated-gradient steps per non-negative X-update.")
    var askariSteps: Int = LiftedOptions.defaults.askariSteps

    @Option(parsing: .number, help: "Relative ridge of the least-squares weight updates (the regularised pseudo-inverse).")
    var liftedRidge: Double = LiftedOptions.defaults.ridge

    @Option(parsing: .number, help: "Memory the per-sample variables may take, in GB (default: 80% of the available memory).")
    var liftedMemory: Double?

    @Flag(inversion: .prefixedNo, help: "Record the method's objective and residuals after every iteration.")
    var liftedDiagnostics: Bool = LiftedOptions.defaults.diagnostics

    /// The configuration these flags describe (errors name the flag).
    func configuration() throws -> LiftedConfiguration {
        var c = LiftedConfiguration()
        c.admmBeta = admmBeta; c.admmGamma = admmGamma; c.admmWarmStart = admmWarmStart
        c.bcdGamma = bcdGamma; c.bcdRho = bcdRho; c.bcdAlpha = bcdAlpha
        c.penaltyMu = penaltyMu; c.penaltyGrowth = penaltyGrowth; c.penaltySteps = penaltySteps
        c.askariLambda = askariLambda; c.askariWeightRidge = askariRidge; c.askariSteps = askariSteps
        c.ridge = liftedRidge
        c.memoryBudget = liftedMemory.map { $0 * 1e9 } ?? 0.8 * availableMemory()
        c.diagnostics = liftedDiagnostics
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        return c
    }

    func validate() throws {
        if let liftedMemory { guard liftedMemory > 0, liftedMemory.isFinite else { throw ValidationError("--lifted-memory must be a positive number of GB, got \(liftedMemory)") } }
        _ = try configuration()
    }

    /// The trainer of `method` for `network`.
    func makeTrainer(_ method: LiftedMethod, network: Network<Float>) throws -> any Trainer<Float> {
        let c = try configuration()
        do {
            switch method {
            case .admm: return try ADMMTrainer<Float>(network: network, configuration: c)
            case .bcd: return try BCDTrainer<Float>(network: network, configuration: c)
            case .penalty: return try PenaltyTrainer<Float>(network: network, configuration: c)
            case .askari: return try AskariTrainer<Float>(network: network, configuration: c)
            }
        } catch let e as ModelError {
            throw ValidationError(e.description)
        } catch let e as TrainingError {
            throw ValidationError(e.description)
        }
    }
}

/// Bytes of memory available to new allocations (MemAvailable of /proc/meminfo; 0 when unknown,
/// which disables the check).
func availableMemory() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
        let parts = line.split(separator: " ")
        if parts.count >= 2, let kb = Double(parts[1]) { return kb * 1024 }
    }
    return 0
}
