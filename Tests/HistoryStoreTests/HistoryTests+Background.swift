import Foundation
import XCTest
@testable import HistoryStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Background writing (`HistoryWriter(…, writing: .background)`): the same file as synchronous
/// writing, failures surfacing at the next call, and kill safety.
extension HistoryTests {
    /// A run's worth of calls: snapshots with resume state (more than the writer holds in flight,
    /// back to back), metrics every step, a metric that appears late, values merged into the
    /// row of a step whose snapshot is already written, and metrics after the last snapshot.
    func writeRun(_ writer: HistoryWriter) throws {
        for step in 0...200 {
            var values = ["loss": Double(step) / 7]
            if step >= 37 { values["acc"] = Double(step % 10) }
            try writer.appendMetrics(step: step, values: values)
            if step % 20 == 0 || (step > 150 && step % 3 == 0) {
                try writer.appendSnapshot(step: step,
                                          parameters: ["layers.0.weight": Self.pattern(step: step, count: 12),
                                                       "layers.0.bias": Self.pattern(step: step, count: 3, salt: 7), "scale": [Float(step)]],
                                          buffers: ["bn.running_mean": Self.pattern(step: step, count: 3, salt: 100)],
                                          state: Self.state(step))
                try writer.appendMetrics(step: step, values: ["epoch_seconds": Double(step) + 0.5])
            }
        }
        try writer.appendMetrics(step: 201, values: ["loss": -1])
        try writer.close()
    }

    /// Every value a reader sees: attributes, snapshots, metrics (NaN compared as NaN), resume state.
    func contents(_ path: String) throws -> String {
        let r = try HistoryReader(path: path)
        defer { r.close() }
        var lines = [r.model, r.training, r.createdBy, "\(r.snapshotSteps)", "\(r.parameterShapes.sorted { $0.key < $1.key })",
                     "\(r.bufferShapes.sorted { $0.key < $1.key })", "\(try r.metricSteps())"]
        for t in 0..<r.snapshotCount {
            for name in r.parameterShapes.keys.sorted() { lines.append("\(t) \(name) \(try r.parameter(name, snapshot: t))") }
            for name in r.bufferShapes.keys.sorted() { lines.append("\(t) \(name) \(try r.buffer(name, snapshot: t))") }
        }
        for name in r.metricNames.sorted() { lines.append("\(name) \(try r.metric(name))") }
        let state = try r.resumeState()
        lines.append("resume \(state?.step ?? -1) \(state?.arrays.sorted { $0.key < $1.key } ?? [])")
        return lines.joined(separator: "\n")
    }

    func testBackgroundWritingWritesTheSameFile() throws {
        let sync = temp("sync.h5"), background = temp("background.h5")
        try writeRun(try makeWriter(sync))
        let writer = try HistoryWriter(path: background, model: Self.model, training: Self.training, createdBy: "lpom tests",
                                       parameters: [("layers.0.weight", [3, 4]), ("layers.0.bias", [3]), ("scale", [])],
                                       buffers: [("bn.running_mean", [3])], writing: .background)
        try writeRun(writer)
        let steps = (0...200).filter { $0 % 20 == 0 || ($0 > 150 && $0 % 3 == 0) }
        XCTAssertEqual(writer.snapshotCount, steps.count)
        XCTAssertEqual(writer.lastStep, 200)
        let expected = try contents(sync)
        XCTAssertTrue(expected.contains("\(steps)"), expected)
        XCTAssertTrue(expected.contains("epoch_seconds"))
        XCTAssertEqual(try contents(background), expected)

        // A resumed file continues in the background the same way.
        for path in [sync, background] {
            let resumed = try HistoryWriter.openForAppend(path: path, writing: path == sync ? .synchronous : .background)
            XCTAssertEqual(resumed.snapshotCount, steps.count)
            try resumed.appendMetrics(step: 200, values: ["extra": 1])
            try snapshotWithState(resumed, step: 300)
            try resumed.appendMetrics(step: 300, values: ["loss": 3])
            try resumed.close()
            XCTAssertEqual(resumed.lastStep, 300)
        }
        XCTAssertEqual(try contents(background), try contents(sync))
    }

    /// A write that fails on the background thread (injected at the third snapshot) is thrown,
    /// naming the file, by the next `appendSnapshot` or the one after (one may already be queued),
    /// then by `close`; the snapshots before it stay in the file, which resumes.
    func testBackgroundFailureSurfacesAtTheNextSnapshot() throws {
        let path = temp("failing.h5")
        let writer = try HistoryWriter(path: path, model: Self.model, training: Self.training, createdBy: "lpom tests",
                                       parameters: [("layers.0.weight", [3, 4]), ("layers.0.bias", [3]), ("scale", [])],
                                       buffers: [("bn.running_mean", [3])], writing: .background)
        var committed = 0 // touched by the background thread only
        writer.faultHook = { point in
            if point == .afterSnapshotStep { committed += 1 }
            if point == .afterBuffers && committed == 2 { throw H5Failure(description: "injected write failure") }
        }
        for step in [0, 40, 80] {
            try writer.appendMetrics(step: step, values: ["loss": Double(step)])
            try snapshot(writer, step: step)
        }
        var thrown: [String] = []
        for step in [120, 160] {
            do { try snapshot(writer, step: step) } catch { thrown.append("\(error)"); break }
        }
        XCTAssertEqual(thrown, ["\(path): injected write failure"])
        assertThrowsHistoryError(try writer.close(), containing: "\(path): injected write failure")
        XCTAssertEqual(writer.snapshotCount, 2)
        XCTAssertEqual(writer.lastStep, 40)
        try assertIntactAndResumable(path, expectedSteps: [0, 40])
    }

