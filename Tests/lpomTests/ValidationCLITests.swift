import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import XCTest
import LiftedTrain
@testable import lpom

/// `--validation N` end to end on the fixtures (200 training images of MNIST): which images are
/// held out, the per-epoch validation and the single test evaluation, `eval --split`, `compare`.
final class ValidationCLITests: CLITestCase {
    @discardableResult
    func train(_ extra: [String]) throws -> RunSummary {
        let args = ["--data-dir", fixtures, "--quiet", "--layers", "16", "--batch-size", "50"] + extra
        return try TrainCommand.parse(args).perform(recording: args)
    }

    func splits(_ args: [String], holdOut n: Int) throws -> DataSplits {
        try DataOptions.parse(["--data-dir", fixtures] + args).splits(.mnist, holdOut: n)
    }

    func testSplitHoldsOutTheLastImagesOfTheFileInOrder() throws {
        let file = try ImageDataset.load(.mnist, directory: fixtures).train
        XCTAssertEqual(file.count, 200)
        func image(_ i: Int) -> [Float] { file.pixels[(i * 784) ..< ((i + 1) * 784)].map { Float($0) * (1 / 255 as Float) } }
        func row(_ s: TensorDataset<Float>, _ i: Int) -> [Float] { Array(s.inputs.data[(i * 784) ..< ((i + 1) * 784)]) }
        XCTAssertNotEqual(image(149), image(150), "the fixture's neighbouring images differ, so identities below are informative")

        let s = try splits([], holdOut: 50)
        let v = try XCTUnwrap(s.validation)
        XCTAssertEqual([s.train.count, v.count, s.test.count], [150, 50, 100])
        XCTAssertEqual(row(s.train, 0), image(0))
        XCTAssertEqual(row(s.train, 149), image(149))
        XCTAssertEqual(row(v, 0), image(150))
        XCTAssertEqual(row(v, 49), image(199))
        XCTAssertEqual(s.train.labels, file.labels[0 ..< 150].map { Int32($0) })
        XCTAssertEqual(v.labels, file.labels[150 ..< 200].map { Int32($0) })

        // --train-limit takes the first images of the training part; the validation set is unchanged.
        let limited = try splits(["--train-limit", "30"], holdOut: 50)
        XCTAssertEqual(limited.train.count, 30)
        XCTAssertEqual(row(limited.train, 29), image(29))
        XCTAssertEqual(limited.validation?.inputs, v.inputs)
        // What train, ntk and bench load: the training part only.
        XCTAssertEqual(try DataOptions.parse(["--data-dir", fixtures, "--validation", "50"]).load(.mnist).train.inputs, s.train.inputs)
        // 0 (the default) holds out nothing.
        let all = try splits([], holdOut: 0)
        XCTAssertNil(all.validation)
        XCTAssertEqual(all.train.count, 200)
        // Bottom-half-ink regression splits the same images.
        let ink = try GGNOptions.parse(["--task", "regression"]).load(.mnist, data: DataOptions.parse(["--data-dir", fixtures]), seed: 0, validation: 50)
        XCTAssertEqual(ink.validation?.targets?.data, try BottomHalfInk.make(from: v).targets?.data)
    }

    func testValidationMustLeaveTrainingImages() throws {
        for n in ["200", "500"] {
            XCTAssertThrowsError(try train(["--validation", n, "--epochs", "1", "--history", dir + "/v.h5"])) { e in
                XCTAssertEqual("\(e)", "--validation \(n) must be smaller than the 200 training images of mnist: it holds out the last N of them and trains on the rest")
            }
        }
        XCTAssertEqual(parseError(["--validation", "-1"]), "--validation must be ≥ 0 (the number of training images held out), got -1")
        XCTAssertNoThrow(try train(["--validation", "199", "--epochs", "1", "--history", dir + "/one.h5"]))
        XCTAssertThrowsError(try train(["--task", "regression", "--teacher-width", "5", "--samples", "20", "--validation", "20",
                                        "--epochs", "1", "--history", dir + "/ts.h5"])) { e in
            XCTAssertTrue("\(e)".hasPrefix("--validation 20 must be smaller than the 20 training samples (--samples)"), "\(e)")
        }
        XCTAssertTrue(parseError(["--model", "vae", "--validation", "10"])?.contains("--model runs have no validation metric") ?? false)
    }

