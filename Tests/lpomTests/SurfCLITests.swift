import ArgumentParser
import Foundation
import HistoryStore
import XCTest
import LiftedTrain
import Surfing
@testable import lpom

/// `lpom surf` on histories written by h5py and by lpom, and its refusals.
final class SurfCLITests: CLITestCase {
    let fixture = CLITestCase.root + "/data/fixtures/h5py-generator.h5"

    /// Runs what `lpom surf ARGS` computes (its setup and inverter), without printing.
    func surf(_ args: [String]) throws -> [TrialResult] {
        let c = try SurfCommand.parse(args + ["--quiet"])
        let setup = try SurfSetup(c)
        return try setup.inverter.run(setup.trials)
    }

    /// The error `lpom surf ARGS` stops with (validation or run), as printed.
    func surfError(_ args: [String]) -> String? {
        do {
            var c = try SurfCommand.parse(args + ["--quiet"])
            try c.run()
            return nil
        } catch { return SurfCommand.message(for: error) }
    }

    /// Copies the h5py history value for value through lpom's HistoryWriter.
    func rewrite(_ source: String, to path: String) throws {
        let r = try HistoryReader(path: source)
        defer { r.close() }
        let w = try HistoryWriter(path: path, model: r.model, training: r.training, createdBy: "lpom tests",
                                  parameters: r.parameterShapes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                  buffers: r.bufferShapes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        for t in 0..<r.snapshotCount {
            var p: [String: [Float]] = [:], b: [String: [Float]] = [:]
            for n in r.parameterShapes.keys { p[n] = try r.parameter(n, snapshot: t) }
            for n in r.bufferShapes.keys { b[n] = try r.buffer(n, snapshot: t) }
            try w.appendSnapshot(step: r.snapshotSteps[t], parameters: p, buffers: b)
        }
        try w.close()
    }

    /// `--trial-range` runs exactly the whole run's trials FROM..<TO (the same x*, starts and, for
    /// per-trial compressed sensing, the same A): each piece's results equal those rows of the
    /// whole run; and scripts/surf_merge_pieces.py puts the pieces back into the whole run's JSON.
    /// With `--threads 2` (the trials of each piece split over two workers) every trial is the same too.
    func testTrialRangePiecesAreTheWholeRunsTrials() throws {
        let blas = BLASThreads.current
        defer { BLASThreads.set(blas) }
        for extra in [["--method", "surfing"], ["--method", "adam", "--measurements", "30", "--measurement-matrix", "per-trial"]] {
            let args = [fixture, "--trials", "7", "--steps", "300", "--first-steps", "100", "--min-steps", "20", "--seed", "3"] + extra
            let whole = try surf(args)
            let pieces = try surf(args + ["--trial-range", "0:3"]) + surf(args + ["--trial-range", "3:7"])
            let threaded = try surf(args + ["--threads", "2", "--trial-range", "0:3"]) + surf(args + ["--threads", "2", "--trial-range", "3:7"])
            XCTAssertEqual(whole.count, 7)
            for (label, other) in [("pieces", pieces), ("pieces on 2 threads", threaded), ("2 threads", try surf(args + ["--threads", "2"]))] {
                XCTAssertEqual(other.map(\.iterations), whole.map(\.iterations), "\(label) \(extra)")
                XCTAssertEqual(other.map(\.success), whole.map(\.success), "\(label) \(extra)")
                for (a, b) in zip(other, whole) {
                    XCTAssertEqual(a.x.count, b.x.count)
                    for (u, v) in zip(a.x, b.x) { XCTAssertEqual(u, v, accuracy: 1e-6, "\(label) \(extra)") }
                }
            }
        }
        XCTAssertEqual(surfError([fixture, "--trials", "7", "--trial-range", "5:9"]),
                       "--trial-range must be FROM:TO with 0 ≤ FROM < TO ≤ --trials (7), got '5:9'")
        XCTAssertNotNil(surfError([fixture, "--trials", "7", "--trial-range", "3"]))
        XCTAssertEqual(surfError([fixture, "--trials", "7", "--trial-range", "0:3", "--protocol", "paper"])?.contains("--trial-range runs a piece"), true)

        // The merge, through the script and lpom's own JSON (python3 is part of the test command's setup).
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { throw XCTSkip("python3 not found") }
        func json(_ more: [String]) throws -> String {
            var c = try SurfCommand.parse([fixture, "--trials", "7", "--steps", "300", "--first-steps", "100", "--min-steps", "20",
                                           "--seed", "3", "--json", "--quiet"] + more)
            return try capturingStandardOutput { try c.run() }
        }
        let paths = [dir + "/whole.json", dir + "/a.json", dir + "/b.json", dir + "/merged.json"]
        for (p, more) in zip(paths, [[], ["--trial-range", "0:3"], ["--trial-range", "3:7"]]) {
            try json(more).write(toFile: p, atomically: true, encoding: .utf8)
        }
        func merge(_ inputs: [String]) throws -> Int32 {
            let proc = Process()
            proc.executableURL = python
            proc.arguments = [CLITestCase.root + "/scripts/surf_merge_pieces.py", paths[3]] + inputs
            proc.standardOutput = FileHandle.nullDevice; proc.standardError = FileHandle.nullDevice
            try proc.run(); proc.waitUntilExit()
            return proc.terminationStatus
        }
        XCTAssertEqual(try merge([paths[2], paths[1]]), 0)
        let load = { (p: String) in try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as? [String: Any] ?? [:] }
        let w = try load(paths[0]), m = try load(paths[3])
        for key in ["trials", "successes", "success_rate", "mean_iterations", "median_iterations", "total_steps", "mean_successful_iterations"] {
            XCTAssertEqual("\(w[key] ?? "nil")", "\(m[key] ?? "nil")", key)
        }
        XCTAssertNotEqual(try merge([paths[1]]), 0, "a piece missing")
        XCTAssertNotEqual(try merge([paths[1], paths[1], paths[2]]), 0, "a piece twice")
    }

    /// `BINARY surf` on the fixture (4 trials, 50 regular-Adam steps, --json) with ENV on top of
    /// this process's environment less REMOVING; its JSON (exit status 0 asserted).
    func binarySurfJSON(_ binary: String, env: [String: String], removing: [String] = []) throws -> [String: Any] {
        let proc = Process(), out = Pipe()
        proc.executableURL = URL(fileURLWithPath: binary)
        proc.arguments = ["surf", fixture, "--method", "adam", "--trials", "4", "--steps", "50", "--seed", "3", "--json", "--quiet"]
        var e = ProcessInfo.processInfo.environment
        for k in removing { e[k] = nil }
        proc.environment = e.merging(env) { $1 }
        proc.standardOutput = out; proc.standardError = FileHandle.nullDevice
        try proc.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        proc.waitUntilExit()
        XCTAssertEqual(proc.terminationStatus, 0)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The lpom binary flushes denormals to zero from its first line (LPOMCommand.main, before any
    /// thread exists) and says so in `lpom surf --json`; `LPOM_DENORMALS=ieee` keeps IEEE
    /// arithmetic. The trials here come out the same either way.
    func testTheBinaryFlushesDenormalsUnlessToldToKeepThem() throws {
        guard let binary = MPICLITests.binary else { throw XCTSkip("the lpom binary was not built beside the tests") }
        func run(_ env: [String: String]) throws -> [String: Any] { try binarySurfJSON(binary, env: env) }
        var plain = ProcessInfo.processInfo.environment["LPOM_DENORMALS"] == nil ? [:] : ["LPOM_DENORMALS": ""]
        let flushed = try run(plain)
        plain["LPOM_DENORMALS"] = "ieee"
        let ieee = try run(plain)
        #if arch(x86_64)
        XCTAssertEqual(flushed["denormals"] as? String, "flushed to zero")
        #endif
        XCTAssertEqual(ieee["denormals"] as? String, "ieee")
        XCTAssertEqual(flushed["successes"] as? String, ieee["successes"] as? String)
        XCTAssertEqual("\(flushed["total_steps"] ?? "")", "\(ieee["total_steps"] ?? "")")
    }

    /// The binary starts itself again with OpenBLAS's kernels for the CPU's instruction set when
    /// OpenBLAS took an older CPU's (BLASKernelChoice), unless OPENBLAS_CORETYPE or
    /// LPOM_BLAS_CORE=keep says otherwise. OpenBLAS knows this CPU, so the test makes the binary see
    /// Prescott on an AVX2-only CPU (LPOM_BLAS_CORE_TEST): the run then reports Haswell or Zen
    /// kernels — what OpenBLAS loaded after the restart — and the same trials.
    func testTheBinaryAsksOpenBLASForTheCPUsKernelsWhenItTookAnOlderCPUs() throws {
        guard let binary = MPICLITests.binary else { throw XCTSkip("the lpom binary was not built beside the tests") }
        let blasVariables = ["OPENBLAS_CORETYPE", "LPOM_BLAS_CORE", "LPOM_BLAS_CORE_TEST", "LPOM_BLAS_CORE_REPLACED"]
        func run(_ env: [String: String]) throws -> [String: Any] { try binarySurfJSON(binary, env: env, removing: blasVariables) }
        #if os(Linux) && arch(x86_64)
        let (vendor, flags) = BLASKernelChoice.cpu()
        guard flags.contains("avx2") && flags.contains("fma") else { throw XCTSkip("no AVX2 here") }
        let own = try run([:])
        XCTAssertTrue(own["blas_kernels_replaced"] is NSNull)
        let seen = "Prescott;sse3 avx avx2 fma"
        let restarted = try run(["LPOM_BLAS_CORE_TEST": seen])
        XCTAssertEqual(restarted["blas_kernels"] as? String, vendor == "AuthenticAMD" ? "Zen" : "Haswell")
        XCTAssertEqual(restarted["blas_kernels_replaced"] as? String, "Prescott")
        XCTAssertEqual(restarted["successes"] as? String, own["successes"] as? String)
        let chosen = try run(["LPOM_BLAS_CORE_TEST": seen, "OPENBLAS_CORETYPE": "SkylakeX"])
        XCTAssertEqual(chosen["blas_kernels"] as? String, flags.contains("avx512f") ? "SkylakeX" : own["blas_kernels"] as? String)
        XCTAssertTrue(chosen["blas_kernels_replaced"] is NSNull)
        let kept = try run(["LPOM_BLAS_CORE_TEST": seen, "LPOM_BLAS_CORE": "keep"])
        XCTAssertEqual(kept["blas_kernels"] as? String, own["blas_kernels"] as? String)
        #else
        throw XCTSkip("x86-64 Linux only")
        #endif
    }

    /// Compressed sensing under `--protocol paper` (compressX.py): regular Adam (`normal_adamGD`)
    /// takes step 0.002 for 20,000 steps with no gradient stop; surfing (`seq_adamGD`) 0.01 on the
    /// intermediate networks, 0.002 for 15,000 on the final one, and stops a network's descent at
    /// ‖∇f‖ < 5e-4. Random restarts are regular Adam started R times: regular Adam's settings.
    /// Without A the gradient stop is off for every method. What the user passes still wins.
    func testCompressedSensingSettingsFollowTheReleasedCodePerMethod() throws {
        func settings(_ extra: [String]) throws -> InversionSettings {
            try SurfSetup(SurfCommand.parse([fixture, "--protocol", "paper", "--trials", "2", "--quiet"] + extra)).settings
        }
        let cs = ["--measurements", "20"]
        for method in ["adam", "restarts"] {
            let s = try settings(cs + ["--method", method])
            XCTAssertEqual(s.learningRate, 0.002, method)
            XCTAssertNil(s.finalLearningRate, method)
            XCTAssertNil(s.finalGradientTolerance, method)
            XCTAssertNil(s.snapshotGradientTolerance, method)
            XCTAssertEqual(s.finalSteps, 20_000, method)
        }
        let surfing = try settings(cs + ["--method", "surfing"])
        XCTAssertEqual(surfing.learningRate, 0.01)
        XCTAssertEqual(surfing.finalLearningRate, 0.002)
        XCTAssertEqual(surfing.finalGradientTolerance, 5e-4)
        XCTAssertEqual(surfing.snapshotGradientTolerance, 5e-4)
        XCTAssertEqual(surfing.finalSteps, 15_000)
        XCTAssertEqual(surfing.stepsPerSnapshot, 3000)
        for method in ["adam", "restarts", "surfing"] {
            let s = try settings(["--method", method])
            XCTAssertNil(s.finalGradientTolerance, method)
            XCTAssertEqual(s.finalSteps, 60_000, method)
        }
        XCTAssertEqual(try settings(cs + ["--method", "restarts", "--lr", "0.005"]).learningRate, 0.005)
        XCTAssertEqual(try settings(cs + ["--method", "restarts", "--final-gtol", "1e-3"]).finalGradientTolerance, 1e-3)
    }

    /// scripts/surf_cap.py reads regular Adam of 400 steps off a run of 3,000, through lpom's own
    /// JSON: the same successes, iterations and summaries as running 400 steps (the Table-1 sweep
    /// gets regular Adam at 60,000 steps and with surfing's whole budget from one run this way).
    func testCappedLongAdamRunIsTheShortRun() throws {
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { throw XCTSkip("python3 not found") }
        func json(_ steps: Int, _ path: String) throws {
            var c = try SurfCommand.parse([fixture, "--method", "adam", "--trials", "16", "--steps", "\(steps)", "--seed", "3", "--json", "--quiet"])
            try capturingStandardOutput { try c.run() }.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let (short, long, capped) = (dir + "/short.json", dir + "/long.json", dir + "/capped.json")
        try json(400, short); try json(3000, long)
        func cap(_ args: [String]) throws -> Int32 {
            let proc = Process()
            proc.executableURL = python
            proc.arguments = [CLITestCase.root + "/scripts/surf_cap.py"] + args
            proc.standardOutput = FileHandle.nullDevice; proc.standardError = FileHandle.nullDevice
            try proc.run(); proc.waitUntilExit()
            return proc.terminationStatus
        }
        XCTAssertEqual(try cap([long, "400", capped]), 0)
        let load = { (p: String) in try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as? [String: Any] ?? [:] }
        let a = try load(short), l = try load(long), c = try load(capped)
        XCTAssertEqual(a["successes"] as? String, c["successes"] as? String)
        for key in ["success_rate", "mean_successful_iterations", "mean_iterations", "median_iterations", "total_steps", "final_steps"] {
            let (x, y) = ((a[key] as? NSNumber)?.doubleValue, (c[key] as? NSNumber)?.doubleValue)
            XCTAssertNotNil(x, key)
            XCTAssertEqual(x ?? .nan, y ?? .infinity, accuracy: 1e-9 * max(1, abs(x ?? 0)), key)
        }
        let rows = (a["results"] as? [[String: Any]]) ?? []
        XCTAssertEqual(rows.map { "\($0["iterations"] ?? "")" }, ((c["iterations"] as? [Any]) ?? []).map { "\($0)" })
        // Not vacuous: the long run solves trials the short one does not.
        let solved = { (d: [String: Any]) in ((d["successes"] as? String) ?? "").filter { $0 == "1" }.count }
        XCTAssertGreaterThan(solved(l), solved(a)); XCTAssertGreaterThan(solved(a), 0)
        XCTAssertNotEqual(try cap([long, "4000", capped]), 0, "a cap beyond the run")
        XCTAssertNotEqual(try cap([short, "300x", capped]), 0, "a cap that is not a number")
    }

    /// One random restart of S steps is regular Adam cut at S steps: the same start, step size and
    /// descent, trial for trial (x̂, iterations, success), under lpom's settings and `--protocol
    /// paper`. On this ground the Table-1 sweep reads "restarts, R = 1 chosen on validation" off
    /// regular Adam's whole-budget run instead of running it again (scripts/surf_paper_table.sh,
    /// restarts_tuned; added 2026-12-06, session 21).
    func testOneRandomRestartIsRegularAdamCutAtItsSteps() throws {
        for extra in [[String](), ["--protocol", "paper"]] {
            let common = [fixture, "--trials", "16", "--seed", "3"] + extra
            let adam = try surf(common + ["--method", "adam", "--steps", "400"])
            let one = try surf(common + ["--method", "restarts", "--restarts", "1", "--restart-steps", "400"])
            XCTAssertEqual(adam.count, 16)
            XCTAssertEqual(one.count, 16)
            for (i, (a, b)) in zip(adam, one).enumerated() {
                XCTAssertEqual(a.x, b.x, "trial \(i) \(extra)")
                XCTAssertEqual(a.iterations, b.iterations, "trial \(i) \(extra)")
                XCTAssertEqual(a.success, b.success, "trial \(i) \(extra)")
            }
            // Not vacuous: within 400 steps some trials are solved and some are not.
            let solved = adam.filter { $0.success == true }.count
            XCTAssertGreaterThan(solved, 0, "\(extra)")
            XCTAssertLessThan(solved, 16, "\(extra)")
        }
    }

    /// `lpom surf --checkpoint DIR`, stopped after a save (as a kill would) and run again with the
    /// same command, prints the same JSON per trial as a run without checkpoints (x̂, iterations,
    /// successes), on two workers and for surfing with compressed sensing; the directory is gone
    /// afterwards. A checkpoint of another command is refused with one line; bad options too.
    func testACheckpointedRunStoppedAndRunAgainPrintsTheSameResults() throws {
        defer { InversionCheckpoint.interruptAfterSave = nil }
        let ckpt = dir + "/ckpt"
        for extra in [["--method", "adam", "--threads", "2"],
                      ["--method", "surfing", "--measurements", "20", "--first-steps", "60", "--min-steps", "20"]] {
            let args = [fixture, "--trials", "6", "--steps", "300", "--seed", "4", "--json", "--quiet"] + extra
            func json(_ more: [String], history: String? = nil) throws -> [String: Any] {
                var c = try SurfCommand.parse((history.map { [$0] + args.dropFirst() } ?? args) + more)
                let text = try capturingStandardOutput { try c.run() }
                return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
            }
            let plain = try json([])
            InversionCheckpoint.interruptAfterSave = { $0 == 150 }
            XCTAssertThrowsError(try json(["--checkpoint", ckpt, "--checkpoint-every", "50"]), "\(extra)")
            XCTAssertFalse(InversionCheckpoint.files(in: ckpt).isEmpty)
            // `lpom inspect DIR` reports how far the stopped run got.
            var inspect = try InspectCommand.parse([ckpt, "--json"])
            let report = try JSONSerialization.jsonObject(with: Data(capturingStandardOutput { try inspect.run() }.utf8)) as? [String: Any] ?? [:]
            let chunks = report["chunks"] as? [[String: Any]] ?? []
            XCTAssertEqual(chunks.compactMap { $0["step"] as? Int }.max(), 150, "\(extra): the save that stopped the run")
            XCTAssertEqual(chunks.compactMap { ($0["rows"] as? [Int]).map { $0[1] - $0[0] } }.reduce(0, +), 6, "\(extra): every trial in a chunk")
            XCTAssertEqual(report["workers"] as? Int, extra.contains("--threads") ? 2 : 1, "\(extra)")
            XCTAssertEqual((report["fingerprint"] as? String)?.contains("history with final network "), true, "\(extra)")
            XCTAssertEqual((report["fingerprint"] as? String)?.contains(fixture), false, "\(extra): the generator, not its path")
            // `lpom inspect HISTORY` reports the same digest (what the sweep compares).
            var history = try InspectCommand.parse([fixture, "--json"])
            let h = try JSONSerialization.jsonObject(with: Data(capturingStandardOutput { try history.run() }.utf8)) as? [String: Any] ?? [:]
            let digest = h["final_network_digest"] as? String ?? "none"
            XCTAssertEqual(digest.count, 16)
            XCTAssertEqual((report["fingerprint"] as? String)?.contains("history with final network \(digest) "), true, "\(extra)")
            XCTAssertEqual((report["problems"] as? [Any])?.count, 0, "\(extra)")
            XCTAssertGreaterThan(report["cpu_seconds"] as? Double ?? 0, 0, "\(extra)")
            // A folder of histories is not a checkpoint: one line pointing at `lpom runs`.
            let folder = dir + "/histories"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: folder + "/a.h5", contents: Data())
            do { var c = try InspectCommand.parse([folder]); try c.run(); XCTFail("a folder of histories was inspected") } catch {
                XCTAssertEqual(InspectCommand.message(for: error), "checkpoint \(folder): holds no lpom surf checkpoint files (chunk-*.json, phases.json, split.json, clock.json) (a folder of histories? `lpom runs \(folder)` lists them)")
            }
            var text = try InspectCommand.parse([ckpt])
            XCTAssertTrue(try capturingStandardOutput { try text.run() }.contains("progress   final network: step "), "\(extra)")
            XCTAssertEqual(surfError(args.filter { $0 != "--json" } + extra + ["--seed", "5", "--checkpoint", ckpt])?.contains("saved by another run"), true,
                           "another seed: other trials")
            InversionCheckpoint.interruptAfterSave = nil
            let threads = extra.contains("--threads") ? "1" : "2"
            XCTAssertEqual(surfError(args.filter { $0 != "--json" } + extra + ["--threads", threads, "--checkpoint", ckpt])?.contains("continue it with those"), true,
                           "another split of the trials")
            // Continued from a copy of the history elsewhere (another machine: a history trained
            // again bit for bit, or copied): the checkpoint names the generator, not the file.
            let moved = dir + "/elsewhere/generator.h5"
            try? FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: moved)
            try FileManager.default.copyItem(atPath: fixture, toPath: moved)
            let resumed = try json(["--checkpoint", ckpt, "--checkpoint-every", "50"], history: moved)
            // The continued run reports the whole run's time: the interrupted invocation's up to its last save, plus its own.
            let before = resumed["seconds_before_continued"] as? Double ?? 0, cpuBefore = resumed["cpu_seconds_before_continued"] as? Double ?? 0
            XCTAssertGreaterThan(before, 0, "\(extra)")
            XCTAssertGreaterThan(cpuBefore, 0, "\(extra)")
            XCTAssertGreaterThan(resumed["seconds"] as? Double ?? 0, before, "\(extra)")
            XCTAssertGreaterThan(resumed["cpu_seconds"] as? Double ?? 0, cpuBefore, "\(extra)")
            XCTAssertNil(plain["seconds_before_continued"])
            for key in ["successes", "total_steps", "mean_iterations"] {
                XCTAssertEqual("\(plain[key] ?? "nil")", "\(resumed[key] ?? "nil")", "\(extra): \(key)")
            }
            let rows = { (d: [String: Any]) in (d["results"] as? [[String: Any]] ?? []).map { "\($0["x"] ?? "")|\($0["iterations"] ?? "")" } }
            XCTAssertEqual(rows(plain), rows(resumed), "\(extra)")
            XCTAssertEqual(rows(plain).count, 6)
            XCTAssertFalse(FileManager.default.fileExists(atPath: ckpt), "the checkpoint is removed once the run has finished")
        }
        XCTAssertEqual(surfError([fixture, "--checkpoint-every", "0"]), "--checkpoint-every must be between 1 and 1000000000, got 0")
        XCTAssertEqual(surfError([fixture, "--method", "projected", "--checkpoint", ckpt]),
                       "--checkpoint saves Adam descents; --method projected does not take it")
    }

    /// A regular-Adam run that keeps its checkpoint continues to a larger budget and ends as a run
    /// given that budget from the start (every trial's x̂ and iterations); the budget it was saved
    /// at is not part of what identifies the run, but a smaller budget than the saved step, and
    /// surfing's budget, are refused.
    /// The generator's digest in a checkpoint's fingerprint: the same for the same values
    /// whatever the dictionaries' order, another for one bit of one value, for a value moved to
    /// another name, or for a buffer given as a parameter.
    func testTheGeneratorDigestNamesTheValuesNotTheFile() {
        let p: [String: [Float]] = ["w": [1, 2, 3], "b": [0.5]], buf: [String: [Float]] = ["mean": [0.25, -1]]
        let d = SurfSetup.digest((p, buf))
        XCTAssertEqual(d.count, 16)
        XCTAssertEqual(d, SurfSetup.digest((Dictionary(uniqueKeysWithValues: p.reversed()), buf)))
        var flipped = p
        flipped["w"]![1] = Float(bitPattern: p["w"]![1].bitPattern ^ 1)
        XCTAssertNotEqual(d, SurfSetup.digest((flipped, buf)))
        XCTAssertNotEqual(d, SurfSetup.digest((["w": [1, 2], "b": [3, 0.5]], buf)))
        XCTAssertNotEqual(d, SurfSetup.digest((p.merging(buf) { a, _ in a }, [:])))
    }

    func testAKeptRegularAdamCheckpointContinuesToALargerBudget() throws {
        let ckpt = dir + "/kept"
        let args = [fixture, "--trials", "8", "--seed", "6", "--method", "adam", "--lr", "0.003", "--json", "--quiet"]
        func json(_ more: [String]) throws -> [String: Any] {
            var c = try SurfCommand.parse(args + more)
            let text = try capturingStandardOutput { try c.run() }
            return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        }
        let rows = { (d: [String: Any]) in (d["results"] as? [[String: Any]] ?? []).map { "\($0["x"] ?? "")|\($0["iterations"] ?? "")|\($0["success"] ?? "")" } }
        let short = try json(["--steps", "120", "--checkpoint", ckpt, "--checkpoint-every", "50", "--keep-checkpoint"])
        XCTAssertFalse(InversionCheckpoint.files(in: ckpt).isEmpty, "kept")
        XCTAssertEqual(rows(short), rows(try json(["--steps", "120"])))
        let plain = try json(["--steps", "300"])
        let iterations = (plain["results"] as? [[String: Any]] ?? []).compactMap { $0["iterations"] as? Int }
        XCTAssertTrue(iterations.contains { $0 > 120 } && iterations.contains(300), "trials still descending after step 120 (the continuation has work): \(iterations)")
        XCTAssertEqual(surfError(args.filter { $0 != "--json" } + ["--steps", "100", "--checkpoint", ckpt])?
            .contains("beyond this run's 100 steps; continue it with --steps 120 or more"), true, "a smaller budget")
        var saved: [Int] = []
        InversionCheckpoint.interruptAfterSave = { saved.append($0); return false }
        defer { InversionCheckpoint.interruptAfterSave = nil }
        let continued = try json(["--steps", "300", "--checkpoint", ckpt, "--checkpoint-every", "50"])
        XCTAssertEqual(rows(continued), rows(plain))
        XCTAssertEqual(rows(plain).count, 8)
        XCTAssertGreaterThan(saved.min() ?? 0, 120, "it continued from step 120, not from the start: saves at \(saved)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: ckpt), "removed without --keep-checkpoint")
        // Surfing's budget is part of what identifies its run.
        let surfArgs = [fixture, "--trials", "4", "--seed", "6", "--first-steps", "30", "--min-steps", "10", "--quiet"]
        var s = try SurfCommand.parse(surfArgs + ["--steps", "60", "--checkpoint", ckpt, "--keep-checkpoint"])
        _ = try capturingStandardOutput { try s.run() }
        XCTAssertEqual(surfError(surfArgs + ["--steps", "90", "--checkpoint", ckpt])?.contains("saved by another run"), true)
        XCTAssertEqual(surfError([fixture, "--keep-checkpoint"]), "--keep-checkpoint keeps the files of --checkpoint DIR; give it a directory")
    }

    /// The h5py-written generator (scripts/make_generator_history_h5py.py) reads as its JSON says,
    /// and `lpom surf` gives the same numbers on it as on the same values written by HistoryWriter —
    /// surfing, Adam and compressed sensing.
    func testH5pyGeneratorHistoryMatchesOurOwnWriter() throws {
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CLITestCase.root + "/data/fixtures/h5py-generator.json"))) as! [String: Any]
        let r = try HistoryReader(path: fixture)
        XCTAssertEqual(r.snapshotSteps, expected["snapshot_steps"] as! [Int])
        for (name, sums) in expected["sums"] as! [String: [Double]] {
            for (t, s) in sums.enumerated() {
                let v = r.parameterShapes[name] != nil ? try r.parameter(name, snapshot: t) : try r.buffer(name, snapshot: t)
                XCTAssertEqual(v.reduce(0.0) { $0 + Double($1) }, s, accuracy: 1e-9 * max(1, abs(s)), "\(name) at \(t)")
            }
        }
        r.close()
        let ours = dir + "/ours.h5"
        try rewrite(fixture, to: ours)
        for extra in [["--method", "surfing"], ["--method", "adam"], ["--method", "surfing", "--measurements", "20", "--schedule", "uniform"]] {
            let args = ["--trials", "6", "--steps", "400", "--first-steps", "100", "--min-steps", "20", "--steps-per-snapshot", "30", "--seed", "3"] + extra
            let a = try surf([fixture] + args), b = try surf([ours] + args)
            XCTAssertEqual(a.map(\.x), b.map(\.x), "\(extra)")
            XCTAssertEqual(a.map(\.iterations), b.map(\.iterations))
            XCTAssertEqual(a.map(\.loss), b.map(\.loss))
            if extra == ["--method", "surfing"] {
                // The fixture is easy: surfing recovers x* in most trials (the run is not vacuous).
                XCTAssertGreaterThanOrEqual(a.filter { $0.success == true }.count, 4, "\(a.map(\.distance))")
                XCTAssertTrue(a.allSatisfy { $0.x.allSatisfy { abs($0) <= 1 } }, "GAN latents are clipped")
            }
        }
    }

