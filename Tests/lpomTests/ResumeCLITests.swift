import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import XCTest
import LiftedTrain
@testable import lpom

/// `lpom train --resume` continues the SAME run: a run interrupted mid-epoch (its last snapshot
/// mid-epoch) and resumed ends bit-identical to the uninterrupted run (1 thread), for SGD with
/// momentum and a cosine schedule, Adam and LPOM; extensions are recorded; options that would be
/// ignored are refused; every history records its provenance and `inspect` shows it.
final class ResumeCLITests: CLITestCase {
    struct Interrupted: Error {}

    /// 200 fixture images, batch 50: 4 steps per epoch.
    var common: [String] { ["--data-dir", fixtures, "--quiet", "--layers", "16", "--batch-size", "50", "--threads", "1"] }

    func train(_ args: [String]) throws {
        var cmd = try TrainCommand.parse(args)
        try cmd.run()
    }

    /// Runs `args`, stopping the run after step `step` as a crash would.
    func trainInterrupted(_ args: [String], after step: Int) throws {
        RunRecorder.stepHook = { if $0 == step { throw Interrupted() } }
        defer { RunRecorder.stepHook = nil }
        XCTAssertThrowsError(try train(args)) { XCTAssertTrue("\($0)".contains("Interrupted"), "\($0)") }
    }

    func resume(_ path: String, _ extra: [String] = []) throws {
        try train(["--resume", path, "--quiet"] + extra)
    }

    /// Every snapshot and every loss of `a` and `b` (the per-epoch wall times aside) are equal.
    func assertSameRun(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let ra = try HistoryReader(path: a), rb = try HistoryReader(path: b)
        defer { ra.close(); rb.close() }
        XCTAssertEqual(ra.snapshotSteps, rb.snapshotSteps, file: file, line: line)
        for name in ra.parameterShapes.keys.sorted() {
            for k in 0..<ra.snapshotCount {
                let x = try ra.parameter(name, snapshot: k), y = try rb.parameter(name, snapshot: k)
                XCTAssertTrue(x == y, "\(name) at snapshot \(k): max |Δ| = \(zip(x, y).map { abs($0 - $1) }.max() ?? 0)", file: file, line: line)
            }
        }
        XCTAssertEqual(try ra.metricSteps(), try rb.metricSteps(), file: file, line: line)
        for m in ["loss", "accuracy", "test_loss", "test_accuracy"] {
            XCTAssertEqual(try ra.metric(m).map(\.bitPattern), try rb.metric(m).map(\.bitPattern), m, file: file, line: line)
        }
        XCTAssertEqual(try ra.resumeState(), try rb.resumeState(), "the final optimizer states", file: file, line: line)
    }

    /// 3 epochs = 12 steps, snapshots every 3 steps; stopped after step 7, so the run resumes from
    /// the snapshot at step 6, in the middle of epoch 2, and must keep the 12-step schedule.
    func checkInterruptedRunResumesExactly(_ method: [String]) throws {
        let a = dir + "/a.h5", b = dir + "/b.h5"
        let args = common + method + ["--epochs", "3", "--snapshot-every", "3"]
        try train(args + ["--history", a])
        try trainInterrupted(args + ["--history", b], after: 7)
        XCTAssertEqual(try HistoryReader(path: b).snapshotSteps, [0, 3, 6])
        try resume(b)
        try assertSameRun(a, b)
        let record = try HistoryReader(path: b).trainingRecord()
        XCTAssertEqual(record.epochs, 3)
        XCTAssertNil(record.extensions, "resuming without --epochs keeps the run's length")
        XCTAssertEqual(record.provenance?.map(\.event), ["start", "resume"])
        XCTAssertEqual(record.provenance?.last?.fromStep, 6)
    }

    func testSGDWithMomentumAndCosineScheduleResumesBitIdentical() throws {
        try checkInterruptedRunResumesExactly(["--method", "sgd", "--momentum", "0.9", "--schedule", "cosine", "--lr", "0.05"])
    }

    func testAdamResumesBitIdentical() throws {
        try checkInterruptedRunResumesExactly(["--method", "adam", "--lr", "0.003"])
    }

    func testLPOMResumesBitIdentical() throws {
        try checkInterruptedRunResumesExactly(["--method", "lpom", "--gram-system", "features"])
    }

