import Foundation

/// How the learning rate changes over a run: η_t = η · factor(t / T).
public enum LearningRateSchedule: String, CaseIterable, Sendable {
    /// η_t = η.
    case constant
    /// η_t = η · ½(1 + cos(π t/T)) (Loshchilov & Hutter 2017, without restarts).
    case cosine
    /// η_t = η for t/T < ½, η/10 for ½ ≤ t/T < ¾, η/100 from t/T = ¾: stepped down tenfold at
    /// 50% and 75% of the run.
    case step

    /// The factor after `step` of `total` steps.
    public func factor(step: Int, total: Int) -> Double {
        let x = total > 0 ? Double(step) / Double(total) : 0
        switch self {
        case .constant: return 1
        case .cosine: return 0.5 * (1 + Foundation.cos(Double.pi * x))
        case .step: return x < 0.5 ? 1 : (x < 0.75 ? 0.1 : 0.01)
        }
    }
}
