/// A setting of a trainer that an error can tell its caller to change, named as the papers name
/// it (the message says "increase μ", never an option of some command line). A front end maps
/// each to its own spelling — `lpom` to `--mu`, `--ridge`, … — where it reports the error.
public enum TrainingQuantity: String, CaseIterable, Sendable {
    /// LPOM's penalty μ (Li, Fang, Lin 2019), per layer.
    case mu = "μ"
    /// LPOM's ridge ε of the W-update's Gram system (`LPOMConfiguration.ridge`).
    case ridge = "ridge ε"
    /// The relaxation θ of LPOM's fixed-point step (0 = automatic).
    case relaxation = "relaxation θ"
    /// The step size η of Gram–Gauss–Newton (Cai et al. 2019).
    case ggnStep = "GGN step size η"
    /// The damping λ of the Gram system J Jᵀ + λI.
    case damping = "damping λ"
    /// The learning rate η of a gradient optimizer.
    case learningRate = "learning rate η"
}

extension TrainingError {
    /// An error whose remedy is changing `quantities` (named in the message as their raw values).
    public init(_ description: String, remedy quantities: [TrainingQuantity]) {
        self.init(description)
        self.quantities = quantities
    }
}
