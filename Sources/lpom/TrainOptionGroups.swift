import ArgumentParser
import Foundation
import ImageData
import LiftedTrain

// `lpom train`'s options in titled groups, so that `--help` leads with the core ones (ArgumentParser
// prints titled groups in order, untitled options last).

/// What a run is: method, data set, network, length, step size, where it is saved.
struct TrainCoreOptions: ParsableArguments {
    @Option(help: "Training method: sgd, adam (backpropagation), lpom (lifted proximal operator machine), ggn (Gram-Gauss-Newton, square loss), or a full-batch lifted method: admm, bcd, penalty, askari (one-hot squared loss).")
    var method: TrainMethod = .sgd

    @Option(help: "Data set: mnist or fashion-mnist.")
    var dataset: DatasetName = .mnist

    @Option(parsing: .number, help: "Hidden layer widths, comma-separated (e.g. 300,100); 'none' for a linear model.")
    var layers: String = "300,100"

    @Option(parsing: .number, help: "Passes over the training set (default 10).")
    var epochs: Int?

    @Option(parsing: .number, help: "Learning rate (default 0.1 for sgd, 0.001 for adam).")
    var lr: Double?

    @Option(parsing: .number, help: "Mini-batch size (default 100; 128 with --model).")
    var batchSize: Int?

    @Option(help: "History file (default runs/<method>-<dataset>-<layers>-s<seed>.h5).")
    var history: String?

    @Option(help: "Write an SVG plot per epoch: a loss panel (training loss averaged over the epoch, test loss) and an accuracy panel (training and test accuracy in %); validation instead of test with --validation.")
    var plot: String?

    @Option(parsing: .number, help: "Which steps save θ: N (every N steps; 0: only the initial and final θ), epoch (end of each epoch), or log:K (K snapshots spaced geometrically in steps, θ_0 and the final θ included). The expected file size is printed at the start.")
    var snapshotEvery: SnapshotSpacing = .every(40)
}

/// Everything else about a classifier or regression run.
struct TrainDetailOptions: ParsableArguments {
    @Option(help: "Hidden activation φ: relu, leaky_relu, sigmoid, tanh, elu, softplus, identity.")
    var activation: ActivationKind = .relu

    @Option(parsing: .number, help: "Parameter of leaky_relu (negative slope, default 0.01) or elu (default 1).")
    var alpha: Double?

    @Option(help: "Activation after the last layer (identity: logits).")
    var outputActivation: ActivationKind = .identity

    @Option(help: "Loss: cross-entropy (softmax on the outputs) or squared-error (on one-hot labels).")
    var loss: LossKind = .crossEntropy

    @Option(name: .customLong("init"), help: "Weight initialisation: auto (He for ReLU-like φ, else Xavier), he, xavier, uniform.")
    var initialization: Initialization = .auto

    @Option(help: "Learning-rate schedule over the run: constant, cosine (decay to 0), step (÷10 at 50% and 75%).")
    var schedule: LearningRateSchedule = .cosine

    @Option(parsing: .number, help: "SGD momentum (0 = plain SGD).")
    var momentum: Double = 0.9

    @Flag(help: "Use Nesterov momentum with sgd.")
    var nesterov = false

    @Option(parsing: .number, help: "L2 weight decay (sgd, adam).")
    var weightDecay: Double = 0

    @Option(parsing: .number, help: "Seed of initialisation and shuffling; the same seed gives the same run.")
    var seed: UInt64 = 0

    @Flag(help: "Replace an existing history file.")
    var overwrite = false

    @Flag(help: "Pack the history when the run ends: lossless shuffle + deflate over blocks of 8 snapshots (`lpom pack`; the default run with --snapshot-every log:40: 47.4 → 31.2 MB). Snapshots are written uncompressed while training; a killed run stays unpacked.")
    var compress = false

    @Option(parsing: .number, help: "Threads (0: OpenBLAS's default, all cores): OpenBLAS threads, and the parts the image layers split each batch into.")
    var threads: Int = 0

    @Option(help: "Continue the run saved in this history from its last snapshot, exactly as if it had not stopped — classifier, regression and --model (generator) runs (its settings come from the file; --epochs may extend a run counted in epochs).")
    var resume: String?
}

extension TrainCommand {
    // The options of the groups above under their old names, so the rest of the command reads as before.
    var method: TrainMethod { get { core.method } set { core.method = newValue } }
    var dataset: DatasetName { get { core.dataset } set { core.dataset = newValue } }
    var layers: String { get { core.layers } set { core.layers = newValue } }
    var epochs: Int? { get { core.epochs } set { core.epochs = newValue } }
    var lr: Double? { get { core.lr } set { core.lr = newValue } }
    var batchSize: Int? { get { core.batchSize } set { core.batchSize = newValue } }
    var history: String? { get { core.history } set { core.history = newValue } }
    var plot: String? { get { core.plot } set { core.plot = newValue } }
    var snapshotEvery: SnapshotSpacing { get { core.snapshotEvery } set { core.snapshotEvery = newValue } }
    var activation: ActivationKind { get { details.activation } set { details.activation = newValue } }
    var alpha: Double? { get { details.alpha } set { details.alpha = newValue } }
    var outputActivation: ActivationKind { get { details.outputActivation } set { details.outputActivation = newValue } }
    var loss: LossKind { get { details.loss } set { details.loss = newValue } }
    var initialization: Initialization { get { details.initialization } set { details.initialization = newValue } }
    var schedule: LearningRateSchedule { get { details.schedule } set { details.schedule = newValue } }
    var momentum: Double { get { details.momentum } set { details.momentum = newValue } }
    var nesterov: Bool { get { details.nesterov } set { details.nesterov = newValue } }
    var weightDecay: Double { get { details.weightDecay } set { details.weightDecay = newValue } }
    var seed: UInt64 { get { details.seed } set { details.seed = newValue } }
    var overwrite: Bool { get { details.overwrite } set { details.overwrite = newValue } }
    var compress: Bool { get { details.compress } set { details.compress = newValue } }
    var threads: Int { get { details.threads } set { details.threads = newValue } }
    var resume: String? { get { details.resume } set { details.resume = newValue } }
}
