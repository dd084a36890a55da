import ArgumentParser
import Foundation
import HistoryStore
import LiftedTrain
import Surfing

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a history holds: model, method, snapshots, curves, parameter norms.")

    @Argument(help: "History file, or an `lpom surf --checkpoint` directory (shows how far that run has got).")
    var history: String

    @Option(help: "Write an SVG plot: one panel of the losses (training loss per step, validation and test loss per epoch), one of the accuracies in % (training batch, validation, test), over epochs.")
    var plot: String?

    @Flag(help: "List a history whose model does not match its parameters (refused otherwise), marked UNCHECKED.")
    var unchecked = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: history, isDirectory: &isDirectory), isDirectory.boolValue {
            return try inspectCheckpoint()
        }
        let reader = try HistoryReader(path: history)
        defer { reader.close() }
        // The check `lpom eval` makes before reading a snapshot: a file whose model and
        // parameters disagree is refused, or with --unchecked shown with the problem named.
        var problem: String? = nil
        do { try checkModel(of: reader) } catch let e as ModelError {
            guard unchecked else { throw CommandError("\(e.description) (lpom inspect --unchecked lists it anyway)") }
            problem = e.description
        }
        let spec = try? ModelSpec.parse(reader.model)
        let record = trainingRecord(reader)
        let steps = reader.snapshotSteps
        // Parameter norms at θ_0 and the final θ, and how far the run moved them.
        var params: [[String: Any]] = []
        var total = 0
        let (theta0, thetaT) = steps.isEmpty ? (nil, nil) : (try reader.snapshot(0), try reader.snapshot(-1))
        for name in reader.parameterShapes.keys.sorted(by: naturalOrder) {
            let shape = reader.parameterShapes[name] ?? []
            total += shape.reduce(1, *)
            var row: [String: Any] = ["name": name, "shape": shape]
            if let first = theta0?.parameters[name], let last = thetaT?.parameters[name] {
                let n0 = norm(first), n1 = norm(last)
                let d = norm(zip(first, last).map { $0.1 - $0.0 })
                row["norm_initial"] = n0
                row["norm_final"] = n1
                row["relative_change"] = n0 > 0 ? d / n0 : d
            }
            params.append(row)
        }
        var metrics: [String: Any] = [:]
        for m in reader.metricNames {
            let v = (try? reader.metric(m)) ?? []
            let finite = v.filter { $0.isFinite }
            var d: [String: Any] = ["rows": finite.count]
            if let l = finite.last, let lo = finite.min(), let hi = finite.max() { d["last"] = l; d["min"] = lo; d["max"] = hi }
            metrics[m] = d
        }
        if let plot { try makePlot(reader: reader, record: record).write(to: plot) }
        let training = (try? JSONSerialization.jsonObject(with: Data(record.json().utf8))) as? [String: Any] ?? [:]
        // The final network's digest, as `lpom surf` checkpoints name the generator
        // (SurfSetup.finalNetworkDigest): two histories with equal digests hold bit-identical
        // final networks (the sweep compares a generator trained again with the one its results
        // were computed on).
        // (A report: a history whose final network cannot be loaded is still inspected, without it.)
        let digest: String? = problem != nil || steps.isEmpty ? nil
            : try? SurfSetup.finalNetworkDigest(reader, loadNetwork(from: reader, snapshot: -1))
        if output.json {
            var object: [String: Any] = ["history": history, "created_by": reader.createdBy, "model": (try? JSONSerialization.jsonObject(with: Data(reader.model.utf8))) ?? reader.model,
                       "training": training, "provenance": training["provenance"] ?? [], "snapshots": steps.count, "snapshot_steps": steps,
                       "parameters": params, "parameter_count": total, "metrics": metrics, "checked": problem == nil]
            if let problem { object["problem"] = problem }
            if let digest { object["final_network_digest"] = digest }
            printJSON(object)
            return
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: history)[.size] as? Int) ?? 0
        if let problem { print("UNCHECKED: \(problem)") }
        print("history   \(history) (\(formatBytes(size))), created by \(reader.createdBy)")
        let model = spec.map(describe) ?? "(model JSON does not parse)"
        print("model     \(problem == nil ? "" : "UNCHECKED ")\(model)  (\(total.formatted()) parameters\(problem == nil ? "" : " in the file"))")
        let hp = (record.hyperparameters ?? [:]).sorted { $0.key < $1.key }.map { String(format: "%@ %g", $0.key, $0.value) }.joined(separator: ", ")
        let keys = ["method", "dataset", "seed", "epochs", "batch_size", "loss", "validation"]
        print("training  " + keys.compactMap { k in training[k].map { "\(k) \($0)" } }.joined(separator: ", "))
        if !hp.isEmpty { print("          \(hp)") }
        do { _ = try reader.trainingRecord() } catch { print("          \(error)") }
        if let f = steps.first, let l = steps.last {
            print("snapshots \(steps.count), steps \(f) … \(l)")
            if let digest { print("final θ   digest \(digest) (SHA-256 of its parameters and buffers: equal digests, bit-identical networks)") }
        } else {
            print("snapshots none")
        }
        let epochSeconds = reader.metricNames.contains("epoch_seconds") ? (try? reader.metric("epoch_seconds")) ?? [] : []
        for line in provenanceLines(record, epochSeconds: epochSeconds) { print(line) }
        if !metrics.isEmpty {
            print("\nmetric                          rows          last           min           max")
            for m in reader.metricNames.sorted(by: naturalOrder) {
                guard let d = metrics[m] as? [String: Any] else { continue }
                func f(_ x: Any?) -> String { (x as? Double).map { String(format: "%13.6g", $0) } ?? String(repeating: " ", count: 12) + "–" }
                print(m.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%6d", d["rows"] as? Int ?? 0) + " " + f(d["last"]) + " " + f(d["min"]) + " " + f(d["max"]))
            }
        }
        print("\nparameter              shape          ‖θ_0‖      ‖θ_T‖   ‖θ_T−θ_0‖/‖θ_0‖")
        for p in params {
            let shape = (p["shape"] as? [Int] ?? []).map(String.init).joined(separator: "×")
            print((p["name"] as! String).padding(toLength: 22, withPad: " ", startingAt: 0) + " " +
                  shape.padding(toLength: 12, withPad: " ", startingAt: 0) +
                  String(format: " %10.4g %10.4g %12.4g", p["norm_initial"] as? Double ?? .nan,
                         p["norm_final"] as? Double ?? .nan, p["relative_change"] as? Double ?? .nan))
        }
    }

    /// Losses on one panel, accuracies (in %) on another, over epochs when the run counts them.
    private func makePlot(reader: HistoryReader, record: TrainingRecord) throws -> PlotFigure {
        let c = try HistoryCurves(reader: reader, record: record)
        let names = c.curves.keys.sorted(by: naturalOrder)
        let losses = names.filter(HistoryCurves.isLoss), accuracies = names.filter { $0.hasSuffix("accuracy") }
        var panels = [c.panel(losses, title: "loss", accuracy: false)]
        if !accuracies.isEmpty { panels.append(c.panel(accuracies, title: "accuracy", accuracy: true)) }
        return PlotFigure(title: URL(fileURLWithPath: history).lastPathComponent, panels: panels)
    }
}

