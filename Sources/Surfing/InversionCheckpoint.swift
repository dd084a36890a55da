import Foundation
import LiftedTrain

/// Where and how often an inversion saves the Adam descents on the final network, so that a
/// killed run continues where it stopped and ends exactly as an uninterrupted one would.
///
/// What is saved, and why it is enough: on the final network each chunk of trials (one per
/// worker, `InversionSettings.batchSize` rows at most) runs Adam from the x it entered with,
/// and a step reads only the chunk's own x, m, v, step count t (the bias corrections 1 − βᵗ),
/// which rows are still descending and, with a plateau window, each row's reference loss. A
/// checkpoint holds exactly these (bit patterns, not decimal text), plus the x̂ and step counts
/// of the rows that already left the chunk. Everything else is rebuilt from the run's settings
/// on resume: the trials, A, x*, and for surfing the intermediate snapshots' phases, which are
/// recomputed (a few hundred steps against up to 60,000 on the final network) and must give
/// the very x the chunk entered with — that is checked bit for bit against the saved one.
///
/// One file per chunk, `chunk-<first row>-<end row>.json`, replaced atomically (written beside
/// it, then renamed), every `every` steps and once more when the chunk finishes. Surfing also
/// saves x and the step counts after each intermediate snapshot (`phases.json`), so a resumed
/// run skips the snapshots already done: at k = 20 they are 18,937 steps per trial. A file
/// carries the run's `fingerprint`; a file of another run, or one whose entry x differs, is
/// refused with one line rather than continued.
public struct InversionCheckpoint: Sendable {
    /// The directory of the chunk files (created when missing).
    public var directory: String
    /// Steps between saves.
    public var every: Int
    /// What identifies the run (its settings, history and trials), written into every file and
    /// compared on resume.
    public var fingerprint: String

    /// The run's time so far, across the invocations that continued it (wall and CPU seconds);
    /// written to `clock.json` beside every save, so that a continued run can report the time
    /// the whole run took rather than its last invocation's. nil: no clock is kept.
    public var elapsed: (@Sendable () -> RunTime)?

    public init(directory: String, every: Int = 1000, fingerprint: String) {
        self.directory = directory; self.every = max(1, every); self.fingerprint = fingerprint
    }

    /// Wall and CPU seconds.
    public struct RunTime: Codable, Sendable, Equatable {
        public var seconds: Double
        public var cpuSeconds: Double
        public init(seconds: Double, cpuSeconds: Double) { self.seconds = seconds; self.cpuSeconds = cpuSeconds }
    }

    var clockPath: String { "\(directory)/clock.json" }

    /// The time saved with the last save before this invocation (zero when none, or unreadable:
    /// a clock is a report, not state, and never stops a run).
    public static func savedTime(in directory: String) -> RunTime {
        let path = directory + "/clock.json"
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size > 0, size < 4096, let data = try? Data(contentsOf: URL(fileURLWithPath: path)),
              let t = try? JSONDecoder().decode(RunTime.self, from: data),
              t.seconds.isFinite, t.cpuSeconds.isFinite, t.seconds >= 0, t.cpuSeconds >= 0 else {
            return RunTime(seconds: 0, cpuSeconds: 0)
        }
        return t
    }

    /// Writes the run's time so far after the save of `tag` (a chunk or the phases; workers
    /// write their own temporary file, and the last rename wins).
    func saveTime(tag: String) {
        guard let t = elapsed?(), let data = try? JSONEncoder().encode(t) else { return }
        let tmp = "\(clockPath).\(tag).tmp"
        guard (try? data.write(to: URL(fileURLWithPath: tmp))) != nil else { return }
        _ = rename(tmp, clockPath)
    }

    /// The file of the chunk that entered the final network with state rows `rows`.
    func path(rows: [Int]) -> String {
        "\(directory)/chunk-\(rows.first ?? 0)-\((rows.last ?? -1) + 1).json"
    }

    /// The file of surfing's last finished intermediate snapshot.
    var phasesPath: String { "\(directory)/phases.json" }

