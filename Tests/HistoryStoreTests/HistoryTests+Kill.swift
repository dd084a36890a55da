import Foundation
import XCTest
@testable import HistoryStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Kill safety (HISTORY-FORMAT.md, "Guarantees"): a writer killed with SIGKILL between
/// snapshots, inside one, or at a random moment leaves a file that `HistoryReader` opens
/// with every snapshot completed before the kill, and that `openForAppend` resumes.
///
/// How: the test `fork()`s; the child (a copy of this process) runs our Swift writer and
/// sends itself SIGKILL without closing anything; the parent `waitpid`s, checks the child
/// died of SIGKILL, and reads the file. The child only calls the writer and `kill`; on any
/// error it `_exit`s with status 3, which the parent reports.
extension HistoryTests {
    /// Runs `body` in a forked child that must end by SIGKILL. Without `killAfter` the child
    /// kills itself after `body`; with it, `body` gets a `ready` callback, and the parent kills
    /// the child `killAfter` milliseconds after `ready` is called (through a pipe).
    func runKilledChild(killAfter milliseconds: Int? = nil, _ body: (_ ready: () -> Void) throws -> Void,
                        file: StaticString = #filePath, line: UInt = #line) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0, "pipe failed", file: file, line: line)
        fflush(stdout)
        fflush(stderr)
        let pid = fork()
        if pid == 0 {
            close(fds[0])
            var byte: UInt8 = 1
            do { try body { _ = write(fds[1], &byte, 1) } } catch { _exit(3) }
            if milliseconds == nil { kill(getpid(), SIGKILL) }
            _exit(4) // killAfter: the body should still be running when the parent kills it
        }
        close(fds[1])
        defer { close(fds[0]) }
        XCTAssertGreaterThan(pid, 0, "fork failed", file: file, line: line)
        guard pid > 0 else { return }
        if let milliseconds {
            var byte: UInt8 = 0
            _ = read(fds[0], &byte, 1)
            usleep(useconds_t(milliseconds * 1000))
            kill(pid, SIGKILL)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        XCTAssertEqual(status & 0x7f, SIGKILL, "child did not die of SIGKILL (wait status \(status))", file: file, line: line)
    }

    /// Checks that every snapshot in `path` holds the pattern `snapshot(_:step:)` wrote, and
    /// that the history can be resumed and extended.
    func assertIntactAndResumable(_ path: String, expectedSteps: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let reader = try HistoryReader(path: path)
        if let expectedSteps { XCTAssertEqual(reader.snapshotSteps, expectedSteps, file: file, line: line) }
        for (index, step) in reader.snapshotSteps.enumerated() {
            XCTAssertEqual(try reader.parameter("layers.0.weight", snapshot: index), Self.pattern(step: step, count: 12), file: file, line: line)
            XCTAssertEqual(try reader.parameter("scale", snapshot: index), [Float(step)], file: file, line: line)
            XCTAssertEqual(try reader.buffer("bn.running_mean", snapshot: index), Self.pattern(step: step, count: 3, salt: 100), file: file, line: line)
        }
        let steps = reader.snapshotSteps
        if reader.metricNames.contains("loss") {
            XCTAssertEqual(try reader.metric("loss").count, try reader.metricSteps().count, file: file, line: line)
        }
        reader.close()

        let resumed = try HistoryWriter.openForAppend(path: path)
        XCTAssertEqual(resumed.snapshotCount, steps.count, file: file, line: line)
        let next = (steps.last ?? -1) + 1000
        try resumed.appendMetrics(step: next, values: ["loss": 0])
        try snapshot(resumed, step: next)
        try resumed.close()
        let after = try HistoryReader(path: path)
        XCTAssertEqual(after.snapshotSteps, steps + [next], file: file, line: line)
        XCTAssertEqual(try after.parameter("layers.0.weight", snapshot: -1), Self.pattern(step: next, count: 12), file: file, line: line)
        let kept = try after.metricSteps()
        XCTAssertEqual(kept.last, next, file: file, line: line)
        XCTAssertTrue(kept.dropLast().allSatisfy { $0 <= steps.last ?? -1 }, "metrics after the last snapshot were kept", file: file, line: line)
    }

    func testKillBetweenSnapshots() throws {
        let path = temp("killed-between.h5")
        runKilledChild { _ in
            let writer = try self.makeWriter(path)
            for step in [0, 40, 80] {
                try writer.appendMetrics(step: step, values: ["loss": Double(step)])
                try self.snapshot(writer, step: step)
            }
            try writer.appendMetrics(step: 81, values: ["loss": 1]) // pending, never written
        }
        try assertIntactAndResumable(path, expectedSteps: [0, 40, 80])
    }

    func testKillBeforeFirstSnapshot() throws {
        let path = temp("killed-empty.h5")
        runKilledChild { _ in _ = try self.makeWriter(path) }
        try assertIntactAndResumable(path, expectedSteps: [])
    }

    /// Kills inside the third snapshot at each point of `appendSnapshot`. Up to
    /// `afterMetrics` the third snapshot must be absent; after `/snapshot_step` is extended
    /// but before the flush it may or may not be there, but the file must be consistent.
    func testKillInsideSnapshot() throws {
        let points: [(HistoryWriter.FaultPoint, [Int]?)] = [
            (.afterParameter("layers.0.weight"), [0, 40]), (.afterParameter("scale"), [0, 40]),
            (.afterBuffers, [0, 40]), (.afterMetrics, [0, 40]), (.afterFirstFlush, [0, 40]), (.afterSnapshotStep, nil),
        ]
        for (index, (point, expected)) in points.enumerated() {
            let path = temp("killed-inside-\(index).h5")
            runKilledChild { _ in
                let writer = try self.makeWriter(path)
                for step in [0, 40, 80] {
                    try writer.appendMetrics(step: step, values: ["loss": Double(step)])
                    if step == 80 { writer.faultHook = { if $0 == point { kill(getpid(), SIGKILL) } } }
                    try self.snapshot(writer, step: step)
                }
                _exit(5) // the hook did not fire
            }
            try assertIntactAndResumable(path, expectedSteps: expected)
        }
    }

    /// A child writes snapshots (one 50k-float parameter, 20 small ones, a buffer) and metrics
    /// (a second metric appears at step 7) as fast as it can; the parent kills it after a random
    /// delay, several times (`LPOM_KILL_ROUNDS`, default 4; a few hundred for a stress run).
    /// Every listed snapshot must read back exactly and the file must resume. Prints how many
    /// kills landed inside a snapshot (rows written beyond `/snapshot_step`).
    func testKillAtRandomMoments() throws { try killAtRandomMoments(writing: .synchronous) }

    /// The same with background writing: the kill also drops the snapshots still in flight.
    func testKillAtRandomMomentsBackground() throws { try killAtRandomMoments(writing: .background) }

    func killAtRandomMoments(writing: HistoryWriter.Writing) throws {
        let count = 50_000
        let base = Self.pattern(step: 0, count: count)
        /// Row of step `step`: `base` with the first 16 elements and the last set to the step.
        func row(_ step: Int) -> [Float] {
            var values = base
            for i in 0..<16 { values[i] = Float(step) }
            values[count - 1] = Float(step)
            return values
        }
        let small = (0..<20).map { (name: "small.\($0)", shape: [$0 + 1]) }
        func parameters(_ step: Int) -> [String: [Float]] {
            var values = ["layers.0.weight": row(step)]
            for p in small { values[p.name] = [Float](repeating: Float(step), count: p.shape[0]) }
            return values
        }
        var generator = SystemRandomNumberGenerator()
        var counts: [Int] = []
        var inside = 0
        let rounds = ProcessInfo.processInfo.environment["LPOM_KILL_ROUNDS"].flatMap { Int($0) } ?? 4
        for round in 0..<rounds {
            let path = temp("killed-random-\(round).h5")
            runKilledChild(killAfter: Int.random(in: 0...40, using: &generator)) { ready in
                let writer = try HistoryWriter(path: path, model: Self.model, training: Self.training, createdBy: "kill test",
                                               parameters: [("layers.0.weight", [50, 1000])] + small, buffers: [("bn.mean", [7])],
                                               writing: writing)
                ready()
                for step in 0..<5000 {
                    try writer.appendMetrics(step: step, values: step < 7 ? ["loss": Double(step)] : ["loss": Double(step), "acc": 1])
                    try writer.appendSnapshot(step: step, parameters: parameters(step),
                                              buffers: ["bn.mean": [Float](repeating: -Float(step), count: 7)])
                }
            }
            let opened: HistoryReader?
            do { opened = try HistoryReader(path: path) } catch {
                XCTFail("round \(round): \(error)")
                opened = nil
            }
            guard let reader = opened else { continue }
            let t = reader.snapshotCount
            XCTAssertEqual(reader.snapshotSteps, Array(0..<t))
            for index in 0..<t {
                let values = try reader.parameter("layers.0.weight", snapshot: index)
                if index >= t - 3 {
                    XCTAssertEqual(values, row(index), "snapshot \(index) of \(t)")
                } else {
                    XCTAssertEqual(Array(values.prefix(17)) + [values[count - 1]], Array(row(index).prefix(17)) + [Float(index)])
                }
                for p in small { XCTAssertEqual(try reader.parameter(p.name, snapshot: index), parameters(index)[p.name]) }
                XCTAssertEqual(try reader.buffer("bn.mean", snapshot: index), [Float](repeating: -Float(index), count: 7))
            }
            // Metrics are written with the snapshot's rows, so at most one row may be ahead of /snapshot_step.
            let metricSteps = try reader.metricSteps()
            XCTAssertEqual(Array(metricSteps.prefix(t)), Array(0..<t))
            XCTAssertLessThanOrEqual(metricSteps.count, t + 1)
            if reader.metricNames.contains("acc") {
                XCTAssertEqual(try reader.metric("acc").map { $0.isNaN ? 0 : $0 }, metricSteps.map { $0 < 7 ? 0 : 1 })
            }
            counts.append(t)
            reader.close()
            do {
                let file = try H5Location.openFile(path: path, writable: false, locking: false)
                if try file.openGroup("theta").openDataset("layers.0.weight").shape().dims[0] > t { inside += 1 }
            }
            let resumed = try HistoryWriter.openForAppend(path: path)
            try resumed.appendSnapshot(step: 9999, parameters: parameters(9999),
                                       buffers: ["bn.mean": [Float](repeating: 0, count: 7)])
            try resumed.close()
            XCTAssertEqual(try HistoryReader(path: path).parameter("layers.0.weight", snapshot: -1), row(9999))
            if testRun?.failureCount == 0 { try? FileManager.default.removeItem(atPath: path) }
        }
        print("\(writing) writing: kills: \(rounds), inside a snapshot: \(inside); snapshots completed: \(counts.prefix(20))\(counts.count > 20 ? " …" : "")")
    }
}
