import ArgumentParser
import Foundation
import ImageData
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain

/// What `lpom train` learns: class labels or real-valued targets.
enum TaskKind: String, ExpressibleByArgument, CaseIterable {
    case classification, regression
}

/// Options of `lpom train --method ggn` and of regression tasks (any method). Owned by the GGN
/// work: the data of `--task regression`, the GGN hyperparameters and the NTK output scale.
struct GGNOptions: ParsableArguments {
    @Option(help: "Task: classification (labels) or regression (real targets, square loss mse). Regression data: the teacher-student task when --teacher-width is given, otherwise 'bottom-half ink' from --dataset (predict the mean intensity of the image's bottom half from its top half).")
    var task: TaskKind = .classification

    @Option(parsing: .number, help: "Teacher-student regression: hidden width m of the random ReLU teacher y = m^-1/2 Σ a_r relu(w_rᵀx).")
    var teacherWidth: Int?

    @Option(parsing: .number, help: "Teacher-student: training samples (unit-norm inputs).")
    var samples: Int = 100

    @Option(parsing: .number, help: "Teacher-student: test samples.")
    var testSamples: Int = 100

    @Option(parsing: .number, help: "Teacher-student: input dimension d.")
    var inputDim: Int = 10

    @Option(parsing: .number, help: "GGN damping λ added to the Gram matrix J Jᵀ (raised automatically when the Gram system is numerically singular).")
    var damping: Double = 1e-6

    @Option(parsing: .number, help: "GGN step size η in w ← w − η Jᵀ(J Jᵀ + λI)⁻¹(f − y).")
    var ggnStep: Double = 1

    @Flag(help: "Scale the network's output by 1/√m (m = width of the last hidden layer): with --init ntk and one hidden ReLU layer this is f(W, a, x) = m^-1/2 Σ a_r relu(w_rᵀx) of Du et al. (recorded as a normalize layer with mean 0, std √m).")
    var outputScale = false

    func validate() throws {
        if let m = teacherWidth { guard m >= 1 && m <= 1_000_000 else { throw ValidationError("--teacher-width must be between 1 and 1000000, got \(m)") } }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
        guard testSamples >= 0 else { throw ValidationError("--test-samples must be ≥ 0, got \(testSamples)") }
        guard inputDim >= 1 && inputDim <= 100_000 else { throw ValidationError("--input-dim must be between 1 and 100000, got \(inputDim)") }
        guard damping >= 0, damping.isFinite else { throw ValidationError("--damping must be ≥ 0, got \(damping)") }
        guard ggnStep > 0, ggnStep.isFinite else { throw ValidationError("--ggn-step must be a positive number, got \(ggnStep)") }
        if teacherWidth != nil && task != .regression {
            throw ValidationError("--teacher-width describes a regression task; add --task regression")
        }
        if isTeacherStudent {
            do { try teacherStudent(seed: 0).checkSizes() } catch { throw ValidationError("\(error)") }
        }
    }

    var isTeacherStudent: Bool { task == .regression && teacherWidth != nil }

    /// The teacher–student task drawn from `seed`.
    func teacherStudent(seed: UInt64) -> TeacherStudentTask {
        TeacherStudentTask(inputDim: inputDim, teacherWidth: teacherWidth ?? 0, samples: samples,
                           testSamples: testSamples, seed: seed)
    }

    /// The data name recorded in histories: the image set, or `teacher-student`.
    func datasetLabel(_ dataset: DatasetName) -> String {
        isTeacherStudent ? "teacher-student" : dataset.rawValue
    }

    /// The loss actually minimised: mse for regression, squared error on one-hot labels for GGN
    /// classification, otherwise the `--loss` option.
    func effectiveLoss(_ loss: LossKind, method: TrainMethod) -> LossKind {
        if task == .regression { return .mse }
        return method == .ggn ? .squaredError : loss
    }

    /// Training, validation (the last `validation` training samples) and test sets for the task.
    func load(_ dataset: DatasetName, data: DataOptions, seed: UInt64, validation: Int) throws -> DataSplits {
        if isTeacherStudent {
            let (train, test) = teacherStudent(seed: seed).make(Float.self)
            return try DataSplits(holdingOut: validation, of: train, test: test, what: "--samples")
        }
        let sets = try data.splits(dataset, holdOut: validation)
        return task == .regression ? try sets.map { try BottomHalfInk.make(from: $0) } : sets
    }

    /// Appends the output scale 1/√m when `--output-scale` is given.
    func adjust(_ spec: ModelSpec) -> ModelSpec {
        guard outputScale else { return spec }
        let dense = spec.layers.filter { $0.type == "dense" }
        let m = dense.count >= 2 ? (dense[dense.count - 1].in ?? 1) : (spec.inputShape.first ?? 1)
        var s = spec
        s.layers.append(LayerSpec(type: "normalize", mean: 0, std: Double(m).squareRoot()))
        return s
    }

    /// The GGN trainer.
    func makeTrainer(network: Network<Float>) -> any Trainer<Float> {
        GGNTrainer(network: network, damping: damping, stepSize: ggnStep)
    }

    /// Records the task in a history's training record: enough to rebuild the data with the seed.
    func record(task r: inout TrainingRecord, seed: UInt64) {
        r.task = task.rawValue
        if isTeacherStudent {
            r.teacherStudent = .init(inputDim: inputDim, teacherWidth: teacherWidth ?? 0, samples: samples, testSamples: testSamples,
                                     dataSeed: seed,
                                     description: "inputs uniform on the unit sphere, y = m^-1/2 Σ a_r relu(w_rᵀx), w_r ~ N(0, I), a_r = ±1; LiftedTrain.TeacherStudentTask")
            r.targets = "teacher-student"
        } else if task == .regression {
            r.targets = BottomHalfInk.description
        }
    }
}
