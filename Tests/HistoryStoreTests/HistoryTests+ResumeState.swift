import Foundation
import XCTest
@testable import HistoryStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `/resume` (HistoryResumeState.swift): the latest trainer state, in two slots, always the
/// one of the last committed snapshot — after normal writes, `openForAppend`, and kills at every
/// point of a snapshot and at random moments.
extension HistoryTests {
    /// A state that tells its step: velocity[i] = step + i/1000, counter = [step].
    static func state(_ step: Int, count: Int = 20) -> [String: [Double]] {
        ["velocity.layers.0.weight": (0..<count).map { Double(step) + Double($0) / 1000 }, "adam.step": [Double(step)]]
    }

    func snapshotWithState(_ writer: HistoryWriter, step: Int) throws {
        try writer.appendSnapshot(step: step,
                                  parameters: ["layers.0.weight": Self.pattern(step: step, count: 12),
                                               "layers.0.bias": Self.pattern(step: step, count: 3, salt: 7), "scale": [Float(step)]],
                                  buffers: ["bn.running_mean": Self.pattern(step: step, count: 3, salt: 100)], state: Self.state(step))
    }

    func testResumeStateIsTheLastSnapshotsAndSurvivesOpenForAppend() throws {
        let path = temp("state.h5")
        let writer = try makeWriter(path)
        for step in [0, 40, 80] { try snapshotWithState(writer, step: step) }
        // The state must come with every snapshot once it has come with one.
        XCTAssertThrowsError(try snapshot(writer, step: 120)) { XCTAssertTrue("\($0)".contains("lacks the resume state"), "\($0)") }
        try writer.close()
        var reader = try HistoryReader(path: path)
        XCTAssertEqual(try reader.resumeState(), ResumeState(step: 80, arrays: Self.state(80)))
        reader.close()

        let resumed = try HistoryWriter.openForAppend(path: path, training: #"{"method": "sgd", "epochs": 3}"#)
        reader = try HistoryReader(path: path)
        XCTAssertEqual(try reader.resumeState(), ResumeState(step: 80, arrays: Self.state(80)), "copied with the last snapshot")
        XCTAssertEqual(try reader.trainingRecord().epochs, 3, "the new training record replaced the old")
        reader.close()
        try snapshotWithState(resumed, step: 120)
        try resumed.close()
        reader = try HistoryReader(path: path)
        XCTAssertEqual(reader.snapshotSteps, [0, 40, 80, 120])
        XCTAssertEqual(try reader.resumeState(), ResumeState(step: 120, arrays: Self.state(120)))
        reader.close()

        // Histories without /resume (older lpom, h5py) have no state; one whose slots belong to
        // other steps is refused with one line.
        XCTAssertNil(try HistoryReader(path: makeHistoryWithoutState()).resumeState())
        let file = try H5Location.openFile(path: path, writable: true, locking: false)
        try file.openGroup("resume").openDataset("step").writeRows(start: 0, count: 2, values: [Int64(5), Int64(6)])
        file.handle.close()
        assertThrowsHistoryError(try HistoryReader(path: path).resumeState(), containing: "belongs to step 5 and 6, not to the last snapshot's step 120")
    }

    private func makeHistoryWithoutState() throws -> String {
        let path = temp("no-state.h5")
        let writer = try makeWriter(path)
        try snapshot(writer, step: 0)
        try writer.close()
        return path
    }

    /// A kill at each point of the third snapshot: until `/snapshot_step` is committed the
    /// second snapshot is the last, with its own state; after, the third with its state.
    func testKillInsideSnapshotLeavesTheStateOfTheLastCommittedSnapshot() throws {
        let points: [HistoryWriter.FaultPoint] = [.afterState, .afterParameter("layers.0.weight"), .afterBuffers, .afterMetrics,
                                                  .afterFirstFlush, .afterSnapshotStep]
        for (index, point) in points.enumerated() {
            let path = temp("state-killed-\(index).h5")
            runKilledChild { _ in
                let writer = try self.makeWriter(path)
                for step in [0, 40, 80] {
                    if step == 80 { writer.faultHook = { if $0 == point { kill(getpid(), SIGKILL) } } }
                    try self.snapshotWithState(writer, step: step)
                }
                _exit(5)
            }
            let reader = try HistoryReader(path: path)
            let last = try XCTUnwrap(reader.snapshotSteps.last)
            XCTAssertEqual(try reader.resumeState(), ResumeState(step: last, arrays: Self.state(last)), "\(point)")
            if point != .afterSnapshotStep { XCTAssertEqual(last, 40, "\(point)") }
            reader.close()
        }
    }

    /// A child writes snapshots with a 50k-value state as fast as it can; the parent kills it
    /// at random moments (`LPOM_KILL_ROUNDS`, default 4). The state read back always belongs to
    /// the last snapshot and holds exactly what was written for it.
    func testKillAtRandomMomentsKeepsAMatchingResumeState() throws {
        var generator = SystemRandomNumberGenerator()
        let rounds = ProcessInfo.processInfo.environment["LPOM_KILL_ROUNDS"].flatMap { Int($0) } ?? 4
        for round in 0..<rounds {
            let path = temp("state-random-\(round).h5")
            runKilledChild(killAfter: Int.random(in: 0...40, using: &generator)) { ready in
                let writer = try self.makeWriter(path)
                ready()
                for step in 0..<5000 {
                    try writer.appendSnapshot(step: step, parameters: ["layers.0.weight": Self.pattern(step: step, count: 12),
                                                                       "layers.0.bias": [0, 0, 0], "scale": [Float(step)]],
                                              buffers: ["bn.running_mean": [0, 0, 0]], state: Self.state(step, count: 50_000))
                }
            }
            let reader = try HistoryReader(path: path)
            if let last = reader.snapshotSteps.last {
                XCTAssertEqual(try reader.resumeState(), ResumeState(step: last, arrays: Self.state(last, count: 50_000)), "round \(round)")
            }
            reader.close()
        }
    }
}

extension HistoryTests {
    /// Float parts of a resume state (`floatState`) are stored as float64 like the rest, exactly,
    /// with background writing too; a name given both ways is refused.
    func testFloatStateIsStoredAsDouble() throws {
        let path = temp("float-state.h5")
        let writer = try HistoryWriter(path: path, model: Self.model, training: Self.training, createdBy: "lpom tests",
                                       parameters: [("layers.0.weight", [3, 4]), ("layers.0.bias", [3]), ("scale", [])],
                                       buffers: [("bn.running_mean", [3])], writing: .background)
        let parameters = ["layers.0.weight": Self.pattern(step: 0, count: 12), "layers.0.bias": Self.pattern(step: 0, count: 3, salt: 7),
                          "scale": [Float(0)]]
        let buffers = ["bn.running_mean": Self.pattern(step: 0, count: 3, salt: 100)]
        let velocity: [Float] = [0.1, -2.5e-7, 3.0e5, .leastNonzeroMagnitude]
        try writer.appendSnapshot(step: 0, parameters: parameters, buffers: buffers, state: ["adam.step": [7]],
                                  floatState: ["velocity.w": velocity])
        XCTAssertThrowsError(try writer.appendSnapshot(step: 1, parameters: parameters, buffers: buffers, state: ["adam.step": [8]],
                                                       floatState: ["adam.step": [8]])) {
            XCTAssertTrue("\($0)".contains("given twice"), "\($0)")
        }
        XCTAssertThrowsError(try writer.appendSnapshot(step: 1, parameters: parameters, buffers: buffers, state: ["adam.step": [8]])) {
            XCTAssertTrue("\($0)".contains("resume state has 1 arrays, the history declared 2"), "\($0)")
        }
        try writer.close()
        let reader = try HistoryReader(path: path)
        defer { reader.close() }
        XCTAssertEqual(try reader.resumeState(), ResumeState(step: 0, arrays: ["adam.step": [7], "velocity.w": velocity.map(Double.init)]))
    }
}
