import ArgumentParser
import Foundation
import HistoryStore
import LiftedHistory
import XCTest
import LiftedTrain
@testable import lpom

/// The command line end to end on the committed fixtures (data/fixtures/tiny: 200 training and
/// 100 test images of real MNIST and Fashion-MNIST).
final class CLITests: CLITestCase {
    func train(_ extra: [String]) throws {
        let args = ["--data-dir", fixtures, "--quiet", "--layers", "32", "--batch-size", "50"] + extra
        let cmd = try TrainCommand.parse(args)
        try cmd.run(recording: args)
    }

    func testValidationMessagesNameTheProblem() {
        XCTAssertEqual(parseError(TrainCommand.self, ["--layers", "300,100"]), nil)
        XCTAssertTrue(parseError(TrainCommand.self, ["--layers", "abc"])?.contains("--layers") ?? false)
        XCTAssertTrue(parseError(TrainCommand.self, ["--layers", "300,,100"])?.contains("--layers") ?? false)
        XCTAssertTrue(parseError(TrainCommand.self, ["--epochs", "0"])?.contains("--epochs must be at least 1") ?? false)
        XCTAssertTrue(parseError(TrainCommand.self, ["--batch-size", "0"])?.contains("--batch-size") ?? false)
        XCTAssertTrue(parseError(TrainCommand.self, ["--lr", "-1"])?.contains("--lr") ?? false)
        XCTAssertTrue(parseError(TrainCommand.self, ["--momentum", "1.5"])?.contains("--momentum") ?? false)
        XCTAssertNotNil(parseError(TrainCommand.self, ["--method", "newton"]))
        XCTAssertNotNil(parseError(TrainCommand.self, ["--dataset", "cifar"]))
        XCTAssertNotNil(parseError(TrainCommand.self, ["--activation", "swish"]))
    }

    func testTrainEvalInspectAndResumeOnFixtures() throws {
        let h = dir + "/run.h5"
        // 200 images, batch 50: 4 steps per epoch; 2 epochs; a snapshot every 3 steps.
        try train(["--epochs", "2", "--snapshot-every", "3", "--history", h, "--lr", "0.05"])
        var r = try HistoryReader(path: h)
        XCTAssertEqual(r.snapshotSteps, [0, 3, 6, 8])
        XCTAssertEqual(try r.metricSteps().count, 8)
        XCTAssertTrue(r.metricNames.contains("test_accuracy"))
        r.close()

        // An existing history is not overwritten by accident.
        XCTAssertThrowsError(try train(["--epochs", "2", "--history", h])) { e in
            XCTAssertTrue("\(e)".contains("--overwrite"), "\(e)")
        }

        // eval rebuilds the network from the file alone and agrees with a direct evaluation.
        var eval = try EvalCommand.parse([h, "--data-dir", fixtures, "--json"])
        try eval.run()
        r = try HistoryReader(path: h)
        let net = try Network<Float>.load(from: r, snapshot: -1)
        let test = try DataOptions.parse(["--data-dir", fixtures]).load(.mnist).test
        let direct = evaluate(net, on: test, loss: .crossEntropy)
        XCTAssertGreaterThan(direct.accuracy, 0.3, "a 2-epoch run on 200 images should beat chance")
        r.close()

        var inspect = try InspectCommand.parse([h, "--plot", dir + "/curves.svg"])
        try inspect.run()
        XCTAssertTrue(try String(contentsOfFile: dir + "/curves.svg", encoding: .utf8).hasPrefix("<svg"))

        // Resume to 3 epochs: continues from step 8 to step 12 with the same settings.
        var resume = try TrainCommand.parse(["--resume", h, "--epochs", "3", "--quiet"])
        try resume.run()
        r = try HistoryReader(path: h)
        XCTAssertEqual(r.snapshotSteps, [0, 3, 6, 8, 9, 12])
        XCTAssertEqual(try r.metricSteps(), Array(1...12))
        r.close()
    }

    func testTestMetricsRecordedEveryEpochEvenWhenASnapshotEndsIt() throws {
        // 4 steps per epoch and a snapshot every 4 steps: the snapshot flushes the epoch's last
        // row before the test evaluation arrives.
        let h = dir + "/epochs.h5"
        try train(["--epochs", "3", "--snapshot-every", "4", "--history", h])
        let r = try HistoryReader(path: h)
        let steps = try r.metricSteps(), acc = try r.metric("test_accuracy")
        let recorded = zip(steps, acc).filter { $0.1.isFinite }.map(\.0)
        XCTAssertEqual(recorded, [4, 8, 12])
        r.close()
    }

