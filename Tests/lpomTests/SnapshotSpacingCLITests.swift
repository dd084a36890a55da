import ArgumentParser
import Foundation
import HistoryStore
import LiftedTrain
import XCTest
@testable import lpom

/// `--snapshot-every N|epoch|log:K`, `--compress` and the size line, end to end on data/fixtures/tiny;
/// histories of any spacing are read by `ntk` and `surf --snapshots`.
final class SnapshotSpacingCLITests: CLITestCase {
    func train(_ h: String, _ extra: [String]) throws {
        let args = ["--data-dir", fixtures, "--quiet", "--threads", "1", "--history", h, "--overwrite"] + extra
        try TrainCommand.parse(args).run(recording: args)
    }

    func record(_ h: String) throws -> [String: Any] {
        let r = try HistoryReader(path: h)
        defer { r.close() }
        return try JSONSerialization.jsonObject(with: Data(r.training.utf8)) as! [String: Any]
    }

    func steps(_ h: String) throws -> [Int] {
        let r = try HistoryReader(path: h)
        defer { r.close() }
        return r.snapshotSteps
    }

    func testLogStepsAreGeometricDistinctAndKeepBothEnds() {
        let s = SnapshotSpacing.logSteps(count: 40, total: 6000)
        XCTAssertEqual(s.count, 40)
        XCTAssertEqual(s.first, 0); XCTAssertEqual(s.last, 6000)
        XCTAssertTrue(zip(s, s.dropFirst()).allSatisfy { $0 < $1 })
        // Geometric where rounding does not bind: a constant ratio 6000^(1/39) ≈ 1.25 at the end.
        XCTAssertEqual(Double(s[39]) / Double(s[38]), pow(6000, 1.0 / 39), accuracy: 0.01)
        XCTAssertEqual(s[1], 1)
        XCTAssertEqual(SnapshotSpacing.logSteps(count: 10, total: 4), [0, 1, 2, 3, 4], "every step when K > T")
        XCTAssertEqual(SnapshotSpacing.logSteps(count: 2, total: 9), [0, 9])
        XCTAssertEqual(SnapshotSpacing.every(40).count(total: 6000, perEpoch: 600), 151)
        XCTAssertEqual(SnapshotSpacing.epoch.steps(total: 1000, perEpoch: 300), [300, 600, 900, 1000])
        for text in ["40", "0", "epoch", "log:40"] { XCTAssertEqual(SnapshotSpacing(text)?.description, text) }
        for bad in ["log:1", "log:", "-3", "every", "log:x"] { XCTAssertNil(SnapshotSpacing(bad), bad) }
        XCTAssertTrue(parseError(["--snapshot-every", "log:1"])?.contains("--snapshot-every") ?? false)
    }

    func testSpacingsReachTheHistoryAndTheRecord() throws {
        // 200 training images, batch 50: 4 steps per epoch, 12 steps in 3 epochs.
        let h = dir + "/log.h5"
        try train(h, ["--layers", "8", "--epochs", "3", "--batch-size", "50", "--snapshot-every", "log:5"])
        XCTAssertEqual(try steps(h), SnapshotSpacing.logSteps(count: 5, total: 12))
        XCTAssertEqual(try steps(h), [0, 2, 3, 6, 12])
        XCTAssertEqual(try record(h)["snapshot_schedule"] as? String, "log:5")
        XCTAssertEqual(try record(h)["snapshot_every"] as? Int, 0)
        try train(h, ["--layers", "8", "--epochs", "3", "--batch-size", "50", "--snapshot-every", "epoch"])
        XCTAssertEqual(try steps(h), [0, 4, 8, 12])
        XCTAssertEqual(try record(h)["snapshot_every"] as? Int, 4)
        // Resuming a log-spaced run with more epochs keeps the spacing (over the new length).
        try train(h, ["--layers", "8", "--epochs", "1", "--batch-size", "50", "--snapshot-every", "log:4"])
        let args = ["--resume", h, "--epochs", "3", "--data-dir", fixtures, "--quiet", "--threads", "1"]
        try TrainCommand.parse(args).run(recording: args)
        XCTAssertEqual(try steps(h), SnapshotSpacing.logSteps(count: 4, total: 4) + SnapshotSpacing.logSteps(count: 4, total: 12).filter { $0 > 4 })
        XCTAssertEqual(try steps(h), [0, 2, 3, 4, 5, 12])
    }

