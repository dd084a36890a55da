import Foundation
import HistoryStore
import XCTest
@testable import lpom

/// `lpom export` (safetensors read back here byte by byte, CSV) and `lpom runs` (table, JSON,
/// overlay plot) on tiny histories trained from data/fixtures/tiny.
final class ExportRunsCLITests: CLITestCase {
    func train(_ history: String, _ extra: [String]) throws {
        let args = ["--data-dir", fixtures, "--quiet", "--batch-size", "50", "--threads", "1", "--epochs", "1",
                    "--history", history] + extra
        try TrainCommand.parse(args).run(recording: args)
    }

    /// An independent safetensors reader: header JSON and the raw little-endian bytes of each tensor.
    func readSafeTensors(_ path: String) throws -> (header: [String: Any], body: Data) {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = d.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
        let header = try JSONSerialization.jsonObject(with: d.subdata(in: 8..<(8 + n))) as! [String: Any]
        return (header, d.subdata(in: (8 + n)..<d.count))
    }

    func floats(_ body: Data, _ range: [Int]) -> [Float] {
        stride(from: range[0], to: range[1], by: 4).map { i in
            Float(bitPattern: body[i..<(i + 4)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
        }
    }

    func testExportWritesEveryTensorBitExactWithBatchNormCountsAndTheMetricsAsCSV() throws {
        let h = dir + "/agd.h5"
        try train(h, ["--arch", "agdnet", "--block", "dense", "--depth", "2", "--width", "4", "--learnable-coefficients"])
        let out = dir + "/snap.safetensors", csv = dir + "/curves.csv"
        var cmd = try ExportCommand.parse([h, "--snapshot", "0", "--output", out, "--metrics", csv])
        _ = try capturingStandardOutput { try cmd.run() }
        let (header, body) = try readSafeTensors(out)
        let r = try HistoryReader(path: h)
        defer { r.close() }
        let snap = try r.snapshot(0)
        var covered = 0
        var ranges: [[Int]] = []
        for (name, shape) in r.parameterShapes.merging(r.bufferShapes, uniquingKeysWith: { a, _ in a }) {
            let e = try XCTUnwrap(header[name] as? [String: Any], name)
            XCTAssertEqual(e["dtype"] as? String, "F32")
            XCTAssertEqual(e["shape"] as? [Int], shape, name)
            let range = e["data_offsets"] as! [Int]
            ranges.append(range)
            covered += range[1] - range[0]
            XCTAssertEqual(floats(body, range), snap.parameters[name] ?? snap.buffers[name], name)
        }
        // One int64 num_batches_tracked (= the step, 0 here) per batch-norm layer: stem + 2 blocks.
        let tracked = header.keys.filter { $0.hasSuffix(".num_batches_tracked") }.sorted()
        XCTAssertEqual(tracked, ["layers.2.num_batches_tracked", "layers.4.blocks.0.1.num_batches_tracked",
                                 "layers.4.blocks.1.1.num_batches_tracked"])
        for t in tracked {
            let e = header[t] as! [String: Any]
            XCTAssertEqual(e["dtype"] as? String, "I64"); XCTAssertEqual(e["shape"] as? [Int], [])
            let range = e["data_offsets"] as! [Int]
            ranges.append(range)
            covered += 8
            XCTAssertEqual(body.subdata(in: range[0]..<range[1]), Data(count: 8))
        }
        XCTAssertEqual(covered, body.count, "the tensors fill the body without gaps")
        XCTAssertEqual(Set(ranges.map { $0[0] }).count, ranges.count, "no two tensors share bytes")
        let meta = header["__metadata__"] as! [String: String]
        XCTAssertEqual(meta["lpom_step"], "0"); XCTAssertEqual(meta["lpom_model"], r.model)
        // CSV: a header of step + every metric, one row per recorded step, NaN as empty.
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        let cols = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(cols.first, "step")
        XCTAssertEqual(Set(cols.dropFirst()), Set(r.metricNames))
        XCTAssertEqual(lines.count - 1, try r.metricSteps().count)
        let k = cols.firstIndex(of: "test_accuracy")!
        let acc = try r.metric("test_accuracy")
        for (i, line) in lines.dropFirst().enumerated() {
            let field = line.split(separator: ",", omittingEmptySubsequences: false)[k]
            if acc[i].isNaN { XCTAssertEqual(field, "") } else { XCTAssertEqual(Double(field), acc[i]) }
        }
    }

    func testExportRefusesNothingToDoAndAMissingSnapshot() throws {
        XCTAssertTrue(parseError(ExportCommand.self, ["x.h5"])?.contains("nothing to export") ?? false)
        let h = dir + "/mlp.h5"
        try train(h, ["--layers", "8"])
        var cmd = try ExportCommand.parse([h, "--snapshot", "9", "--output", dir + "/x.safetensors"])
        XCTAssertThrowsError(try cmd.run()) { XCTAssertTrue("\($0)".contains("outside the 2 snapshots"), "\($0)") }
    }

    func testRunsListsEveryHistoryAsTableAndJSONAndOverlaysTheirCurves() throws {
        try FileManager.default.createDirectory(atPath: dir + "/runs/sub", withIntermediateDirectories: true)
        try train(dir + "/runs/a.h5", ["--layers", "8", "--seed", "3"])
        try train(dir + "/runs/sub/b.h5", ["--layers", "8", "--method", "adam", "--dataset", "fashion-mnist"])
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: dir + "/runs/junk.h5"))
        let table = try capturingStandardOutput { var c = try RunsCommand.parse([dir + "/runs"]); try c.run() }
        let lines = table.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, table)
        let a = try XCTUnwrap(lines.first { $0.contains("a.h5") })
        XCTAssertTrue(a.contains("sgd") && a.contains("mnist") && a.contains(" 3 ") && a.contains("%"), a)
        XCTAssertTrue(lines.contains { $0.contains("sub/b.h5") && $0.contains("adam") && $0.contains("fashion-mnist") }, table)
        XCTAssertTrue(lines.contains { $0.contains("junk.h5") && $0.contains("not readable") }, table)
        let json = try capturingStandardOutput { var c = try RunsCommand.parse([dir + "/runs", "--json", "--plot", dir + "/o.svg"]); try c.run() }
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 3)
        let ra = try XCTUnwrap(runs.first { ($0["path"] as? String)?.hasSuffix("a.h5") ?? false })
        let r = try HistoryReader(path: dir + "/runs/a.h5")
        XCTAssertEqual(ra["final_test_accuracy"] as? Double, try r.metric("test_accuracy").last)
        XCTAssertEqual(ra["snapshots"] as? Int, r.snapshotCount)
        XCTAssertEqual(ra["seed"] as? Int, 3)
        r.close()
        let svg = try XMLElements(try String(contentsOfFile: dir + "/o.svg", encoding: .utf8))
        XCTAssertEqual(svg.named("polyline").count, 4, "loss and accuracy of each readable history")
        let texts = svg.named("text").map(\.text)
        XCTAssertTrue(texts.contains("a") && texts.contains("b") && texts.contains("epoch"), "\(texts)")
    }

    /// `train --plot`: a loss panel and an accuracy panel, whole-number epoch ticks, no accuracy
    /// tick past 100 %.
    func testTrainPlotDrawsLossAndAccuracyOnPanelsOfTheirOwn() throws {
        let svgPath = dir + "/t.svg"
        try train(dir + "/t.h5", ["--layers", "8", "--epochs", "3", "--plot", svgPath])
        let svg = try XMLElements(try String(contentsOfFile: svgPath, encoding: .utf8))
        let texts = svg.named("text")
        let words = texts.map(\.text)
        for w in ["loss per epoch", "accuracy per epoch", "train loss (epoch mean)", "test loss", "test accuracy", "accuracy (%)"] {
            XCTAssertTrue(words.contains(w), "\(w) in \(words)")
        }
        XCTAssertEqual(svg.named("polyline").count, 4)
        let xTicks = texts.filter { $0.attributes["text-anchor"] == "middle" }.compactMap { Double($0.text) }
        XCTAssertFalse(xTicks.isEmpty)
        XCTAssertTrue(xTicks.allSatisfy { $0 == $0.rounded() }, "epoch ticks \(xTicks)")
        let yTicks = texts.filter { $0.attributes["text-anchor"] == "end" }.compactMap { Double($0.text) }
        XCTAssertTrue(yTicks.allSatisfy { $0 <= 100 }, "y ticks \(yTicks)")
    }

    func testPlotTicksAreRoundAndEpochTicksWhole() {
        XCTAssertEqual(LinePlot.ticks(0, 5, integer: true), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(LinePlot.ticks(1, 3, integer: true), [1, 2, 3], "no 1.4, 1.8 … on an epoch axis")
        XCTAssertEqual(LinePlot.ticks(0, 2.4), [0, 0.5, 1, 1.5, 2])
        var p = LinePlot(title: "", xLabel: "", yLabel: "")
        p.yLimits = (0, 100)
        XCTAssertEqual(p.yBounds([90, 100]).1, 100, "an accuracy axis stops at 100 %")
    }
}
