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
    public func indices(using k: Int?) -> [Int] {
        guard count > 0 else { return [] }
        guard let k, k > 0, k < count - 1 else { return Array(0..<count) }
        let stride = max(1, (count - 1 + k - 1) / k)
        var out = Array(Swift.stride(from: 0, to: count, by: stride))
        if out.last != count - 1 { out.append(count - 1) }
        return out
    }
}