    /// A run killed before its first snapshot after θ_0 resumes from step 0 (it wrote θ_0 again
    /// and the history refused it: "snapshot step 0 is not after step 0").
    func testRunStoppedBeforeItsSecondSnapshotResumes() throws {
        let a = dir + "/a0.h5", b = dir + "/b0.h5"
        let args = common + ["--method", "sgd", "--epochs", "2", "--snapshot-every", "3"]
        try train(args + ["--history", a])
        try trainInterrupted(args + ["--history", b], after: 2)
        XCTAssertEqual(try HistoryReader(path: b).snapshotSteps, [0])
        try resume(b)
        try assertSameRun(a, b)
    }

    func testExtensionIsRecordedAndLeavesTheFirstPartUnchanged() throws {
        let a = dir + "/a.h5", b = dir + "/b.h5"
        let args = common + ["--epochs", "2", "--snapshot-every", "4", "--lr", "0.05"]
        try train(args + ["--history", a])
        try trainInterrupted(args + ["--history", b], after: 5)
        try resume(b, ["--epochs", "3"])
        let ra = try HistoryReader(path: a), rb = try HistoryReader(path: b)
        XCTAssertEqual(rb.snapshotSteps, [0, 4, 8, 12])
        // Steps up to the old end (8) follow the 2-epoch cosine schedule, as in the run never extended.
        for name in ra.parameterShapes.keys {
            XCTAssertEqual(try ra.parameter(name, snapshot: -1), try rb.parameter(name, snapshot: 2), name)
        }
        let record = try rb.trainingRecord()
        XCTAssertEqual(record.epochs, 3, "training.epochs tells the run's true length")
        let e = try XCTUnwrap(record.extensions?.first)
        XCTAssertEqual([e.fromStep, e.previousEpochs, e.epochs, e.resumedAtStep], [8, 2, 3, 4])
        XCTAssertEqual(record.scheduleSegments, [0, 8])
        XCTAssertEqual(record.provenance?.count, 2)
        rb.close()
        // Fewer epochs, or a run already complete, are refused without touching the file.
        let before = try Data(contentsOf: URL(fileURLWithPath: b))
        XCTAssertThrowsError(try resume(b, ["--epochs", "2"])) { XCTAssertTrue("\($0)".contains("fewer than the 3 epochs"), "\($0)") }
        XCTAssertThrowsError(try resume(b)) { XCTAssertTrue("\($0)".contains("already holds all 12 steps"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: b)), before)
    }

