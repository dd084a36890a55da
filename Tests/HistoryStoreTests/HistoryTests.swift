import Foundation
import XCTest
@testable import HistoryStore
import TestSupport

/// Tests of `HistoryWriter` / `HistoryReader` (HISTORY-FORMAT.md): round trips, refusal of
/// bad files, the h5py-written fixture (`scripts/make_history_h5py.py`), h5py and h5dump
/// reading our files, and snapshot write speed. Kill safety is in `HistoryTests+Kill.swift`.
final class HistoryTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lpom-history-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Removes the test's files, unless `LPOM_KEEP_TEST_FILES` is set (for looking at failures).
    override func tearDownWithError() throws {
        if ProcessInfo.processInfo.environment["LPOM_KEEP_TEST_FILES"] != nil {
            print("kept test files in \(directory.path)")
        } else {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    func temp(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let model = #"{"input_shape": [4], "layers": [{"name": "layers.0", "type": "dense", "in": 4, "out": 3}]}"#
    static let training = #"{"method": "sgd", "seed": 1}"#

    /// Deterministic values of a parameter at a step: exact in Float for the sizes used here.
    static func pattern(step: Int, count: Int, salt: Int = 0) -> [Float] {
        (0..<count).map { Float(step) * 0.5 + Float(($0 + salt) % 1000) }
    }

    /// A writer with "layers.0.weight" [3,4], "layers.0.bias" [3], "scale" (no dots) [] and buffer "bn.running_mean" [3].
    func makeWriter(_ path: String) throws -> HistoryWriter {
        try HistoryWriter(path: path, model: Self.model, training: Self.training, createdBy: "lpom tests",
                          parameters: [("layers.0.weight", [3, 4]), ("layers.0.bias", [3]), ("scale", [])],
                          buffers: [("bn.running_mean", [3])])
    }

    func snapshot(_ writer: HistoryWriter, step: Int) throws {
        try writer.appendSnapshot(step: step,
                                  parameters: ["layers.0.weight": Self.pattern(step: step, count: 12),
                                               "layers.0.bias": Self.pattern(step: step, count: 3, salt: 7),
                                               "scale": [Float(step)]],
                                  buffers: ["bn.running_mean": Self.pattern(step: step, count: 3, salt: 100)])
    }

    func assertThrowsHistoryError(_ body: @autoclosure () throws -> Any, containing text: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("no error; expected one containing '\(text)'", file: file, line: line)
        } catch let error as HistoryError {
            XCTAssertTrue(error.description.contains(text), "'\(error.description)' does not contain '\(text)'", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "not one line: \(error.description)", file: file, line: line)
        } catch {
            XCTFail("not a HistoryError: \(error)", file: file, line: line)
        }
    }

    // MARK: Round trip

    func testRoundTrip() throws {
        let path = temp("run.h5")
        let writer = try makeWriter(path)
        try writer.appendMetrics(step: 0, values: ["loss": 2.0])
        try snapshot(writer, step: 0)
        try writer.appendMetrics(step: 1, values: ["loss": 1.5])
        try writer.appendMetrics(step: 2, values: ["loss": 1.0, "accuracy": 0.5])
        try writer.appendMetrics(step: 2, values: ["grad_norm": 3.0]) // merged into step 2
        try snapshot(writer, step: 2)
        try writer.appendMetrics(step: 2, values: ["test_accuracy": 0.25]) // after the snapshot: rewrites row 2
        try writer.appendMetrics(step: 3, values: ["loss": 0.5])
        try snapshot(writer, step: 40)
        XCTAssertEqual(writer.snapshotCount, 3)
        XCTAssertEqual(writer.lastStep, 40)
        // Readable while the writer is still open in this process; not resumable.
        XCTAssertEqual(try HistoryReader(path: path).snapshotSteps, [0, 2, 40])
        assertThrowsHistoryError(try HistoryWriter.openForAppend(path: path), containing: "is being written")
        try writer.close()
        try writer.close()

        let reader = try HistoryReader(path: path)
        XCTAssertEqual(reader.model, Self.model)
        XCTAssertEqual(reader.training, Self.training)
        XCTAssertEqual(reader.createdBy, "lpom tests")
        XCTAssertEqual(reader.snapshotSteps, [0, 2, 40])
        XCTAssertEqual(reader.snapshotCount, 3)
        XCTAssertEqual(reader.parameterShapes, ["layers.0.weight": [3, 4], "layers.0.bias": [3], "scale": []])
        XCTAssertEqual(reader.bufferShapes, ["bn.running_mean": [3]])
        for (index, step) in [0, 2, 40].enumerated() {
            XCTAssertEqual(try reader.parameter("layers.0.weight", snapshot: index), Self.pattern(step: step, count: 12))
            XCTAssertEqual(try reader.parameter("layers.0.bias", snapshot: index), Self.pattern(step: step, count: 3, salt: 7))
            XCTAssertEqual(try reader.parameter("scale", snapshot: index), [Float(step)])
            XCTAssertEqual(try reader.buffer("bn.running_mean", snapshot: index), Self.pattern(step: step, count: 3, salt: 100))
        }
        XCTAssertEqual(try reader.parameter("scale", snapshot: -1), [40])
        XCTAssertEqual(try reader.parameter("scale", snapshot: -3), [0])
        assertThrowsHistoryError(try reader.parameter("scale", snapshot: 3), containing: "out of range")
        assertThrowsHistoryError(try reader.parameter("scale", snapshot: -4), containing: "out of range")
        assertThrowsHistoryError(try reader.parameter("nope", snapshot: 0), containing: "no parameter 'nope'")
        assertThrowsHistoryError(try reader.buffer("scale", snapshot: 0), containing: "no buffer 'scale'")

        XCTAssertEqual(reader.metricNames, ["accuracy", "grad_norm", "loss", "test_accuracy"])
        XCTAssertEqual(try reader.metricSteps(), [0, 1, 2, 3])
        try assertEqualNaN(try reader.metric("loss"), [2.0, 1.5, 1.0, 0.5])
        try assertEqualNaN(try reader.metric("accuracy"), [.nan, .nan, 0.5, .nan])
        try assertEqualNaN(try reader.metric("grad_norm"), [.nan, .nan, 3.0, .nan])
        try assertEqualNaN(try reader.metric("test_accuracy"), [.nan, .nan, 0.25, .nan])
        assertThrowsHistoryError(try reader.metric("nope"), containing: "no metric 'nope'")
        reader.close()
        reader.close()
        assertThrowsHistoryError(try reader.parameter("scale", snapshot: 0), containing: "closed")
    }

    func assertEqualNaN(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) where !(x == y || (x.isNaN && y.isNaN)) {
            XCTFail("\(a) != \(b)", file: file, line: line)
            return
        }
    }

    func testEmptyHistoryAndDeinitClose() throws {
        let path = temp("empty.h5")
        do { _ = try makeWriter(path) } // deinit closes
        let reader = try HistoryReader(path: path)
        XCTAssertEqual(reader.snapshotCount, 0)
        XCTAssertEqual(reader.metricNames, [])
        XCTAssertEqual(try reader.metricSteps(), [])
        assertThrowsHistoryError(try reader.parameter("scale", snapshot: -1), containing: "out of range (the file has 0 snapshots)")
    }

    func testWriterRejectsBadInput() throws {
        let path = temp("bad-input.h5")
        assertThrowsHistoryError(try HistoryWriter(path: path, model: "{not json", training: "{}", createdBy: "",
                                                   parameters: [], buffers: []), containing: "'model' attribute is not valid JSON")
        assertThrowsHistoryError(try HistoryWriter(path: path, model: "{}", training: "{}", createdBy: "",
                                                   parameters: [("a/b", [2])], buffers: []), containing: "invalid parameter name 'a/b'")
        assertThrowsHistoryError(try HistoryWriter(path: path, model: "{}", training: "{}", createdBy: "",
                                                   parameters: [("a", [2]), ("a", [3])], buffers: []), containing: "declared twice")
        assertThrowsHistoryError(try HistoryWriter(path: path, model: "{}", training: "{}", createdBy: "",
                                                   parameters: [("a", [0, 2])], buffers: []), containing: "unsupported shape")
        assertThrowsHistoryError(try HistoryWriter(path: temp("no-such-dir/x.h5"), model: "{}", training: "{}", createdBy: "",
                                                   parameters: [], buffers: []), containing: "cannot create the file")

        let writer = try makeWriter(path)
        let good: [String: [Float]] = ["layers.0.weight": .init(repeating: 0, count: 12), "layers.0.bias": [0, 0, 0], "scale": [1]]
        let buffers: [String: [Float]] = ["bn.running_mean": [0, 0, 0]]
        var short = good
        short["layers.0.bias"] = [0, 0]
        assertThrowsHistoryError(try writer.appendSnapshot(step: 0, parameters: short, buffers: buffers),
                                 containing: "'layers.0.bias' has 2 values, expected 3")
        var missing = good
        missing["scale"] = nil
        assertThrowsHistoryError(try writer.appendSnapshot(step: 0, parameters: missing, buffers: buffers), containing: "missing parameter 'scale'")
        var extra = good
        extra["layers.9.weight"] = [1]
        assertThrowsHistoryError(try writer.appendSnapshot(step: 0, parameters: extra, buffers: buffers),
                                 containing: "unknown parameter 'layers.9.weight'")
        assertThrowsHistoryError(try writer.appendSnapshot(step: 0, parameters: good, buffers: [:]), containing: "missing buffer")
        try writer.appendSnapshot(step: 5, parameters: good, buffers: buffers)
        assertThrowsHistoryError(try writer.appendSnapshot(step: 5, parameters: good, buffers: buffers), containing: "not after")
        assertThrowsHistoryError(try writer.appendMetrics(step: 1, values: ["step": 1]), containing: "reserved")
        assertThrowsHistoryError(try writer.appendMetrics(step: 1, values: ["a/b": 1]), containing: "invalid metric name")
        try writer.appendMetrics(step: 3, values: ["loss": 1])
        assertThrowsHistoryError(try writer.appendMetrics(step: 2, values: ["loss": 1]), containing: "before step 3")
        try writer.close()
        assertThrowsHistoryError(try writer.appendSnapshot(step: 9, parameters: good, buffers: buffers), containing: "closed")
        XCTAssertEqual(try HistoryReader(path: path).snapshotSteps, [5])
    }

    func testResumeTruncatesLateMetricsAndAppends() throws {
        let path = temp("resume.h5")
        let writer = try makeWriter(path)
        for step in 0...12 {
            try writer.appendMetrics(step: step, values: ["loss": Double(step)])
            if step % 5 == 0 { try snapshot(writer, step: step) }
        }
        try writer.close() // metrics of steps 11 and 12 are written, but come after the last snapshot (10)
        XCTAssertEqual(try HistoryReader(path: path).metricSteps().count, 13)

        let resumed = try HistoryWriter.openForAppend(path: path)
        XCTAssertEqual(resumed.snapshotCount, 3)
        XCTAssertEqual(resumed.lastStep, 10)
        try resumed.appendMetrics(step: 10, values: ["accuracy": 0.75]) // merges with the kept row of step 10
        try resumed.appendMetrics(step: 11, values: ["loss": -11])
        try snapshot(resumed, step: 15)
        try resumed.close()

        let reader = try HistoryReader(path: path)
        XCTAssertEqual(reader.snapshotSteps, [0, 5, 10, 15])
        XCTAssertEqual(try reader.parameter("layers.0.weight", snapshot: -1), Self.pattern(step: 15, count: 12))
        XCTAssertEqual(try reader.metricSteps(), Array(0...11))
        try assertEqualNaN(try reader.metric("loss"), (0...10).map(Double.init) + [-11])
        try assertEqualNaN(try reader.metric("accuracy"), Array(repeating: .nan, count: 10) + [0.75, .nan])
    }

    // MARK: Refusing bad files

    func testRefusesFilesThatAreNotHistories() throws {
        let text = temp("notes.h5")
        try "just some text, certainly not HDF5\n".write(toFile: text, atomically: true, encoding: .utf8)
        assertThrowsHistoryError(try HistoryReader(path: text), containing: "notes.h5: not an HDF5 file")
        assertThrowsHistoryError(try HistoryWriter.openForAppend(path: text), containing: "not an HDF5 file")

        let empty = temp("empty-file.h5")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        assertThrowsHistoryError(try HistoryReader(path: empty), containing: "empty file")
        assertThrowsHistoryError(try HistoryReader(path: temp("missing.h5")), containing: "missing.h5: no such file")
        assertThrowsHistoryError(try HistoryReader(path: directory.path), containing: "is a directory")

        let bare = temp("bare.h5")
        do {
            let file = try H5Location.createFile(path: bare)
            _ = try file.createGroup("theta")
        }
        assertThrowsHistoryError(try HistoryReader(path: bare), containing: "bare.h5: not an lpom history (no 'format' attribute)")

        let other = temp("other.h5")
        do {
            let file = try H5Location.createFile(path: other)
            try file.writeAttribute("format", string: "something-else")
        }
        assertThrowsHistoryError(try HistoryReader(path: other), containing: "format is 'something-else'")
    }

    /// Writes a history file by hand with the given root attributes and `/snapshot_step` rows.
    func craft(_ path: String, version: Int64?, model: String? = "{}", modelAsInteger: Bool = false, steps: [Int64] = [0]) throws {
        let file = try H5Location.createFile(path: path)
        try file.writeAttribute("format", string: "lpom-history")
        if let version { try file.writeAttribute("format_version", integer: version) }
        if modelAsInteger { try file.writeAttribute("model", integer: 7) } else if let model { try file.writeAttribute("model", string: model) }
        try file.writeAttribute("training", string: "{}")
        let theta = try file.createGroup("theta")
        let w = try theta.createRowDataset("w", of: Float.self, rowShape: [2], rowsPerChunk: 1, fill: 0, directWrites: false, compress: false)
        try w.setRowCount(steps.count)
        try w.writeRows(start: 0, count: steps.count, values: [Float](repeating: 1, count: 2 * steps.count))
        let s = try file.createRowDataset("snapshot_step", of: Int64.self, rowShape: [], rowsPerChunk: 8, fill: 0, directWrites: false, compress: false)
        try s.setRowCount(steps.count)
        try s.writeRows(start: 0, count: steps.count, values: steps)
    }

    func testRefusesBadAttributesAndVersions() throws {
        let ok = temp("ok.h5")
        try craft(ok, version: 1)
        XCTAssertEqual(try HistoryReader(path: ok).parameter("w", snapshot: 0), [1, 1])

        let newer = temp("newer.h5")
        try craft(newer, version: 2)
        assertThrowsHistoryError(try HistoryReader(path: newer), containing: "newer.h5: format_version 2 is newer")
        assertThrowsHistoryError(try HistoryWriter.openForAppend(path: newer), containing: "format_version 2")

        let noVersion = temp("no-version.h5")
        try craft(noVersion, version: nil)
        assertThrowsHistoryError(try HistoryReader(path: noVersion), containing: "no 'format_version' attribute")

        let noModel = temp("no-model.h5")
        try craft(noModel, version: 1, model: nil)
        assertThrowsHistoryError(try HistoryReader(path: noModel), containing: "no 'model' attribute")

        let intModel = temp("int-model.h5")
        try craft(intModel, version: 1, modelAsInteger: true)
        assertThrowsHistoryError(try HistoryReader(path: intModel), containing: "'model' attribute is an integer, expected a string")

        let badJSON = temp("bad-json.h5")
        try craft(badJSON, version: 1, model: "[1, 2")
        assertThrowsHistoryError(try HistoryReader(path: badJSON), containing: "'model' attribute is not valid JSON")

        let unordered = temp("unordered.h5")
        try craft(unordered, version: 1, steps: [0, 40, 40])
        assertThrowsHistoryError(try HistoryReader(path: unordered), containing: "/snapshot_step is not increasing")

        // A last -1 (the fill value) is a commit a kill interrupted: dropped. Elsewhere it is an error.
        let unfinished = temp("unfinished.h5")
        try craft(unfinished, version: 1, steps: [0, 40, -1])
        XCTAssertEqual(try HistoryReader(path: unfinished).snapshotSteps, [0, 40])
        let negative = temp("negative.h5")
        try craft(negative, version: 1, steps: [0, -1, 80])
        assertThrowsHistoryError(try HistoryReader(path: negative), containing: "/snapshot_step[1] is negative")
    }

    func testRefusesThetaShorterThanSnapshotStep() throws {
        let path = temp("short-theta.h5")
        let writer = try makeWriter(path)
        try snapshot(writer, step: 0)
        try snapshot(writer, step: 1)
        try writer.close()
        do {
            let file = try H5Location.openFile(path: path, writable: true, locking: true)
            try file.openGroup("theta").openDataset("layers.0.bias").setRowCount(1)
        }
        assertThrowsHistoryError(try HistoryReader(path: path),
                                 containing: "short-theta.h5: /theta/layers.0.bias has 1 rows but /snapshot_step has 2")
    }

    func testRefusesTruncatedFile() throws {
        let path = temp("full.h5")
        let writer = try makeWriter(path)
        for step in 0..<4 { try snapshot(writer, step: step) }
        try writer.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for fraction in [0.5, 0.9, 0.01] {
            let cut = temp("cut-\(fraction).h5")
            try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: cut))
            assertThrowsHistoryError(try HistoryReader(path: cut), containing: "cut-\(fraction).h5: ")
            assertThrowsHistoryError(try HistoryWriter.openForAppend(path: cut), containing: "cut-\(fraction).h5: ")
        }
    }

    // MARK: Outside tools

    /// Root of the package, found from this file's path.
    static var packageRoot: URL {
        URL(fileURLWithPath: TestPaths.root)
    }

    /// Reads `data/fixtures/h5py-history.h5`, written by `scripts/make_history_h5py.py` with h5py,
    /// and compares it with the values that script saved in `h5py-history.json`.
    func testReadsH5pyWrittenFixture() throws {
        let fixture = Self.packageRoot.appendingPathComponent("data/fixtures/h5py-history.h5").path
        let expectedData = try Data(contentsOf: Self.packageRoot.appendingPathComponent("data/fixtures/h5py-history.json"))
        struct Expected: Decodable {
            let snapshot_steps: [Int]
            let shapes: [String: [Int]]
            let first_values: [String: [Double]]
            let last_values: [String: [Double]]
            let sums: [String: [Double]]
            let metric_steps: [Int]
            let loss: [Double]
        }
        let expected = try JSONDecoder().decode(Expected.self, from: expectedData)
        let reader = try HistoryReader(path: fixture)
        XCTAssertEqual(reader.snapshotSteps, expected.snapshot_steps)
        XCTAssertEqual(reader.parameterShapes, expected.shapes)
        XCTAssertEqual(reader.bufferShapes, [:])
        XCTAssertTrue(reader.createdBy.hasPrefix("make_history_h5py.py"))
        let model = try JSONSerialization.jsonObject(with: Data(reader.model.utf8)) as? [String: Any]
        XCTAssertEqual(model?["input_shape"] as? [Int], [10])
        for (name, sums) in expected.sums {
            for t in 0..<reader.snapshotCount {
                let values = try reader.parameter(name, snapshot: t)
                let sum = values.reduce(0.0) { $0 + Double($1) }
                XCTAssertEqual(sum, sums[t], accuracy: 1e-9 * max(1, abs(sums[t])), "\(name) at snapshot \(t)")
                if t == 0 { XCTAssertEqual(values.prefix(3).map(Double.init), expected.first_values[name]) }
                if t == reader.snapshotCount - 1 { XCTAssertEqual(values.suffix(3).map(Double.init), expected.last_values[name]) }
            }
        }
        XCTAssertEqual(reader.metricNames, ["loss"])
        XCTAssertEqual(try reader.metricSteps(), expected.metric_steps)
        XCTAssertEqual(try reader.metric("loss"), expected.loss)
    }

    /// Runs a command; nil if it cannot be started.
    static func run(_ arguments: [String]) -> (status: Int32, output: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static var hasH5py: Bool { run(["python3", "-c", "import h5py, numpy"])?.status == 0 }

    /// h5py (pip, its own HDF5) opens a file of ours and sees the same values and attributes.
    func testH5pyReadsOurFile() throws {
        guard Self.hasH5py else { throw XCTSkip("python3 with h5py and numpy is not available") }
        let path = temp("for-h5py.h5")
        let writer = try makeWriter(path)
        try writer.appendMetrics(step: 0, values: ["loss": 0.5])
        try snapshot(writer, step: 0)
        try snapshot(writer, step: 40)
        try writer.close()
        let script = """
            import h5py, json, sys
            f = h5py.File(sys.argv[1], "r")
            print(json.dumps({"format": f.attrs["format"], "version": int(f.attrs["format_version"]),
                              "model": f.attrs["model"], "steps": f["snapshot_step"][()].tolist(),
                              "w": f["theta"]["layers.0.weight"][1].tolist(), "scale": f["theta/scale"][()].tolist(),
                              "maxshape": list(f["theta/layers.0.weight"].maxshape),
                              "bn": f["buffers/bn.running_mean"].shape, "loss": f["metrics/loss"][()].tolist()}))
            """
        guard let (status, output) = Self.run(["python3", "-c", script, path]) else { throw XCTSkip("cannot run python3") }
        XCTAssertEqual(status, 0, output)
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        XCTAssertEqual(json?["format"] as? String, "lpom-history")
        XCTAssertEqual(json?["version"] as? Int, 1)
        XCTAssertEqual(json?["model"] as? String, Self.model)
        XCTAssertEqual(json?["steps"] as? [Int], [0, 40])
        XCTAssertEqual((json?["w"] as? [[Double]])?.flatMap { $0 }, Self.pattern(step: 40, count: 12).map(Double.init))
        XCTAssertEqual(json?["scale"] as? [Double], [0, 40])
        XCTAssertEqual(json?["bn"] as? [Int], [2, 3])
        XCTAssertEqual(json?["loss"] as? [Double], [0.5])
        XCTAssertTrue((json?["maxshape"] as? [Any])?.first is NSNull, "axis 0 should be unlimited")
    }

    /// h5dump -H shows the layout of HISTORY-FORMAT.md.
    func testH5dumpShowsLayout() throws {
        let path = temp("for-h5dump.h5")
        let writer = try makeWriter(path)
        try snapshot(writer, step: 0)
        try writer.close()
        guard let (status, output) = Self.run(["h5dump", "-H", path]) else { throw XCTSkip("h5dump is not installed") }
        if status == 127 { throw XCTSkip("h5dump is not installed") }
        XCTAssertEqual(status, 0, output)
        for needle in ["ATTRIBUTE \"format\"", "ATTRIBUTE \"format_version\"", "ATTRIBUTE \"model\"", "GROUP \"theta\"",
                       "DATASET \"layers.0.weight\"", "H5T_IEEE_F32LE", "( 1, 3, 4 ) / ( H5S_UNLIMITED, 3, 4 )",
                       "DATASET \"snapshot_step\"", "H5T_STD_I64LE", "GROUP \"metrics\"", "DATASET \"step\""] {
            XCTAssertTrue(output.contains(needle), "h5dump -H lacks \(needle)")
        }
    }

    /// `scripts/numpy_forward_eval.py` rebuilds a network with every supported layer type from
    /// the `model` JSON of a history we wrote, and its accuracy on IDX files (images gzipped,
    /// labels raw) matches a forward pass computed here.
    func testNumpyForwardEvalMatchesSwift() throws {
        guard Self.hasH5py else { throw XCTSkip("python3 with h5py and numpy is not available") }
        let widths = [16, 8, 8, 8, 8, 6, 3]
        let activations: [(json: String, f: (Double) -> Double)] = [
            (#"{"type": "leaky_relu", "alpha": 0.1}"#, { $0 > 0 ? $0 : 0.1 * $0 }),
            (#"{"type": "elu", "alpha": 0.5}"#, { $0 > 0 ? $0 : 0.5 * (exp($0) - 1) }),
            (#"{"type": "tanh"}"#, { tanh($0) }),
            (#"{"type": "softplus"}"#, { log1p(exp($0)) }),
            (#"{"type": "sigmoid"}"#, { 1 / (1 + exp(-$0)) }),
            (#"{"type": "identity"}"#, { $0 }),
        ]
        var layers = [#"{"type": "normalize", "mean": 0.5, "std": 0.25}"#]
        var shapes: [(name: String, shape: [Int])] = []
        for k in 0..<6 {
            let name = "layers.\(2 * k + 1)"
            layers.append(#"{"name": "\#(name)", "type": "dense", "in": \#(widths[k]), "out": \#(widths[k + 1])}"#)
            layers.append(k == 5 ? #"{"type": "relu"}"# : activations[k].json)
            shapes += [(name + ".weight", [widths[k + 1], widths[k]]), (name + ".bias", [widths[k + 1]])]
        }
        let model = #"{"input_shape": [16], "layers": ["# + layers.joined(separator: ", ") + "]}"
        func weights(_ snapshot: Int) -> [String: [Float]] {
            var values: [String: [Float]] = [:]
            for (i, item) in shapes.enumerated() {
                let n = item.shape.reduce(1, *)
                values[item.name] = (0..<n).map { Float(sin(Double($0 * 7 + i * 13 + snapshot * 5) * 0.9) * 0.8) }
            }
            return values
        }
        /// The forward pass of `model`, in Double.
        func predict(_ pixels: [UInt8], _ w: [String: [Float]]) -> Int {
            var x = pixels.map { (Double($0) / 255 - 0.5) / 0.25 }
            for k in 0..<6 {
                let name = "layers.\(2 * k + 1)"
                let (W, b) = (w[name + ".weight"] ?? [], w[name + ".bias"] ?? [])
                x = (0..<widths[k + 1]).map { o in
                    let z = (0..<widths[k]).reduce(Double(b[o])) { $0 + Double(W[o * widths[k] + $1]) * x[$1] }
                    return k == 5 ? max(z, 0) : activations[k].f(z)
                }
            }
            return x.indices.max { x[$0] < x[$1] } ?? 0
        }
        let path = temp("eval.h5")
        let writer = try HistoryWriter(path: path, model: model, training: Self.training, createdBy: "lpom tests",
                                       parameters: shapes, buffers: [])
        for snapshot in 0..<2 { try writer.appendSnapshot(step: snapshot * 40, parameters: weights(snapshot), buffers: [:]) }
        try writer.close()

        var seed: UInt64 = 12345
        let images: [[UInt8]] = (0..<40).map { _ in
            (0..<16).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: seed >> 56)
            }
        }
        let final = images.map { predict($0, weights(1)) }
        let labels = final.enumerated().map { $0.offset < 30 ? $0.element : ($0.element + 1) % 3 } // 75% right at the end
        let first = Double(zip(images, labels).filter { predict($0.0, weights(0)) == $0.1 }.count) / 40
        func idx(_ magic: UInt8, _ dims: [Int], _ body: [UInt8]) -> Data {
            Data([0, 0, 8, magic] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * $0)) } } + body)
        }
        let imagePath = temp("images-idx3-ubyte")
        let labelPath = temp("labels-idx1-ubyte")
        try idx(3, [40, 4, 4], images.flatMap { $0 }).write(to: URL(fileURLWithPath: imagePath))
        try idx(1, [40], labels.map { UInt8($0) }).write(to: URL(fileURLWithPath: labelPath))
        guard Self.run(["gzip", imagePath])?.status == 0 else { throw XCTSkip("gzip is not available") }

        let script = Self.packageRoot.appendingPathComponent("scripts/numpy_forward_eval.py").path
        for (snapshot, expected) in [(nil, 0.75), (0, first)] as [(Int?, Double)] {
            var arguments = ["python3", script, path, "--images", imagePath + ".gz", "--labels", labelPath, "--json"]
            if let snapshot { arguments += ["--snapshot", String(snapshot)] }
            guard let (status, output) = Self.run(arguments) else { throw XCTSkip("cannot run python3") }
            XCTAssertEqual(status, 0, output)
            let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
            XCTAssertEqual(json?["accuracy"] as? Double ?? -1, expected, accuracy: 1e-12, output)
            XCTAssertEqual(json?["examples"] as? Int, 40)
        }
        let plain = Self.run(["python3", script, path, "--images", imagePath + ".gz", "--labels", labelPath])
        XCTAssertEqual(plain?.output, "accuracy 0.7500\n")
    }

    // MARK: Speed

    /// A 784-300-100-10 MLP (266,610 floats): one snapshot must cost well under a few milliseconds.
    func testSnapshotWriteSpeed() throws {
        let shapes: [(name: String, shape: [Int])] = [("layers.0.weight", [300, 784]), ("layers.0.bias", [300]),
                                                      ("layers.2.weight", [100, 300]), ("layers.2.bias", [100]),
                                                      ("layers.4.weight", [10, 100]), ("layers.4.bias", [10])]
        let values = Dictionary(uniqueKeysWithValues: shapes.map { item in
            (item.name, (0..<item.shape.reduce(1, *)).map { Float(sin(Double($0))) * 0.05 })
        })
        let path = temp("speed.h5")
        let writer = try HistoryWriter(path: path, model: "{}", training: "{}", createdBy: "speed test",
                                       parameters: shapes, buffers: [])
        try writer.appendSnapshot(step: 0, parameters: values, buffers: [:]) // warm-up
        var times: [Double] = []
        for k in 1...40 {
            let start = DispatchTime.now().uptimeNanoseconds
            try writer.appendMetrics(step: k * 40, values: ["loss": 1 / Double(k)])
            try writer.appendSnapshot(step: k * 40, parameters: values, buffers: [:])
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        try writer.close()
        XCTAssertEqual(try HistoryReader(path: path).parameter("layers.4.bias", snapshot: -1), values["layers.4.bias"])
        let plain = times.sorted()[times.count / 2]
        print(String(format: "snapshot of 266,610 floats (median): %.3f ms", plain * 1e3))
        XCTAssertLessThan(plain, 0.010, "a snapshot should take about a millisecond")
    }
}