    func testResumedRunEqualsUninterruptedRun() throws {
        // Plain SGD (no optimizer state) at a constant rate (a decaying schedule depends on the total
        // length, which --epochs changes), so resuming from a snapshot must reproduce the run exactly.
        let a = dir + "/a.h5", b = dir + "/b.h5"
        let common = ["--momentum", "0", "--snapshot-every", "4", "--lr", "0.05", "--schedule", "constant"]
        try train(common + ["--epochs", "3", "--history", a])
        try train(common + ["--epochs", "2", "--history", b])
        var resume = try TrainCommand.parse(["--resume", b, "--epochs", "3", "--quiet"])
        try resume.run()
        let ra = try HistoryReader(path: a), rb = try HistoryReader(path: b)
        XCTAssertEqual(ra.snapshotSteps, rb.snapshotSteps)
        let wa = try ra.parameter("layers.0.weight", snapshot: -1), wb = try rb.parameter("layers.0.weight", snapshot: -1)
        XCTAssertTrue(wa == wb, "resumed weights differ: max |Δ| = \(zip(wa, wb).map { abs($0 - $1) }.max() ?? 0)")
    }

    func testDivergingRunStopsWithMessageAndKeepsHistory() throws {
        let h = dir + "/nan.h5"
        XCTAssertThrowsError(try train(["--epochs", "3", "--activation", "identity", "--lr", "1e10", "--snapshot-every", "1", "--history", h])) { e in
            XCTAssertTrue("\(e)".contains("diverged"), "\(e)")
        }
        let r = try HistoryReader(path: h)
        XCTAssertGreaterThanOrEqual(r.snapshotCount, 1)
        XCTAssertEqual(r.snapshotSteps.first, 0)
        XCTAssertNoThrow(try Network<Float>.load(from: r, snapshot: -1))
    }

    func testBadFilesGiveOneLineErrors() throws {
        let notH5 = dir + "/not.h5"
        try "hello".write(toFile: notH5, atomically: true, encoding: .utf8)
        var e1 = try EvalCommand.parse([notH5, "--data-dir", fixtures])
        XCTAssertThrowsError(try e1.run()) { e in
            let msg = "\(e)"
            XCTAssertTrue(msg.contains(notH5), msg)
            XCTAssertFalse(msg.contains("\n"), msg)
        }
        var i1 = try InspectCommand.parse([dir + "/missing.h5"])
        XCTAssertThrowsError(try i1.run())
        // Missing data: the message names the option, the variable and the setup script.
        XCTAssertThrowsError(try train(["--data-dir", dir + "/nodata", "--epochs", "1", "--history", dir + "/x.h5"])) { e in
            XCTAssertTrue("\(e)".contains("setup.sh"), "\(e)")
            XCTAssertTrue("\(e)".contains("--data-dir") && "\(e)".contains("LPOM_DATA_DIR"), "\(e)")
        }
    }

    func testCompareTrainsEveryNetworkMethodAndSeed() throws {
        var cmp = try CompareCommand.parse(["--data-dir", fixtures, "--networks", "16;16-8", "--methods", "sgd,adam",
                                            "--epochs", "1", "--seeds", "0,1", "--runs-dir", dir, "--quiet", "--json",
                                            "--validation", "100"])
        try cmp.run()
        for net in ["16", "16-8"] {
            for m in ["sgd", "adam"] {
                for s in 0...1 {
                    let r = try HistoryReader(path: "\(dir)/\(m)-mnist-\(net)-s\(s).h5")
                    XCTAssertEqual(r.snapshotSteps.last, 1, "200 images of which 100 held out, batch 100, 1 epoch")
                    XCTAssertTrue(r.metricNames.contains("val_accuracy"))
                    r.close()
                }
            }
        }
        XCTAssertNotNil(parseError(CompareCommand.self, ["--methods", "sgd,newton"]))
        XCTAssertNotNil(parseError(CompareCommand.self, ["--networks", "300;abc"]))
    }
}
