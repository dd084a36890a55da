import CHDF5
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a training-history file (HISTORY-FORMAT.md, format_version 1) snapshot by snapshot.
///
/// Kill safety (tested by killing a writer at random moments, `HistoryTests+Kill.swift`):
/// - Each `appendSnapshot` writes every `/theta` and `/buffers` row and the pending metrics,
///   flushes the file (`H5Fflush`), and only then extends `/snapshot_step` and flushes again.
///   `H5Fflush` is not atomic (raw data, then metadata entries one by one in address order,
///   the superblock last), so a single flush could leave `/snapshot_step` longer on disk than
///   the rows it lists (seen in testing). With two, a kill inside the first leaves the new rows
///   unlisted, and a kill inside the second leaves at worst an unreadable or -1 (fill value)
///   last `/snapshot_step` row, which readers drop.
/// - The superblock is version 2 (HDF5 1.8): it has no "file is open for writing" flag.
///   Files with the 1.10 superblock (v3: libver latest, or SWMR) that a killed process left
///   behind cannot be opened by HDF5 or h5py without running `h5clear` first (checked).
/// - File space is allocated in 4 KiB pages (paged aggregation), so no metadata entry smaller
///   than a page crosses a page boundary. HDF5 rewrites some entries in place at every flush
///   (dataset headers, chunk-index blocks), and a kill can cut a write between two pages
///   (Linux checks for fatal signals per page); whole-page entries then come out entirely old
///   or entirely new. Measured with the random-kill test: 3 of 1,200 files had a torn entry
///   (checksum error) without pages, 0 of 1,500 with them.
/// - Objects below the root use the HDF5 1.10 object formats (`H5Fset_libver_bounds` after
///   the root attributes): chunks are indexed by an extensible array, which only ever appends,
///   where the old version-1 B-tree splits nodes and moves entries of earlier rows, and object
///   headers carry checksums. A flush interrupted by a kill can then only make rows of the
///   unfinished snapshot unreachable, never earlier ones. `/metrics` reserves header space for
///   64 links so a new metric is added in place.
/// - No SWMR: it needs the 1.10 superblock, and it forbids creating datasets (new metrics)
///   while writing.
/// - Flushes hand data to the operating system; there is no `fsync` (a killed process loses
///   nothing, a power cut may). `openForAppend` copies rather than appends in place.
///
/// Speed: `/theta` and `/buffers` are chunked one snapshot per chunk, uncompressed, with the
/// chunk cache off, so a snapshot is one `pwrite` per parameter plus a small metadata flush.
///
/// Background writing (`writing: .background`, what `lpom train` uses): `appendSnapshot`
/// checks its arguments, takes the metric rows recorded since the previous snapshot and hands
/// them with the arrays to one background thread (`SnapshotPipeline`), which makes the same
/// HDF5 calls in the same order as a synchronous snapshot. The file, its format and its kill
/// safety are therefore the same; a killed run loses only the snapshots not yet written.
/// - Where the copy happens: the arrays passed in are Swift values, which the background thread
///   keeps until it has written them. `floatArrays()` of a Float network shares the parameters'
///   storage, so the hand-over copies nothing; the training thread's next in-place update copies
///   an array (copy on write) only if the background thread still holds it. Resume states
///   (`exportState`, converted to Double) and buffers are fresh arrays made by the caller.
/// - Bounded: at most `snapshotsInFlight` (2) snapshots are held, one being written and one
///   waiting; a third `appendSnapshot` blocks until the oldest is in the file. Memory: at most
///   two snapshots beyond the caller's own arrays, each θ (4 bytes a scalar), the buffers (4)
///   and the resume state (8; SGD momentum or LPOM: one array per parameter, Adam: two) — for
///   784-300-100-10 with SGD momentum 1.07 + 2.13 MB, so about 6.4 MB.
/// - Errors: the first failed write stops the background writing (later snapshots are not
///   written); the next `appendSnapshot`, or `close`, throws it as a `HistoryError` naming the
///   file. Snapshots committed before it stay in the file.
/// - One thread at a time: the caller's thread makes no HDF5 call on the file from the start of
///   background writing until `close` has joined the background thread. (Debian's libhdf5 1.10
///   is built thread-safe, `Threadsafety: yes` in libhdf5.settings; this does not rely on it.)
public final class HistoryWriter {
    /// Whether snapshots are written by the caller's thread or by a background thread.
    public enum Writing: Sendable {
        /// `appendSnapshot` returns after the snapshot is in the file.
        case synchronous
        /// `appendSnapshot` returns once a background thread has the snapshot (see above).
        case background
    }

