/// One snapshot θ_t of a history as plain values: the named `/theta` and `/buffers` arrays of
/// row t, each flattened in row-major order, with their per-snapshot shapes. What a network,
/// an inverter or a report needs from a history, without the file.
public struct HistorySnapshot: Sendable, Equatable {
    /// The snapshot's index t in 0..<T.
    public let index: Int
    /// The training step it was taken at (`/snapshot_step[t]`).
    public let step: Int
    /// `/theta/<name>` at t, flattened row-major (PyTorch `state_dict` names: `layers.0.weight`).
    public let parameters: [String: [Float]]
    /// `/buffers/<name>` at t (batch-norm running statistics), flattened row-major.
    public let buffers: [String: [Float]]
    /// The shape of each array in `parameters` (without the leading T axis).
    public let parameterShapes: [String: [Int]]
    /// The shape of each array in `buffers`.
    public let bufferShapes: [String: [Int]]
}

extension HistoryReader {
    /// Snapshot `t` (0..<T; negative counts from the end, −1 = final): the parameters named in
    /// `parameters` and the buffers named in `buffers`, every one of the file's when nil.
    /// Throws a one-line `HistoryError` for an index out of range or a name the file lacks.
    public func snapshot(_ t: Int, parameters: [String]? = nil, buffers: [String]? = nil) throws -> HistorySnapshot {
        let count = snapshotCount
        let index = t < 0 ? count + t : t
        guard index >= 0, index < count else {
            throw HistoryError(path, "snapshot \(t) out of range (the file has \(count) snapshots)")
        }
        var values: [String: [Float]] = [:], shapes: [String: [Int]] = [:]
        for name in parameters ?? parameterShapes.keys.sorted() {
            values[name] = try parameter(name, snapshot: index)
            shapes[name] = parameterShapes[name]
        }
        var bufferValues: [String: [Float]] = [:], bufferShapesRead: [String: [Int]] = [:]
        for name in buffers ?? bufferShapes.keys.sorted() {
            bufferValues[name] = try buffer(name, snapshot: index)
            bufferShapesRead[name] = bufferShapes[name]
        }
        return HistorySnapshot(index: index, step: snapshotSteps[index], parameters: values, buffers: bufferValues,
                               parameterShapes: shapes, bufferShapes: bufferShapesRead)
    }
}