    /// The checkpoint files in `directory` (what `removeFiles` deletes), with the temporary files
    /// a kill between writing and renaming one leaves behind.
    public static func files(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        func ours(_ n: String) -> Bool {
            (n.hasPrefix("chunk-") && n.hasSuffix(".json")) || ["phases.json", "split.json", "clock.json"].contains(n)
        }
        return names.filter { ours($0) || ($0.hasSuffix(".tmp") && (ours(String($0.dropLast(4))) || $0.hasPrefix("clock.json."))) }
            .sorted().map { "\(directory)/\($0)" }
    }

    /// Records how the trials are split into chunks (`workers`, `batchSize`) in `split.json`, or,
    /// when the directory already holds a run saved with another split, refuses it: its chunk
    /// files would match none of this run's chunks and the saved progress would be lost silently.
    public static func claim(_ directory: String, workers: Int, batchSize: Int) throws {
        let path = directory + "/split.json"
        struct Split: Codable, Equatable { var workers: Int; var batchSize: Int }
        let mine = Split(workers: workers, batchSize: batchSize)
        if FileManager.default.fileExists(atPath: path) {
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
            guard size < 4096, let data = try? Data(contentsOf: URL(fileURLWithPath: path)),
                  let saved = try? JSONDecoder().decode(Split.self, from: data) else {
                throw CheckpointError(path, "not a readable checkpoint split; delete the directory to start afresh")
            }
            guard saved == mine else {
                throw CheckpointError(directory, "saved with \(saved.workers) workers (--threads) and batches of \(saved.batchSize); continue it with those, or delete it to start afresh")
            }
            return
        }
        try mine.save(to: path)
    }

