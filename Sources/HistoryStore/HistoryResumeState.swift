/// What a trainer carries from one step to the next besides θ and the buffers — SGD
/// velocities, Adam's moments and step count, LPOM's power-iteration vectors — saved with a
/// snapshot so that `lpom train --resume` continues the run exactly (HISTORY-FORMAT.md, `/resume`).
/// Named flat arrays of numbers; the trainer that wrote them reads them back.
public struct ResumeState: Equatable, Sendable {
    /// The training step of the snapshot this state belongs to.
    public var step: Int
    /// The state, by name (e.g. `velocity.layers.0.weight`).
    public var arrays: [String: [Double]]

    /// A state at `step`.
    public init(step: Int, arrays: [String: [Double]]) { self.step = step; self.arrays = arrays }
}

/// The `/resume` group of a history: the latest resume state in two slots.
///
/// `/resume/step` int64 `[2]` holds the step each slot belongs to (−1: empty), and every state
/// array is `/resume/<name>` float64 `[2, n]`, one chunk per slot. The snapshot with row index t
/// writes slot t mod 2: first every array's row, then the slot's step, and only after that (and
/// the first flush) is `/snapshot_step` extended. A kill at any moment therefore leaves the slot
/// of the last committed snapshot intact: the slot being rewritten belongs to the snapshot before
/// the previous one, and its step is updated after its data. Readers use the slot whose step equals
/// the last committed snapshot's. Both slots are allocated by the first two snapshots; later
/// writes overwrite raw data in place and change no HDF5 metadata.
struct ResumeSlots {
    static let groupName = "resume"
    static let stepName = "step"
    /// Most arrays accepted from a file.
    static let maxArrays = 1 << 16

    let group: H5Location
    let step: H5Dataset
    let arrays: [(name: String, count: Int, dataset: H5Dataset)]

    /// Creates `/resume` for the arrays of `state` (names and lengths are fixed from now on).
    /// `deflateLevel` > 0 stores the arrays with shuffle + deflate: only for a file whose slots
    /// are written once (`HistoryPack`), since a rewritten compressed chunk takes new space.
    static func create(in file: H5Location, for state: [String: [Double]], path: String, deflateLevel: UInt32 = 0) throws -> ResumeSlots {
        _ = try layout(of: state, path: path)
        let group = try file.createGroup(groupName, roomForLinks: min(max(state.count + 1, 8), 64))
        let step = try group.createRowDataset(stepName, of: Int64.self, rowShape: [], rowsPerChunk: 2,
                                              fill: HistoryFormat.uncommittedStep, directWrites: true, compress: false)
        try step.setRowCount(2)
        try step.writeRows(start: 0, count: 2, values: [HistoryFormat.uncommittedStep, HistoryFormat.uncommittedStep])
        var arrays: [(String, Int, H5Dataset)] = []
        for (name, values) in state.sorted(by: { $0.key < $1.key }) {
            let d = try group.createRowDataset(name, of: Double.self, rowShape: [values.count], rowsPerChunk: 1,
                                               fill: .nan, directWrites: deflateLevel == 0, compress: deflateLevel > 0,
                                               deflateLevel: deflateLevel)
            try d.setRowCount(2)
            arrays.append((name, values.count, d))
        }
        return ResumeSlots(group: group, step: step, arrays: arrays)
    }

    /// Writes `state` into `slot` (0 or 1): the arrays, then the slot's step.
    func write(slot: Int, step s: Int, state: [String: [Double]], path: String) throws {
        try Self.check(state, against: arrays.map { ($0.name, $0.count) }, path: path)
        for a in arrays { try a.dataset.writeRows(start: slot, count: 1, values: state[a.name] ?? []) }
        try step.writeRows(start: slot, count: 1, values: [Int64(s)])
    }

    /// Checks the arrays of a first state (names, lengths) and returns its layout, sorted by name:
    /// every later state must match it (`check(_:against:path:)`).
    static func layout(of state: [String: [Double]], path: String) throws -> [(name: String, count: Int)] {
        try layout(counts: state.mapValues(\.count), path: path)
    }

