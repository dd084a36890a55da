import ArgumentParser
import Foundation
import ImageData
import LiftedTrain

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train the LPOM paper's MNIST networks with SGD, LPOM and the lifted methods and tabulate them beside the published numbers.",
        discussion: """
        Networks (hidden layers): 300; 300-100; 500-150; 500-200-100; 400-200-100-50 (Li, Fang, Lin, AAAI 2019, \
        table of MNIST accuracies, with Askari et al. 2018). Every run is an ordinary `lpom train` run whose \
        history lands in --runs-dir; --sgd-args and --lpom-args pass further `lpom train` options.

        Settings are chosen on validation, test once: every run holds out the last --validation \
        (10000) training images, and the table reports accuracy on them. The test set is evaluated \
        once per run, after its last epoch, and printed only with --report-test, in a section of its own.

        Example: lpom compare --epochs 10 --seeds 0,1,2 --plot runs/compare.svg
        """)

    /// Published MNIST test accuracies (%) from the LPOM slides (Li, Fang, Lin, AAAI 2019).
    static let published: [String: (askari: Double, lpom: Double)] = [
        "300": (89.8, 97.7), "300,100": (87.5, 96.9), "500,150": (86.5, 97.1),
        "500,200,100": (85.3, 96.2), "400,200,100,50": (77.0, 96.1),
    ]
    static let paperNetworks = ["300", "300,100", "500,150", "500,200,100", "400,200,100,50"]

    @Option(help: "Data set.")
    var dataset: DatasetName = .mnist

    @OptionGroup var data: DataOptions

    @Option(parsing: .number, help: "Networks to train, as hidden widths separated by ';' (default: the paper's five).")
    var networks: String = CompareCommand.paperNetworks.joined(separator: ";")

    @Option(help: "Methods, comma-separated (sgd, adam, lpom; the full-batch lifted methods admm, bcd, penalty, askari).")
    var methods: String = "sgd,lpom"

    @Option(parsing: .number, help: "Epochs per run.")
    var epochs: Int = 10

    @Option(parsing: .number, help: "Seeds, comma-separated; each network and method is trained once per seed.")
    var seeds: String = "0"

    @Option(help: "Folder for the runs' histories.")
    var runsDir: String = "runs/compare"

    // The extra options start with a dash: .unconditional takes them as the value.
    @Option(parsing: .unconditional, help: "Extra `lpom train` options for the SGD runs (one string, e.g. \"--lr 0.05\").")
    var sgdArgs: String = ""

    @Option(parsing: .unconditional, help: "Extra `lpom train` options for the Adam runs.")
    var adamArgs: String = ""

    @Option(parsing: .unconditional, help: "Extra `lpom train` options for the LPOM runs (e.g. \"--mu 5 --apg-iterations 3\").")
    var lpomArgs: String = ""

    @Option(parsing: .unconditional, help: "Extra `lpom train` options for the lifted runs (admm, bcd, penalty, askari; their flags name their method, e.g. \"--admm-gamma 5 --askari-lambda 2\").")
    var liftedArgs: String = ""

    @Option(parsing: .number, help: "Snapshot interval of every run.")
    var snapshotEvery: Int = 100

    @Option(help: "Write an SVG plot of the validation-accuracy curves (test accuracy with --validation 0).")
    var plot: String?

    @Flag(help: "Also report each setting's test accuracy (evaluated once per run, at the end), in a separate section.")
    var reportTest = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard snapshotEvery >= 0 else { throw ValidationError("--snapshot-every must be ≥ 0, got \(snapshotEvery)") }
        if holdOut == 0 && !reportTest {
            throw ValidationError("--validation 0 leaves only the test set to report; add --report-test, or hold out images to choose on (default --validation 10000)")
        }
        for n in networkList where (try? parseLayers(n)) == nil || n.isEmpty {
            throw ValidationError("--networks takes hidden widths separated by ';', layers by '-' or ',' (e.g. \"300;300-100\"); '\(n.replacingOccurrences(of: ",", with: "-"))' in '\(networks)' is not one")
        }
        for m in methodList where TrainMethod(rawValue: m) == nil {
            throw ValidationError("--methods: unknown method '\(m)' (sgd, adam, lpom, admm, bcd, penalty, askari)")
        }
        _ = try seedList()
    }

    var networkList: [String] {
        networks.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: ",") }
    }
    var methodList: [String] { methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    func seedList() throws -> [UInt64] {
        try seeds.split(separator: ",").map {
            guard let s = UInt64($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds takes integers, got '\($0)'") }
            return s
        }
    }

    func extraArgs(_ method: String) -> [String] {
        let s = method == "sgd" ? sgdArgs : method == "adam" ? adamArgs : method == "lpom" ? lpomArgs : liftedArgs
        return s.split(separator: " ").map(String.init)
    }

    /// Held-out training images of every run (`--validation`, default 10000).
    var holdOut: Int { data.validation ?? 10_000 }
    /// What the table reports and the plot shows: validation accuracy, or test accuracy with --validation 0.
    var measured: String { holdOut > 0 ? "validation" : "test" }
    func accuracy(_ s: RunSummary) -> Double? { holdOut > 0 ? s.validationAccuracy : s.testAccuracy }

    func run() throws {
        let results = try trainAll()
        if let plot { try curves(results).write(to: plot) }
        if output.json { return printJSON(try json(results)) }
        print(table(results), terminator: "")
    }

    /// Trains every network, method and seed; the summaries by network and method.
    func trainAll() throws -> [String: [String: [RunSummary]]] {
        var results: [String: [String: [RunSummary]]] = [:]
        let runs = networkList.count * methodList.count * (try seedList()).count
        var k = 0
        for net in networkList {
            for m in methodList {
                for seed in try seedList() {
                    k += 1
                    let tag = net.replacingOccurrences(of: ",", with: "-")
                    var argv = ["--method", m, "--dataset", dataset.rawValue, "--layers", net, "--epochs", "\(epochs)",
                                "--seed", "\(seed)", "--history", "\(runsDir)/\(m)-\(dataset.rawValue)-\(tag)-s\(seed).h5",
                                "--overwrite", "--snapshot-every", "\(snapshotEvery)", "--validation", "\(holdOut)", "--quiet"]
                    if let d = data.dataDir { argv += ["--data-dir", d] }
                    if data.trainLimit > 0 { argv += ["--train-limit", "\(data.trainLimit)"] }
                    argv += extraArgs(m)
                    if !output.quiet { printErr("[\(k)/\(runs)] lpom train \(argv.joined(separator: " "))") }
                    let cmd = try TrainCommand.parse(argv)
                    PeakMemory.reset()
                    let s = try cmd.perform(recording: argv)
                    if !output.quiet {
                        let test = reportTest && holdOut > 0 ? String(format: "; test accuracy %.2f%%", 100 * (s.testAccuracy ?? .nan)) : ""
                        printErr(String(format: "        %@ accuracy %.2f%%%@, %.1f s", measured, 100 * (accuracy(s) ?? .nan), test, s.seconds))
                    }
                    results[net, default: [:]][m, default: []].append(s)
                }
            }
        }
        return results
    }

    /// `--json`: per network and method the accuracies of every seed (validation, or test with
    /// --validation 0), and the test accuracies only with --report-test.
    func json(_ results: [String: [String: [RunSummary]]]) throws -> [String: Any] {
        var rows: [[String: Any]] = []
        for net in networkList {
            var row: [String: Any] = ["hidden": net]
            if let p = CompareCommand.published[net], dataset == .mnist {
                row["published_askari"] = p.askari; row["published_lpom"] = p.lpom
            }
            for m in methodList {
                let rs = results[net]?[m] ?? []
                let acc = rs.compactMap(accuracy).map { 100 * $0 }
                var cell: [String: Any] = ["accuracies": acc, "mean": mean(acc), "sd": sd(acc), "measured": measured,
                                           "seconds_per_epoch": mean(rs.map { $0.seconds / Double($0.epochs) }),
                                           "peak_memory_mb": rs.compactMap(\.peakMemoryMB).max() ?? NSNull()]
                if reportTest {
                    let test = rs.compactMap(\.testAccuracy).map { 100 * $0 }
                    cell["test"] = ["accuracies": test, "mean": mean(test), "sd": sd(test)]
                }
                row[m] = cell
            }
            rows.append(row)
        }
        return ["dataset": dataset.rawValue, "epochs": epochs, "seeds": try seedList(), "validation": holdOut, "networks": rows]
    }

    /// One row per network: the measured accuracy per method, then, with --report-test, the
    /// test accuracies in a section of their own.
    func table(_ results: [String: [String: [RunSummary]]]) -> String {
        var out = ""
        func print(_ line: String) { out += line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n" }
        func cells(_ value: (RunSummary) -> Double?, seconds: Bool) {
            for net in networkList {
                var line = net.replacingOccurrences(of: ",", with: "-").padding(toLength: 18, withPad: " ", startingAt: 0)
                if dataset == .mnist && seconds {
                    let p = CompareCommand.published[net]
                    line += p.map { String(format: " %8.1f%%  %9.1f%%", $0.askari, $0.lpom) } ?? String(repeating: " ", count: 21)
                }
                for m in methodList {
                    let rs = results[net]?[m] ?? []
                    let acc = rs.compactMap(value).map { 100 * $0 }
                    line += "  " + String(format: "%6.2f ± %4.2f (%6.2f)", mean(acc), sd(acc), acc.min() ?? .nan)
                        .padding(toLength: 24, withPad: " ", startingAt: 0)
                    if seconds {
                        line += String(format: " %7.1f %6.0f", mean(rs.map { $0.seconds / Double($0.epochs) }), rs.compactMap(\.peakMemoryMB).max() ?? .nan)
                    }
                }
                print(line)
            }
        }
        var header = "hidden layers     "
        if dataset == .mnist { header += " Askari'18  LPOM paper" }
        for m in methodList { header += "  " + "\(m) mean ± sd (min)".padding(toLength: 24, withPad: " ", startingAt: 0) + " s/epoch peakMB" }
        print(header)
        cells(accuracy, seconds: true)
        let held = holdOut > 0 ? "validation accuracy in % on the last \(holdOut) training images" : "test accuracy in % on the test set"
        print("\(dataset.rawValue), \(epochs) epochs, seeds \(seeds); \(held)" + (dataset == .mnist ? " (published: test accuracy)" : ""))
        print("peakMB: the process's peak resident memory during the run (data sets included; runs in one process share it, see PeakMemory)")
        if methodList.contains(where: { TrainMethod(rawValue: $0)?.lifted != nil }) {
            print("lifted methods (admm, bcd, penalty, askari) are full-batch: an epoch is one iteration on the whole training set")
        }
        print("\n\(measured) accuracy in % per seed (\(seeds))")
        for net in networkList {
            for m in methodList {
                let acc = (results[net]?[m] ?? []).map { String(format: "%6.2f", 100 * (accuracy($0) ?? .nan)) }
                print(net.replacingOccurrences(of: ",", with: "-").padding(toLength: 18, withPad: " ", startingAt: 0)
                      + m.padding(toLength: 6, withPad: " ", startingAt: 0) + acc.joined(separator: "  "))
            }
        }
        guard reportTest && holdOut > 0 else { return out }
        print("\nTEST accuracy in %, evaluated once per run after its last epoch (report only; choose settings on validation)")
        print("hidden layers     " + methodList.map { "  " + "\($0) mean ± sd (min)".padding(toLength: 24, withPad: " ", startingAt: 0) }.joined())
        cells(\.testAccuracy, seconds: false)
        return out
    }

    private func curves(_ results: [String: [String: [RunSummary]]]) -> LinePlot {
        var p = LinePlot(title: "\(measured.capitalized) accuracy per epoch, \(dataset.rawValue)", xLabel: "epoch", yLabel: "\(measured) accuracy (%)")
        p.integerX = true
        p.yLimits = (0, 100)
        for net in networkList {
            for m in methodList {
                guard let first = results[net]?[m]?.first else { continue }
                p.series.append(.init(name: "\(m) \(net.replacingOccurrences(of: ",", with: "-"))",
                                      x: first.rows.map { Double($0.epoch) },
                                      y: first.rows.map { 100 * (holdOut > 0 ? $0.valAccuracy : $0.testAccuracy) }))
            }
        }
        return p
    }
}

func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
func sd(_ v: [Double]) -> Double {
    guard v.count > 1 else { return 0 }
    let m = mean(v)
    return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
}
