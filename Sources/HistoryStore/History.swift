import Foundation

// The training-history file format (docs/HISTORY-FORMAT.md, format_version 1):
// root attributes format, format_version, created_by, model, training (TrainingRecord.swift);
// datasets /snapshot_step int64 [T], /theta/<name> and /buffers/<name> float32 [T, *shape],
// /metrics/step int64 [S] and /metrics/<name> float64 [S], /resume (HistoryResumeState.swift).
// This file holds what the writer and the reader share: the error type, the names and
// limits, and the one validation routine both run when opening an existing file.

/// One-line, human-readable error naming the file and the problem,
/// e.g. `run.h5: not an HDF5 file`.
public struct HistoryError: Error, CustomStringConvertible {
    /// The message: `<path>: <problem>`.
    public let description: String

    /// Creates an error for `path` with the given problem.
    init(_ path: String, _ problem: String) {
        description = "\(path): \(problem)"
    }
}

/// Names and limits of the history format.
enum HistoryFormat {
    static let format = "lpom-history"
    static let version = 1
    static let snapshotStep = "snapshot_step"
    static let theta = "theta"
    static let buffers = "buffers"
    static let metrics = "metrics"
    static let metricStep = "step"

    /// Largest number of snapshots accepted from a file (checked before allocating).
    static let maxSnapshots = 1 << 24
    /// Largest number of metric rows accepted from a file (one per step of 16.7 M steps; a
    /// metric is read whole, 128 MiB at most).
    static let maxMetricRows = 1 << 24
    /// Largest number of elements of one parameter in one snapshot.
    static let maxElements = 1 << 31
    /// Most chunks one read of a whole rank-1 dataset may touch (HDF5 keeps a few hundred bytes
    /// per chunk of a read; lpom's own files use 256- and 1024-row chunks).
    static let maxChunksPerRead = 1 << 18
    /// Most rows in one chunk of a rank-1 dataset longer than the dataset itself (lpom writes
    /// 256 and 1024; h5py's automatic chunking stays far below).
    static let maxRowsPerChunk = 1 << 16
    /// Largest chunk cache of one dataset of a packed history (the chunks of one block of rows).
    static let maxChunkCacheBytes = 256 << 20
    /// Largest rank of one parameter.
    static let maxRank = 8
    /// The fill value of `/snapshot_step` and `/metrics/step` in files we write: a row that
    /// reads -1 was never committed (a flush interrupted by a kill).
    static let uncommittedStep: Int64 = -1

    /// Checks a parameter, buffer or metric name: non-empty, no '/', not '.' or '..'.
    static func checkName(_ name: String, kind: String, path: String) throws {
        if name.isEmpty || name.contains("/") || name == "." || name == ".." {
            throw HistoryError(path, "invalid \(kind) name '\(name)' (must be non-empty and contain no '/')")
        }
    }

    /// Checks that `text` parses as JSON.
    static func checkJSON(_ text: String, attribute: String, path: String) throws {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw HistoryError(path, "the '\(attribute)' attribute is not valid JSON")
        }
    }

    /// Product of `shape`, or nil if it overflows or exceeds `maxElements`.
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow || p > maxElements { return nil }
            n = p
        }
        return n
    }
}

/// One `/theta` or `/buffers` dataset of an opened history.
struct HistoryArray {
    /// The open dataset.
    let dataset: H5Dataset
    /// Per-snapshot shape (without the leading T axis).
    let shape: [Int]
    /// Elements per snapshot.
    let elements: Int
}

