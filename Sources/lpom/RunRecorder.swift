import Foundation
import HistoryStore
import LiftedTrain

/// Turns loop events into history rows, progress and the per-epoch table, for every kind of run:
/// - counted in epochs (classifiers, regression): snapshots with the trainer's resume state,
///   `epoch_seconds`, a row and a line per epoch, the bar showing the epoch's mean loss;
/// - counted in steps (generative training): snapshots with the trainer's resume state (both
///   networks' Adam moments, the partner network, the noise: `GenerativeState`), `snapshot_seconds` (wall seconds since the previous snapshot) at every snapshot after θ_0,
///   the bar showing the step's losses.
final class RunRecorder: TrainingObserver {
    struct Row {
        var epoch: Int; var trainLoss: Double; var trainAccuracy: Double; var testLoss: Double; var testAccuracy: Double; var seconds: Double
        /// User + system CPU seconds of the process during the epoch (all its threads).
        var cpuSeconds = Double.nan
        /// NaN without a validation set; with one, the test values are NaN except after the last epoch.
        var valLoss = Double.nan, valAccuracy = Double.nan
    }
    let trainer: any Trainer<Float>
    var network: Network<Float> { trainer.network }
    let writer: HistoryWriter
    let bar: ProgressBar
    let quiet: Bool
    /// Epochs of the run; nil for a run counted in steps.
    let epochs: Int?
    private(set) var rows: [Row] = []
    private var lossSum = 0.0, accSum = 0.0, count = 0
    private var pending: (step: Int, values: [String: Double])?
    private var epochStart = now()
    private var epochCPUStart = cpuSeconds()
    /// The training loss of the last step (before its update).
    private(set) var lastLoss = Double.nan
    /// The history row of the last step.
    private(set) var lastMetrics: [String: Double] = [:]
    private var lastSnapshot = now()
    /// This epoch's validation evaluation, until `didFinishEpoch` records it.
    private var validation: (loss: Double, accuracy: Double)?

    /// Tests only: called after every step's metrics are recorded; throwing stops the run there
    /// as a crash would (the history keeps the snapshots and resume state written so far).
    nonisolated(unsafe) static var stepHook: ((Int) throws -> Void)?

    /// A recorder of `trainer`'s run into `writer`; `epochs` nil for a run counted in steps.
    init(trainer: any Trainer<Float>, writer: HistoryWriter, total: Int, epochs: Int?, startStep: Int, quiet: Bool,
         bar: ProgressBar? = nil) {
        self.trainer = trainer; self.writer = writer; self.quiet = quiet; self.epochs = epochs
        self.bar = bar ?? ProgressBar(total: total, startAt: startStep, quiet: quiet)
    }

    private func flush() throws {
        if let p = pending { try writer.appendMetrics(step: p.step, values: p.values) }
        pending = nil
    }

    func didStep(_ step: Int, of total: Int, epoch: Int, report: StepReport) throws {
        try flush()
        pending = (step, report.metrics)
        lastMetrics = report.metrics
        lastLoss = report.loss
        if let epochs {
            lossSum += report.loss; accSum += report.accuracy; count += 1
            bar.update(step, suffix: String(format: "epoch %d/%d loss %.4f", epoch + 1, epochs, lossSum / Double(count)))
        } else {
            let shown = ["loss", "d_loss", "g_loss"].compactMap { k in report.losses[k].map { String(format: "%@ %.3f", k, $0) } }
            bar.update(step, suffix: shown.joined(separator: " "))
        }
        try Self.stepHook?(step)
    }

    func snapshotDue(step: Int) throws {
        try flush()
        if epochs == nil && step > 0 { try writer.appendMetrics(step: step, values: ["snapshot_seconds": now() - lastSnapshot]) }
        lastSnapshot = now()
        try writer.appendSnapshot(of: trainer, step: step)
    }

    func didEvaluateValidation(_ epoch: Int, step: Int, validation: (loss: Double, accuracy: Double)) throws {
        self.validation = validation
    }

