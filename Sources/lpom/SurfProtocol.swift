import ArgumentParser
import Surfing

/// Which protocol fills in the `lpom surf` settings the user did not give.
enum SurfProtocol: String, ExpressibleByArgument, CaseIterable {
    /// lpom's own defaults (front-loaded halving schedule from θ_0, step 0.01, one shared
    /// N(0, 1/m) matrix A).
    case lpom
    /// The authors' released code (github jdlafferty/surfing, codes/Fashion-MNIST/<MODEL>/), see
    /// `PaperProtocol`.
    case paper
}

/// Which network path surfing follows.
enum SurfPath: String, ExpressibleByArgument, CaseIterable {
    /// The saved training snapshots (surfing).
    case history
    /// The straight line from θ_0 to θ_T at the same number of points (the homotopy ablation).
    case linear
}

/// One A for all trials, or a fresh one per trial.
enum MeasurementDraw: String, ExpressibleByArgument, CaseIterable {
    /// One N(0, 1/m) matrix per run (lpom's default: A Gᵀ is one gemm).
    case shared
    /// A fresh N(0, 1) matrix per trial (compressX.py: `M = np.random.randn(n, 784, meas)`).
    case perTrial = "per-trial"
}

/// `--prefinal-budget`: a number, `measured` (regular Adam on the same trials first) or
/// `published` (the authors' own regular-Adam means hard-coded in their GD_surfing.py).
enum PrefinalBudget: ExpressibleByArgument, Equatable {
    case steps(Int), measured, published
    init?(argument: String) {
        switch argument {
        case "measured": self = .measured
        case "published": self = .published
        default:
            guard let n = Int(argument), n >= 0 else { return nil }
            self = .steps(n)
        }
    }
    static var defaultValueDescription: String { "measured" }
}

/// The authors' protocol, setting by setting, with the released file each one follows (all
/// under codes/Fashion-MNIST/<MODEL>/ of github jdlafferty/surfing; MODEL = DCGAN, WGAN,
/// WGAN-GP, VAE). What the user passes explicitly still wins.
enum PaperProtocol {
    /// Adam step on x. GD_surfing.py and GD_regular.py of DCGAN and WGAN-GP: 0.01 at k = 5 and
    /// 10, 0.001 at k = 20 (taken here as k ≥ 20); WGAN's and VAE's files use 0.01 at every k.
    /// compressX.py (DCGAN, WGAN): 0.01 on the intermediate networks, step/5 = 0.002 on the
    /// final one and for regular Adam (`normal_adamGD(..., 0.002, 20000, ...)`), so 0.002
    /// throughout for the methods on the final network alone (`finalNetworkOnly`).
    static func learningRate(model: String, latent k: Int, compressed: Bool, method: InversionMethod) -> Double {
        if compressed { return finalNetworkOnly(method) ? 0.002 : 0.01 }
        return (model == "gan" || model == "wgan-gp") && k >= 20 ? 0.001 : 0.01
    }

    /// Adam step on the final network when it differs from `learningRate`: compressX.py's
    /// `seq_adamGD` divides its step by 5 there (0.002); nil otherwise.
    static func finalLearningRate(compressed: Bool, method: InversionMethod) -> Double? {
        compressed && !finalNetworkOnly(method) ? 0.002 : nil
    }

    /// The gradient stop on every network: `compressedGradientTolerance` in compressed sensing
    /// for the methods that follow `seq_adamGD`; none otherwise (`normal_adamGD` and
    /// GD_surfing.py / GD_regular.py have none).
    static func gradientTolerance(compressed: Bool, method: InversionMethod) -> Double? {
        compressed && !finalNetworkOnly(method) ? compressedGradientTolerance : nil
    }

    /// Steps on the final network: GD_surfing.py and GD_regular.py, `60000`; compressX.py
    /// (A present): regular 20,000, surfing 3000·5 = 15,000 on the final network.
    static func finalSteps(method: InversionMethod, compressed: Bool) -> Int {
        guard compressed else { return 60_000 }
        return finalNetworkOnly(method) ? 20_000 : 15_000
    }

    /// The regular-Adam mean iteration counts the authors hard-coded in GD_surfing.py
    /// (`grid/sum(grid)*618` etc.) as the total of the intermediate networks' budgets, keyed by
    /// the history's training method and k. These are their measurements on their generators;
    /// `--prefinal-budget measured` measures ours.
    static let publishedMeans: [String: [Int: Int]] = [
        "gan": [5: 618, 10: 4560, 20: 18937],
        "wgan": [5: 464, 10: 1227, 20: 3702],
        "wgan-gp": [5: 463, 10: 1915, 20: 15445],
        "vae": [5: 737, 10: 1330, 20: 8215],
    ]

    /// The methods that descend on the final network alone, as compressX.py's `normal_adamGD`:
    /// regular Adam, and random restarts (R of those descents; the released code has none, so
    /// they take regular Adam's settings). In compressed sensing they use step 0.002 throughout
    /// and no gradient stop; surfing and projected surfing follow `seq_adamGD`.
    static func finalNetworkOnly(_ method: InversionMethod) -> Bool {
        method == .adam || method == .restarts
    }

    /// compressX.py's stopping test `np.sqrt(np.sum(gradient**2)) < 1e-3` (in `seq_adamGD` only;
    /// `normal_adamGD` has none), on the gradient of its loss Σ(AG − Ay)² — twice ours (we
    /// minimise ½‖·‖²): 5e-4 on our gradient.
    static let compressedGradientTolerance = 5e-4

    /// compress.py (the paper's Fig. 4: held-out test images y, `--target test-images` with
    /// `--measurements`): the same budgets, steps and gradient stop as compressX.py, but the start
    /// is `init = np.random.randn(n, 1, dim)`, N(0, I), clipped to [−1, 1] after every step
    /// (`clip`), and no plateau stop (lpom's default for targets without x*): a trial ends when its
    /// budget or the gradient stop does. It picks images with `np.random.randint(10000, size=n)`
    /// (with replacement); lpom takes n distinct test images.
    static let compressedImageStart = LatentDistribution.normal

    /// compressX.py: 3000 Adam steps on every intermediate network.
    static let compressedStepsPerSnapshot = 3000

    /// Mean iterations of regular Adam's *successful* trials: the statistic the authors'
    /// hard-coded budgets match (DCGAN k = 5: 50.3% success with a mean of 618 steps, which
    /// failures run to 60,000 could not give). nil when no trial succeeded.
    static func meanSuccessfulIterations(_ results: [TrialResult]) -> Double? {
        let ok = results.filter { $0.success == true }
        guard !ok.isEmpty else { return nil }
        return Double(ok.reduce(0) { $0 + $1.iterations }) / Double(ok.count)
    }
}