/// An opened and validated history file.
///
/// Tolerance of a killed writer (see `HistoryWriter`): a kill inside an `H5Fflush` can leave
/// metadata on disk that points past the end-of-allocation the superblock records (HDF5
/// writes the superblock last), so rows added by the interrupted flush may be unreadable.
/// Rows that committed snapshots need never depend on such metadata; the only reads that
/// reach past them are of `/snapshot_step` and of the metrics, which are read whole. Those
/// are read up to the longest readable prefix: `/snapshot_step` loses at most its last row
/// (and a last row of -1, its fill value, is an unfinished commit), metrics lose the rows in
/// chunks the interrupted flush added, and a metric created by that flush is left out.
struct HistoryLayout {
    let file: H5Location
    let model: String
    let training: String
    let createdBy: String
    let snapshotSteps: [Int]
    let parameters: [String: HistoryArray]
    let buffers: [String: HistoryArray]
    /// `/metrics/step` (S rows, possibly empty).
    let metricSteps: [Int]
    /// Every readable `/metrics/<name>` except `step`, S values each.
    let metrics: [String: [Double]]

    /// Closes every dataset, then the file.
    func close() {
        for array in parameters.values { array.dataset.handle.close() }
        for array in buffers.values { array.dataset.handle.close() }
        file.handle.close()
        H5.clearErrors()
    }

    /// Opens `path` read-only and checks it against format_version 1, turning every problem
    /// into a one-line `HistoryError`. Sizes read from the file are checked before allocating.
    static func open(path: String) throws -> HistoryLayout {
        H5.prepare()
        try checkPlainFile(path)
        // Before HDF5 parses anything: it hangs or crashes on damaged global heaps (see HDF5GlobalHeap).
        if let damage = try? HDF5GlobalHeap.damage(path: path) {
            throw HistoryError(path, "damaged HDF5 file: \(damage)")
        }
        switch H5.isHDF5(path: path) {
        case .failure(let f): throw HistoryError(path, "not an HDF5 file (\(f.description))")
        case .success(false): throw HistoryError(path, "not an HDF5 file")
        case .success(true): break
        }
        do {
            let file: H5Location
            do {
                file = try H5Location.openFile(path: path, writable: false, locking: false)
            } catch let first as H5Failure {
                // A writer of this same process has the file open with locking on, and HDF5
                // refuses a second open with different locking flags: retry with the writer's.
                guard let again = try? H5Location.openFile(path: path, writable: false, locking: true) else { throw first }
                file = again
            }
            return try validate(file: file, path: path)
        } catch let error as H5Failure {
            throw HistoryError(path, error.description)
        }
    }

