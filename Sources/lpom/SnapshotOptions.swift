import ArgumentParser
import Foundation
import HistoryStore
import LiftedTrain

extension SnapshotSpacing: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
}

extension TrainingRecord {
    /// The snapshot spacing of a run: `snapshot_schedule` (`epoch`, `log:K`) when the record has
    /// one, else every `snapshot_every` steps (40 when absent).
    var snapshotSpacing: SnapshotSpacing {
        if case .string(let s)? = other["snapshot_schedule"], let spacing = SnapshotSpacing(s) { return spacing }
        return .every(snapshotEvery ?? 40)
    }

    /// Records `spacing`: `snapshot_every` (the step interval — an epoch's steps for `epoch`, 0 for
    /// `log:K`, which readers that do not know `snapshot_schedule` take as "θ_0 and θ_T only") and,
    /// unless it is a plain interval, `snapshot_schedule`.
    mutating func setSnapshotSpacing(_ spacing: SnapshotSpacing, stepsPerEpoch: Int) {
        switch spacing {
        case .every(let n): snapshotEvery = n; other["snapshot_schedule"] = nil
        case .epoch: snapshotEvery = stepsPerEpoch; other["snapshot_schedule"] = .string("epoch")
        case .log: snapshotEvery = 0; other["snapshot_schedule"] = .string(spacing.description)
        }
    }

    /// Whether the run packs its history when it ends (`--compress`; kept on resume).
    var compress: Bool {
        if case .bool(true)? = other["compress"] { return true }
        return false
    }

    /// Records `--compress` (only when set, so records of other runs are unchanged).
    mutating func setCompress(_ on: Bool) { other["compress"] = on ? .bool(true) : nil }
}

/// Packs the history at `path` (`HistoryPack`) when `record` asks for it (`--compress`), and
/// says how much it saved on stderr unless `quiet`.
func packIfRecorded(_ path: String, record: TrainingRecord, quiet: Bool) throws {
    guard record.compress else { return }
    let sizes = try HistoryPack.pack(path: path)
    if !quiet { printErr("packed \(path): \(formatBytes(sizes.before)) → \(formatBytes(sizes.after))") }
}

/// Histories past this size get a warning line at the start of the run.
let historySizeWarningBytes = 1 << 30

/// The line printed at the start of a run: how many snapshots the spacing gives and the file size
/// they will take (float32 snapshots, before `--compress` packs them at the end of the run, plus the two float64 `/resume` slots of `stateScalars` values), and, past
/// `historySizeWarningBytes`, a warning naming the spacing that would fit.
func historySizeLines(path: String, spacing: SnapshotSpacing, totalSteps: Int, stepsPerEpoch: Int, scalars: Int,
                      stateScalars: Int = 0, compress: Bool) -> [String] {
    let count = spacing.count(total: totalSteps, perEpoch: stepsPerEpoch)
    let per = 4 * scalars
    let bytes = count * per + 16 * stateScalars
    var lines = ["history \(path): \(count) snapshots (--snapshot-every \(spacing)) × \(formatBytes(per))"
                 + (stateScalars > 0 ? " + resume state \(formatBytes(16 * stateScalars))" : "")
                 + " ≈ \(formatBytes(bytes))" + (compress ? ", before --compress packs it at the end" : "")]
    if bytes > historySizeWarningBytes {
        let k = max(2, min(count, historySizeWarningBytes / max(1, per)))
        lines.append("warning: the history will take \(formatBytes(bytes)); --snapshot-every log:\(min(k, 40)) keeps "
                     + "\(min(k, 40)) snapshots, log-spaced with θ_0 and the final θ (≈ \(formatBytes(min(k, 40) * per)))")
    }
    return lines
}

extension TrainCommand {
    /// Prints `historySizeLines` on stderr (the size line only without --quiet/--json; a warning always).
    func announceSize(path: String, spacing: SnapshotSpacing, totalSteps: Int, stepsPerEpoch: Int, network: Network<Float>,
                      stateScalars: Int = 0) {
        let lines = historySizeLines(path: path, spacing: spacing, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch,
                                     scalars: network.parameters.scalarCount + network.buffers.scalarCount,
                                     stateScalars: stateScalars, compress: compress)
        for (i, line) in lines.enumerated() where i > 0 || !(output.quiet || output.json) { printErr(line) }
    }
}