    /// The same with a real HDF5 failure: the file may not grow past its size after two
    /// snapshots (RLIMIT_FSIZE, so `pwrite` fails with EFBIG, as on a full disk), and the error
    /// is HDF5's own, on one line. The file then opens with the two snapshots (`closeAfterFailure`).
    func testBackgroundHDF5FailureSurfaces() throws {
        let path = temp("full.h5")
        let count = 100_000
        let writer = try HistoryWriter(path: path, model: Self.model, training: Self.training, createdBy: "lpom tests",
                                       parameters: [("w", [count])], buffers: [], writing: .background)
        for step in [0, 40] {
            try writer.appendSnapshot(step: step, parameters: ["w": Self.pattern(step: step, count: count)], buffers: [:])
        }
        while writer.snapshotCount < 2 { usleep(1000) }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = saved
        limited.rlim_cur = rlim_t(size + 4096)
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited), 0)
        var thrown: Error?
        for step in [80, 120, 160] {
            do { try writer.appendSnapshot(step: step, parameters: ["w": Self.pattern(step: step, count: count)], buffers: [:]) } catch {
                thrown = error
                break
            }
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        signal(SIGXFSZ, oldHandler)
        XCTAssertNotNil(thrown, "no snapshot reported the failure")
        let closeError: Error?
        do { try writer.close(); closeError = nil } catch { closeError = error }
        let message = "\(thrown ?? closeError ?? HistoryError(path, "no error"))"
        XCTAssertTrue(message.hasPrefix("\(path): "), message)
        XCTAssertFalse(message.contains("no error") || message.contains("\n"), message)
        XCTAssertNotNil(closeError, "close did not report the failure")
        print("background HDF5 failure: \(message)")
        let reader = try HistoryReader(path: path)
        XCTAssertEqual(reader.snapshotSteps, [0, 40])
        XCTAssertEqual(try reader.parameter("w", snapshot: 1), Self.pattern(step: 40, count: count))
        reader.close()
        let resumed = try HistoryWriter.openForAppend(path: path)
        try resumed.appendSnapshot(step: 80, parameters: ["w": Self.pattern(step: 80, count: count)], buffers: [:])
        try resumed.close()
        XCTAssertEqual(try HistoryReader(path: path).snapshotSteps, [0, 40, 80])
    }

    /// Killed right after handing over snapshots: the file keeps those already written, a
    /// prefix of them, and resumes.
    func testKillWithSnapshotsInFlight() throws {
        for round in 0..<3 {
            let path = temp("killed-in-flight-\(round).h5")
            runKilledChild { _ in
                let writer = try HistoryWriter(path: path, model: Self.model, training: Self.training, createdBy: "kill test",
                                               parameters: [("layers.0.weight", [3, 4]), ("layers.0.bias", [3]), ("scale", [])],
                                               buffers: [("bn.running_mean", [3])], writing: .background)
                for step in [0, 40, 80] {
                    try writer.appendMetrics(step: step, values: ["loss": Double(step)])
                    try self.snapshot(writer, step: step)
                }
            }
            let steps = try HistoryReader(path: path).snapshotSteps
            XCTAssertEqual(steps, Array([0, 40, 80].prefix(steps.count)))
            try assertIntactAndResumable(path)
        }
    }

    /// Killed inside the third snapshot's writes on the background thread, at each point.
    func testKillInsideBackgroundSnapshot() throws {
        let points: [(HistoryWriter.FaultPoint, [Int]?)] = [
            (.afterParameter("layers.0.weight"), [0, 40]), (.afterBuffers, [0, 40]), (.afterMetrics, [0, 40]),
            (.afterFirstFlush, [0, 40]), (.afterSnapshotStep, nil),
        ]
        for (index, (point, expected)) in points.enumerated() {
            let path = temp("killed-inside-background-\(index).h5")
            runKilledChild { _ in
                let writer = try HistoryWriter(path: path, model: Self.model, training: Self.training, createdBy: "kill test",
                                               parameters: [("layers.0.weight", [3, 4]), ("layers.0.bias", [3]), ("scale", [])],
                                               buffers: [("bn.running_mean", [3])], writing: .background)
                var committed = 0 // background thread only
                writer.faultHook = { p in
                    if committed == 2 && p == point { kill(getpid(), SIGKILL) }
                    if p == .afterSnapshotStep { committed += 1 }
                }
                for step in [0, 40, 80] {
                    try writer.appendMetrics(step: step, values: ["loss": Double(step)])
                    try self.snapshot(writer, step: step)
                }
                try writer.close() // waits for the third snapshot, inside which the hook kills
                _exit(5)
            }
            try assertIntactAndResumable(path, expectedSteps: expected)
        }
    }
}