    /// Most snapshots a background writer holds: one being written and one waiting.
    public static let snapshotsInFlight = 2

    /// The path as given; error messages start with it.
    public var path: String { sink.path }
    /// Number of complete snapshots in the file.
    public var snapshotCount: Int { pipeline?.committedSnapshots.count ?? sink.snapshotCount }
    /// Step of the last complete snapshot, nil before the first.
    public var lastStep: Int? { pipeline.map { $0.committedSnapshots.lastStep } ?? sink.lastStep }

    /// Where a snapshot is interrupted by `faultHook` (tests only).
    enum FaultPoint: Equatable {
        case afterState, afterParameter(String), afterBuffers, afterMetrics, afterFirstFlush, afterSnapshotStep
    }

    /// Called at each `FaultPoint` of a snapshot's writes (on the thread that writes them); tests
    /// use it to kill the process there, or throw to make the write fail. Set it before the
    /// snapshot it is meant for is appended.
    var faultHook: ((FaultPoint) throws -> Void)? {
        get { sink.faultHook }
        set { sink.faultHook = newValue }
    }

    private let sink: HistorySink
    /// Non-nil once background writing has started; never reset.
    private var pipeline: SnapshotPipeline?
    private var closed = false
    /// Snapshots handed to the file (written or in flight), and the step of the last.
    private var accepted = 0
    private var acceptedLastStep: Int? = nil
    /// The arrays of the first resume state; every later snapshot must carry the same.
    private var stateLayout: [(name: String, count: Int)]? = nil
    /// Metric rows not yet handed to the file.
    private var pending = PendingMetrics()
    /// The last metric row handed to the file, kept so a later value for the same step can be merged.
    private var lastMetricRow: (step: Int, values: [String: Double])? = nil

    /// Creates (truncates) a history file with root attributes `format="lpom-history"`,
    /// `format_version=1`, `created_by`, `model` and `training` (both JSON text, checked to parse),
    /// and empty datasets `/theta/<name>` and `/buffers/<name>` float32 `[0, *shape]`,
    /// `/snapshot_step` int64 `[0]`, `/metrics/step` int64 `[0]`. Names must be non-empty,
    /// unique, without '/'; every dimension must be positive. Snapshots are stored uncompressed
    /// (see above; `HistoryPack` compresses a finished history). `writing` chooses background
    /// writing (see above).
    public init(path: String, model: String, training: String, createdBy: String,
                parameters: [(name: String, shape: [Int])], buffers: [(name: String, shape: [Int])],
                writing: Writing = .synchronous) throws {
        H5.prepare()
        try HistoryFormat.checkJSON(model, attribute: "model", path: path)
        try HistoryFormat.checkJSON(training, attribute: "training", path: path)
        try Self.checkDeclarations(parameters, kind: "parameter", path: path)
        try Self.checkDeclarations(buffers, kind: "buffer", path: path)
        sink = try HistorySink(path: path, model: model, training: training, createdBy: createdBy,
                               parameters: parameters, buffers: buffers)
        if writing == .background { try startBackground() }
    }