    /// Refuses missing files, directories and empty files before HDF5 sees them.
    private static func checkPlainFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HistoryError(path, "no such file")
        }
        if isDirectory.boolValue { throw HistoryError(path, "is a directory, not a history file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw HistoryError(path, "permission denied") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        if size == 0 { throw HistoryError(path, "empty file (not an HDF5 file)") }
    }

    private static func stringAttribute(_ file: H5Location, _ name: String, path: String, required: Bool) throws -> String? {
        guard try file.hasAttribute(name) else {
            if required { throw HistoryError(path, "not an lpom history (no '\(name)' attribute)") }
            return nil
        }
        switch try file.readAttribute(name) {
        case .string(let s): return s
        case .integer: throw HistoryError(path, "the '\(name)' attribute is an integer, expected a string")
        case .other(let what): throw HistoryError(path, "the '\(name)' attribute is \(what), expected a string")
        }
    }

    private static func validate(file: H5Location, path: String) throws -> HistoryLayout {
        guard let format = try stringAttribute(file, "format", path: path, required: true) else {
            throw HistoryError(path, "not an lpom history (no 'format' attribute)")
        }
        guard format == HistoryFormat.format else {
            throw HistoryError(path, "not an lpom history (format is '\(format)', expected '\(HistoryFormat.format)')")
        }
        guard try file.hasAttribute("format_version") else {
            throw HistoryError(path, "not an lpom history (no 'format_version' attribute)")
        }
        guard case .integer(let version) = try file.readAttribute("format_version") else {
            throw HistoryError(path, "the 'format_version' attribute is not an integer")
        }
        if version > Int64(HistoryFormat.version) {
            throw HistoryError(path, "format_version \(version) is newer than this lpom reads (\(HistoryFormat.version)); upgrade lpom")
        }
        if version < 1 { throw HistoryError(path, "invalid format_version \(version)") }
        let model = try stringAttribute(file, "model", path: path, required: true) ?? ""
        let training = try stringAttribute(file, "training", path: path, required: true) ?? ""
        let createdBy = try stringAttribute(file, "created_by", path: path, required: false) ?? ""
        try HistoryFormat.checkJSON(model, attribute: "model", path: path)
        try HistoryFormat.checkJSON(training, attribute: "training", path: path)

        let steps = try readSnapshotSteps(file, path: path)
        guard try file.hasLink(HistoryFormat.theta), try file.isGroup(HistoryFormat.theta) else {
            throw HistoryError(path, "no /theta group")
        }
        let parameters = try readArrays(try file.openGroup(HistoryFormat.theta), group: HistoryFormat.theta,
                                        snapshots: steps.count, path: path)
        var buffers: [String: HistoryArray] = [:]
        if try file.hasLink(HistoryFormat.buffers) {
            guard try file.isGroup(HistoryFormat.buffers) else { throw HistoryError(path, "/buffers is not a group") }
            buffers = try readArrays(try file.openGroup(HistoryFormat.buffers), group: HistoryFormat.buffers,
                                     snapshots: steps.count, path: path)
        }
        var metricSteps: [Int] = []
        var metrics: [String: [Double]] = [:]
        if try file.hasLink(HistoryFormat.metrics) {
            guard try file.isGroup(HistoryFormat.metrics) else { throw HistoryError(path, "/metrics is not a group") }
            (metricSteps, metrics) = try readMetrics(try file.openGroup(HistoryFormat.metrics), path: path)
        }
        return HistoryLayout(file: file, model: model, training: training, createdBy: createdBy, snapshotSteps: steps,
                             parameters: parameters, buffers: buffers, metricSteps: metricSteps, metrics: metrics)
    }

    /// Rank-1 length of a dataset, checked against `limit`.
    private static func length(of dataset: H5Dataset, path: String, what: String, limit: Int) throws -> Int {
        let dims = try dataset.shape().dims
        guard dims.count == 1 else { throw HistoryError(path, "\(what) has rank \(dims.count), expected 1") }
        guard let n = Int(exactly: dims[0]), n <= limit else {
            throw HistoryError(path, "\(what) claims \(dims[0]) rows (more than \(limit)); damaged file?")
        }
        if n > 0, let rows = try dataset.rowsPerChunk() {
            if (n - 1) / rows + 1 > HistoryFormat.maxChunksPerRead {
                throw HistoryError(path, "\(what) spreads \(n) rows over chunks of \(rows) (more than \(HistoryFormat.maxChunksPerRead) chunks); damaged file?")
            }
            // HDF5 allocates a whole chunk to read one (found by fuzzing: 2^26 rows, 512 MiB).
            if rows > max(n, HistoryFormat.maxRowsPerChunk) {
                throw HistoryError(path, "\(what) has \(n) rows in chunks of \(rows); damaged file?")
            }
        }
        return n
    }

    /// Reads the longest prefix of `count` rows that HDF5 can read, all of them or a number of
    /// whole chunks (a flush interrupted by a kill can leave the newest chunks unreachable).
    /// Every prefix of a readable prefix is readable, so the number of chunks is found by
    /// bisection: a file whose chunks are all unreadable costs about log2(count) reads, not
    /// one per chunk. Returns nil if not even the empty prefix can be read.
    private static func readablePrefix<T: H5Element>(_ dataset: H5Dataset, count: Int, as: T.Type) throws -> [T]? {
        if let values = try? dataset.readRows(start: 0, count: count, as: T.self) { return values }
        H5.clearErrors()
        let chunk = try dataset.rowsPerChunk() ?? max(count, 1)
        guard var best = try? dataset.readRows(start: 0, count: 0, as: T.self) else {
            H5.clearErrors()
            return nil
        }
        // The answer, in whole chunks, lies in lo...hi; `best` holds the rows of lo chunks.
        var lo = 0, hi = (count - 1) / chunk
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if let values = try? dataset.readRows(start: 0, count: mid * chunk, as: T.self) {
                best = values
                lo = mid
            } else {
                H5.clearErrors()
                hi = mid - 1
            }
        }
        return best
    }

    /// Reads `/snapshot_step`: its rows, less a last row that is unreadable or -1 (a commit
    /// interrupted by a kill); the rest must be readable, non-negative and increasing.
    private static func readSnapshotSteps(_ file: H5Location, path: String) throws -> [Int] {
        let name = HistoryFormat.snapshotStep
        guard try file.hasLink(name), try file.isDataset(name) else { throw HistoryError(path, "no /\(name) dataset") }
        let dataset = try file.openDataset(name)
        guard try dataset.elementType().0 == .integer else { throw HistoryError(path, "/\(name) is not an integer dataset") }
        let count = try length(of: dataset, path: path, what: "/\(name)", limit: HistoryFormat.maxSnapshots)
        var raw: [Int64]
        do {
            raw = try dataset.readRows(start: 0, count: count, as: Int64.self)
        } catch let first as H5Failure {
            guard count > 0, let shorter = try? dataset.readRows(start: 0, count: count - 1, as: Int64.self) else { throw first }
            H5.clearErrors()
            raw = shorter
        }
        if raw.last == HistoryFormat.uncommittedStep { raw.removeLast() }
        let steps = raw.map { Int($0) }
        for (i, s) in steps.enumerated() {
            if s < 0 { throw HistoryError(path, "/\(name)[\(i)] is negative (\(s))") }
            if i > 0 && s <= steps[i - 1] {
                throw HistoryError(path, "/\(name) is not increasing (\(steps[i - 1]) then \(s) at row \(i))")
            }
        }
        return steps
    }

    private static func readArrays(_ group: H5Location, group groupName: String, snapshots: Int,
                                   path: String) throws -> [String: HistoryArray] {
        var arrays: [String: HistoryArray] = [:]
        for name in try group.childNames() {
            let full = "/\(groupName)/\(name)"
            guard try group.isDataset(name) else { throw HistoryError(path, "\(full) is not a dataset") }
            let dataset = try group.openDataset(name)
            let (cls, size) = try dataset.elementType()
            guard cls == .float, size == 4 else {
                throw HistoryError(path, "\(full) is not float32 (\(cls == .float ? "float\(size * 8)" : "\(cls)"))")
            }
            let dims = try dataset.shape().dims
            guard dims.count >= 1, dims.count <= HistoryFormat.maxRank + 1 else {
                throw HistoryError(path, "\(full) has rank \(dims.count), expected 1 to \(HistoryFormat.maxRank + 1)")
            }
            guard let ints = H5.ints(dims), let elements = HistoryFormat.elementCount(Array(ints.dropFirst())) else {
                throw HistoryError(path, "\(full) has an implausible shape \(dims); damaged file?")
            }
            guard ints[0] >= snapshots else {
                throw HistoryError(path, "\(full) has \(ints[0]) rows but /snapshot_step has \(snapshots)")
            }
            // HDF5 allocates a whole chunk to read a filtered one, and a damaged file can claim any
            // chunk shape: chunks must fit the row's shape, and chunks of several rows
            // `maxChunkCacheBytes`. Checked before anything is read.
            let chunk = try dataset.chunkShape()
            if let chunk {
                guard chunk.count == ints.count, zip(chunk.dropFirst(), ints.dropFirst()).allSatisfy({ $0 <= max($1, 1) }) else {
                    throw HistoryError(path, "\(full) has chunks \(chunk) that do not fit its shape \(ints); damaged file?")
                }
                let (chunkBytes, overflow) = (HistoryFormat.elementCount(chunk) ?? Int.max).multipliedReportingOverflow(by: 4)
                if chunk[0] > 1, overflow || chunkBytes > HistoryFormat.maxChunkCacheBytes {
                    throw HistoryError(path, "\(full) is stored in chunks \(chunk) of more than \(HistoryFormat.maxChunkCacheBytes >> 20) MiB; damaged file?")
                }
            }
            if snapshots > 0, !(try dataset.rowIsStored(snapshots - 1)) {
                throw HistoryError(path, "\(full) has no data for snapshot \(snapshots - 1); damaged file?")
            }
            var opened = dataset
            if let rows = chunk?[0], rows > 1 {
                // Several snapshots per chunk (a packed history, `HistoryPack`): a cache holding the
                // chunks of one block of rows lets readers that go through the snapshots in order
                // decompress each chunk once instead of once per row (measured: reading every
                // snapshot of the paper generator's packed history 53 s without, under load).
                let (bytes, overflow) = rows.multipliedReportingOverflow(by: elements * 4)
                dataset.handle.close()
                opened = try group.openDataset(name, chunkCacheBytes: overflow ? HistoryFormat.maxChunkCacheBytes
                                                   : min(bytes + (1 << 20), HistoryFormat.maxChunkCacheBytes))
            }
            arrays[name] = HistoryArray(dataset: opened, shape: Array(ints.dropFirst()), elements: elements)
        }
        return arrays
    }

    /// Reads `/metrics`: the rows that `/metrics/step` (without trailing -1 rows) and every
    /// readable metric share (S), and those metrics.
    private static func readMetrics(_ group: H5Location, path: String) throws -> ([Int], [String: [Double]]) {
        let names = try group.childNames()
        guard names.contains(HistoryFormat.metricStep) else {
            if let name = names.first { throw HistoryError(path, "/metrics/\(name) present but /metrics/step is missing") }
            return ([], [:])
        }
        guard try group.isDataset(HistoryFormat.metricStep) else { throw HistoryError(path, "/metrics/step is not a dataset") }
        let stepSet = try group.openDataset(HistoryFormat.metricStep)
        guard try stepSet.elementType().0 == .integer else { throw HistoryError(path, "/metrics/step is not an integer dataset") }
        let rows = try length(of: stepSet, path: path, what: "/metrics/step", limit: HistoryFormat.maxMetricRows)
        guard var steps = try readablePrefix(stepSet, count: rows, as: Int64.self) else {
            throw HistoryError(path, "/metrics/step cannot be read; damaged file?")
        }
        while steps.last == HistoryFormat.uncommittedStep { steps.removeLast() }
        var count = steps.count
        var datasets: [String: H5Dataset] = [:]
        for name in names where name != HistoryFormat.metricStep {
            let full = "/metrics/\(name)"
            // A metric created by a flush a kill interrupted may not open; it has no committed rows.
            guard (try? group.isDataset(name)) ?? false, let dataset = try? group.openDataset(name) else {
                H5.clearErrors()
                continue
            }
            let cls = try dataset.elementType().0
            guard cls == .float || cls == .integer else { throw HistoryError(path, "\(full) is not numeric") }
            // Metrics shorter than /metrics/step (a header the kill did not let HDF5 update): keep the common rows.
            count = min(count, try length(of: dataset, path: path, what: full, limit: HistoryFormat.maxMetricRows))
            datasets[name] = dataset
        }
        var metrics: [String: [Double]] = [:]
        for (name, dataset) in datasets {
            // Unreadable from the first row: created by the interrupted flush; left out.
            guard let values = try readablePrefix(dataset, count: count, as: Double.self), !(values.isEmpty && count > 0) else {
                continue
            }
            count = min(count, values.count)
            metrics[name] = values
        }
        metrics = metrics.mapValues { Array($0.prefix(count)) }
        steps = Array(steps.prefix(count))
        return (steps.map { Int($0) }, metrics)
    }
}
