import LiftedTrain

/// The networks G_0, …, G_T saved during a generator's training, loaded one at a time into the
/// same `Network` (its parameters and batch-norm buffers replaced in place).
public struct GeneratorSnapshots {
    /// Number of snapshots T + 1.
    public let count: Int
    /// Training step of each snapshot.
    public let steps: [Int]
    private let read: (Int) throws -> (parameters: [String: [Float]], buffers: [String: [Float]])

    /// Snapshots from a function giving snapshot t's parameter and buffer values by name (the
    /// `lpom` command reads them from a history with `HistoryReader.values(at:for:)`).
    public init(steps: [Int], read: @escaping (Int) throws -> (parameters: [String: [Float]], buffers: [String: [Float]])) {
        self.count = steps.count; self.steps = steps; self.read = read
    }

    /// In-memory snapshots (tests, generated sequences).
    public init(_ snapshots: [(parameters: [String: [Float]], buffers: [String: [Float]])], steps: [Int]? = nil) {
        self.init(steps: steps ?? Array(0..<snapshots.count)) { snapshots[$0] }
    }

    /// Loads snapshot `t` into `network`.
    public func load<Scalar>(_ t: Int, into network: Network<Scalar>) throws {
        let (p, b) = try read(t)
        try network.load(parameters: p, buffers: b)
    }

    /// The snapshots surfing visits for `--snapshots K`: every ⌈T/K⌉-th of θ_0 … θ_T from θ_0, and
    /// always the final one (so about K + 1 networks); nil or K ≥ T visits all.
    /// Starting at snapshot `from` (the authors start at checkpoint `inter`, index 1): every
    /// ⌈(T − from)/K⌉-th from there, and the final one.
    public func indices(using k: Int?, from first: Int = 0) -> [Int] {
        guard count > 0 else { return [] }
        let first = min(max(0, first), count - 1)
        let span = count - 1 - first
        guard let k, k > 0, k < span else { return Array(first..<count) }
        let stride = max(1, (span + k - 1) / k)
        var out = Array(Swift.stride(from: first, to: count, by: stride))
        if out.last != count - 1 { out.append(count - 1) }
        return out
    }

    /// The homotopy ablation: snapshots on the straight line θ_t = (1 − t/T) θ_0 + (t/T) θ_T
    /// between the first and last snapshot of `self` (parameters and batch-norm buffers alike),
    /// at the same steps — does the training history matter, or would any path from θ_0 do?
    public func linearPath() throws -> GeneratorSnapshots {
        let a = try read(0), b = try read(count - 1)
        let T = Double(max(1, count - 1))
        return GeneratorSnapshots(steps: steps) { t in
            if t == 0 { return a }
            if t == count - 1 { return b }
            return interpolateSnapshots(a, b, Double(t) / T)
        }
    }

    /// Finer spacing where the path jumps: `m − 1` networks on the straight line between every
    /// two consecutive snapshots, θ_{t + j/m} = (1 − j/m) θ_t + (j/m) θ_{t+1} (parameters and
    /// buffers), so (T·m + 1) networks in all; m = 1 is `self`. Steps are interpolated likewise.
    public func refined(_ m: Int) -> GeneratorSnapshots {
        guard m > 1, count > 1 else { return self }
        let source = self
        typealias Snapshot = (parameters: [String: [Float]], buffers: [String: [Float]])
        final class Pair { var index = -1; var a: Snapshot?; var b: Snapshot? }
        let cache = Pair()
        let newSteps = (0..<((count - 1) * m + 1)).map { u -> Int in
            let t = u / m, j = u % m
            return j == 0 ? steps[t] : steps[t] + (steps[t + 1] - steps[t]) * j / m
        }
        return GeneratorSnapshots(steps: newSteps) { u in
            let t = u / m, j = u % m
            if j == 0 { return try source.read(t) }
            if cache.index != t { cache.a = try source.read(t); cache.b = try source.read(t + 1); cache.index = t }
            return interpolateSnapshots(cache.a!, cache.b!, Double(j) / Double(m))
        }
    }
}

/// (1 − w) a + w b, name by name, for parameters and buffers.
func interpolateSnapshots(_ a: (parameters: [String: [Float]], buffers: [String: [Float]]),
                          _ b: (parameters: [String: [Float]], buffers: [String: [Float]]),
                          _ w: Double) -> (parameters: [String: [Float]], buffers: [String: [Float]]) {
    func mix(_ x: [String: [Float]], _ y: [String: [Float]]) -> [String: [Float]] {
        x.reduce(into: [:]) { out, kv in
            let z = y[kv.key] ?? kv.value
            out[kv.key] = zip(kv.value, z).map { Float((1 - w) * Double($0) + w * Double($1)) }
        }
    }
    return (mix(a.parameters, b.parameters), mix(a.buffers, b.buffers))
}
