/// The resume state of each trainer (`Trainer.exportState` / `importState`): what a step
/// reads that the previous steps wrote, besides θ and the network's buffers (batch-norm running
/// statistics, stored in every snapshot). A history stores it with the latest snapshot
/// (`/resume`, HISTORY-FORMAT.md), so a resumed run takes the same steps as an uninterrupted one.
///
/// - SGD with momentum μ > 0 (Polyak 1964; Nesterov in Sutskever et al.'s form):
///   `velocity.<parameter>`, the v of v ← μv + g. Plain SGD (μ = 0) keeps nothing.
/// - Adam (Kingma & Ba 2015): `adam.m.<parameter>`, `adam.v.<parameter>` and `adam.step` = [t],
///   which the bias corrections 1 − β₁ᵗ, 1 − β₂ᵗ use.
/// - GGN: nothing. Each step solves its own Gram system from the configured damping λ; a λ
///   raised inside a step (singular system) is not carried to the next one.
/// - LPOM (Li, Fang, Lin 2019): `lpom.power.<layer>`, the warm-started power-iteration vector
///   behind ‖W‖₂² (which sets the fixed-point relaxation θ), `lpom.power_steps.<layer>` (30
///   iterations the first time, 3 afterwards) and `lpom.norm_squared.<layer>`. Everything else
///   a step uses is rebuilt at its start from θ and the batch (activations by a forward pass,
///   pseudo-inverses, the APG iterates from W).
/// - The learning-rate schedule keeps no state: the loop passes the step and the length of
///   its schedule segment to `prepare`.
///
/// Values are exported as Double, which holds Float and Double state exactly.
/// A resume state as a trainer hands it to a snapshot: the arrays it keeps in Float as they are
/// (their storage shared with the trainer until its next update, so handing them over copies
/// nothing), the others as Double. Together they are `exportState()`.
public struct SnapshotState: Sendable {
    public var doubles: [String: [Double]]
    public var floats: [String: [Float]]

    public init(doubles: [String: [Double]] = [:], floats: [String: [Float]] = [:]) {
        self.doubles = doubles
        self.floats = floats
    }

    /// Values in all the arrays (what the history's `/resume` slots hold).
    public var scalarCount: Int {
        doubles.values.reduce(0) { $0 + $1.count } + floats.values.reduce(0) { $0 + $1.count }
    }
}

extension Trainer {
    /// Default: the trainer keeps nothing between steps.
    public func exportState() -> [String: [Double]] { [:] }

    /// Default: `exportState()`, all Double.
    public func exportSnapshotState() -> SnapshotState { SnapshotState(doubles: exportState()) }

    /// Default: accepts only an empty state.
    public func importState(_ state: [String: [Double]]) throws {
        try StateArrays.checkNames(state, expected: [], owner: method)
    }
}

extension GradientTrainer {
    public func exportState() -> [String: [Double]] { optimizer.exportState(for: network.parameters) }

    public func exportSnapshotState() -> SnapshotState { optimizer.exportSnapshotState(for: network.parameters) }

    public func importState(_ state: [String: [Double]]) throws {
        try optimizer.importState(state, for: network.parameters)
    }
}

extension GradientOptimizer {
    /// Default: `exportState(for:)`, all Double.
    public func exportSnapshotState(for store: ParameterStore<Scalar>) -> SnapshotState {
        SnapshotState(doubles: exportState(for: store))
    }
}

extension SGD {
    /// `velocity.<parameter>` when μ > 0 (zeros before the first update), else nothing.
    public func exportState(for store: ParameterStore<Scalar>) -> [String: [Double]] {
        momentum == 0 ? [:] : StateArrays.export("velocity.", velocity, of: store)
    }

    public func exportSnapshotState(for store: ParameterStore<Scalar>) -> SnapshotState {
        guard momentum != 0, let floats = StateArrays.floats("velocity.", velocity, of: store) else {
            return SnapshotState(doubles: exportState(for: store))
        }
        return SnapshotState(floats: floats)
    }

    public mutating func importState(_ state: [String: [Double]], for store: ParameterStore<Scalar>) throws {
        guard momentum != 0 else { return try StateArrays.checkNames(state, expected: [], owner: name) }
        try StateArrays.checkNames(state, expected: store.names.map { "velocity." + $0 }, owner: name)
        velocity = try StateArrays.tensors("velocity.", from: state, like: store)
    }
}

extension Adam {
    /// `adam.m.<parameter>`, `adam.v.<parameter>` (zeros before the first update) and `adam.step`.
    public func exportState(for store: ParameterStore<Scalar>) -> [String: [Double]] {
        var s = StateArrays.export("adam.m.", m, of: store)
        s.merge(StateArrays.export("adam.v.", v, of: store)) { a, _ in a }
        s["adam.step"] = [Double(step)]
        return s
    }