    /// Reopens an existing history for appending (`--resume`). Validates it as `HistoryReader`
    /// does, then copies its complete snapshots, and the metric rows up to the last snapshot's
    /// step, into a fresh file beside it (`<path>.resume-tmp`) and atomically renames that over
    /// `path`; appending continues in the fresh file. Rows a killed run left beyond the last
    /// snapshot are thereby dropped. Copying instead of appending in place is deliberate: after
    /// a kill, HDF5 metadata beyond the last complete snapshot may be half-written, and
    /// extending it could corrupt the file (seen in testing). The copy costs about one read of
    /// the history; the original stays intact until the rename. Refuses a file that another
    /// writer holds locked. The resume state of the last snapshot (`/resume`) is copied with it;
    /// `training`, when given, replaces the `training` attribute (a resumed session's record).
    /// The copy is written synchronously; `writing` applies to the snapshots appended after it.
    public static func openForAppend(path: String, training: String? = nil, writing: Writing = .synchronous) throws -> HistoryWriter {
        H5.prepare()
        try refuseIfBeingWritten(path)
        let reader = try HistoryReader(path: path)
        defer { reader.close() }
        let temp = path + ".resume-tmp"
        var created: HistoryWriter?
        do {
            let state = try reader.resumeState()
            let writer = try HistoryWriter(path: temp, model: reader.model, training: training ?? reader.training, createdBy: reader.createdBy,
                                           parameters: reader.parameterShapes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                           buffers: reader.bufferShapes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            created = writer
            let steps = try reader.metricSteps()
            let keep = reader.snapshotSteps.last.map { last in steps.prefix(while: { $0 <= last }).count } ?? 0
            var columns: [String: [Double]] = [:]
            for name in reader.metricNames { columns[name] = try reader.metric(name) }
            writer.pending.rows = (0..<keep).map { row in (steps[row], columns.mapValues { $0[row] }) }
            for (index, step) in reader.snapshotSteps.enumerated() {
                var parameters: [String: [Float]] = [:]
                for name in reader.parameterShapes.keys { parameters[name] = try reader.parameter(name, snapshot: index) }
                var buffers: [String: [Float]] = [:]
                for name in reader.bufferShapes.keys { buffers[name] = try reader.buffer(name, snapshot: index) }
                let last = index == reader.snapshotCount - 1
                try writer.appendSnapshot(step: step, parameters: parameters, buffers: buffers, state: last ? state?.arrays : nil)
            }
            try writer.sink.flush(metrics: writer.takePendingMetrics())
            reader.close()
            guard rename(temp, path) == 0 else {
                throw HistoryError(path, "cannot replace the file with its resumed copy (\(String(cString: strerror(errno))))")
            }
            writer.sink.path = path
            if writing == .background { try writer.startBackground() }
            return writer
        } catch {
            try? created?.close()
            unlink(temp)
            if let error = error as? HistoryError {
                // Name the original file, not the temporary copy.
                throw HistoryError(path, error.description.replacingOccurrences(of: temp + ": ", with: ""))
            }
            throw error
        }
    }

    /// Appends one snapshot at training step `step` (greater than the last snapshot's step):
    /// writes every `/theta` row and `/buffers` row and the pending metrics, flushes, then
    /// extends `/snapshot_step` and flushes again. `parameters` and `buffers` must hold exactly
    /// the declared names, each with `product(shape)` elements (row-major). With background
    /// writing the arguments are checked here and the writes happen later (see above); this
    /// throws the failure of an earlier snapshot's writes.
    ///
    /// `state`, the trainer's resume state at this step, is written first into `/resume`
    /// (`ResumeSlots`: the slot of this snapshot, its step last), so that a kill never leaves
    /// the last committed snapshot without its own state. Once a snapshot has carried a state,
    /// every later one must (same names and lengths).
    ///
    /// `floatState` holds arrays of the resume state that the trainer keeps in float32; they are
    /// stored as float64 like the rest, converted when the snapshot is written (off the training
    /// thread with background writing). Their names must differ from `state`'s.
    public func appendSnapshot(step: Int, parameters values: [String: [Float]], buffers bufferValues: [String: [Float]],
                               state: [String: [Double]]? = nil, floatState: [String: [Float]] = [:]) throws {
        try checkOpen()
        if step < 0 { throw HistoryError(path, "snapshot step \(step) is negative") }
        if let acceptedLastStep, step <= acceptedLastStep {
            throw HistoryError(path, "snapshot step \(step) is not after the last snapshot's step \(acceptedLastStep)")
        }
        try checkValues(values, against: sink.parameters, kind: "parameter")
        try checkValues(bufferValues, against: sink.buffers, kind: "buffer")
        if state != nil || !floatState.isEmpty {
            var counts = (state ?? [:]).mapValues(\.count)
            for (name, values) in floatState {
                guard counts.updateValue(values.count, forKey: name) == nil else {
                    throw HistoryError(path, "resume state '\(name)' is given twice (as float64 and as float32)")
                }
            }
            if let stateLayout {
                try ResumeSlots.check(counts: counts, against: stateLayout, path: path)
            } else {
                stateLayout = try ResumeSlots.layout(counts: counts, path: path)
            }
        } else if stateLayout != nil {
            throw HistoryError(path, "snapshot at step \(step) lacks the resume state that earlier snapshots carried")
        }
        let job = SnapshotJob(row: accepted, step: step, parameters: values, buffers: bufferValues, state: state,
                              floatState: floatState, metrics: takePendingMetrics())
        if let pipeline { try pipeline.submit(job) } else { try sink.commit(job) }
        accepted += 1
        acceptedLastStep = step
    }

    /// Records metrics of training step `step` (e.g. "loss", "accuracy"). Rows are kept in
    /// memory and written with the next snapshot and at `close`. Steps must not decrease;
    /// values for the same step as the previous call are merged into one row.
    /// A metric not seen before reads NaN at earlier steps; one left out reads NaN at this step.
    public func appendMetrics(step: Int, values: [String: Double]) throws {
        try checkOpen()
        for name in values.keys {
            try HistoryFormat.checkName(name, kind: "metric", path: path)
            if name == HistoryFormat.metricStep { throw HistoryError(path, "'step' is reserved and cannot be a metric name") }
        }
        if let previous = pending.rows.last {
            if step == previous.step {
                pending.rows[pending.rows.count - 1].values.merge(values) { _, new in new }
                return
            }
            if step < previous.step { throw HistoryError(path, "metric step \(step) is before step \(previous.step)") }
        } else if let previous = lastMetricRow {
            if step == previous.step {
                pending = PendingMetrics(rows: [(step, previous.values.merging(values) { _, new in new })], rewriteLast: true)
                return
            }
            if step < previous.step { throw HistoryError(path, "metric step \(step) is before step \(previous.step)") }
        }
        if step < 0 { throw HistoryError(path, "metric step \(step) is negative") }
        pending.rows.append((step, values))
    }

    /// Waits for the snapshots in flight (background writing), writes pending metrics, flushes
    /// and closes the file; throws the first failed write of a background snapshot, if any,
    /// after closing (the snapshots committed before it stay). Calling it again does nothing;
    /// `deinit` calls it too (ignoring errors).
    public func close() throws {
        guard !closed else { return }
        closed = true
        H5.prepare()
        if let failure = pipeline?.finish() {
            sink.closeAfterFailure()
            throw failure
        }
        try sink.close(metrics: takePendingMetrics())
    }

    deinit { try? close() }

    // MARK: Private

    private static func checkDeclarations(_ list: [(name: String, shape: [Int])], kind: String, path: String) throws {
        var seen = Set<String>()
        for item in list {
            try HistoryFormat.checkName(item.name, kind: kind, path: path)
            guard seen.insert(item.name).inserted else { throw HistoryError(path, "\(kind) '\(item.name)' declared twice") }
            guard item.shape.count <= HistoryFormat.maxRank, item.shape.allSatisfy({ $0 > 0 }),
                  HistoryFormat.elementCount(item.shape) != nil else {
                throw HistoryError(path, "\(kind) '\(item.name)' has an unsupported shape \(item.shape)")
            }
        }
    }

    /// Starts the background thread; from now on only it makes HDF5 calls on the file, until `close`.
    private func startBackground() throws {
        let sink = self.sink
        let pipeline = SnapshotPipeline(capacity: Self.snapshotsInFlight, committed: sink.snapshotCount,
                                        lastStep: sink.lastStep) { try sink.commit($0) }
        try pipeline.start(path: path)
        self.pipeline = pipeline
    }

    private func checkOpen() throws {
        H5.prepare()
        if closed { throw HistoryError(path, "the history writer is closed") }
    }

    /// Hands the pending metric rows over (to a snapshot or to `close`).
    private func takePendingMetrics() -> PendingMetrics {
        let taken = pending
        if let last = taken.rows.last { lastMetricRow = last }
        pending = PendingMetrics()
        return taken
    }

    private func checkValues(_ values: [String: [Float]], against entries: [HistorySink.Entry], kind: String) throws {
        for entry in entries {
            guard let v = values[entry.name] else { throw HistoryError(path, "snapshot is missing \(kind) '\(entry.name)'") }
            guard v.count == entry.elements else {
                throw HistoryError(path, "\(kind) '\(entry.name)' has \(v.count) values, expected \(entry.elements) for shape \(entry.shape)")
            }
        }
        if values.count != entries.count {
            let known = Set(entries.map(\.name))
            let unknown = values.keys.filter { !known.contains($0) }.sorted()
            throw HistoryError(path, "unknown \(kind) '\(unknown.first ?? "")' (not declared when the history was created)")
        }
    }

    /// Refuses a file that another process (or another writer of this one) is writing.
    private static func refuseIfBeingWritten(_ path: String) throws {
        if isLockedExclusively(path) {
            throw HistoryError(path, "is being written by another process (or another HistoryWriter); cannot resume it")
        }
    }
}

/// The HDF5 side of a `HistoryWriter`: the open file, its datasets and what has been written.
/// Used by one thread at a time: the writer's, or its background thread while that runs
/// (`SnapshotPipeline`). `parameters` and `buffers` are immutable and read by both.
final class HistorySink {
    struct Entry {
        let name: String
        let shape: [Int]
        let elements: Int
        let dataset: H5Dataset
    }

