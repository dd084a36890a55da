/// Why training stopped early: a non-finite loss or parameter, or a trainer that cannot take the
/// data it was given. The one error type of every trainer and of the loop.
public struct TrainingError: Error, CustomStringConvertible {
    /// One line naming the problem.
    public let description: String
    /// An error with its message.
    public init(_ description: String) { self.description = description }
    /// The settings the message tells the caller to change (see `TrainingQuantity`).
    public internal(set) var quantities: [TrainingQuantity] = []
}

/// What the loop tells its observer. Observers do the I/O (history files, progress bars);
/// the loop and the trainers never open files. Classifier, regression and generative runs
/// report through the same events; runs counted in steps (generative training) have no epochs,
/// so `didEvaluateValidation` and `didFinishEpoch` never come.
public protocol TrainingObserver: AnyObject {
    /// After every step: `step` counts completed steps (1-based); `epoch` is the pass over the
    /// data the step's (first) batch came from, 0-based.
    func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws
    /// A snapshot of θ is due after `step` completed steps (0 = initialisation).
    func snapshotDue(step: Int) throws
    /// After each epoch, with the test-set evaluation if a test set was given (with a
    /// validation set: after the last epoch only).
    func didFinishEpoch(_ epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?) throws
    /// After each epoch of a run with a validation set, just before `didFinishEpoch`.
    func didEvaluateValidation(_ epoch: Int, step: Int, validation: (loss: Double, accuracy: Double)) throws
}

extension TrainingObserver {
    /// Observers that show no validation curve need not implement it.
    public func didEvaluateValidation(_ epoch: Int, step: Int, validation: (loss: Double, accuracy: Double)) throws {}
    /// Observers of runs counted in steps need not implement it.
    public func didFinishEpoch(_ epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?) throws {}
}
