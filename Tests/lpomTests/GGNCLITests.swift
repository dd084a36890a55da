import ArgumentParser
import Foundation
import HistoryStore
import LiftedHistory
import XCTest
import LiftedTrain
@testable import lpom
import TestSupport

/// `lpom train --task regression` (teacher–student and bottom-half ink) with ggn, sgd and adam,
/// end to end on tiny sizes.
final class GGNCLITests: CLITestCase {
    let teacher = ["--task", "regression", "--teacher-width", "50", "--samples", "20", "--test-samples", "10",
                   "--input-dim", "4", "--layers", "64", "--init", "ntk", "--output-scale", "--batch-size", "20", "--quiet"]

    func train(_ args: [String]) throws {
        let cmd = try TrainCommand.parse(args)
        try cmd.run(recording: args)
    }

    func info(_ r: HistoryReader) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.training.utf8)) as? [String: Any]) ?? [:]
    }

    func testValidation() {
        XCTAssertNil(parseError(teacher + ["--method", "ggn"]))
        XCTAssertTrue(parseError(["--damping", "-1"])?.contains("--damping") ?? false)
        XCTAssertTrue(parseError(["--ggn-step", "0"])?.contains("--ggn-step") ?? false)
        XCTAssertTrue(parseError(["--teacher-width", "5"])?.contains("--task regression") ?? false)
        XCTAssertTrue(parseError(["--task", "regression", "--teacher-width", "0"])?.contains("--teacher-width") ?? false)
        XCTAssertNotNil(parseError(["--task", "ranking"]))
    }

    /// GGN fits the teacher; the history records the task, and the data rebuilt from the training
    /// JSON alone is the data the run fitted (the final θ interpolates it).
    func testGGNTeacherStudentHistoryIsReproducibleFromItsTrainingJSON() throws {
        let h = dir + "/ggn.h5"
        try train(teacher + ["--method", "ggn", "--epochs", "5", "--snapshot-every", "1", "--seed", "3", "--history", h])
        let r = try HistoryReader(path: h)
        let t = info(r)
        XCTAssertEqual(t["method"] as? String, "ggn")
        XCTAssertEqual(t["task"] as? String, "regression")
        XCTAssertEqual(t["dataset"] as? String, "teacher-student")
        XCTAssertEqual(t["loss"] as? String, "mse")
        XCTAssertEqual(r.snapshotSteps, [0, 1, 2, 3, 4, 5])
        XCTAssertTrue(r.model.contains("normalize"), r.model)
        let ts = try XCTUnwrap(t["teacher_student"] as? [String: Any])
        let task = TeacherStudentTask(inputDim: ts["input_dim"] as! Int, teacherWidth: ts["teacher_width"] as! Int,
                                      samples: ts["samples"] as! Int, testSamples: ts["test_samples"] as! Int,
                                      seed: UInt64(ts["data_seed"] as! Int))
        let data = task.make(Float.self).train
        let final = try Network<Float>.load(from: r, snapshot: -1)
        let initial = try Network<Float>.load(from: r, snapshot: 0)
        let l0 = LossKind.mse.evaluate(initial.forward(data.inputs), targets: data.targets!)
        let lT = LossKind.mse.evaluate(final.forward(data.inputs), targets: data.targets!)
        XCTAssertGreaterThan(l0, 1e-3)
        XCTAssertLessThan(lT, 1e-6, "GGN after 5 full-batch steps: \(l0) → \(lT)")
        // Another seed's data is not what the run fitted.
        var other = task; other.seed += 1
        let o = other.make(Float.self).train
        XCTAssertGreaterThan(LossKind.mse.evaluate(final.forward(o.inputs), targets: o.targets!), 1e-4)
        let losses = try r.metric("loss")
        XCTAssertEqual(losses.count, 5)
        // eval rebuilds the test set from the training JSON too.
        let sets = try XCTUnwrap(try regressionData(record: trainingRecord(r), data: try DataOptions.parse([]), history: h))
        XCTAssertEqual(sets.test.inputs, task.make(Float.self).test.inputs)
        var eval = try EvalCommand.parse([h, "--all", "--json"])
        XCTAssertNoThrow(try eval.run())
        XCTAssertTrue(r.metricNames.contains("ggn_damping"))
    }

    func testGGNResumeEqualsUninterruptedRun() throws {
        let a = dir + "/a.h5", b = dir + "/b.h5"
        try train(teacher + ["--method", "ggn", "--epochs", "3", "--snapshot-every", "1", "--history", a])
        try train(teacher + ["--method", "ggn", "--epochs", "2", "--snapshot-every", "1", "--history", b])
        var resume = try TrainCommand.parse(["--resume", b, "--epochs", "3", "--quiet"])
        try resume.run()
        let ra = try HistoryReader(path: a), rb = try HistoryReader(path: b)
        XCTAssertEqual(ra.snapshotSteps, rb.snapshotSteps)
        XCTAssertEqual(try ra.parameter("layers.0.weight", snapshot: -1), try rb.parameter("layers.0.weight", snapshot: -1))
    }

    func testSGDAndAdamTrainTheSameRegressionTasks() throws {
        for method in ["sgd", "adam"] {
            let h = dir + "/\(method).h5"
            try train(teacher + ["--method", method, "--epochs", "30", "--lr", method == "sgd" ? "0.1" : "0.01", "--history", h])
            let r = try HistoryReader(path: h)
            let loss = try r.metric("loss")
            XCTAssertEqual(info(r)["task"] as? String, "regression")
            XCTAssertLessThan(loss.last!, loss.first! / 2, "\(method): \(loss.first!) → \(loss.last!)")
        }
        // Bottom-half ink from the MNIST fixtures: one output, the square loss falls.
        for method in ["ggn", "adam"] {
            let h = dir + "/ink-\(method).h5"
            try train(["--task", "regression", "--data-dir", fixtures, "--layers", "16", "--batch-size", "50",
                       "--epochs", "2", "--method", method, "--quiet", "--history", h])
            let r = try HistoryReader(path: h)
            XCTAssertEqual(r.parameterShapes["layers.2.weight"], [1, 16])
            XCTAssertEqual(info(r)["dataset"] as? String, "mnist")
            XCTAssertTrue((info(r)["targets"] as? String ?? "").contains("bottom-half"))
            let loss = try r.metric("loss")
            XCTAssertTrue(loss.allSatisfy(\.isFinite))
            XCTAssertLessThan(loss.last!, loss.first!, "\(method) on bottom-half ink")
        }
    }

    /// `lpom ntk` on a GGN run of Du et al.'s model: rows per snapshot, θ_0 first, numbers equal to
    /// the library's on the rebuilt data; plot and JSON outputs; refusals.
    func testNTKCommandOnATeacherStudentRun() throws {
        let h = dir + "/du.h5"
        try train(teacher + ["--method", "ggn", "--epochs", "3", "--snapshot-every", "1", "--history", h])
        let cmd = try NTKCommand.parse([h, "--points", "12", "--quiet"])
        let (analysis, spec, points) = try cmd.analyse()
        XCTAssertEqual(points, 12)
        XCTAssertTrue(NTKAnalysis.isOneHiddenReLU(spec))
        XCTAssertEqual(analysis.rows.map(\.step), [0, 1, 2, 3])
        XCTAssertEqual(analysis.rows[0].weightMovement, 0)
        XCTAssertGreaterThan(analysis.rows[3].weightMovement, 0)
        XCTAssertLessThan(analysis.rows[3].loss, 1e-3 * analysis.rows[0].loss)
        // λ_min(H(0)) from the first snapshot and the rebuilt inputs, directly.
        let r = try HistoryReader(path: h)
        let w = try r.parameter("layers.0.weight", snapshot: 0).map(Double.init)
        // The history trains (and `ntk` rebuilds) the data in Float.
        let xf = TeacherStudentTask(inputDim: 4, teacherWidth: 50, samples: 20, testSamples: 10, seed: 0).make(Float.self).train.prefix(12).inputs
        let x = Tensor<Double>(shape: xf.shape, data: xf.data.map(Double.init))
        let h0 = NTKGram.relu(weights: Tensor(shape: [64, 4], data: w), inputs: x)
        assertClose(analysis.rows[0].lambdaMinH, try NTKGram.smallestEigenvalue(h0), rtol: 5e-10, atol: 5e-10)
        assertClose(analysis.lambda0, try NTKGram.smallestEigenvalue(NTKGram.infiniteWidth(inputs: x)), rtol: 5e-10, atol: 5e-10)
        r.close()
        var run = try NTKCommand.parse([h, "--points", "12", "--stride", "2", "--plot", dir + "/ntk.svg", "--json"])
        try run.run()
        XCTAssertTrue(try String(contentsOfFile: dir + "/ntk.svg", encoding: .utf8).contains("λmin(H(t))/λ₀"))
        XCTAssertNotNil(parseNTKError(["x.h5", "--points", "0"]))
        var missing = try NTKCommand.parse([dir + "/missing.h5"])
        XCTAssertThrowsError(try missing.run())
    }

    func parseNTKError(_ args: [String]) -> String? {
        do { _ = try NTKCommand.parse(args); return nil } catch { return NTKCommand.message(for: error) }
    }
}