    /// The path as given; error messages start with it.
    var path: String
    /// Number of complete snapshots in the file, and the step of the last.
    private(set) var snapshotCount = 0
    private(set) var lastStep: Int? = nil
    var faultHook: ((HistoryWriter.FaultPoint) throws -> Void)?
    let parameters: [Entry]
    let buffers: [Entry]

    private var file: H5Location?
    private let snapshotStep: H5Dataset
    private let metricsGroup: H5Location
    private let metricStep: H5Dataset
    private var metricSets: [String: H5Dataset] = [:]
    /// Rows of `/metrics/step` in the file.
    private var metricRowsWritten = 0
    /// `/resume`, created by the first snapshot that carries a resume state.
    private var resumeSlots: ResumeSlots?

    /// Creates the file (arguments checked by `HistoryWriter.init`).
    init(path: String, model: String, training: String, createdBy: String,
         parameters: [(name: String, shape: [Int])], buffers: [(name: String, shape: [Int])]) throws {
        do {
            let file = try Self.createFile(path: path, model: model, training: training, createdBy: createdBy)
            func create(_ group: H5Location, _ list: [(name: String, shape: [Int])]) throws -> [Entry] {
                try list.map { item in
                    let dataset = try group.createRowDataset(item.name, of: Float.self, rowShape: item.shape, rowsPerChunk: 1,
                                                             fill: .nan, directWrites: true, compress: false)
                    return Entry(name: item.name, shape: item.shape,
                                 elements: HistoryFormat.elementCount(item.shape) ?? 0, dataset: dataset)
                }
            }
            self.parameters = try create(try file.createGroup(HistoryFormat.theta), parameters)
            self.buffers = try create(try file.createGroup(HistoryFormat.buffers), buffers)
            snapshotStep = try Self.createSnapshotSteps(in: file)
            (metricsGroup, metricStep) = try Self.createMetrics(in: file)
            try file.flush()
            self.file = file
            self.path = path
        } catch let error as H5Failure {
            throw HistoryError(path, error.description)
        }
    }