    func didFinishEpoch(_ epoch: Int, step: Int, test: (loss: Double, accuracy: Double)?) throws {
        var row = Row(epoch: epoch, trainLoss: lossSum / Double(max(count, 1)), trainAccuracy: accSum / Double(max(count, 1)),
                      testLoss: test?.loss ?? .nan, testAccuracy: test?.accuracy ?? .nan, seconds: now() - epochStart,
                      cpuSeconds: cpuSeconds() - epochCPUStart)
        var values: [String: Double] = [:]
        if let t = test { values["test_loss"] = t.loss; values["test_accuracy"] = t.accuracy }
        if let v = validation {
            row.valLoss = v.loss; row.valAccuracy = v.accuracy
            values["val_loss"] = v.loss; values["val_accuracy"] = v.accuracy
        }
        rows.append(row)
        try flush()
        // The writer merges a repeated step into that step's row, whether or not a snapshot
        // has already written it.
        values["epoch_seconds"] = row.seconds
        try writer.appendMetrics(step: step, values: values)
        lossSum = 0; accSum = 0; count = 0
        epochStart = now()
        epochCPUStart = cpuSeconds()
        if !quiet {
            let shown = validation == nil ? ("test", row.testLoss, row.testAccuracy) : ("val", row.valLoss, row.valAccuracy)
            bar.line(String(format: "epoch %3d/%d  train loss %.4f  train acc %6.2f%%  %@ loss %.4f  %@ acc %6.2f%%  %.1f s",
                            epoch, epochs ?? 0, row.trainLoss, 100 * row.trainAccuracy, shown.0, shown.1, shown.0, 100 * shown.2, row.seconds))
        }
        validation = nil
    }

    func finish() {
        try? flush()
        bar.clear()
    }

    /// Per-epoch curves on two panels: loss (train, and test or validation) and accuracy in %
    /// (the same); a regression run has one panel of log10 losses.
    func plot(title: String, regression: Bool = false) -> PlotFigure {
        let v = rows.contains { !$0.valLoss.isNaN }
        let held = v ? "validation" : "test"
        let x = rows.map { Double($0.epoch) }
        var loss = LinePlot(title: "loss per epoch", xLabel: "epoch", yLabel: regression ? "log10 loss" : "loss")
        loss.integerX = true
        loss.yLimits.lo = regression ? nil : 0
        let f: (Double) -> Double = regression ? { log10($0) } : { $0 }
        loss.series.append(.init(name: "train loss (epoch mean)", x: x, y: rows.map { f($0.trainLoss) }))
        loss.series.append(.init(name: "\(held) loss", x: x, y: rows.map { f(v ? $0.valLoss : $0.testLoss) }))
        guard !regression else { return PlotFigure(title: title, panels: [loss]) }
        var acc = LinePlot(title: "accuracy per epoch", xLabel: "epoch", yLabel: "accuracy (%)")
        acc.integerX = true
        acc.yLimits = (0, 100)
        // The same order (and so colours) as the loss panel: train, then held out.
        acc.series.append(.init(name: "train accuracy (epoch mean)", x: x, y: rows.map { 100 * $0.trainAccuracy }))
        acc.series.append(.init(name: "\(held) accuracy", x: x, y: rows.map { 100 * (v ? $0.valAccuracy : $0.testAccuracy) }))
        return PlotFigure(title: title, panels: [loss, acc])
    }
}

/// Runs a training loop, then finishes the progress display and closes the history; a failure
/// closes them too and is rethrown as one line saying how much of the history was kept. So is a
/// failure of `close` (a snapshot the background writer could not write, say).
func runClosingHistory(_ writer: HistoryWriter, finish: () -> Void, _ body: () throws -> Void) throws {
    func kept(_ error: Error) -> CommandError {
        CommandError("\(error) — history \(writer.path) keeps \(writer.snapshotCount) snapshots up to step \(writer.lastStep ?? 0)")
    }
    do {
        try body()
    } catch {
        finish()
        try? writer.close()
        throw kept(error)
    }
    finish()
    do { try writer.close() } catch { throw kept(error) }
}

extension HistoryWriter {
    /// Appends `trainer`'s snapshot at `step` as `lpom train` writes it: θ, the buffers and the
    /// resume state, whose Float arrays are handed over unconverted and converted off the
    /// training thread (`SnapshotState`).
    func appendSnapshot(of trainer: any Trainer<Float>, step: Int) throws {
        let state = trainer.exportSnapshotState()
        try appendSnapshot(step: step, parameters: trainer.network.parameters.floatArrays(),
                           buffers: trainer.network.buffers.floatArrays(), state: state.doubles, floatState: state.floats)
    }
}
