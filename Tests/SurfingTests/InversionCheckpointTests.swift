import Foundation
import XCTest
import LiftedTrain
@testable import Surfing
import TestSupport

/// Checkpoints of the descents on the final network (`InversionCheckpoint`): a run killed after a
/// save and started again ends bit for bit where an uninterrupted one does, and a checkpoint that
/// does not belong to the run is refused with one line.
final class InversionCheckpointTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lpom-ckpt-\(UUID().uuidString)"
    }

    override func tearDown() {
        InversionCheckpoint.interruptAfterSave = nil
        InversionCheckpoint.interruptAfterPhase = nil
        try? FileManager.default.removeItem(atPath: dir)
    }

    func settings(_ method: InversionMethod, batch: Int) -> InversionSettings {
        var s = InversionSettings()
        s.method = method
        s.finalSteps = 150; s.firstSteps = 60; s.minSteps = 20; s.restarts = 3; s.restartSteps = 90
        s.tolerance = 0.05; s.batchSize = batch
        return s
    }

    /// Records the steps at which chunks saved, and interrupts the run at `stop` (thread-safe:
    /// the workers save concurrently).
    final class Saves: @unchecked Sendable {
        let lock = NSLock()
        var steps: [Int] = []
        func hook(stopAt stop: Int?) -> (Int) -> Bool {
            { step in
                self.lock.lock(); defer { self.lock.unlock() }
                self.steps.append(step)
                return step == stop
            }
        }
    }

    /// Surfing, regular Adam and random restarts; one worker and two; whole batches and chunks of
    /// 3 rows (so a run is stopped with some chunks saved, one mid-way and some not started); a
    /// plateau window for regular Adam (its reference losses are part of the state). The run is
    /// interrupted twice after a save, at final-network steps 60 and then 100 (restarts: 40, 60), and started again
    /// each time with the same checkpoint: x̂, loss, iterations and success of every trial equal
    /// the uninterrupted run's exactly, and the restarted runs continue (their first saves come
    /// after the step they stopped at, so they did not start afresh).
    func testAnInterruptedRunContinuesToTheUninterruptedResult() throws {
        let (net, snaps) = try InversionWorkersTests.generator(seed: 71)
        try snaps.load(2, into: net)
        let problem = InversionProblem(network: net)
        var trials = InversionTrials.inRange(generator: problem, count: 9, distribution: .uniform, restarts: 3, seed: 5)
        scatter(gather(trials.truth!, [2]), into: &trials.starts[0], rows: [2])
        for method in [InversionMethod.surfing, .adam, .restarts] {
            for batch in [1 << 30, 3] {
                for workerCount in [1, 2] {
                    var s = settings(method, batch: batch)
                    if method == .adam { s.plateauWindow = 40; s.plateauTolerance = 1e-3 }
                    let label = "\(method), batch \(batch), \(workerCount) workers"
                    let workers = workerCount > 1 ? try InversionWorkers(context: ComputeContext(workers: workerCount), problem: problem) : nil
                    func inverter() -> Inverter<Float> {
                        let inv = Inverter(problem: problem, snapshots: snaps, settings: s, workers: workers)
                        inv.checkpoint = InversionCheckpoint(directory: dir + "/\(label)", every: 20, fingerprint: label)
                        return inv
                    }
                    let whole = try Inverter(problem: problem, snapshots: snaps, settings: s, workers: workers).run(trials)
                    XCTAssertTrue(whole.contains { $0.success == true } && whole.contains { $0.success == false }, label)
                    var firstSaves: [Int] = []
                    let stops = method == .restarts ? [40, 60] : [60, 100]   // within the final budget (restarts: 90 steps)
                    for stop in stops {
                        let saves = Saves()
                        InversionCheckpoint.interruptAfterSave = saves.hook(stopAt: stop)
                        XCTAssertThrowsError(try inverter().run(trials), "\(label): stopped at \(stop)") { XCTAssertTrue($0 is InversionInterrupted, "\($0)") }
                        firstSaves.append(saves.steps.min() ?? -1)
                    }
                    XCTAssertEqual(firstSaves[0], 20, label)
                    XCTAssertEqual(firstSaves[1], stops[0] + 20, "\(label): the second session continues from step \(stops[0])")
                    let saves = Saves()
                    InversionCheckpoint.interruptAfterSave = saves.hook(stopAt: nil)
                    let resumed = try inverter().run(trials)
                    XCTAssertGreaterThan(saves.steps.min() ?? 0, batch == 3 ? 0 : stops[1], label)
                    XCTAssertFalse(InversionCheckpoint.files(in: dir + "/\(label)").isEmpty, "\(label): files kept until the caller removes them")
                    for (i, (a, b)) in zip(whole, resumed).enumerated() {
                        XCTAssertEqual(a.x, b.x, "\(label): x̂ of trial \(i)")
                        XCTAssertEqual(a.iterations, b.iterations, "\(label): trial \(i)")
                        XCTAssertEqual(a.finalIterations, b.finalIterations, "\(label): trial \(i)")
                        XCTAssertEqual(a.success, b.success, "\(label): trial \(i)")
                        XCTAssertEqual(a.loss, b.loss, "\(label): trial \(i)")
                    }
                    // A finished checkpoint gives the result without a step.
                    let again = Saves()
                    InversionCheckpoint.interruptAfterSave = again.hook(stopAt: nil)
                    XCTAssertEqual(try inverter().run(trials).map(\.x), whole.map(\.x), label)
                    XCTAssertEqual(again.steps, [], "\(label): nothing left to run")
                    InversionCheckpoint.removeFiles(in: dir + "/\(label)")
                    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/\(label)"))
                }
            }
        }
    }

    /// A checkpoint of another run, of other trials, an unreadable, inconsistent or oversized one:
    /// one line naming the file, and the run does not start.
    /// A finished run removes its files with the temporary ones a kill between writing and
    /// renaming leaves, and then the directory; nothing else of the user's.
    func testRemovingFilesTakesLeftoverTemporariesAndNothingElse() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ours = ["chunk-0-3.json", "chunk-0-3.json.tmp", "phases.json.tmp", "split.json", "clock.json", "clock.json.chunk-0.tmp"]
        for n in ours + ["notes.txt", "chunk-0-3.csv.tmp"] { fm.createFile(atPath: dir + "/" + n, contents: Data("{}".utf8)) }
        XCTAssertEqual(InversionCheckpoint.files(in: dir).map { ($0 as NSString).lastPathComponent }, ours.sorted())
        InversionCheckpoint.removeFiles(in: dir)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir).sorted(), ["chunk-0-3.csv.tmp", "notes.txt"])
        for n in ["chunk-0-3.csv.tmp", "notes.txt"] { try fm.removeItem(atPath: dir + "/" + n) }
        fm.createFile(atPath: dir + "/clock.json.chunk-5.tmp", contents: Data())
        InversionCheckpoint.removeFiles(in: dir)
        XCTAssertFalse(fm.fileExists(atPath: dir), "emptied, so removed")
    }

    func testACheckpointThatIsNotThisRunsIsRefused() throws {
        let (net, snaps) = try InversionWorkersTests.generator(seed: 72)
        try snaps.load(2, into: net)
        let problem = InversionProblem(network: net)
        let trials = InversionTrials.inRange(generator: problem, count: 4, distribution: .uniform, seed: 5)
        let s = settings(.adam, batch: 1 << 30)
        func run(_ fingerprint: String, _ t: InversionTrials<Float>) throws -> [TrialResult] {
            let inv = Inverter(problem: problem, snapshots: snaps, settings: s)
            inv.checkpoint = InversionCheckpoint(directory: dir, every: 20, fingerprint: fingerprint)
            return try inv.run(t)
        }
        InversionCheckpoint.interruptAfterSave = { $0 == 40 }
        XCTAssertThrowsError(try run("run A", trials))
        InversionCheckpoint.interruptAfterSave = nil
        let file = dir + "/chunk-0-4.json"
        XCTAssertEqual(InversionCheckpoint.files(in: dir), [file])
        let good = try Data(contentsOf: URL(fileURLWithPath: file))
        func refusal(_ fingerprint: String = "run A", _ t: InversionTrials<Float>? = nil) -> String {
            do { _ = try run(fingerprint, t ?? trials); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal("run B").hasPrefix("checkpoint \(file): saved by another run"), refusal("run B"))
        let others = InversionTrials.inRange(generator: problem, count: 4, distribution: .uniform, seed: 6)
        XCTAssertTrue(refusal("run A", others).contains("reach the final network at another x"), refusal("run A", others))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: file))
        XCTAssertTrue(refusal().contains("not a readable checkpoint"), refusal())
        var c = try JSONDecoder().decode(ChunkCheckpoint.self, from: good)
        c.slots = [0, 0]
        try JSONEncoder().encode(c).write(to: URL(fileURLWithPath: file))
        XCTAssertTrue(refusal().hasSuffix("inconsistent sizes or counts"), refusal())
        c = try JSONDecoder().decode(ChunkCheckpoint.self, from: good)
        c.outIterations[0] = c.step + 1
        try JSONEncoder().encode(c).write(to: URL(fileURLWithPath: file))
        XCTAssertTrue(refusal().hasSuffix("inconsistent sizes or counts"), refusal())
        try Data(count: 1 << 22).write(to: URL(fileURLWithPath: file))
        XCTAssertTrue(refusal().contains("more than a checkpoint of 4 trials can hold"), refusal())
        // The good file again: the run continues and ends as an uninterrupted one.
        try good.write(to: URL(fileURLWithPath: file))
        let whole = try Inverter(problem: problem, snapshots: snaps, settings: s).run(trials)
        XCTAssertEqual(try run("run A", trials).map(\.x), whole.map(\.x))
    }

    /// Surfing stopped after its first intermediate snapshot continues at the second (it does not
    /// visit the first again: no progress from it) and ends as an uninterrupted run, on one worker
    /// and two; a phases file of another run is refused.
    func testSurfingContinuesAfterTheLastIntermediateSnapshotItFinished() throws {
        let (net, snaps) = try InversionWorkersTests.generator(seed: 73)
        let problem = InversionProblem(network: net)
        try snaps.load(2, into: net)
        let trials = InversionTrials.inRange(generator: problem, count: 7, distribution: .uniform, seed: 8)
        let s = settings(.surfing, batch: 1 << 30)
        for workerCount in [1, 2] {
            let workers = workerCount > 1 ? try InversionWorkers(context: ComputeContext(workers: workerCount), problem: problem) : nil
            let path = dir + "/\(workerCount)"
            var phasesSeen = Set<Int>()
            func inverter(_ fingerprint: String = "surf") -> Inverter<Float> {
                let inv = Inverter(problem: problem, snapshots: snaps, settings: s, workers: workers)
                inv.checkpoint = InversionCheckpoint(directory: path, every: 1000, fingerprint: fingerprint)
                inv.progress = { phasesSeen.insert($0.phase) }
                return inv
            }
            let whole = try Inverter(problem: problem, snapshots: snaps, settings: s, workers: workers).run(trials)
            XCTAssertEqual(inverter().visitedSnapshots().count, 3)
            InversionCheckpoint.interruptAfterPhase = { $0 == 0 }
            XCTAssertThrowsError(try inverter().run(trials)) { XCTAssertTrue($0 is InversionInterrupted, "\($0)") }
            InversionCheckpoint.interruptAfterPhase = nil
            XCTAssertTrue(FileManager.default.fileExists(atPath: path + "/phases.json"))
            XCTAssertTrue(refusal { try inverter("another").run(trials) }.hasPrefix("checkpoint \(path)/phases.json: saved by another run"))
            phasesSeen = []
            let resumed = try inverter().run(trials)
            XCTAssertEqual(phasesSeen, [1, 2], "\(workerCount) workers: the first snapshot is not visited again")
            XCTAssertEqual(resumed.map(\.x), whole.map(\.x), "\(workerCount) workers")
            XCTAssertEqual(resumed.map(\.iterations), whole.map(\.iterations), "\(workerCount) workers")
            XCTAssertEqual(resumed.map(\.finalIterations), whole.map(\.finalIterations), "\(workerCount) workers")
        }
    }

    /// `InversionCheckpoint.summary` (what `lpom inspect DIR` prints): surfing stopped after its
    /// first intermediate network reports it; regular Adam stopped after a save on the final
    /// network reports each chunk's step and trials not stopped, as the files hold them; a
    /// file that does not parse is named, not thrown; a directory without checkpoint files and
    /// a path that is not a directory are refused with one line.
    func testTheSummaryReportsHowFarAStoppedRunGot() throws {
        let (net, snaps) = try InversionWorkersTests.generator(seed: 73)
        let problem = InversionProblem(network: net)
        try snaps.load(2, into: net)
        var trials = InversionTrials.inRange(generator: problem, count: 7, distribution: .uniform, seed: 8)
        scatter(gather(trials.truth!, [2]), into: &trials.starts[0], rows: [2])   // trial 2 starts at x*: stops at once
        func inverter(_ method: InversionMethod, _ path: String) -> Inverter<Float> {
            let inv = Inverter(problem: problem, snapshots: snaps, settings: settings(method, batch: 3))
            inv.checkpoint = InversionCheckpoint(directory: path, every: 20, fingerprint: "run \(method)")
            return inv
        }
        InversionCheckpoint.interruptAfterPhase = { $0 == 0 }
        XCTAssertThrowsError(try inverter(.surfing, dir + "/surf").run(trials))
        InversionCheckpoint.interruptAfterPhase = nil
        let surf = try InversionCheckpoint.summary(of: dir + "/surf")
        XCTAssertEqual(surf.phase, 0); XCTAssertEqual(surf.phases, 3)
        XCTAssertEqual(surf.chunks, [])
        XCTAssertEqual(surf.progress, "intermediate network 1 of 2 done")
        XCTAssertEqual(surf.fingerprint, "run surfing")

        InversionCheckpoint.interruptAfterSave = { $0 == 60 }
        XCTAssertThrowsError(try inverter(.adam, dir + "/adam").run(trials))
        InversionCheckpoint.interruptAfterSave = nil
        let adam = try InversionCheckpoint.summary(of: dir + "/adam")
        XCTAssertEqual(adam.chunks.map(\.firstRow), [0], "batches of 3: the run stopped in the first chunk")
        XCTAssertEqual(adam.chunks.first?.endRow, 3)
        XCTAssertEqual(adam.chunks.first?.step, 60)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/adam/chunk-0-3.json"))) as? [String: Any]
        XCTAssertEqual(adam.chunks.first?.notStopped, (saved?["slots"] as? [Any])?.count)
        XCTAssertEqual(adam.progress, "final network: step 60, \(adam.chunks[0].notStopped) of 3 trials not stopped (no stopping test met yet)")
        XCTAssertEqual(adam.fingerprint, "run adam")
        XCTAssertTrue(adam.problems.isEmpty)
        // Run to the end (the files stay until the caller removes them): every chunk, its failed
        // trials (out of steps) the ones left in it.
        let result = try inverter(.adam, dir + "/adam").run(trials)
        XCTAssertEqual(result[2].success, true)
        let failed = [0..<3, 3..<6, 6..<7].map { r in r.filter { result[$0].success == false }.count }
        XCTAssertLessThan(failed[0], 3, "not vacuous: a trial of the first chunk stopped")
        let done = try InversionCheckpoint.summary(of: dir + "/adam")
        XCTAssertEqual(done.chunks.map(\.firstRow), [0, 3, 6])
        XCTAssertEqual(done.chunks.map(\.endRow), [3, 6, 7])
        XCTAssertEqual(done.chunks.map(\.notStopped), failed)
        XCTAssertTrue(done.progress.hasSuffix("\(failed.reduce(0, +)) of 7 trials not stopped (no stopping test met yet)"), done.progress)

        try "{ not json".write(toFile: dir + "/adam/chunk-3-6.json", atomically: true, encoding: .utf8)
        let broken = try InversionCheckpoint.summary(of: dir + "/adam")
        XCTAssertEqual(broken.chunks.count, 2)
        XCTAssertEqual(broken.problems.count, 1)
        XCTAssertTrue(broken.problems.first?.hasPrefix("chunk-3-6.json: not readable") ?? false, "\(broken.problems)")

        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        XCTAssertTrue(refusal { try InversionCheckpoint.summary(of: self.dir + "/empty") }.hasSuffix("holds no lpom surf checkpoint files (chunk-*.json, phases.json, split.json, clock.json)"))
        XCTAssertEqual(refusal { try InversionCheckpoint.summary(of: self.dir + "/adam/chunk-0-3.json") }, "checkpoint \(dir)/adam/chunk-0-3.json: not a directory")
    }

    func refusal(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }
}