/// "layers.2.weight" after "layers.10.weight"? No: numbers compare as numbers.
func naturalOrder(_ a: String, _ b: String) -> Bool {
    a.compare(b, options: .numeric) == .orderedAscending
}

func norm(_ v: [Float]) -> Double {
    v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
}

func formatBytes(_ n: Int) -> String {
    if n >= 1 << 30 { return String(format: "%.1f GiB", Double(n) / 1_073_741_824) }
    if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / 1_048_576) }
    if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / 1024) }
    return "\(n) B"
}

/// "784 → dense 300 → relu → dense 10".
func describe(_ spec: ModelSpec) -> String {
    var parts = [spec.inputShape.map(String.init).joined(separator: "×")]
    for l in spec.layers {
        if l.type == "dense", let o = l.out { parts.append("dense \(o)") } else { parts.append(l.type) }
    }
    return parts.joined(separator: " → ")
}

extension InspectCommand {
    /// `lpom inspect DIR` on a `lpom surf --checkpoint` directory: how far the run has got (the
    /// chunks' final-network steps and trials not stopped yet, or surfing's last finished
    /// intermediate network), its time so far, the split it was saved with and its identity.
    /// Files being written by the run are safe to read: lpom writes beside them and renames.
    func inspectCheckpoint() throws {
        let c: CheckpointSummary
        do { c = try InversionCheckpoint.summary(of: history) } catch let e as CheckpointError {
            // A folder of histories rather than a checkpoint: point at the command that lists them.
            let names = (try? FileManager.default.contentsOfDirectory(atPath: history)) ?? []
            let hint = names.contains { $0.hasSuffix(".h5") } ? " (a folder of histories? `lpom runs \(history)` lists them)" : ""
            throw CommandError(e.description + hint)
        }
        if output.json {
            var object: [String: Any] = [
                "checkpoint": history, "progress": c.progress,
                "chunks": c.chunks.map { ["rows": [$0.firstRow, $0.endRow], "step": $0.step, "not_stopped": $0.notStopped] },
                "problems": c.problems]
            if let f = c.fingerprint { object["fingerprint"] = f }
            if let w = c.workers, let b = c.batchSize { object["workers"] = w; object["batch_size"] = b }
            if let p = c.phase, let n = c.phases { object["phase"] = p; object["phases"] = n }
            if let t = c.time { object["seconds"] = t.seconds; object["cpu_seconds"] = t.cpuSeconds }
            printJSON(object)
            return
        }
        print("checkpoint \(history) (lpom surf --checkpoint)")
        print("progress   \(c.progress)")
        if c.chunks.count > 1 {
            for k in c.chunks { print("           rows \(k.firstRow)..<\(k.endRow): step \(k.step.formatted()), \(k.notStopped) not stopped") }
        }
        if let t = c.time { print(String(format: "time       %.1f CPU min, %.1f min wall so far (all invocations)", t.cpuSeconds / 60, t.seconds / 60)) }
        if let w = c.workers, let b = c.batchSize { print("split      \(w) worker(s) (--threads), batches of \(b): continue it with the same --threads") }
        if let f = c.fingerprint { print("run        " + (f.count > 200 ? String(f.prefix(200)) + "…" : f)) }
        for p in c.problems { print("problem    \(p)") }
    }
}