    /// Deletes the chunk files (after a finished run), and the directory when that empties it.
    public static func removeFiles(in directory: String) {
        for f in files(in: directory) { try? FileManager.default.removeItem(atPath: f) }
        if (try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Tests only: called after every save with the chunk's step; returning true stops the run
    /// there (`InversionInterrupted`), as a kill right after the save would.
    nonisolated(unsafe) public static var interruptAfterSave: ((Int) -> Bool)?
    /// Tests only: called after surfing saved intermediate snapshot `j` (its index among those
    /// visited); returning true stops the run there.
    nonisolated(unsafe) public static var interruptAfterPhase: ((Int) -> Bool)?
}

/// How far the run that saved a checkpoint directory had got (`lpom inspect DIR`): a report read
/// from the files as they are, without the run's settings, so no fingerprint is checked and no
/// number array is read. Unreadable or oversized files are named in `problems`, not thrown.
public struct CheckpointSummary: Sendable {
    /// One chunk of trials on the final network: its state rows `firstRow..<endRow`, the Adam
    /// steps it has taken and how many of its rows have met no stopping test (tolerance,
    /// plateau, gradient): still descending, or, once the chunk has used its budget, failed.
    public struct Chunk: Sendable, Equatable {
        public var firstRow: Int, endRow: Int, step: Int, notStopped: Int
    }
    public var directory: String
    /// What identifies the run (its command's settings, history and trials), from any file.
    public var fingerprint: String?
    /// The split of the trials the run was saved with (`split.json`).
    public var workers: Int?, batchSize: Int?
    /// Surfing's last finished intermediate snapshot (0-based, among those visited) and the
    /// number visited, the final network included.
    public var phase: Int?, phases: Int?
    public var chunks: [Chunk] = []
    /// The run's time so far, across its invocations (`clock.json`).
    public var time: InversionCheckpoint.RunTime?
    public var problems: [String] = []

    /// One line: where the run is.
    public var progress: String {
        if !chunks.isEmpty {
            let steps = Set(chunks.map(\.step)).sorted().map { $0.formatted() }.joined(separator: "/")
            let rows = chunks.reduce(0) { $0 + $1.endRow - $1.firstRow }
            return "final network: step \(steps), \(chunks.reduce(0) { $0 + $1.notStopped }) of \(rows) trials not stopped (no stopping test met yet)"
        }
        if let phase, let phases { return "intermediate network \(phase + 1) of \(phases - 1) done" }
        return "started, nothing saved yet"
    }
}

extension InversionCheckpoint {
    /// The files of `directory` read as a progress report; throws (one line) when it is not a
    /// directory or holds no checkpoint file.
    public static func summary(of directory: String) throws -> CheckpointSummary {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError(directory, "not a directory")
        }
        let names = files(in: directory).map { URL(fileURLWithPath: $0).lastPathComponent }.filter { !$0.hasSuffix(".tmp") }
        guard !names.isEmpty else { throw CheckpointError(directory, "holds no lpom surf checkpoint files (chunk-*.json, phases.json, split.json, clock.json)") }
        var out = CheckpointSummary(directory: directory)
        // Only the small fields are kept (the number arrays are parsed and dropped); a chunk of 300 trials
        // with k = 100 is ≈ 2.4 MB, so 256 MiB is far above any real file and below trouble.
        func read<T: Decodable>(_ name: String, as type: T.Type, limit: Int = 256 << 20) -> T? {
            let path = directory + "/" + name
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
            guard size <= limit else { out.problems.append("\(name): \(size) bytes, more than any checkpoint file (\(limit))"); return nil }
            do { return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                out.problems.append("\(name): not readable (\(error))"); return nil
            }
        }
        struct Split: Decodable { var workers: Int; var batchSize: Int }
        struct Phases: Decodable { var fingerprint: String; var phase: Int; var phases: Int }
        struct Chunk: Decodable { var fingerprint: String; var rows: [Int]; var step: Int; var slots: [Int] }
        for name in names {
            switch name {
            case "split.json":
                if let s = read(name, as: Split.self, limit: 4096) { out.workers = s.workers; out.batchSize = s.batchSize }
            case "clock.json":
                if let t = read(name, as: RunTime.self, limit: 4096) { out.time = t }
            case "phases.json":
                if let p = read(name, as: Phases.self) { out.phase = p.phase; out.phases = p.phases; out.fingerprint = out.fingerprint ?? p.fingerprint }
            default:
                guard let c = read(name, as: Chunk.self) else { continue }
                out.chunks.append(.init(firstRow: c.rows.first ?? 0, endRow: (c.rows.last ?? -1) + 1, step: c.step, notStopped: c.slots.count))
                out.fingerprint = out.fingerprint ?? c.fingerprint
            }
        }
        out.chunks.sort { $0.firstRow < $1.firstRow }
        return out
    }
}

/// A checkpoint file's common fields: its format and the run's fingerprint.
protocol CheckpointFile: Codable {
    static var currentFormat: String { get }
    var format: String { get }
    var fingerprint: String { get }
}

/// The checkpoint in `path` as `T`, checked to be of `T`'s format and of the run with
/// `fingerprint`; nil when there is none. A file over `limit` bytes is refused before it is read.
func readCheckpoint<T: CheckpointFile>(_ path: String, as type: T.Type, fingerprint: String, trials: Int, limit: Int) throws -> T? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    guard size <= limit else { throw CheckpointError(path, "\(size) bytes, more than a checkpoint of \(trials) trials can hold (\(limit))") }
    let c: T
    do { c = try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
        throw CheckpointError(path, "not a readable checkpoint (\(error)); delete it to start this piece afresh")
    }
    guard c.format == T.currentFormat else { throw CheckpointError(path, "format '\(c.format)', expected '\(T.currentFormat)'") }
    guard c.fingerprint == fingerprint else {
        throw CheckpointError(path, "saved by another run (other settings, history or trials); delete it or give another --checkpoint directory")
    }
    return c
}

/// Surfing's state after its last finished intermediate snapshot: x and every trial's steps.
struct PhaseCheckpoint: CheckpointFile {
    static let currentFormat = "lpom surf phases 1"
    var format = PhaseCheckpoint.currentFormat
    var fingerprint: String
    /// The index (among the snapshots visited) of the last finished one, and how many are visited.
    var phase: Int, phases: Int
    var trials: Int, latent: Int
    var x: String
    var iterations: [Int]

    /// Reads and checks `path`, or nil when there is none.
    static func load(_ path: String, fingerprint: String, phases: Int, trials n: Int, latent k: Int) throws -> PhaseCheckpoint? {
        guard let c = try readCheckpoint(path, as: PhaseCheckpoint.self, fingerprint: fingerprint, trials: n,
                                         limit: 32 * n * (k + 1) + fingerprint.utf8.count + 4096) else { return nil }
        guard c.phases == phases, c.trials == n, c.latent == k, c.phase >= 0, c.phase < phases - 1, c.iterations.count == n,
              c.iterations.allSatisfy({ $0 >= 0 }), c.x.utf8.count == 16 * n * k else {
            throw CheckpointError(path, "inconsistent sizes or counts")
        }
        return c
    }
}