    /// A new (truncated) history file with the format's root attributes; objects created below
    /// the root afterwards use the HDF5 1.10 formats (see `HistoryWriter`).
    static func createFile(path: String, model: String, training: String, createdBy: String) throws -> H5Location {
        let file = try H5Location.createFile(path: path, paged: true)
        try file.writeAttribute("format", string: HistoryFormat.format)
        try file.writeAttribute("format_version", integer: Int64(HistoryFormat.version))
        try file.writeAttribute("created_by", string: createdBy)
        try file.writeAttribute("model", string: model)
        try file.writeAttribute("training", string: training)
        try file.useObjectFormatsOf110()
        return file
    }

    /// `/snapshot_step`, empty.
    static func createSnapshotSteps(in file: H5Location) throws -> H5Dataset {
        try file.createRowDataset(HistoryFormat.snapshotStep, of: Int64.self, rowShape: [], rowsPerChunk: 256,
                                  fill: HistoryFormat.uncommittedStep, directWrites: false, compress: false)
    }

    /// `/metrics` (room for 64 links in its header, so a new metric is added in place) and its
    /// empty `step`.
    static func createMetrics(in file: H5Location) throws -> (group: H5Location, step: H5Dataset) {
        let group = try file.createGroup(HistoryFormat.metrics, roomForLinks: 64)
        let step = try group.createRowDataset(HistoryFormat.metricStep, of: Int64.self, rowShape: [], rowsPerChunk: 1024,
                                              fill: HistoryFormat.uncommittedStep, directWrites: false, compress: false)
        return (group, step)
    }

