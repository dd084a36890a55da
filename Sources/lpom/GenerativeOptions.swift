import ArgumentParser
import LiftedTrain
import Surfing

extension GenerativeMethod: ExpressibleByArgument {}
extension GeneratorArchitecture: ExpressibleByArgument {}
extension PenaltyStyle: ExpressibleByArgument {}

/// The fully connected generator's output.
enum GeneratorOutput: String, ExpressibleByArgument, CaseIterable { case sigmoid, identity }

/// On/off switch of an option whose default depends on other options.
enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

/// `lpom train --model vae|dcgan|wgan|wgan-gp`: generative training whose history stores the
/// generator (the input of `lpom surf`).
struct GenerativeOptions: ParsableArguments {
    @Option(help: "Train a generative model instead of a classifier: vae, dcgan, wgan or wgan-gp. The history stores the generator only.")
    var model: GenerativeMethod?

    @Option(help: "Generator (and discriminator/encoder) architecture: paper (FC-BN-convT, the surfing paper's) or fc (k → --gen-hidden → 784).")
    var generator: GeneratorArchitecture = .paper

    @Option(parsing: .number, help: "Latent dimension k.")
    var latent: Int = 10

    @Option(parsing: .number, help: "Generator updates (GANs: each after --n-critic discriminator updates).")
    var steps: Int = 4000

    @Option(parsing: .number, help: "Generator learning rate (default 1e-3 for dcgan, 2e-4 for wgan and wgan-gp; the VAE uses --lr, default 1e-3).")
    var gLr: Double?

    @Option(parsing: .number, help: "Discriminator / critic learning rate (default 2e-4).")
    var dLr: Double?

    @Option(parsing: .number, help: "Adam β₁ of both networks.")
    var beta1: Double = 0.5

    @Option(parsing: .number, help: "Discriminator updates per generator update (default 1 for dcgan, 5 for wgan and wgan-gp).")
    var nCritic: Int?

    @Option(parsing: .number, help: "WGAN weight clipping bound c.")
    var clip: Double = 0.01

    @Option(parsing: .number, help: "WGAN-GP gradient-penalty weight λ (the surfing paper: 0.25).")
    var gpLambda: Double = 0.25

    @Option(help: "WGAN-GP penalty: per-sample (Gulrajani et al.) or released (the surfing authors' code: ε per pixel, norm over the image height axis).")
    var gpStyle: PenaltyStyle = .perSample

    @Option(help: "Batch norm in the paper-architecture discriminator/critic: on | off (default: on, off for the WGAN-GP critic; the surfing authors' WGAN-GP keeps it on).")
    var criticBatchnorm: Switch?

    @Option(parsing: .number, help: "GANs: generator forward passes per step, on the same latents: 1 (the generator update reuses the critic update's batch), or 2 (the surfing authors' released trainers: the generator's batch-norm running statistics advance twice per step; θ is the same).")
    var generatorForwards: Int = 1

    @Option(parsing: .number, help: "Standard deviation of the initial weights N(0, σ²).")
    var initStd: Double = 0.02

    @Option(parsing: .number, help: "Hidden width of --generator fc.")
    var genHidden: Int = 500

    @Option(help: "Output of --generator fc: sigmoid, or identity (a piecewise-linear G, the setting of the surfing theorem and of exact projected surfing; GANs only).")
    var genOutput: GeneratorOutput = .sigmoid

    @Option(help: "Write a grid of 64 images of the final generator at the end (.png, each pixel 4×4; or .svg).")
    var sampleGrid: String?

    func validate() throws {
        guard latent >= 1 && latent <= 10_000 else { throw ValidationError("--latent must be between 1 and 10000, got \(latent)") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        for (name, v) in [("--g-lr", gLr), ("--d-lr", dLr)] {
            if let v { guard v > 0, v.isFinite else { throw ValidationError("\(name) must be a positive number, got \(v)") } }
        }
        guard beta1 >= 0 && beta1 < 1 else { throw ValidationError("--beta1 must be in [0, 1), got \(beta1)") }
        if let nCritic { guard nCritic >= 1 else { throw ValidationError("--n-critic must be at least 1, got \(nCritic)") } }
        guard clip > 0, clip.isFinite else { throw ValidationError("--clip must be positive, got \(clip)") }
        guard gpLambda >= 0, gpLambda.isFinite else { throw ValidationError("--gp-lambda must be ≥ 0, got \(gpLambda)") }
        guard generatorForwards == 1 || generatorForwards == 2 else { throw ValidationError("--generator-forwards must be 1 or 2, got \(generatorForwards)") }
        if generatorForwards != 1 && model == .vae { throw ValidationError("--generator-forwards is for the GANs (the VAE has no critic step)") }
        guard initStd > 0, initStd.isFinite else { throw ValidationError("--init-std must be positive, got \(initStd)") }
        guard genHidden >= 1 && genHidden <= 100_000 else { throw ValidationError("--gen-hidden must be between 1 and 100000, got \(genHidden)") }
        if genOutput == .identity && (generator != .fc || model == .vae) {
            throw ValidationError("--gen-output identity is for --generator fc GANs (the VAE's likelihood needs a sigmoid output)")
        }
        if let sampleGrid {
            guard sampleGrid.hasSuffix(".png") || sampleGrid.hasSuffix(".svg") else {
                throw ValidationError("--sample-grid must name a .png or .svg file, got '\(sampleGrid)'")
            }
        }
    }

    /// The run's networks and optimiser settings; `lr` is the VAE's learning rate.
    func setup(_ model: GenerativeMethod, lr: Double?) -> GenerativeSetup {
        var s = GenerativeSetup(method: model, architecture: generator, latent: latent)
        s.hidden = genHidden
        s.sigmoidOutput = genOutput == .sigmoid
        s.initStd = initStd
        s.vaeLearningRate = lr ?? 1e-3
        s.gan.adam.beta1 = beta1
        if let gLr { s.gan.generatorLearningRate = gLr }
        if let dLr { s.gan.discriminatorLearningRate = dLr }
        if let nCritic { s.gan.criticSteps = nCritic }
        s.gan.clip = clip
        s.gan.penaltyWeight = gpLambda
        s.gan.penaltyStyle = gpStyle
        s.gan.generatorForwardsPerStep = generatorForwards
        s.criticBatchNorm = criticBatchnorm.map { $0 == .on }
        return s
    }
}