    /// The CLI end to end with --json, --plot-distances and --grid on the fixture.
    func testRunWritesPlotAndGrid() throws {
        var c = try SurfCommand.parse([fixture, "--trials", "3", "--steps", "50", "--first-steps", "20", "--min-steps", "5",
                                       "--plot-distances", dir + "/d.svg", "--grid", dir + "/g.png", "--quiet", "--json"])
        try c.run()
        let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/g.png"))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertTrue(try String(contentsOfFile: dir + "/d.svg", encoding: .utf8).contains("<polyline"))
        c = try SurfCommand.parse([fixture, "--trials", "2", "--steps", "10", "--method", "restarts", "--restarts", "2",
                                   "--restart-steps", "5", "--grid", dir + "/g.svg", "--quiet", "--json"])
        try c.run()
        XCTAssertTrue(try String(contentsOfFile: dir + "/g.svg", encoding: .utf8).contains("data:image/png;base64,"))
    }

    /// Bad input: one line naming the problem, never a trap.
    func testBadInputsAreRefusedWithReasons() throws {
        // A classifier history is not a generator.
        let classifier = dir + "/classifier.h5"
        var rng = SplitMix64(seed: 1)
        let net = try Network<Float>(spec: .mlp(input: 36, hidden: [8], output: 10, activation: .relu), rng: &rng)
        let w = try HistoryWriter(path: classifier, model: net.spec.json(), training: "{\"method\": \"sgd\"}", createdBy: "tests",
                                  parameters: net.parameters.shapes, buffers: [])
        try w.appendSnapshot(step: 0, parameters: net.parameters.floatArrays(), buffers: [:])
        try w.close()
        XCTAssertTrue(surfError([classifier])?.contains("not a generator") ?? false, surfError([classifier]) ?? "no error")
        let text = dir + "/notes.txt"
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertNotNil(surfError([text]))
        XCTAssertNotNil(surfError([dir + "/missing.h5"]))
        XCTAssertTrue(surfError([fixture, "--latent", "5"])?.contains("--latent 5 disagrees") ?? false)
        XCTAssertTrue(surfError([fixture, "--measurements", "37"])?.contains("exceeds the signal size n = 36") ?? false)
        XCTAssertTrue(surfError([fixture, "--measurements", "0"])?.contains("--measurements must be positive") ?? false)
        XCTAssertTrue(surfError([fixture, "--method", "projected"])?.contains("projected-gradient surfing needs") ?? false)
        XCTAssertTrue(surfError([fixture, "--target", "test-images"])?.contains("does not name an image data set") ?? false)
        XCTAssertTrue(surfError([fixture, "--grid", "x.jpg"])?.contains("--grid") ?? false)
        XCTAssertTrue(surfError([fixture, "--trials", "0"])?.contains("--trials") ?? false)
        XCTAssertTrue(surfError([fixture, "--target", "test-images", "--plot-distances", "a.svg"])?.contains("x* is unknown") ?? false)
        XCTAssertNotNil(surfError([fixture, "--method", "newton"]))
        XCTAssertTrue(surfError([fixture, "--steps", "9223372036854775807"])?.contains("--steps must be at most") ?? false)
        XCTAssertTrue(surfError([fixture, "--max-pieces", "9223372036854775807"])?.contains("--max-pieces") ?? false)
        XCTAssertTrue(surfError([fixture, "--method", "restarts", "--restarts", "9223372036854775807"])?.contains("--restarts") ?? false)
        XCTAssertTrue(surfError([fixture, "--tolerance", "nan"])?.contains("--tolerance") ?? false)
    }

