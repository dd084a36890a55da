import XCTest
@testable import HistoryStore

/// `HistoryReader.snapshot(_:)`: one row of every (or of the named) `/theta` and `/buffers`
/// arrays, with shapes, index and step — the same values the per-name reads give.
extension HistoryTests {
    func testSnapshotHoldsOneRowOfEveryArray() throws {
        let path = temp("snapshots.h5")
        let writer = try makeWriter(path)
        for step in [0, 2, 40] { try snapshot(writer, step: step) }
        try writer.close()
        let reader = try HistoryReader(path: path)
        for (t, step) in [(0, 0), (1, 2), (2, 40), (-1, 40), (-3, 0)] {
            let s = try reader.snapshot(t)
            XCTAssertEqual(s.index, t < 0 ? 3 + t : t)
            XCTAssertEqual(s.step, step)
            XCTAssertEqual(s.parameters, ["layers.0.weight": Self.pattern(step: step, count: 12),
                                          "layers.0.bias": Self.pattern(step: step, count: 3, salt: 7),
                                          "scale": [Float(step)]], "snapshot \(t)")
            XCTAssertEqual(s.buffers, ["bn.running_mean": Self.pattern(step: step, count: 3, salt: 100)], "snapshot \(t)")
            XCTAssertEqual(s.parameterShapes, reader.parameterShapes)
            XCTAssertEqual(s.bufferShapes, reader.bufferShapes)
        }
    }

    func testSnapshotReadsOnlyTheNamedArraysAndRefusesBadRequests() throws {
        let path = temp("named.h5")
        let writer = try makeWriter(path)
        for step in [3, 7] { try snapshot(writer, step: step) }
        try writer.close()
        let reader = try HistoryReader(path: path)
        let s = try reader.snapshot(1, parameters: ["scale"], buffers: [])
        XCTAssertEqual(s.parameters, ["scale": [7]])
        XCTAssertEqual(s.parameterShapes, ["scale": []])
        XCTAssertEqual(s.buffers, [:])
        XCTAssertEqual(s.bufferShapes, [:])
        assertThrowsHistoryError(try reader.snapshot(2), containing: "snapshot 2 out of range (the file has 2 snapshots)")
        assertThrowsHistoryError(try reader.snapshot(-3), containing: "snapshot -3 out of range")
        assertThrowsHistoryError(try reader.snapshot(0, parameters: ["nope"]), containing: "no parameter 'nope'")
        assertThrowsHistoryError(try reader.snapshot(0, buffers: ["scale"]), containing: "no buffer 'scale'")
    }
}
