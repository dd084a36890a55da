import LiftedTrain

extension TrainingQuantity {
    /// The option of `lpom train` that sets it.
    var option: String {
        switch self {
        case .mu: return "--mu"
        case .ridge: return "--ridge"
        case .relaxation: return "--relaxation"
        case .ggnStep: return "--ggn-step"
        case .damping: return "--damping"
        case .learningRate: return "--lr"
        }
    }
}

/// A library error as the command line reports it: a `TrainingError` that names the settings to
/// change gets the options that set them appended, e.g. "…; increase μ (μ: --mu)".
func reported(_ error: any Error) -> String {
    guard let e = error as? TrainingError, !e.quantities.isEmpty else { return "\(error)" }
    return e.description + " (" + e.quantities.map { "\($0.rawValue): \($0.option)" }.joined(separator: ", ") + ")"
}