    /// Test-image targets on the tiny MNIST fixture through a generator whose output is 28×28.
    func testTestImageTargetsReportRMSE() throws {
        let h = dir + "/g784.h5"
        let (spec, net) = try writeGenerator784(h, method: "vae", seed: 2)
        // A training JSON's latent_prior (lpom's generative trainers) wins over the method.
        let h2 = dir + "/prior.h5"
        let w2 = try HistoryWriter(path: h2, model: spec.json(), training: "{\"method\": \"gan\", \"latent_prior\": \"normal\"}",
                                   createdBy: "tests", parameters: net.parameters.shapes, buffers: [])
        try w2.appendSnapshot(step: 0, parameters: net.parameters.floatArrays(), buffers: [:])
        try w2.close()
        XCTAssertEqual(try SurfSetup(SurfCommand.parse([h2, "--trials", "2", "--quiet"])).prior, .normal)
        XCTAssertEqual(try SurfSetup(SurfCommand.parse([h2, "--trials", "2", "--prior", "uniform", "--quiet"])).prior, .uniform)
        let c = try SurfCommand.parse([h, "--target", "test-images", "--data-dir", fixtures,
                                       "--trials", "4", "--steps", "300", "--quiet"])
        let setup = try SurfSetup(c)
        XCTAssertEqual(setup.prior, .normal, "a VAE's latents are N(0, I)")
        XCTAssertFalse(setup.inverter.settings.clip, "N(0, I) latents are not clipped")
        XCTAssertEqual(setup.inverter.settings.plateauWindow, 1000, "x* unknown: stop on a plateau")
        XCTAssertNil(try SurfSetup(SurfCommand.parse([fixture, "--quiet"])).inverter.settings.plateauWindow)
        let r = try setup.inverter.run(setup.trials)
        XCTAssertTrue(r.allSatisfy { $0.success == nil && $0.distance == nil && $0.rmse > 0 && $0.rmse < 1 })
        // RMSE is √(‖G(x̂) − y‖²/n) with y the image.
        let g = setup.problem.generate(Tensor(shape: [1, 5], data: r[0].x.map { Float($0) }))
        let y = Array(setup.trials.signals.data[0..<784])
        let rmse = (zip(g.data, y).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / 784).squareRoot()
        XCTAssertEqual(r[0].rmse, rmse, accuracy: 1e-6)
    }

