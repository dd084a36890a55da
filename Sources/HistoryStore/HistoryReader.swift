/// Reads a training-history file (HISTORY-FORMAT.md, format_version 1): the model and
/// training descriptions, the steps of the complete snapshots, each parameter and buffer
/// at any snapshot, and the metric curves.
///
/// The file is opened read-only without HDF5 file locking, so a history that a running
/// training is still writing (or that a killed training left behind) can be read; rows
/// beyond `/snapshot_step` (a snapshot in progress) are ignored.
public final class HistoryReader {
    /// The path as given to `init(path:)`; error messages start with it.
    public let path: String
    /// The `model` attribute: JSON describing the architecture.
    public let model: String
    /// The `training` attribute: JSON describing method, dataset, seed, hyperparameters.
    public let training: String
    /// The `created_by` attribute (empty if the file has none).
    public let createdBy: String
    /// The training step of each complete snapshot; its length is T.
    public let snapshotSteps: [Int]
    /// Per-snapshot shape of every `/theta` parameter (without the leading T axis).
    public let parameterShapes: [String: [Int]]
    /// Per-snapshot shape of every `/buffers` entry (without the leading T axis).
    public let bufferShapes: [String: [Int]]
    /// Names of the `/metrics` datasets, excluding `step`, sorted.
    public let metricNames: [String]

    private var layout: HistoryLayout?

    /// Opens `path` read-only and validates it: an HDF5 file, `format == "lpom-history"`,
    /// `format_version <= 1`, string `model`/`training` attributes holding JSON,
    /// `/snapshot_step` present and increasing (a last row that cannot be read or reads -1, a
    /// commit interrupted by a kill, is ignored), every `/theta/*` and `/buffers/*` dataset
    /// float32 with at least T rows and data stored for the last snapshot. Metrics are read
    /// here: the rows that `/metrics/step` and every metric share; rows and metrics that a
    /// killed writer left unreadable are left out.
    /// Throws a one-line `HistoryError` naming the file and the problem.
    public init(path: String) throws {
        let layout = try HistoryLayout.open(path: path)
        self.path = path
        self.layout = layout
        model = layout.model
        training = layout.training
        createdBy = layout.createdBy
        snapshotSteps = layout.snapshotSteps
        parameterShapes = layout.parameters.mapValues(\.shape)
        bufferShapes = layout.buffers.mapValues(\.shape)
        metricNames = layout.metrics.keys.sorted()
    }

    /// Number of complete snapshots (T).
    public var snapshotCount: Int { snapshotSteps.count }

    /// Parameter `name` at snapshot `snapshot` (0..<T; negative counts from the end, -1 = final),
    /// flattened in row-major order.
    public func parameter(_ name: String, snapshot: Int) throws -> [Float] {
        try row(of: try open().parameters[name], kind: "parameter", name: name, snapshot: snapshot)
    }

    /// Buffer `name` (e.g. a batch-norm running mean) at snapshot `snapshot`, as `parameter`.
    public func buffer(_ name: String, snapshot: Int) throws -> [Float] {
        try row(of: try open().buffers[name], kind: "buffer", name: name, snapshot: snapshot)
    }

    /// The training step of every metric row (`/metrics/step`); empty if the file has no metrics.
    public func metricSteps() throws -> [Int] {
        try open().metricSteps
    }

    /// The values of metric `name`, one per entry of `metricSteps()` (NaN where not recorded).
    public func metric(_ name: String) throws -> [Double] {
        guard let values = try open().metrics[name] else {
            throw HistoryError(path, "no metric '\(name)' (metrics: \(metricNames.joined(separator: ", ")))")
        }
        return values
    }

    /// The resume state saved with the last snapshot (`/resume`, see `ResumeSlots`): nil when
    /// the file has none (written before lpom saved it, or by another writer). Throws a
    /// one-line `HistoryError` when `/resume` holds no state for the last snapshot or cannot be read.
    public func resumeState() throws -> ResumeState? {
        let layout = try open()
        return try wrap { try ResumeSlots.read(file: layout.file, lastStep: snapshotSteps.last, path: path) }
    }

    /// The `training` attribute as a typed record (`TrainingRecord.decode`).
    public func trainingRecord() throws -> TrainingRecord {
        try TrainingRecord.decode(training, path: path)
    }

    /// Closes the file. Later reads throw; calling it again does nothing.
    public func close() {
        layout?.close()
        layout = nil
    }

    deinit { close() }

    private func open() throws -> HistoryLayout {
        H5.prepare()
        guard let layout else { throw HistoryError(path, "the history reader is closed") }
        return layout
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as H5Failure { throw HistoryError(path, error.description) }
    }

    private func row(of array: HistoryArray?, kind: String, name: String, snapshot: Int) throws -> [Float] {
        guard let array else { throw HistoryError(path, "no \(kind) '\(name)'") }
        let t = snapshotCount
        let index = snapshot < 0 ? t + snapshot : snapshot
        guard index >= 0, index < t else {
            throw HistoryError(path, "snapshot \(snapshot) out of range (the file has \(t) snapshots)")
        }
        return try wrap {
            guard try array.dataset.rowIsStored(index) else {
                throw HistoryError(path, "\(kind) '\(name)' has no data for snapshot \(index); damaged file?")
            }
            return try array.dataset.readRows(start: index, count: 1, as: Float.self)
        }
    }
}
