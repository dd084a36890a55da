import ArgumentParser
import ArchFromOpt
import Foundation
import HistoryStore
import LiftedHistory
import XCTest
import LiftedTrain
@testable import lpom

/// `lpom train --arch …` end to end on the committed fixtures (data/fixtures/tiny).
final class ArchCLITests: CLITestCase {
    func train(_ extra: [String]) throws {
        let args = ["--data-dir", fixtures, "--quiet", "--batch-size", "50", "--threads", "1"] + extra
        let cmd = try TrainCommand.parse(args)
        try cmd.run(recording: args)
    }

    func testBadArchitectureOptionsGetClearMessages() {
        XCTAssertNil(parseError(["--arch", "hbnet", "--depth", "2", "--width", "8"]))
        XCTAssertTrue(parseError(["--arch", "hbnet", "--depth", "0"])?.contains("--depth must be at least 1") ?? false)
        let unknown = parseError(["--arch", "transformer"]) ?? ""
        XCTAssertTrue(unknown.contains("transformer") && unknown.contains("hbnet"), unknown)
        XCTAssertTrue(parseError(["--arch", "resnet", "--width", "0"])?.contains("--width must be at least 1") ?? false)
        XCTAssertTrue(parseError(["--arch", "resnet", "--width", "5000"])?.contains("does not fit") ?? false)
        XCTAssertTrue(parseError(["--arch", "dmrnet", "--method", "lpom"])?.contains("multilayer perceptrons only") ?? false)
        // --arch mlp ignores the recurrence options, as before.
        XCTAssertNil(parseError(["--arch", "mlp", "--depth", "0"]))
    }

    func testRecurrenceNetworksTrainSaveEvaluateAndInspect() throws {
        for (arch, block) in [("hbnet", "conv"), ("admmnet", "dense")] {
            let h = dir + "/\(arch).h5"
            try train(["--arch", arch, "--block", block, "--depth", "2", "--width", "6", "--learnable-coefficients",
                       "--epochs", "1", "--method", "adam", "--lr", "0.01", "--history", h, "--dataset", "fashion-mnist"])
            let r = try HistoryReader(path: h)
            let spec = try ModelSpec.parse(r.model)
            let rec = spec.layers.first { $0.type == "recurrence" }
            XCTAssertNotNil(rec, "model JSON describes the recurrence")
            XCTAssertEqual(try rec.map { try RecurrenceSpec($0) }?.recurrence, arch == "hbnet" ? "heavy_ball" : "admm")
            // Through the library: the caller gives the extensions (no registration step exists).
            XCTAssertThrowsError(try Network<Float>.load(from: r, snapshot: -1)) { e in
                XCTAssertTrue("\(e)".contains("unknown type 'recurrence'"), "\(e)")
            }
            XCTAssertEqual(try Network<Float>.load(from: r, snapshot: -1, extensions: [ArchFromOpt.layers]).outputSize, 10)
            XCTAssertEqual(spec.inputShape, block == "conv" ? [1, 28, 28] : [784])
            XCTAssertTrue(r.parameterShapes.keys.contains { $0.hasSuffix(".coef") }, "coefficients are saved")
            XCTAssertTrue(r.bufferShapes.keys.contains { $0.hasSuffix(".running_mean") }, "batch-norm statistics are saved")
            let coef = try r.parameter(r.parameterShapes.keys.first { $0.hasSuffix("states.2.coef") }!, snapshot: -1)
            let coef0 = try r.parameter(r.parameterShapes.keys.first { $0.hasSuffix("states.2.coef") }!, snapshot: 0)
            XCTAssertNotEqual(coef, coef0, "learnable coefficients move")
            // The network rebuilt from the file alone evaluates like any other.
            let net = try loadNetwork(from: r, snapshot: -1)
            let test = try DataOptions.parse(["--data-dir", fixtures]).load(.fashionMNIST).test
            let result = evaluate(net, on: test, loss: .crossEntropy)
            XCTAssertTrue(result.loss.isFinite)
            r.close()
            var eval = try EvalCommand.parse([h, "--data-dir", fixtures, "--dataset", "fashion-mnist", "--json"])
            try eval.run()
            var inspect = try InspectCommand.parse([h])
            try inspect.run()
        }
    }

    /// `--conv-algorithm auto` (Winograd on the 8-channel blocks) and `im2col` train the same network.
    func testConvolutionAlgorithmsTrainTheSameNetwork() throws {
        var finals: [[Float]] = []
        for algorithm in ["auto", "im2col"] {
            let h = dir + "/hb-\(algorithm).h5"
            try train(["--arch", "hbnet", "--depth", "2", "--width", "8", "--epochs", "1", "--seed", "3", "--history", h,
                       "--conv-algorithm", algorithm, "--dataset", "fashion-mnist"])
            let r = try HistoryReader(path: h)
            let name = r.parameterShapes.keys.sorted().first { $0.contains("blocks") && $0.hasSuffix("weight") && r.parameterShapes[$0]!.count == 4 }!
            finals.append(try r.parameter(name, snapshot: -1).map { Float($0) })
            r.close()
        }
        XCTAssertEqual(finals[0].count, finals[1].count)
        let worst = zip(finals[0], finals[1]).map { abs($0 - $1) / (1e-3 + abs($1)) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-2, "Winograd and im2col runs agree up to float rounding")
        XCTAssertNotEqual(finals[0], finals[1], "the two runs really took different paths")
    }

    func testFixedCoefficientsAreNotParameters() throws {
        let h = dir + "/resnet.h5"
        try train(["--arch", "resnet", "--depth", "2", "--width", "4", "--epochs", "1", "--history", h])
        let r = try HistoryReader(path: h)
        XCTAssertFalse(r.parameterShapes.keys.contains { $0.hasSuffix(".coef") })
        XCTAssertEqual(r.parameterShapes["layers.4.blocks.1.0.weight"], [4, 4, 3, 3])
        XCTAssertEqual(r.snapshotSteps, [0, 4])
        r.close()
        // --resume rebuilds the recurrence network from the file and continues it.
        var resume = try TrainCommand.parse(["--resume", h, "--epochs", "2", "--quiet"])
        try resume.run()
        let r2 = try HistoryReader(path: h)
        XCTAssertEqual(r2.snapshotSteps, [0, 4, 8])
        r2.close()
    }
}
