import Foundation
import XCTest
@testable import HistoryStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `HistoryPack`: a packed history holds the same snapshots, metrics, attributes and resume
/// state bit for bit, in chunks of several snapshots; failures keep the original.
extension HistoryTests {
    /// A history of `count` snapshots (steps 0, 40, …) with metrics, a buffer and a resume state.
    func writeHistoryForPacking(_ path: String, count: Int) throws {
        let writer = try makeWriter(path)
        for k in 0..<count {
            try writer.appendMetrics(step: 40 * k, values: ["loss": 1 / Double(k + 1), "test_accuracy": k % 2 == 0 ? .nan : 0.5])
            try snapshotWithState(writer, step: 40 * k)
        }
        try writer.close()
    }

    func testPackKeepsEverythingBitForBit() throws {
        let path = temp("pack.h5"), copy = temp("orig.h5")
        try writeHistoryForPacking(path, count: 11)   // one full chunk of 8 and a partial one
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let sizes = try HistoryPack.pack(path: path)
        XCTAssertGreaterThan(sizes.before, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".pack-tmp"))
        let a = try HistoryReader(path: copy), b = try HistoryReader(path: path)
        defer { a.close(); b.close() }
        XCTAssertEqual(b.snapshotSteps, a.snapshotSteps)
        XCTAssertEqual(b.model, a.model)
        XCTAssertEqual(b.training, a.training)
        XCTAssertEqual(b.createdBy, a.createdBy)
        for t in 0..<a.snapshotCount {
            XCTAssertEqual(try b.snapshot(t).parameters, try a.snapshot(t).parameters, "snapshot \(t)")
            XCTAssertEqual(try b.buffer("bn.running_mean", snapshot: t), try a.buffer("bn.running_mean", snapshot: t))
        }
        XCTAssertEqual(try b.metricSteps(), try a.metricSteps())
        XCTAssertEqual(try b.metric("loss"), try a.metric("loss"))
        XCTAssertEqual(try b.metric("test_accuracy").map { $0.isNaN }, try a.metric("test_accuracy").map { $0.isNaN })
        XCTAssertEqual(try b.resumeState(), ResumeState(step: 400, arrays: Self.state(400)))
        // Stored in chunks of 8 snapshots, compressed.
        let file = try H5Location.openFile(path: path, writable: false, locking: false)
        defer { file.handle.close() }
        let theta = try file.openGroup(HistoryFormat.theta)
        defer { theta.handle.close() }
        let d = try theta.openDataset("layers.0.weight")
        defer { d.handle.close() }
        XCTAssertEqual(try d.rowsPerChunk(), HistoryPack.snapshotsPerChunk)
        // A packed history resumes (into a fresh file) and packs again.
        let resumed = try HistoryWriter.openForAppend(path: path)
        try snapshotWithState(resumed, step: 440)
        try resumed.close()
        try HistoryPack.pack(path: path)
        let c = try HistoryReader(path: path)
        defer { c.close() }
        XCTAssertEqual(c.snapshotSteps, a.snapshotSteps + [440])
        XCTAssertEqual(try c.parameter("layers.0.weight", snapshot: 10), try a.parameter("layers.0.weight", snapshot: 10))
        XCTAssertEqual(try c.resumeState(), ResumeState(step: 440, arrays: Self.state(440)))
    }

    func testPackChunkShapes() {
        // 8 rows of [300, 784] floats would be 7.5 MB: split along the first axis to ≤ 1 MiB.
        XCTAssertEqual(HistoryPack.chunkRowShape([300, 784]), [41, 784])
        XCTAssertEqual(HistoryPack.chunkRowShape([10, 100]), [10, 100])
        XCTAssertEqual(HistoryPack.chunkRowShape([]), [])
        XCTAssertEqual(HistoryPack.chunkRowShape([1, 1 << 20]), [1, 1 << 20], "a row that cannot be split stays whole")
    }

    func testPackRefusesAndKeepsTheOriginal() throws {
        // Not a history: one line, the file untouched.
        let junk = temp("junk.h5")
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: junk))
        assertThrowsHistoryError(try HistoryPack.pack(path: junk), containing: "junk.h5")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: junk)), Data("not hdf5".utf8))
        assertThrowsHistoryError(try HistoryPack.pack(path: temp("missing.h5")), containing: "missing.h5")
        // Being written: refused.
        let live = temp("live.h5")
        let writer = try makeWriter(live)
        try snapshot(writer, step: 0)
        assertThrowsHistoryError(try HistoryPack.pack(path: live), containing: "being written")
        try writer.close()
        // Another writer's additions would be lost: refused, file untouched.
        for (name, add) in [("attr.h5", { (f: H5Location) in try f.writeAttribute("note", string: "mine") }),
                            ("group.h5", { (f: H5Location) in _ = try f.createGroup("extra") })] {
            let p = temp(name)
            try writeHistoryForPacking(p, count: 2)
            do {
                let file = try H5Location.openFile(path: p, writable: true, locking: true)
                defer { file.handle.close() }
                try add(file)
            }
            let original = try Data(contentsOf: URL(fileURLWithPath: p))
            assertThrowsHistoryError(try HistoryPack.pack(path: p), containing: "not packed (the copy would lose")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: p)), original)
        }
        // The copy cannot be written (read-only directory; root ignores permissions, so a
        // directory in the way of the temporary file instead): the original is kept.
        let path = temp("blocked.h5")
        try writeHistoryForPacking(path, count: 3)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.createDirectory(atPath: path + ".pack-tmp", withIntermediateDirectories: false)
        XCTAssertThrowsError(try HistoryPack.pack(path: path))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }
}

extension HistoryTests {
    /// Chunk shapes are checked before HDF5 reads anything: a chunk of several snapshots over
    /// 256 MiB, and a rank-1 dataset in chunks longer than itself and 2^16 rows, are refused.
    func testRefusesOversizedChunks() throws {
        let big = temp("big-chunks.h5")
        try craft(big, version: 1)
        do {
            let file = try H5Location.openFile(path: big, writable: true, locking: true)
            let theta = try file.openGroup("theta")
            // 8 rows of 2^24 floats: a 512 MiB chunk (nothing is written, so nothing is allocated).
            let d = try theta.createRowDataset("huge", of: Float.self, rowShape: [1 << 24], rowsPerChunk: 8,
                                               fill: 0, directWrites: false, compress: true)
            try d.setRowCount(1)
        }
        assertThrowsHistoryError(try HistoryReader(path: big), containing: "/theta/huge is stored in chunks [8, 16777216] of more than 256 MiB")
        let long = temp("long-chunks.h5")
        try craft(long, version: 1)
        do {
            let file = try H5Location.openFile(path: long, writable: true, locking: true)
            let metrics = try file.createGroup("metrics")
            let s = try metrics.createRowDataset("step", of: Int64.self, rowShape: [], rowsPerChunk: 1 << 17,
                                                 fill: 0, directWrites: false, compress: false)
            try s.setRowCount(2)
        }
        assertThrowsHistoryError(try HistoryReader(path: long), containing: "/metrics/step has 2 rows in chunks of 131072")
    }
}
