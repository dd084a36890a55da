import ArgumentParser
import Foundation
import HistoryStore
import LiftedHistory
import XCTest
import LiftedTrain
@testable import lpom

/// `LPOMOptions`: every flag reaches `LPOMConfiguration`, and bad values get messages that name the flag.
final class LPOMOptionsTests: CLITestCase {
    func message(_ args: [String]) -> String? {
        do { _ = try LPOMOptions.parse(args); return nil } catch { return LPOMOptions.message(for: error) }
    }

    func testDefaultsAreTheConfigurationDefaults() throws {
        XCTAssertEqual(try LPOMOptions.parse([]).configuration(), LPOMConfiguration())
    }

    func testEveryFlagReachesTheConfiguration() throws {
        let o = try LPOMOptions.parse(["--mu", "1,2.5,4", "--sweep", "jacobi", "--fixed-point-iterations", "7",
                                       "--fixed-point-tolerance", "1e-5", "--relaxation", "1", "--apg-iterations", "9", "--apg-tolerance", "1e-4",
                                       "--no-apg-restart", "--ridge", "0.25", "--no-relative-ridge", "--gram-system", "features", "--weight-step", "gradient",
                                       "--alternations", "2", "--serial", "--no-lpom-diagnostics"])
        let c = try o.configuration()
        XCTAssertEqual(c.mu, [1, 2.5, 4])
        XCTAssertEqual(c.sweep, .jacobi)
        XCTAssertEqual(c.fixedPointIterations, 7)
        XCTAssertEqual(c.fixedPointTolerance, 1e-5)
        XCTAssertEqual(c.relaxation, 1)
        XCTAssertEqual(c.apgIterations, 9)
        XCTAssertEqual(c.apgTolerance, 1e-4)
        XCTAssertFalse(c.apgRestart)
        XCTAssertEqual(c.ridge, 0.25)
        XCTAssertFalse(c.relativeRidge)
        XCTAssertEqual(c.gramSystem, .features)
        XCTAssertEqual(c.weightStep, .gradient)
        XCTAssertEqual(c.alternations, 2)
        XCTAssertFalse(c.parallel)
        XCTAssertFalse(c.diagnostics)
    }

    func testValidationMessagesNameTheFlag() {
        XCTAssertNil(message(["--mu", "3"]))
        XCTAssertTrue(message(["--mu", "1,,2"])?.contains("--mu") ?? false)
        XCTAssertTrue(message(["--mu", "-1"])?.contains("--mu") ?? false)
        XCTAssertTrue(message(["--relaxation", "2.5"])?.contains("--relaxation") ?? false)
        XCTAssertTrue(message(["--apg-iterations", "0"])?.contains("--apg-iterations") ?? false)
        XCTAssertTrue(message(["--apg-tolerance", "-1e-3"])?.contains("--apg-tolerance") ?? false)
        XCTAssertTrue(message(["--ridge", "-1"])?.contains("--ridge") ?? false)
        XCTAssertTrue(message(["--alternations", "0"])?.contains("--alternations") ?? false)
        XCTAssertTrue(message(["--fixed-point-iterations", "0"])?.contains("--fixed-point-iterations") ?? false)
        XCTAssertNotNil(message(["--sweep", "random"]))
    }

    func testMakeTrainerBuildsLPOMAndChecksTheMuCount() throws {
        var rng = SplitMix64(seed: 1)
        let net = try Network<Float>(spec: .mlp(input: 4, hidden: [3], output: 2, activation: .relu), rng: &rng)
        let t = try LPOMOptions.parse(["--mu", "2,3"]).makeTrainer(network: net, loss: .squaredError, seed: 0)
        XCTAssertEqual(t.method, "lpom")
        XCTAssertEqual(t.hyperparameters["mu.1"], 3)
        XCTAssertThrowsError(try LPOMOptions.parse(["--mu", "1,2,3"]).makeTrainer(network: net, loss: .squaredError, seed: 0)) {
            XCTAssertTrue("\($0)".contains("--mu"))
        }
    }

    /// `--threads 1` is one core: the per-layer tasks run serially on a one-worker network
    /// (OpenBLAS is on one thread already); with two workers they run concurrently unless `--serial`.
    func testOneThreadMeansSerialLayerTasks() throws {
        var rng = SplitMix64(seed: 1)
        let spec = ModelSpec.mlp(input: 4, hidden: [3], output: 2, activation: .relu)
        let one = try Network<Float>(spec: spec, context: ComputeContext(workers: 1), rng: &rng)
        let two = try Network<Float>(spec: spec, context: ComputeContext(workers: 2), rng: &rng)
        func parallel(_ net: Network<Float>, _ args: [String]) throws -> Bool {
            let t = try LPOMOptions.parse(args).makeTrainer(network: net, loss: .squaredError, seed: 0)
            return try XCTUnwrap(t as? LPOMTrainer<Float>).configuration.parallel
        }
        XCTAssertFalse(try parallel(one, []))
        XCTAssertTrue(try parallel(two, []))
        XCTAssertFalse(try parallel(two, ["--serial"]))
    }

    /// `lpom train --json` reports each epoch's CPU seconds (user + system, all threads) beside its
    /// wall seconds; a one-thread LPOM epoch uses about one CPU second per wall second.
    func testEpochCPUSecondsAreRecorded() throws {
        let args = ["--method", "lpom", "--data-dir", fixtures, "--quiet", "--layers", "64", "--batch-size", "50",
                    "--epochs", "1", "--threads", "1", "--history", dir + "/cpu.h5", "--no-lpom-diagnostics"]
        TrainCommand.recordedArguments = args
        let row = try XCTUnwrap(TrainCommand.parse(args).perform(recording: args).rows.first)
        XCTAssertGreaterThan(row.cpuSeconds, 0)
        XCTAssertLessThan(row.cpuSeconds, row.seconds * 1.5 + 0.05, "CPU \(row.cpuSeconds) s in \(row.seconds) s of wall time")
    }

    func testTrainWithLPOMOnFixturesRecordsItsDiagnostics() throws {
        let h = dir + "/lpom.h5"
        let args = ["--method", "lpom", "--data-dir", fixtures, "--quiet", "--layers", "32", "--batch-size", "50",
                    "--epochs", "2", "--history", h, "--mu", "5", "--sweep", "jacobi"]
        TrainCommand.recordedArguments = args  // else the history records another test's argv (or XCTest's)
        var cmd = try TrainCommand.parse(args)
        try cmd.run()
        let r = try HistoryReader(path: h)
        defer { r.close() }
        XCTAssertTrue(r.metricNames.contains("lpom_objective"), "\(r.metricNames)")
        XCTAssertTrue(r.metricNames.contains("residual.layers.0"), "\(r.metricNames)")
        XCTAssertTrue(r.training.contains("\"mu\":5"), r.training)
        XCTAssertTrue(r.training.contains("\"--sweep\",\"jacobi\""), "the run's own argv is recorded: \(r.training)")
        let net = try Network<Float>.load(from: r, snapshot: -1)
        let test = try DataOptions.parse(["--data-dir", fixtures]).load(.mnist).test
        XCTAssertGreaterThan(evaluate(net, on: test, loss: .crossEntropy).accuracy, 0.3)
    }
}