    /// The paper protocol on held-out images through m measurements follows compress.py: starts
    /// from N(0, I), clipped after every step, no plateau stop; without measurements (no released
    /// script) and under lpom's protocol, lpom's defaults stay (the GAN's U[−1, 1]^k, a plateau stop).
    func testThePaperProtocolOnTestImagesWithMeasurementsStartsAsCompressPy() throws {
        let h = dir + "/gan784.h5"
        _ = try writeGenerator784(h, method: "gan", seed: 3, steps: [0, 40, 80])
        func setup(_ extra: [String]) throws -> SurfSetup {
            try SurfSetup(SurfCommand.parse([h, "--target", "test-images", "--data-dir", fixtures, "--trials", "6",
                                             "--steps", "20", "--quiet"] + extra))
        }
        let paper = try setup(["--protocol", "paper", "--measurements", "30", "--method", "surfing"])
        XCTAssertEqual(paper.prior, .normal, "compress.py: init = np.random.randn(n, 1, dim)")
        XCTAssertTrue(paper.inverter.settings.clip, "compress.py clips after every step")
        XCTAssertNil(paper.inverter.settings.plateauWindow, "compress.py has no plateau stop")
        XCTAssertEqual(paper.inverter.settings.snapshotGradientTolerance, PaperProtocol.compressedGradientTolerance)
        // The starts are N(0, I): some coordinates outside [−1, 1] (30 draws, P(none) ≈ 1e-4).
        XCTAssertTrue(paper.trials.starts[0].data.contains { abs($0) > 1 }, "N(0, I) starts")
        let adam = try setup(["--protocol", "paper", "--measurements", "30", "--method", "adam"])
        XCTAssertEqual(adam.prior, .normal)
        XCTAssertNil(adam.inverter.settings.plateauWindow)
        // Explicit options still win.
        let told = try setup(["--protocol", "paper", "--measurements", "30", "--prior", "uniform", "--clip", "off",
                              "--plateau-window", "500"])
        XCTAssertEqual(told.prior, .uniform)
        XCTAssertFalse(told.inverter.settings.clip)
        XCTAssertEqual(told.inverter.settings.plateauWindow, 500)
        // No released script for the others: lpom's defaults.
        for extra in [["--protocol", "paper"], ["--measurements", "30"], []] {
            let s = try setup(extra)
            XCTAssertEqual(s.prior, .uniform, "\(extra)")
            XCTAssertTrue(s.inverter.settings.clip, "\(extra)")
            XCTAssertEqual(s.inverter.settings.plateauWindow, 1000, "\(extra)")
            XCTAssertFalse(s.trials.starts[0].data.contains { abs($0) > 1 }, "\(extra)")
        }
        // In-range targets under the paper protocol (compressX.py): U[−1, 1]^k, no plateau stop.
        let inRange = try SurfSetup(SurfCommand.parse([h, "--protocol", "paper", "--measurements", "30", "--trials", "4", "--quiet"]))
        XCTAssertEqual(inRange.prior, .uniform)
        XCTAssertNil(inRange.inverter.settings.plateauWindow)
    }

    /// A 5 → 16 → 784 sigmoid generator (the tiny MNIST fixture's image size) written as a history
    /// trained by `method` on mnist, the same θ at every step of `steps`.
    private func writeGenerator784(_ path: String, method: String, seed: UInt64, steps: [Int] = [0]) throws -> (ModelSpec, Network<Float>) {
        var rng = SplitMix64(seed: seed)
        let spec = try ModelSpec.parse("""
        {"input_shape": [5], "layers": [{"name": "layers.0", "type": "dense", "in": 5, "out": 16}, {"type": "relu"},
          {"name": "layers.2", "type": "dense", "in": 16, "out": 784}, {"type": "sigmoid"}]}
        """)
        let net = try Network<Float>(spec: spec, rng: &rng)
        let w = try HistoryWriter(path: path, model: spec.json(), training: "{\"method\": \"\(method)\", \"dataset\": \"mnist\"}",
                                  createdBy: "tests", parameters: net.parameters.shapes, buffers: [])
        for step in steps { try w.appendSnapshot(step: step, parameters: net.parameters.floatArrays(), buffers: [:]) }
        try w.close()
        return (spec, net)
    }
}