    /// `layout(of:)` from the arrays' lengths alone.
    static func layout(counts: [String: Int], path: String) throws -> [(name: String, count: Int)] {
        for (name, count) in counts {
            try HistoryFormat.checkName(name, kind: "resume state", path: path)
            if name == stepName { throw HistoryError(path, "'\(stepName)' is reserved and cannot name a resume state array") }
            guard count > 0, HistoryFormat.elementCount([count]) != nil else {
                throw HistoryError(path, "resume state '\(name)' has \(count) values (must be 1 … \(HistoryFormat.maxElements))")
            }
        }
        return counts.map { ($0.key, $0.value) }.sorted { $0.name < $1.name }
    }

    /// Checks that `state` has exactly the arrays of `layout`, with the same lengths.
    static func check(_ state: [String: [Double]], against layout: [(name: String, count: Int)], path: String) throws {
        try check(counts: state.mapValues(\.count), against: layout, path: path)
    }

    /// `check` from the arrays' lengths alone.
    static func check(counts: [String: Int], against layout: [(name: String, count: Int)], path: String) throws {
        guard counts.count == layout.count else {
            throw HistoryError(path, "resume state has \(counts.count) arrays, the history declared \(layout.count)")
        }
        for a in layout {
            guard let count = counts[a.name] else { throw HistoryError(path, "resume state lacks '\(a.name)'") }
            guard count == a.count else {
                throw HistoryError(path, "resume state '\(a.name)' has \(count) values, expected \(a.count)")
            }
        }
    }

    /// Closes the datasets and the group.
    func close() -> Int32 {
        var status = step.handle.close()
        for a in arrays { status = min(status, a.dataset.handle.close()) }
        return min(status, group.handle.close())
    }

    /// The state saved with the snapshot at `lastStep`; nil when the file has no `/resume`.
    /// Throws when `/resume` exists but holds no state for `lastStep` or cannot be read.
    static func read(file: H5Location, lastStep: Int?, path: String) throws -> ResumeState? {
        guard try file.hasLink(groupName) else { return nil }
        guard try file.isGroup(groupName) else { throw HistoryError(path, "/\(groupName) is not a group") }
        let group = try file.openGroup(groupName)
        defer { group.handle.close() }
        guard try group.hasLink(stepName), try group.isDataset(stepName) else { throw HistoryError(path, "/\(groupName)/\(stepName) is missing") }
        let stepSet = try group.openDataset(stepName)
        defer { stepSet.handle.close() }
        guard try stepSet.elementType().0 == .integer, try stepSet.shape().dims == [2] else {
            throw HistoryError(path, "/\(groupName)/\(stepName) is not an int64 dataset of 2 rows")
        }
        let steps = try stepSet.readRows(start: 0, count: 2, as: Int64.self).map { Int($0) }
        guard let lastStep, let slot = steps.firstIndex(of: lastStep) else {
            let held = steps.filter { $0 >= 0 }.map(String.init).joined(separator: " and ")
            throw HistoryError(path, "its /\(groupName) state belongs to step \(held.isEmpty ? "none" : held), not to the last snapshot's step \(lastStep.map(String.init) ?? "(none)"); the file is damaged")
        }
        let names = try group.childNames().filter { $0 != stepName }
        guard names.count <= maxArrays else { throw HistoryError(path, "/\(groupName) holds \(names.count) arrays; damaged file?") }
        var arrays: [String: [Double]] = [:]
        for name in names {
            let full = "/\(groupName)/\(name)"
            guard try group.isDataset(name) else { throw HistoryError(path, "\(full) is not a dataset") }
            let d = try group.openDataset(name)
            defer { d.handle.close() }
            guard try d.elementType().0 == .float else { throw HistoryError(path, "\(full) is not a floating-point dataset") }
            let dims = try d.shape().dims
            guard dims.count == 2, dims[0] == 2, let n = Int(exactly: dims[1]), HistoryFormat.elementCount([n]) != nil else {
                throw HistoryError(path, "\(full) has shape \(dims), expected [2, n]")
            }
            guard try d.rowIsStored(slot) else { throw HistoryError(path, "\(full) has no data for slot \(slot); damaged file?") }
            arrays[name] = try d.readRows(start: slot, count: 1, as: Double.self)
        }
        return ResumeState(step: lastStep, arrays: arrays)
    }
}
