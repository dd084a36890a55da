import Foundation
import HistoryStore
import XCTest
import LiftedTrain
@testable import lpom

/// The progress bar (Progress.swift) driven by a fake clock into a captured sink: rate and ETA,
/// redraw throttling, quiet, and a non-terminal run whose stderr holds only the per-epoch
/// summary lines of `RunRecorder`, with no carriage returns or escape codes.
final class ProgressTests: CLITestCase {
    /// A clock the test moves by hand, and everything the bar writes.
    final class Capture {
        var time = 100.0
        var written: [String] = []
    }

    func bar(total: Int, startAt: Int = 0, quiet: Bool = false, terminal: Bool, _ c: Capture) -> ProgressBar {
        ProgressBar(total: total, startAt: startAt, quiet: quiet, terminal: terminal,
                    clock: { c.time }, sink: { c.written.append($0) })
    }

    func testRateAndETAOnATerminal() {
        let c = Capture()
        let b = bar(total: 200, terminal: true, c)
        c.time += 10
        b.update(50, suffix: "loss 0.5")
        // 50 steps in 10 s: 5 steps/s; 150 left: 30 s. 24 cells, a quarter filled.
        let expected = "\r\u{1B}[2K" + String(repeating: "█", count: 6) + String(repeating: "·", count: 18)
            + " 25% 50/200 5.0 step/s ETA 30s loss 0.5"
        XCTAssertEqual(c.written, [expected])
        // Within 0.1 s of the last draw nothing is drawn, except the final step.
        c.time += 0.05
        b.update(60)
        XCTAssertEqual(c.written.count, 1)
        b.update(200)
        XCTAssertEqual(c.written.count, 2)
        XCTAssertTrue(c.written[1].contains("100% 200/200 19.9 step/s ETA 0s"), c.written[1])
        b.clear()
        XCTAssertEqual(c.written.last, "\r\u{1B}[2K")
    }

    func testResumedRunCountsOnlyTheStepsItRan() {
        let c = Capture()
        let b = bar(total: 200, startAt: 20, terminal: true, c)
        // 30 steps (20 → 50) in 10 s: 3 steps/s; 150 left: 50 s.
        XCTAssertTrue(b.text(50, elapsed: 10).contains("50/200 3.0 step/s ETA 50s"), b.text(50, elapsed: 10))
        // Before any time has passed the rate is unknown: the ETA says so instead of "0s".
        XCTAssertTrue(b.text(20, elapsed: 0).hasSuffix("0.0 step/s ETA ? "), b.text(20, elapsed: 0))
        XCTAssertTrue(b.text(20 + 1, elapsed: 3600).contains("ETA 179:"), "179 steps at 1/h")
    }

    func testDurations() {
        XCTAssertEqual(formatDuration(0), "0s")
        XCTAssertEqual(formatDuration(59.4), "59s")
        XCTAssertEqual(formatDuration(65), "1:05")
        XCTAssertEqual(formatDuration(2 * 3600 + 3 * 60 + 4), "2:03:04")
        XCTAssertEqual(formatDuration(.nan), "?")
        XCTAssertEqual(formatDuration(.infinity), "?")
        XCTAssertEqual(formatDuration(-1), "?")
    }

    func testQuietWritesNothing() {
        for terminal in [true, false] {
            let c = Capture()
            let b = bar(total: 10, quiet: true, terminal: terminal, c)
            c.time += 1
            b.update(5)
            b.update(10)
            b.line("epoch 1/1")
            b.clear()
            XCTAssertEqual(c.written, [], "terminal \(terminal)")
        }
    }

    /// Not a terminal (a log file, CI): the bar is never drawn and the recorder's per-epoch
    /// summary is the only output, one whole line per epoch.
    func testNonTerminalRunWritesOnlyTheEpochSummaryLines() throws {
        for quiet in [false, true] {
            let c = Capture()
            var rng = SplitMix64(seed: 1)
            let net = try Network<Float>(spec: .mlp(input: 2, hidden: [], output: 2, activation: .identity), rng: &rng)
            let writer = try HistoryWriter(path: dir + "/progress-\(quiet).h5", model: net.spec.json(), training: "{}",
                                           createdBy: "lpom tests", parameters: net.parameters.shapes, buffers: [])
            let trainer = GradientTrainer(network: net, loss: .crossEntropy, optimizer: SGD<Float>(learningRate: 0.1))
            let recorder = RunRecorder(trainer: trainer, writer: writer, total: 4, epochs: 2, startStep: 0, quiet: quiet,
                                       bar: bar(total: 4, quiet: quiet, terminal: false, c))
            for step in 1...4 {
                c.time += 1
                try recorder.didStep(step, of: 4, epoch: (step - 1) / 2, report: StepReport(loss: Double(step), accuracy: 0.5))
                if step % 2 == 0 { try recorder.didFinishEpoch(step / 2, step: step, test: (loss: 0.25, accuracy: 0.75)) }
            }
            recorder.finish()
            try writer.close()
            if quiet { XCTAssertEqual(c.written, []); continue }
            XCTAssertEqual(c.written.count, 2, "\(c.written)")
            for (k, line) in c.written.enumerated() {
                XCTAssertTrue(line.hasPrefix("epoch   \(k + 1)/2  train loss \(k == 0 ? "1.5000" : "3.5000")  train acc  50.00%  test loss 0.2500  test acc  75.00%"), line)
                XCTAssertTrue(line.hasSuffix("\n"))
                XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
                XCTAssertFalse(line.contains("\r") || line.contains("\u{1B}"), "no terminal codes in a log: \(line.debugDescription)")
            }
        }
    }
}
