import ArgumentParser
import Foundation
import HistoryStore
import XCTest
import LiftedTrain
@testable import lpom

/// `lpom train --method admm|bcd|penalty|askari` end to end on the fixtures (200 training
/// images): history, metrics, eval, inspect, and the one-line refusals.
final class LiftedCLITests: CLITestCase {
    func train(_ extra: [String]) throws -> RunSummary {
        let args = ["--data-dir", fixtures, "--quiet", "--layers", "32"] + extra
        return try TrainCommand.parse(args).perform(recording: args)
    }

    func testEveryLiftedMethodTrainsEvaluatesAndInspects() throws {
        for m in ["admm", "bcd", "penalty", "askari"] {
            let h = dir + "/\(m).h5"
            let s = try train(["--method", m, "--epochs", "4", "--snapshot-every", "1", "--history", h])
            XCTAssertEqual(s.steps, 4, "\(m): one full-batch iteration per epoch")
            XCTAssertGreaterThan(s.testAccuracy ?? 0, 0.15, "\(m): 4 iterations on 200 images should beat chance (10%)")
            let r = try HistoryReader(path: h)
            XCTAssertEqual(r.snapshotSteps, [0, 1, 2, 3, 4], m)
            XCTAssertTrue(r.metricNames.contains("\(m)_objective"), "\(m): \(r.metricNames)")
            XCTAssertTrue(r.metricNames.contains("residual.layers.0"), "\(m): \(r.metricNames)")
            XCTAssertEqual(try r.trainingRecord().batchSize, 200, m)
            r.close()
            var eval = try EvalCommand.parse([h, "--data-dir", fixtures, "--json"])
            _ = try capturingStandardOutput { try eval.run() }
            var inspect = try InspectCommand.parse([h])
            _ = try capturingStandardOutput { try inspect.run() }
            // The per-sample variables are not in the history: resuming is refused in one line.
            XCTAssertThrowsError(try TrainCommand.parse(["--resume", h, "--epochs", "5", "--quiet"]).perform()) { e in
                XCTAssertTrue("\(e)".contains("--resume") && "\(e)".contains(m) && !"\(e)".contains("\n"), "\(m): \(e)")
            }
        }
    }

    /// `lpom compare` runs the lifted methods beside SGD and reports seconds per epoch and peak memory.
    func testCompareRunsLiftedMethodsWithTimesAndMemory() throws {
        var cmd = try CompareCommand.parse(["--data-dir", fixtures, "--methods", "sgd,askari,admm", "--networks", "32", "--epochs", "2",
                                            "--validation", "50", "--runs-dir", dir, "--json", "--quiet"])
        let out = try capturingStandardOutput { try cmd.run() }
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let row = try XCTUnwrap((json["networks"] as? [[String: Any]])?.first)
        for m in ["sgd", "askari", "admm"] {
            let cell = try XCTUnwrap(row[m] as? [String: Any], m)
            XCTAssertEqual((cell["accuracies"] as? [Double])?.count, 1, m)
            XCTAssertGreaterThan(cell["seconds_per_epoch"] as? Double ?? 0, 0, m)
            XCTAssertGreaterThan(cell["peak_memory_mb"] as? Double ?? 0, 1, m)
        }
    }

    func testBadInputGetsOneLine() throws {
        for m in ["admm", "bcd", "askari"] {
            XCTAssertThrowsError(try train(["--method", m, "--activation", "sigmoid", "--history", dir + "/s.h5"])) { e in
                let s = "\(e)"
                XCTAssertTrue(s.contains("relu") && s.contains("sigmoid") && !s.contains("\n"), "\(m): \(s)")
            }
        }
        XCTAssertTrue(parseError(TrainCommand.self, ["--method", "admm", "--batch-size", "50"])?.contains("full-batch") ?? false)
        XCTAssertTrue(parseError(TrainCommand.self, ["--method", "bcd", "--bcd-rho", "-1"])?.contains("--bcd-rho") ?? false)
        XCTAssertTrue(parseError(TrainCommand.self, ["--method", "admm", "--lifted-memory", "0"])?.contains("--lifted-memory") ?? false)
        // Too large for the memory allowed: refused at the first step, before allocating; the
        // history keeps θ_0.
        let h = dir + "/big.h5"
        XCTAssertThrowsError(try train(["--method", "admm", "--lifted-memory", "0.0001", "--history", h])) { e in
            XCTAssertTrue("\(e)".contains("--train-limit") && !"\(e)".contains("\n"), "\(e)")
        }
        let r = try HistoryReader(path: h)
        XCTAssertEqual(r.snapshotSteps, [0])
        r.close()
    }
}