    func testCompressIsLosslessAndSmaller() throws {
        let plain = dir + "/plain.h5", packed = dir + "/packed.h5"
        for (h, extra) in [(plain, [String]()), (packed, ["--compress"])] {
            try train(h, ["--layers", "64", "--epochs", "1", "--batch-size", "50", "--snapshot-every", "1"] + extra)
        }
        let size = { (p: String) in (try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int) }
        func assertSameSnapshots(_ x: String, _ y: String) throws {
            let a = try HistoryReader(path: x), b = try HistoryReader(path: y)
            defer { a.close(); b.close() }
            XCTAssertEqual(a.snapshotSteps, b.snapshotSteps)
            for t in 0..<a.snapshotCount { XCTAssertEqual(try a.snapshot(t).parameters, try b.snapshot(t).parameters) }
            XCTAssertEqual(try a.metricSteps(), try b.metricSteps())
        }
        try assertSameSnapshots(plain, packed)
        XCTAssertEqual(try record(packed)["compress"] as? Bool, true)
        XCTAssertNil(try record(plain)["compress"])
        XCTAssertLessThan(Double(try size(packed)), 0.8 * Double(try size(plain)), "shuffle + deflate over blocks of snapshots")
        // A resumed --compress run is packed again at its end; `lpom pack` packs the plain one.
        let args = ["--resume", packed, "--epochs", "2", "--data-dir", fixtures, "--quiet", "--threads", "1"]
        try TrainCommand.parse(args).run(recording: args)
        XCTAssertEqual(try steps(packed).count, 1 + 2 * 4)
        let afterResume = try size(packed)
        try PackCommand.parse([packed, "--quiet"]).run()
        XCTAssertLessThan(abs(Double(try size(packed)) / Double(afterResume) - 1), 0.02, "already packed at the end of the resumed run")
        // A missing file fails the command (exit 1) but the other file is still packed, losslessly.
        let reference = dir + "/reference.h5"
        try FileManager.default.copyItem(atPath: plain, toPath: reference)
        XCTAssertThrowsError(try PackCommand.parse([dir + "/missing.h5", plain, "--quiet"]).run()) {
            XCTAssertEqual(($0 as? ExitCode)?.rawValue, 1)
        }
        XCTAssertLessThan(Double(try size(plain)), 0.8 * Double(try size(reference)))
        try assertSameSnapshots(reference, plain)
    }

    func testSizeLineAndWarning() {
        // The default run: 784-300-100-10, 6000 steps, every 40 → 151 snapshots of 266,610 floats.
        let even = historySizeLines(path: "r.h5", spacing: .every(40), totalSteps: 6000, stepsPerEpoch: 600,
                                    scalars: 266_610, compress: false)
        XCTAssertEqual(even.count, 1)
        XCTAssertTrue(even[0].contains("151 snapshots") && even[0].contains("153.6 MiB"), even[0])
        // The paper generator (6.5 M parameters and buffers) every 100 of 10,000 steps: 2.6 GB, warned.
        let big = historySizeLines(path: "g.h5", spacing: .every(100), totalSteps: 10_000, stepsPerEpoch: 0,
                                   scalars: 6_534_000, compress: false)
        XCTAssertEqual(big.count, 2)
        XCTAssertTrue(big[1].hasPrefix("warning:") && big[1].contains("log:40"), big[1])
    }

    func testNTKAndSurfReadLogSpacedHistories() throws {
        let h = dir + "/ntk.h5"
        // Packed (--compress) as well as log-spaced.
        try train(h, ["--layers", "16", "--epochs", "2", "--batch-size", "50", "--snapshot-every", "log:4", "--compress"])
        let (analysis, _, _) = try NTKCommand.parse([h, "--points", "10", "--quiet", "--data-dir", fixtures]).analyse()
        XCTAssertEqual(analysis.rows.map(\.step), [0, 2, 4, 8])
        let g = dir + "/gen.h5"
        let args = ["--model", "dcgan", "--generator", "fc", "--gen-hidden", "8", "--latent", "2", "--steps", "9",
                    "--snapshot-every", "log:4", "--batch-size", "20", "--dataset", "fashion-mnist", "--data-dir", fixtures,
                    "--quiet", "--history", g, "--compress"]
        let cmd = try TrainCommand.parse(args)
        _ = try cmd.performGenerative(cmd.gen.model!, recording: args)
        XCTAssertEqual(try steps(g), SnapshotSpacing.logSteps(count: 4, total: 9))
        XCTAssertEqual(try record(g)["compress"] as? Bool, true)
        var surf = try SurfCommand.parse([g, "--trials", "2", "--steps", "5", "--first-steps", "4", "--min-steps", "2",
                                          "--snapshots", "2", "--quiet", "--json"])
        let out = try capturingStandardOutput { try surf.run() }
        XCTAssertTrue(out.contains("\"trials\""), out)
    }
}