    public func exportSnapshotState(for store: ParameterStore<Scalar>) -> SnapshotState {
        guard let m = StateArrays.floats("adam.m.", m, of: store), let v = StateArrays.floats("adam.v.", v, of: store) else {
            return SnapshotState(doubles: exportState(for: store))
        }
        return SnapshotState(doubles: ["adam.step": [Double(step)]], floats: m.merging(v) { a, _ in a })
    }

    public mutating func importState(_ state: [String: [Double]], for store: ParameterStore<Scalar>) throws {
        let expected = store.names.flatMap { ["adam.m." + $0, "adam.v." + $0] } + ["adam.step"]
        try StateArrays.checkNames(state, expected: expected, owner: name)
        guard let t = state["adam.step"], t.count == 1, let count = Int(exactly: t[0]), count >= 0 else {
            throw TrainingError("the resume state's adam.step is not one non-negative whole number")
        }
        m = try StateArrays.tensors("adam.m.", from: state, like: store)
        v = try StateArrays.tensors("adam.v.", from: state, like: store)
        step = count
    }
}

extension LPOMTrainer {
    public func exportState() -> [String: [Double]] {
        var s: [String: [Double]] = [:]
        for l in layers {
            s["lpom.power." + l.name] = Scalar.toDoubles(l.power.data)
            s["lpom.power_steps." + l.name] = [Double(l.powerSteps)]
            s["lpom.norm_squared." + l.name] = [l.normSquared]
        }
        return s
    }

    public func importState(_ state: [String: [Double]]) throws {
        let expected = layers.flatMap { l in ["lpom.power.", "lpom.power_steps.", "lpom.norm_squared."].map { $0 + l.name } }
        try StateArrays.checkNames(state, expected: expected, owner: method)
        for l in layers {
            guard let p = state["lpom.power." + l.name], p.count == l.inputs else {
                throw TrainingError("the resume state's lpom.power.\(l.name) does not have \(l.inputs) values")
            }
            guard let n = state["lpom.power_steps." + l.name], n.count == 1, let steps = Int(exactly: n[0]), steps >= 0,
                  let e = state["lpom.norm_squared." + l.name], e.count == 1 else {
                throw TrainingError("the resume state's lpom.power_steps/norm_squared of \(l.name) are not single numbers")
            }
            l.power = Tensor(shape: [l.inputs], data: Scalar.fromDoubles(p))
            l.powerSteps = steps
            l.normSquared = e[0]
        }
    }
}

/// Helpers shared by the state of the trainers above.
public enum StateArrays {
    /// `prefix + name` → the values of `tensors` (parallel to the store's parameters), or zeros
    /// of the parameters' sizes while `tensors` is still empty (state created on first use).
    static func export<S: NNScalar>(_ prefix: String, _ tensors: [Tensor<S>], of store: ParameterStore<S>) -> [String: [Double]] {
        arrays(prefix, tensors, of: store, S.toDoubles)
    }

    /// `export`'s arrays without conversion when the scalars are Float (the tensors' storage,
    /// shared), nil otherwise.
    static func floats<S: NNScalar>(_ prefix: String, _ tensors: [Tensor<S>], of store: ParameterStore<S>) -> [String: [Float]]? {
        S.self == Float.self ? arrays(prefix, tensors, of: store, S.toFloats) : nil
    }

    /// `export` with the values converted by `convert`.
    private static func arrays<S: NNScalar, T: Numeric>(_ prefix: String, _ tensors: [Tensor<S>], of store: ParameterStore<S>,
                                                         _ convert: ([S]) -> [T]) -> [String: [T]] {
        var out: [String: [T]] = [:]
        for (i, name) in store.names.enumerated() {
            out[prefix + name] = tensors.count == store.names.count
                ? convert(tensors[i].data) : [T](repeating: 0, count: store.values[i].count)
        }
        return out
    }

    /// The tensors `prefix + name` of `state`, shaped like the store's parameters.
    static func tensors<S: NNScalar>(_ prefix: String, from state: [String: [Double]], like store: ParameterStore<S>) throws -> [Tensor<S>] {
        try zip(store.names, store.values).map { name, value in
            guard let d = state[prefix + name], d.count == value.count else {
                throw TrainingError("the resume state's \(prefix + name) does not have the \(value.count) values of \(name)")
            }
            return Tensor(shape: value.shape, data: S.fromDoubles(d))
        }
    }

    /// Throws unless `state` has exactly the names `expected`.
    public static func checkNames(_ state: [String: [Double]], expected: [String], owner: String) throws {
        let want = Set(expected), have = Set(state.keys)
        if let missing = want.subtracting(have).sorted().first {
            throw TrainingError("the resume state lacks '\(missing)', which \(owner) needs")
        }
        if let extra = have.subtracting(want).sorted().first {
            throw TrainingError("the resume state holds '\(extra)', which \(owner) does not keep (written by another method?)")
        }
    }
}