    /// `/metrics/<name>`, empty (rows not written read NaN).
    static func createMetric(_ name: String, in group: H5Location) throws -> H5Dataset {
        try group.createRowDataset(name, of: Double.self, rowShape: [], rowsPerChunk: 1024, fill: .nan, directWrites: false, compress: false)
    }

    /// Writes one snapshot (checked by `HistoryWriter.appendSnapshot`): the resume state, every
    /// `/theta` and `/buffers` row and the job's metrics, a flush, `/snapshot_step`, a flush.
    func commit(_ job: SnapshotJob) throws {
        guard let file else { throw HistoryError(path, "the history writer is closed") }
        let t = job.row
        do {
            if let state = job.fullState {
                if resumeSlots == nil { resumeSlots = try ResumeSlots.create(in: file, for: state, path: path) }
                try resumeSlots?.write(slot: t % 2, step: job.step, state: state, path: path)
                try faultHook?(.afterState)
            }
            for entry in parameters {
                try writeRow(entry, row: t, values: job.parameters[entry.name] ?? [])
                try faultHook?(.afterParameter(entry.name))
            }
            for entry in buffers { try writeRow(entry, row: t, values: job.buffers[entry.name] ?? []) }
            try faultHook?(.afterBuffers)
            try writeMetrics(job.metrics)
            try faultHook?(.afterMetrics)
            try file.flush()
            try faultHook?(.afterFirstFlush)
            try snapshotStep.setRowCount(t + 1)
            try snapshotStep.writeRows(start: t, count: 1, values: [Int64(job.step)])
            try faultHook?(.afterSnapshotStep)
            try file.flush()
        } catch let error as H5Failure {
            // HDF5's messages of failed system calls span lines (a timestamp, then the details).
            throw HistoryError(path, error.description.split(separator: "\n").joined(separator: " "))
        }
        snapshotCount = t + 1
        lastStep = job.step
    }