/// A run stopped by `InversionCheckpoint.interruptAfterSave` (tests of resuming).
public struct InversionInterrupted: Error, CustomStringConvertible {
    public var description: String { "the inversion was interrupted after a checkpoint" }
}

/// A checkpoint that cannot be continued: one line naming the file and the reason.
public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    init(_ path: String, _ why: String) { description = "checkpoint \(path): \(why)" }
}

/// One chunk's saved descent (see `InversionCheckpoint`). Arrays of numbers are hexadecimal
/// IEEE-754 binary64 bit patterns, 16 digits per value, so every value comes back exactly.
struct ChunkCheckpoint: CheckpointFile {
    static let currentFormat = "lpom surf checkpoint 1"
    var format = ChunkCheckpoint.currentFormat
    var fingerprint: String
    /// Latent size k.
    var latent: Int
    /// The state rows the chunk entered with, and their x then (rows × k).
    var rows: [Int]
    var entryX: String
    /// Adam steps taken.
    var step: Int
    /// Positions (in `rows`) still descending, and their x, m, v (slots × k) and reference losses.
    var slots: [Int]
    var x: String, m: String, v: String, reference: String
    /// Every row's x̂ once it left the chunk (rows × k; rows still descending hold zeros) and steps so far.
    var outX: String
    var outIterations: [Int]

    static func hex<S: NNScalar>(_ values: [S]) -> String {
        var s = ""
        s.reserveCapacity(values.count * 16)
        for v in values {
            let h = String(Double(v).bitPattern, radix: 16)
            s += String(repeating: "0", count: 16 - h.count) + h
        }
        return s
    }

    /// The `count` values of `text`, or nil when it does not hold exactly that many.
    static func values<S: NNScalar>(_ text: String, count: Int) -> [S]? {
        let u = Array(text.utf8)
        guard u.count == 16 * count else { return nil }
        var out = [S]()
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let bits = UInt64(String(decoding: u[(16 * i)..<(16 * i + 16)], as: UTF8.self), radix: 16) else { return nil }
            out.append(S(Double(bitPattern: bits)))
        }
        return out
    }

    /// Reads and checks the file of a chunk entering with `rows` at `entry` (rows × k), or nil
    /// when there is none. Sizes are checked against the chunk before any array is built.
    static func load<S: NNScalar>(_ path: String, fingerprint: String, rows: [Int], entry: [S], latent k: Int) throws -> ChunkCheckpoint? {
        guard let c = try readCheckpoint(path, as: ChunkCheckpoint.self, fingerprint: fingerprint, trials: rows.count,
                                         limit: 64 * (rows.count * (5 * k + 2) + 64) + fingerprint.utf8.count + 4096) else { return nil }
        guard c.latent == k, c.rows == rows else { throw CheckpointError(path, "saved for other trials (rows or latent size differ)") }
        let n = rows.count, a = c.slots.count
        guard a <= n, c.outIterations.count == n, c.step >= 0, c.slots.allSatisfy({ (0..<n).contains($0) }),
              zip(c.slots, c.slots.dropFirst()).allSatisfy({ $0 < $1 }), c.outIterations.allSatisfy({ $0 >= 0 && $0 <= c.step }),
              c.x.utf8.count == 16 * a * k, c.m.utf8.count == 16 * a * k, c.v.utf8.count == 16 * a * k,
              c.reference.utf8.count == 16 * a, c.outX.utf8.count == 16 * n * k, c.entryX.utf8.count == 16 * n * k else {
            throw CheckpointError(path, "inconsistent sizes or counts")
        }
        guard let saved: [S] = values(c.entryX, count: n * k) else { throw CheckpointError(path, "unreadable numbers") }
        guard saved.elementsEqual(entry, by: { Double($0).bitPattern == Double($1).bitPattern }) else {
            throw CheckpointError(path, "the trials reach the final network at another x than when it was saved (another binary, thread count or history?); delete it to start afresh")
        }
        return c
    }

}

extension Encodable {
    /// Writes `self` as JSON to `path` atomically (a temporary file beside it, then a rename).
    func save(to path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = path + ".tmp"
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, path) == 0 else { throw CheckpointError(path, "cannot be replaced (errno \(errno))") }
    }
}
