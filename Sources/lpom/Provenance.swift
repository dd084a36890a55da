import Foundation
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The provenance entry of this session of a training run (`TrainingRecord.Provenance`): when,
/// where, with which build, threads, BLAS and data files. A new run writes one; every resume
/// appends its own.
func sessionProvenance(event: String, fromStep: Int, threads: Int, dataFiles: [TrainingRecord.DataFile]?) -> TrainingRecord.Provenance {
    let git = SourceTree.commit
    return TrainingRecord.Provenance(event: event, fromStep: fromStep, date: isoDate(), host: hostName(),
                                     lpomVersion: lpomVersion, gitCommit: git.commit, gitDirty: git.dirty, threads: threads,
                                     blasKernel: BLASCore.name, openblas: BLASCore.config, dataFiles: dataFiles)
}

/// The current time, ISO 8601 in UTC (e.g. 2025-01-31T12:00:00Z).
func isoDate() -> String { ISO8601DateFormatter().string(from: Date()) }

/// This machine's host name (`gethostname`), or "unknown".
func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Size and SHA-256 of every file in `paths` (the data files a run reads).
func dataFileDigests(_ paths: [String]) throws -> [TrainingRecord.DataFile] {
    try paths.map { path in
        let (hex, bytes) = try SHA256.file(path)
        return TrainingRecord.DataFile(path: URL(fileURLWithPath: path).standardizedFileURL.path, bytes: bytes, sha256: hex)
    }
}

/// The git commit of the source tree this binary was compiled from.
///
/// `#filePath` names this file where it was compiled, so the repository root is three levels
/// up; at run time `git rev-parse HEAD` there gives the commit, and `git status --porcelain
/// --untracked-files=no` whether tracked files were changed. No build step is involved, so a
/// clean clone builds as before. "unknown" (dirty nil) when that directory no longer exists or
/// is not a git checkout, e.g. a binary copied to another machine. Limitation: a checkout
/// moved to another commit after the build reports the new commit; rebuild after checking out.
enum SourceTree {
    static let commit: (commit: String, dirty: Bool?) = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: root + "/.git"),
              let head = git(["-C", root, "rev-parse", "HEAD"]), head.count == 40 else { return ("unknown", nil) }
        let status = git(["-C", root, "status", "--porcelain", "--untracked-files=no"])
        return (head, status.map { !$0.isEmpty })
    }()

    /// The trimmed standard output of `git args`, or nil if git fails or is missing.
    private static func git(_ args: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The "provenance" block of `lpom inspect`: one line per session (start or resume), the data
/// files of the first session that recorded them (later ones are checked to match on resume),
/// the extensions, and the wall seconds per epoch.
func provenanceLines(_ record: TrainingRecord, epochSeconds: [Double]) -> [String] {
    guard let sessions = record.provenance, !sessions.isEmpty else {
        return ["provenance none recorded (a history written before lpom recorded it, or by another program)"]
    }
    var lines = ["provenance"]
    for p in sessions {
        let commit = p.gitCommit == "unknown" ? "unknown" : String(p.gitCommit.prefix(12))
        let blas = p.openblas.split(separator: " ").prefix(2).joined(separator: " ")
        lines.append("  \(p.event.padding(toLength: 7, withPad: " ", startingAt: 0)) step \(String(p.fromStep).padding(toLength: 7, withPad: " ", startingAt: 0))"
                     + " \(p.date)  host \(p.host)  lpom \(p.lpomVersion) git \(commit)\(p.gitDirty == true ? " (modified)" : "")"
                     + "  threads \(p.threads)  \(blas) \(p.blasKernel)")
    }
    for f in sessions.first(where: { $0.dataFiles != nil })?.dataFiles ?? [] {
        lines.append("  data    \(f.path)  \(formatBytes(f.bytes))  sha256 \(f.sha256)")
    }
    for e in record.extensions ?? [] {
        lines.append("  extend  \(e.previousEpochs) → \(e.epochs) epochs from step \(e.fromStep) (asked at step \(e.resumedAtStep), \(e.date))")
    }
    let s = epochSeconds.filter(\.isFinite)
    if let lo = s.min(), let hi = s.max() {
        lines.append(String(format: "  epochs  %d timed: %.2f s mean, %.2f … %.2f s", s.count, s.reduce(0, +) / Double(s.count), lo, hi))
    }
    return lines
}