    /// Writes `metrics` and flushes.
    func flush(metrics: PendingMetrics) throws {
        guard let file else { throw HistoryError(path, "the history writer is closed") }
        do {
            try writeMetrics(metrics)
            try file.flush()
        } catch let error as H5Failure {
            throw HistoryError(path, error.description)
        }
    }

    /// Writes `metrics`, flushes and closes the file (closed even when writing fails).
    func close(metrics: PendingMetrics) throws {
        guard file != nil else { return }
        defer { closeHandles() }
        try flush(metrics: metrics)
    }

    /// Closes the file after a failed snapshot. The flush at closing records HDF5's end of
    /// allocated space, which counts the space given to the rows that failed to be written; a
    /// file shorter than that is refused as truncated ("truncated file: eof = …", seen with a
    /// write failing on a full file system). So the file is extended to that length (a hole that
    /// reads as zeros, where no listed snapshot points); then the snapshots committed before the
    /// failure read and resume as after a kill.
    func closeAfterFailure() {
        guard let file else { return }
        var allocated: haddr_t = 0
        let known = H5Fget_eoa(file.handle.id, &allocated) >= 0
        closeHandles()
        var info = stat()
        if known, stat(path, &info) == 0, info.st_size < off_t(clamping: allocated) {
            _ = truncate(path, off_t(clamping: allocated))
        }
    }

    /// Closes every dataset and group, then the file: HDF5 keeps a file open while any
    /// object in it is open, and a later open of the same path in this process would share it.
    func closeHandles() {
        guard let file else { return }
        var status: Int32 = 0
        for entry in parameters + buffers { status = min(status, entry.dataset.handle.close()) }
        for dataset in metricSets.values { status = min(status, dataset.handle.close()) }
        status = min(status, snapshotStep.handle.close())
        status = min(status, metricStep.handle.close())
        status = min(status, metricsGroup.handle.close())
        if let slots = resumeSlots { status = min(status, slots.close()) }
        resumeSlots = nil
        status = min(status, file.handle.close())
        self.file = nil
        if status < 0 { H5.clearErrors() }
    }

    private func writeRow(_ entry: Entry, row: Int, values: [Float]) throws {
        try entry.dataset.setRowCount(row + 1)
        try entry.dataset.writeRows(start: row, count: 1, values: values)
    }

    /// Writes metric rows: every metric's values first, `/metrics/step` last.
    private func writeMetrics(_ metrics: PendingMetrics) throws {
        let rows = metrics.rows
        guard !rows.isEmpty else { return }
        let start = metrics.rewriteLast ? metricRowsWritten - 1 : metricRowsWritten
        let end = start + rows.count
        var names = Set(metricSets.keys)
        for row in rows { names.formUnion(row.values.keys) }
        for name in names.sorted() {
            let dataset: H5Dataset
            var from = start
            if let existing = metricSets[name] {
                dataset = existing
            } else {
                dataset = try Self.createMetric(name, in: metricsGroup)
                metricSets[name] = dataset
                from = 0
            }
            let earlier = [Double](repeating: .nan, count: start - from)
            try dataset.setRowCount(end)
            try dataset.writeRows(start: from, count: end - from, values: earlier + rows.map { $0.values[name] ?? .nan })
        }
        try metricStep.setRowCount(end)
        try metricStep.writeRows(start: start, count: end - start, values: rows.map { Int64($0.step) })
        metricRowsWritten = end
    }
}

/// Whether another open file description holds an exclusive `flock` on `path`, as HDF5
/// writers with file locking do: a non-blocking shared lock would then fail.
func isLockedExclusively(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return false } // the reader reports missing or unreadable files
    defer { close(fd) }
    if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
    flock(fd, LOCK_UN)
    return false
}