    func testValidationEveryEpochTestOnceInHistoryTableAndJSON() throws {
        let h = dir + "/val.h5"
        // 150 training images, batch 50: 3 steps per epoch.
        let s = try train(["--epochs", "3", "--validation", "50", "--history", h, "--snapshot-every", "0"])
        let r = try HistoryReader(path: h)
        defer { r.close() }
        func recorded(_ m: String) throws -> [Int] { zip(try r.metricSteps(), try r.metric(m)).filter { $0.1.isFinite }.map(\.0) }
        XCTAssertEqual(try recorded("val_accuracy"), [3, 6, 9])
        XCTAssertEqual(try recorded("val_loss"), [3, 6, 9])
        XCTAssertEqual(try recorded("test_accuracy"), [9], "the test set once, after the last epoch")
        XCTAssertEqual(trainingRecord(r).validation, 50)

        let lines = s.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].contains("val loss") && lines[0].contains("val acc"), lines[0])
        XCTAssertFalse(lines[0].contains("test"), lines[0])
        XCTAssertEqual(lines.filter { $0.contains("test") }.count, 1, s.text)
        XCTAssertTrue(lines.last!.hasPrefix(String(format: "validation accuracy %.2f%% (last 50 training images); test accuracy %.2f%%, evaluated once",
                                                   100 * s.rows[2].valAccuracy, 100 * s.rows[2].testAccuracy)), lines.last!)
        let curve = try XCTUnwrap(s.json["curve"] as? [[String: Any]])
        XCTAssertEqual(curve.map { $0["val_accuracy"] is Double }, [true, true, true])
        XCTAssertEqual(curve.map { $0["test_accuracy"] is Double }, [false, false, true])
        XCTAssertEqual(s.json["validation"] as? Int, 50)

        // eval rebuilds the same validation set from N in the history.
        let net = try Network<Float>.load(from: r, snapshot: -1)
        let sets = try splits([], holdOut: 50)
        XCTAssertEqual(evaluate(net, on: sets.validation!, loss: .crossEntropy).accuracy, s.rows[2].valAccuracy)
        for split in ["validation", "test", "train"] {
            XCTAssertNoThrow(try EvalCommand.parse([h, "--data-dir", fixtures, "--split", split, "--json"]).run())
        }
        XCTAssertThrowsError(try EvalCommand.parse([h, "--data-dir", fixtures, "--split", "validation", "--validation", "40"]).run()) { e in
            XCTAssertTrue("\(e)".contains("disagrees"), "\(e)")
        }

        // The default run keeps the test set in its table, every epoch.
        let plain = try train(["--epochs", "2", "--history", dir + "/plain.h5"])
        XCTAssertTrue(plain.text.hasPrefix("epoch  train loss  train acc  test loss  test acc  seconds\n"))
        XCTAssertEqual(plain.rows.map { $0.testAccuracy.isFinite }, [true, true])
        XCTAssertNil(plain.json["val_accuracy"])
        XCTAssertThrowsError(try EvalCommand.parse([dir + "/plain.h5", "--data-dir", fixtures, "--split", "validation"]).run()) { e in
            XCTAssertTrue("\(e)".contains("has no validation set"), "\(e)")
        }
    }

    func testTeacherStudentValidationIsRebuiltByEval() throws {
        let h = dir + "/ts.h5"
        try train(["--task", "regression", "--teacher-width", "20", "--samples", "30", "--test-samples", "10", "--input-dim", "3",
                   "--method", "ggn", "--validation", "10", "--batch-size", "20", "--epochs", "2", "--history", h])
        let r = try HistoryReader(path: h)
        defer { r.close() }
        let sets = try XCTUnwrap(try regressionData(record: trainingRecord(r), data: DataOptions.parse([]), history: h))
        let all = TeacherStudentTask(inputDim: 3, teacherWidth: 20, samples: 30, testSamples: 10, seed: 0).make(Float.self).train
        XCTAssertEqual(sets.train.inputs, all.rows(0 ..< 20).inputs)
        XCTAssertEqual(sets.validation?.targets, all.rows(20 ..< 30).targets)
        let net = try Network<Float>.load(from: r, snapshot: -1)
        let recorded = try r.metric("val_loss").filter(\.isFinite)
        XCTAssertEqual(recorded.count, 2)
        XCTAssertEqual(evaluate(net, on: sets.validation!, loss: .mse).loss, recorded.last)
    }

    func testEvalOfAHistoryWithoutValidationKeyTakesTheOption() throws {
        // A history written without lpom's training JSON keys (e.g. by h5py): N comes from --validation.
        let h = dir + "/old.h5"
        var rng = SplitMix64(seed: 4)
        let net = try Network<Float>(spec: .mlp(input: 784, hidden: [], output: 10, activation: .relu), rng: &rng)
        let w = try HistoryWriter(path: h, model: net.spec.json(), training: "{\"dataset\": \"mnist\"}", createdBy: "test",
                                  parameters: net.parameters.shapes, buffers: [])
        try w.appendSnapshot(step: 0, parameters: net.parameters.floatArrays(), buffers: [:])
        try w.close()
        XCTAssertThrowsError(try EvalCommand.parse([h, "--data-dir", fixtures, "--split", "validation"]).run()) { e in
            XCTAssertTrue("\(e)".contains("pass --validation N"), "\(e)")
        }
        XCTAssertNoThrow(try EvalCommand.parse([h, "--data-dir", fixtures, "--split", "validation", "--validation", "50"]).run())
    }

    func testEvalTakesNegativeSnapshotIndices() throws {
        let h = dir + "/snap.h5"
        try train(["--epochs", "2", "--snapshot-every", "2", "--history", h])   // snapshots at steps 0, 2, 4, 6, 8
        XCTAssertEqual(try EvalCommand.parse([h, "--snapshot", "-1"]).snapshot, -1)
        XCTAssertEqual(try EvalCommand.parse([h, "--snapshot", "-2"]).snapshot, -2)
        XCTAssertNil(parseError(EvalCommand.self, [h, "--snapshot", "-1"]))
        XCTAssertNoThrow(try EvalCommand.parse([h, "--data-dir", fixtures, "--snapshot", "-2"]).run())
        XCTAssertThrowsError(try EvalCommand.parse([h, "--data-dir", fixtures, "--snapshot", "-6"]).run()) { e in
            XCTAssertEqual("\(e)", "--snapshot -6 is outside the 5 snapshots of \(h) (0 … 4, or -1 … -5 from the end)")
        }
        XCTAssertFalse(EvalCommand.helpMessage().contains("−"), "help values a user copies use ASCII '-'")
    }

    func testCompareReportsValidationAndTestOnlyOnRequest() throws {
        let base = ["--data-dir", fixtures, "--networks", "16", "--methods", "sgd", "--epochs", "1", "--seeds", "0,1",
                    "--runs-dir", dir, "--quiet", "--validation", "100"]
        let cmp = try CompareCommand.parse(base)
        let results = try cmp.trainAll()
        let runs = try XCTUnwrap(results["16"]?["sgd"])
        XCTAssertEqual(runs.map(\.validation), [100, 100])
        let cell = try XCTUnwrap(((cmp.json(results)["networks"] as? [[String: Any]])?.first?["sgd"]) as? [String: Any])
        XCTAssertEqual(cell["measured"] as? String, "validation")
        XCTAssertEqual(cell["accuracies"] as? [Double], runs.map { 100 * $0.rows.last!.valAccuracy })
        XCTAssertNil(cell["test"])
        XCTAssertFalse(cmp.table(results).contains("TEST"), cmp.table(results))

        let withTest = try CompareCommand.parse(base + ["--report-test"])
        let table = withTest.table(results)
        XCTAssertTrue(table.contains("\nTEST accuracy in %, evaluated once per run"), table)
        XCTAssertNotNil(((try withTest.json(results)["networks"] as? [[String: Any]])?.first?["sgd"] as? [String: Any])?["test"])
        XCTAssertEqual(try CompareCommand.parse([]).holdOut, 10_000, "validation is on by default")
        XCTAssertTrue(parseError(CompareCommand.self, ["--validation", "0"])?.contains("--report-test") ?? false)
        XCTAssertNil(parseError(CompareCommand.self, ["--validation", "0", "--report-test"]))
        XCTAssertNil(parseError(CompareCommand.self, ["--sgd-args", "--lr 0.05"]), "the help's own example")
    }
}
