import Foundation
import HistoryStore

/// The recorded curves of one history on an epoch axis when the run counts epochs (its
/// `steps_per_epoch`), else on the step axis; per-step curves thinned to at most ~1000 points by
/// averaging within bins.
struct HistoryCurves {
    let xLabel: String
    /// Whether x counts epochs (ticks on whole numbers).
    let epochs: Bool
    /// (x, y) of every metric with at least one finite value, by name.
    let curves: [String: (x: [Double], y: [Double])]

    init(reader: HistoryReader, record: TrainingRecord) throws {
        let steps = try reader.metricSteps()
        let spe = record.stepsPerEpoch.flatMap { $0 > 0 ? Double($0) : nil }
        epochs = spe != nil
        xLabel = spe != nil ? "epoch" : "step"
        var out: [String: (x: [Double], y: [Double])] = [:]
        for name in reader.metricNames {
            let v = try reader.metric(name)
            let pairs = zip(steps, v).filter { $0.1.isFinite }
            guard !pairs.isEmpty else { continue }
            let bin = max(1, pairs.count / 1000)
            var xs: [Double] = [], ys: [Double] = []
            var i = 0
            while i < pairs.count {
                let chunk = pairs[i..<min(pairs.count, i + bin)]
                xs.append(Double(chunk.last!.0) / (spe ?? 1))
                ys.append(chunk.map(\.1).reduce(0, +) / Double(chunk.count))
                i += bin
            }
            out[name] = (xs, ys)
        }
        curves = out
    }

    /// Metric names drawn on the loss panel (losses and the generative runs' objectives).
    static func isLoss(_ name: String) -> Bool {
        name.hasSuffix("loss") || ["wasserstein", "recon", "kl", "gradient_penalty"].contains(name)
    }

    /// A legend name for a metric: "loss" → "train loss (batch)", "test_accuracy" → "test accuracy".
    static func label(_ name: String) -> String {
        (name == "loss" || name == "accuracy") ? "train \(name) (batch)" : name.replacingOccurrences(of: "_", with: " ")
    }

    /// A panel of the given metrics (accuracies in %, within 0…100).
    func panel(_ names: [String], title: String, accuracy: Bool, label: (String) -> String = HistoryCurves.label) -> LinePlot {
        var p = LinePlot(title: title, xLabel: xLabel, yLabel: accuracy ? "accuracy (%)" : "loss")
        p.integerX = epochs
        p.xIncludes = 0
        p.yLimits = accuracy ? (0, 100) : (nil, nil)
        for n in names {
            guard let c = curves[n] else { continue }
            p.series.append(.init(name: label(n), x: c.x, y: accuracy ? c.y.map { 100 * $0 } : c.y))
        }
        return p
    }
}
