import ArgumentParser
import Foundation
import HistoryStore

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the histories in a directory: one line each with method, data set, seed, final test accuracy, snapshots, size and date.",
        discussion: """
        Looks for *.h5 files in DIRECTORY and its subdirectories (or takes history files given \
        directly); a file that is not a readable history gets a line saying why. --plot overlays \
        the curves of every history listed: loss on one panel, test (or validation) accuracy on \
        another, over epochs.

        Examples:
          lpom runs runs/
          lpom runs runs/ --json
          lpom runs runs/sgd.h5 runs/lpom.h5 --plot runs/compare.svg
        """)

    @Argument(help: "Directories to search for *.h5 histories, or history files.")
    var paths: [String] = ["runs"]

    @Option(help: "Write an SVG overlaying the curves of every history listed.")
    var plot: String?

    @Flag(help: "Print one JSON object ({\"runs\": [...]}) instead of the table.")
    var json = false

    struct Entry {
        var path: String
        var fields: [String: Any] = [:]
        var curves: HistoryCurves?
        var error: String?
    }

    /// The .h5 files under `path` (sorted), or `path` itself when it is a file.
    static func histories(under path: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CommandError("\(path): no such file or directory")
        }
        guard isDir.boolValue else { return [path] }
        let e = FileManager.default.enumerator(atPath: path)
        var out: [String] = []
        while let f = e?.nextObject() as? String {
            if f.hasSuffix(".h5") { out.append(path == "." ? f : (path as NSString).appendingPathComponent(f)) }
        }
        return out.sorted(by: naturalOrder)
    }

    static func entry(_ path: String, withCurves: Bool) -> Entry {
        var e = Entry(path: path)
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        e.fields["path"] = path
        e.fields["bytes"] = (attrs?[.size] as? Int) ?? 0
        let mtime = attrs?[.modificationDate] as? Date
        do {
            let reader = try HistoryReader(path: path)
            defer { reader.close() }
            let record = trainingRecord(reader)
            e.fields["method"] = record.method ?? "?"
            e.fields["dataset"] = record.dataset ?? "?"
            if let s = record.seed { e.fields["seed"] = s }
            e.fields["snapshots"] = reader.snapshotCount
            e.fields["last_step"] = reader.snapshotSteps.last ?? 0
            if let a = record.arch ?? record.architecture { e.fields["arch"] = a }
            for name in ["test_accuracy", "val_accuracy"] where reader.metricNames.contains(name) {
                if let v = (try? reader.metric(name))?.last(where: { $0.isFinite }) { e.fields["final_\(name)"] = v }
            }
            e.fields["date"] = record.provenance?.first?.date
                ?? mtime.map { ISO8601DateFormatter().string(from: $0) } ?? ""
            if withCurves { e.curves = try? HistoryCurves(reader: reader, record: record) }
        } catch {
            e.error = "\(error)"
            e.fields["error"] = e.error
        }
        return e
    }

    func run() throws {
        var files: [String] = []
        for p in paths { files += try Self.histories(under: p) }
        let entries = files.map { Self.entry($0, withCurves: plot != nil) }
        if json {
            printJSON(["runs": entries.map(\.fields)])
        } else if entries.isEmpty {
            print("no *.h5 histories under \(paths.joined(separator: ", "))")
        } else {
            let width = min(48, max(7, entries.map(\.path.count).max() ?? 7))
            print("history".padding(toLength: width, withPad: " ", startingAt: 0)
                  + "  method   dataset        seed  test acc  snapshots      size  date")
            for e in entries {
                let name = e.path.count > width ? "…" + e.path.suffix(width - 1) : e.path
                let col = name.padding(toLength: width, withPad: " ", startingAt: 0)
                if let err = e.error { print("\(col)  not readable: \(err)"); continue }
                let f = e.fields
                let acc = (f["final_test_accuracy"] as? Double).map { String(format: "%7.2f%%", 100 * $0) } ?? "       –"
                let seed = (f["seed"] as? UInt64).map(String.init) ?? "–"
                let date = String((f["date"] as? String ?? "").prefix(16)).replacingOccurrences(of: "T", with: " ")
                print(col + "  " + (f["method"] as! String).padding(toLength: 7, withPad: " ", startingAt: 0)
                      + "  " + (f["dataset"] as! String).padding(toLength: 13, withPad: " ", startingAt: 0)
                      + " " + Self.right(seed, 5) + "  " + acc + String(format: "  %9d  ", f["snapshots"] as! Int)
                      + Self.right(formatBytes(f["bytes"] as! Int), 8) + "  " + date)
            }
        }
        if let plot { try overlay(entries).write(to: plot) }
    }

    static func right(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }

    /// Loss and accuracy of every history, one colour per history.
    private func overlay(_ entries: [Entry]) -> PlotFigure {
        var usable = entries.compactMap { e in e.curves.map { (URL(fileURLWithPath: e.path).deletingPathExtension().lastPathComponent, $0) } }
        // One x axis: when some runs count epochs, runs counted in steps (generative) are left out.
        let epochs = usable.contains { $0.1.epochs }
        let skipped = usable.filter { $0.1.epochs != epochs }.map(\.0)
        if !skipped.isEmpty { printErr("runs --plot: left out (counted in steps, not epochs): \(skipped.joined(separator: ", "))") }
        usable.removeAll { $0.1.epochs != epochs }
        var loss = LinePlot(title: "training loss (per-step values averaged in bins)", xLabel: epochs ? "epoch" : "step", yLabel: "loss")
        var acc = LinePlot(title: "test accuracy (validation where the run held one out)", xLabel: loss.xLabel, yLabel: "accuracy (%)")
        loss.integerX = epochs; acc.integerX = epochs
        loss.xIncludes = 0; acc.xIncludes = 0
        loss.yLimits.lo = 0; acc.yLimits = (0, 100)
        for (k, (name, c)) in usable.enumerated() {
            let color = LinePlot.colors[k % LinePlot.colors.count]
            // Thin the per-step loss further so that several histories stay readable.
            if let l = c.curves["loss"] ?? c.curves["g_loss"] {
                let bin = max(1, l.x.count / 200)
                let xs = stride(from: 0, to: l.x.count, by: bin).map { l.x[min(l.x.count - 1, $0 + bin - 1)] }
                let ys = stride(from: 0, to: l.y.count, by: bin).map { i in mean(Array(l.y[i..<min(l.y.count, i + bin)])) }
                loss.series.append(.init(name: name, x: xs, y: ys, color: color))
            }
            if let a = c.curves["val_accuracy"] ?? c.curves["test_accuracy"] {
                acc.series.append(.init(name: name, x: a.x, y: a.y.map { 100 * $0 }, color: color))
            }
        }
        return PlotFigure(title: "\(usable.count) histories", panels: acc.series.isEmpty ? [loss] : [loss, acc])
    }
}