    func testOptionsThatWouldBeIgnoredAreRefused() throws {
        let h = dir + "/run.h5"
        try train(common + ["--epochs", "1", "--history", h])
        let before = try Data(contentsOf: URL(fileURLWithPath: h))
        for extra in [["--lr", "0.5"], ["--layers", "300,100"], ["--dataset", "fashion-mnist"], ["--method", "sgd"], ["--seed", "0"],
                      ["--batch-size=50"], ["--momentum", "0.9"], ["--history", h], ["--overwrite"], ["--mu", "3"], ["--test-limit", "5"]] {
            XCTAssertThrowsError(try resume(h, extra + ["--epochs", "2"]), "\(extra)") { e in
                let m = "\(e)"
                XCTAssertTrue(m.hasPrefix(extra[0].split(separator: "=")[0] + " cannot be given with --resume"), m)
                XCTAssertFalse(m.contains("\n"), m)
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: h)), before, "a refused resume leaves the file as it was")
        // The allowed ones pass.
        try resume(h, ["--epochs", "2", "--threads", "1", "--json", "--plot", dir + "/p.svg", "--data-dir", fixtures])
        XCTAssertEqual(try HistoryReader(path: h).snapshotSteps.last, 8)
    }

    func testDifferentDataFilesAreRefused() throws {
        let h = dir + "/run.h5"
        try train(common + ["--epochs", "1", "--history", h])
        // A data directory whose mnist/ holds the Fashion-MNIST fixtures (same sizes, other bytes).
        let fake = dir + "/fake"
        try FileManager.default.createDirectory(atPath: fake, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures + "/fashion-mnist", toPath: fake + "/mnist")
        XCTAssertThrowsError(try resume(h, ["--epochs", "2", "--data-dir", fake])) { e in
            XCTAssertTrue("\(e)".contains("is not the file the run was trained on"), "\(e)")
        }
    }

    func testHistoryWrittenBeforeResumeStateIsResumedWithAWarning() throws {
        let h = dir + "/old.h5"
        try FileManager.default.copyItem(atPath: CLITestCase.root + "/data/fixtures/lpom-0.1.0-sgd.h5", toPath: h)
        try resume(h, ["--epochs", "3", "--data-dir", fixtures])
        let r = try HistoryReader(path: h)
        XCTAssertEqual(r.snapshotSteps, [0, 3, 4, 6])
        let record = try r.trainingRecord()
        XCTAssertEqual(record.epochs, 3)
        XCTAssertEqual(record.extensions?.first?.fromStep, 4)
        XCTAssertEqual(record.provenance?.map(\.event), ["resume"])
        XCTAssertNotNil(try r.resumeState(), "the resumed session saves the state from now on")
    }

    func testProvenanceIsRecordedAndShownByInspect() throws {
        let h = dir + "/run.h5"
        try train(common + ["--epochs", "2", "--history", h])
        let r = try HistoryReader(path: h)
        let p = try XCTUnwrap(r.trainingRecord().provenance?.first)
        XCTAssertEqual(p.threads, 1)
        XCTAssertEqual(p.blasKernel, BLASCore.name)
        XCTAssertTrue(p.openblas.hasPrefix("OpenBLAS"), p.openblas)
        XCTAssertEqual(p.host, hostName())
        XCTAssertTrue(p.date.hasSuffix("Z") && p.date.count == 20, p.date)
        XCTAssertTrue(p.gitCommit == "unknown" || p.gitCommit.count == 40, p.gitCommit)
        let files = try XCTUnwrap(p.dataFiles)
        XCTAssertEqual(files.map { URL(fileURLWithPath: $0.path).lastPathComponent },
                       ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
        XCTAssertEqual(files[0].sha256, "979cdc94026378e2c20fc3981a909bf127d537f940ee890f806d69e404645f56")
        let seconds = try r.metric("epoch_seconds").filter(\.isFinite)
        XCTAssertEqual(seconds.count, 2, "one wall time per epoch")
        XCTAssertTrue(seconds.allSatisfy { $0 >= 0 && $0 < 600 })
        r.close()

        let text = try captureStandardOutput { var c = try InspectCommand.parse([h]); try c.run() }
        XCTAssertTrue(text.contains("provenance"), text)
        XCTAssertTrue(text.contains("host \(p.host)") && text.contains(String(p.gitCommit.prefix(12))), text)
        XCTAssertTrue(text.contains("sha256 979cdc94026378e2"), text)
        XCTAssertTrue(text.contains("epochs  2 timed"), text)
        let json = try captureStandardOutput { var c = try InspectCommand.parse([h, "--json"]); try c.run() }
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let entries = try XCTUnwrap(object["provenance"] as? [[String: Any]])
        XCTAssertEqual(entries.first?["blas_kernel"] as? String, BLASCore.name)
        XCTAssertNotNil(entries.first?["data_files"])
    }

    /// A `--model` run stopped after step 7 of 8 (snapshots every 3: it resumes from step 6; the
    /// paper's networks: after step 3 of 4, snapshots every 2) and continued with `--resume` ends bit-identical to the uninterrupted run — every snapshot's θ
    /// and batch-norm statistics, every loss of every step, and the final resume state (both Adam
    /// states, the partner network, the noise) — for the VAE, DCGAN (the paper's networks: batch
    /// norm in both), WGAN (clipping) and WGAN-GP (the authors' penalty, which draws a weight per
    /// pixel from the noise). Provenance records both sessions.
    func testGenerativeRunsResumeExactly() throws {
        let models: [[String]] = [
            ["--model", "vae", "--generator", "fc", "--gen-hidden", "16"],
            ["--model", "dcgan", "--generator", "paper", "--generator-forwards", "2"],
            ["--model", "wgan", "--generator", "fc", "--gen-hidden", "16", "--n-critic", "2"],
            ["--model", "wgan-gp", "--generator", "fc", "--gen-hidden", "16", "--n-critic", "1", "--gp-style", "released"],
        ]
        for model in models {
            let a = dir + "/a.h5", b = dir + "/b.h5"
            for p in [a, b] { try? FileManager.default.removeItem(atPath: p) }
            // The paper's networks are slow in a debug build: 4 steps, snapshots every 2, stopped after 3.
            let paper = model[3] == "paper"
            let (steps, every) = paper ? (4, 2) : (8, 3)
            let args = model + ["--latent", "3", "--steps", "\(steps)", "--snapshot-every", "\(every)", "--batch-size", paper ? "4" : "20",
                                "--seed", "5", "--data-dir", fixtures, "--quiet", "--threads", "1"]
            try train(args + ["--history", a])
            try trainInterrupted(args + ["--history", b], after: steps - 1)
            let kept = paper ? [0, 2] : [0, 3, 6]
            XCTAssertEqual(try HistoryReader(path: b).snapshotSteps, kept, "\(model)")
            try resume(b, ["--sample-grid", dir + "/s.png"])
            let ra = try HistoryReader(path: a), rb = try HistoryReader(path: b)
            defer { ra.close(); rb.close() }
            XCTAssertEqual(rb.snapshotSteps, kept + [steps], "\(model)")
            for k in 0..<ra.snapshotCount {
                for n in ra.parameterShapes.keys.sorted() { XCTAssertEqual(try ra.parameter(n, snapshot: k), try rb.parameter(n, snapshot: k), "\(model) \(n) at \(k)") }
                for n in ra.bufferShapes.keys.sorted() { XCTAssertEqual(try ra.buffer(n, snapshot: k), try rb.buffer(n, snapshot: k), "\(model) \(n) at \(k)") }
            }
            XCTAssertEqual(try ra.metricSteps(), try rb.metricSteps(), "\(model)")
            let losses = ra.metricNames.filter { $0 != "snapshot_seconds" }
            XCTAssertTrue(losses.contains(model[1] == "vae" ? "kl" : "d_loss"), "\(model): \(losses)")
            for m in losses { XCTAssertEqual(try ra.metric(m).map(\.bitPattern), try rb.metric(m).map(\.bitPattern), "\(model) \(m)") }
            let (sa, sb) = (try XCTUnwrap(try ra.resumeState()), try XCTUnwrap(try rb.resumeState()))
            XCTAssertEqual(sa, sb, "\(model): the final states")
            XCTAssertTrue(sa.arrays.keys.contains("noise") && sa.arrays.keys.contains { $0.hasSuffix(".adam.step") }, "\(model)")
            XCTAssertEqual(try rb.trainingRecord().provenance?.map(\.event), ["start", "resume"], "\(model)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/s.png"))
        }
    }

    /// `--resume` of a `--model` run: other options are refused, a finished run too, and a history
    /// without resume state (as lpom wrote them before it saved one for generative runs).
    func testGenerativeResumeRefusals() throws {
        let h = dir + "/vae.h5"
        let args = ["--model", "vae", "--generator", "fc", "--latent", "3", "--steps", "4", "--snapshot-every", "2", "--batch-size", "20",
                    "--data-dir", fixtures, "--quiet", "--history", h]
        try train(args)
        let r = try HistoryReader(path: h)
        XCTAssertEqual(try r.trainingRecord().provenance?.first?.dataFiles?.count, 4)
        XCTAssertEqual(try r.metric("snapshot_seconds").filter(\.isFinite).count, 2, "at the snapshots of steps 2 and 4")
        r.close()
        XCTAssertThrowsError(try resume(h)) { XCTAssertTrue("\($0)".contains("already holds all 4 steps"), "\($0)") }
        XCTAssertThrowsError(try resume(h, ["--steps", "9"])) { XCTAssertTrue("\($0)".contains("--steps cannot be given with --resume"), "\($0)") }
        XCTAssertThrowsError(try train(args + ["--resume", h])) { XCTAssertTrue("\($0)".contains("drop --model"), "\($0)") }
        // The same history without its resume state.
        let old = dir + "/old.h5"
        let src = try HistoryReader(path: h)
        let w = try HistoryWriter(path: old, model: src.model, training: src.training, createdBy: "lpom tests",
                                  parameters: src.parameterShapes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                  buffers: src.bufferShapes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        for t in 0..<2 {
            var p: [String: [Float]] = [:]
            for n in src.parameterShapes.keys { p[n] = try src.parameter(n, snapshot: t) }
            try w.appendSnapshot(step: src.snapshotSteps[t], parameters: p, buffers: [:])
        }
        try w.close(); src.close()
        XCTAssertThrowsError(try resume(old)) { XCTAssertTrue("\($0)".contains("holds no resume state"), "\($0)") }
    }

    /// Standard output of `body` (print goes through the C stdout buffer, flushed before and after).
    func captureStandardOutput(_ body: () throws -> Void) throws -> String {
        let path = dir + "/stdout-\(UUID().uuidString).txt"
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        fflush(stdout)
        let saved = dup(STDOUT_FILENO)
        dup2(handle.fileDescriptor, STDOUT_FILENO)
        defer {
            fflush(stdout)
            dup2(saved, STDOUT_FILENO)
            close(saved)
            try? handle.close()
        }
        try body()
        fflush(stdout)
        return try String(contentsOfFile: path, encoding: .utf8)
    }
}
