import ArgumentParser
import Foundation
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain

struct NTKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntk",
        abstract: "Neural-tangent-kernel quantities along a saved training run (Du et al. 2018).",
        discussion: """
        On the first --points training inputs of the run (rebuilt from the history's training JSON: \
        the teacher-student task from its seed, or the image set from --data-dir), for every snapshot: \
        the loss, λ_min(H(t)) and ‖H(t) − H(0)‖₂ of Du et al.'s Gram \
        H_ij = (1/m) Σ_r x_iᵀx_j 1[w_rᵀx_i ≥ 0, w_rᵀx_j ≥ 0] (one-hidden-layer ReLU networks: \
        dense → relu → dense, optionally scaled by --output-scale; biases enter the indicator), \
        λ_min and drift of the empirical tangent kernel K = J Jᵀ over all parameters (any dense \
        network), and the relative movement ‖W(t) − W(0)‖/‖W(0)‖ of the first layer and of all of θ. \
        Also the closed form H^∞_ij = x_iᵀx_j (π − θ_ij)/2π and λ₀ = λ_min(H^∞).

        Du et al.'s model f(W, a, x) = m^-1/2 Σ a_r relu(w_rᵀx) is trained by \
        `lpom train --layers m --activation relu --init ntk --output-scale …`.
        """)

    @Argument(help: "History file.")
    var history: String

    @OptionGroup var data: DataOptions

    @Option(parsing: .number, help: "Number of training inputs (the first N) the Gram matrices are taken on.")
    var points: Int = 100

    @Option(parsing: .number, help: "Analyse every k-th snapshot (the last one always).")
    var stride: Int = 1

    @Option(help: "Write an SVG plot of λ_min(H(t))/λ₀, ‖H(t) − H(0)‖₂/λ₀, ‖W(t) − W(0)‖/‖W(0)‖ and loss(t)/loss(0) against the step.")
    var plot: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard points >= 1 && points <= 5000 else { throw ValidationError("--points must be between 1 and 5000, got \(points)") }
        guard stride >= 1 else { throw ValidationError("--stride must be at least 1, got \(stride)") }
    }

    /// The training set the history was trained on, in Double.
    func trainingData(_ reader: HistoryReader) throws -> TensorDataset<Double> {
        let record = trainingRecord(reader)
        let set: TensorDataset<Float>
        if let sets = try regressionData(record: record, data: data, history: history) {
            set = sets.train
        } else if let name = record.imageSet {
            set = try data.load(name).train
        } else {
            throw CommandError("\(history): the training JSON names no data set this command can rebuild (teacher-student, mnist, fashion-mnist)")
        }
        let s = set.prefix(points)
        let x = Tensor<Double>(shape: s.inputs.shape, data: Double.fromFloats(s.inputs.data))
        if let t = s.targets {
            return TensorDataset(inputs: x, targets: Tensor(shape: t.shape, data: Double.fromFloats(t.data)), labels: s.labels)
        }
        return TensorDataset(inputs: x, labels: s.labels)
    }

    /// Reads the history and measures every analysed snapshot.
    func analyse() throws -> (analysis: NTKAnalysis, spec: ModelSpec, points: Int) {
        let reader = try HistoryReader(path: history)
        defer { reader.close() }
        let net = try Network<Double>.load(from: reader, snapshot: 0, extensions: layerExtensions)   // checks the model against the file
        let spec = net.spec
        let set = try trainingData(reader)
        guard set.inputs.cols == spec.inputShape.reduce(1, *) else {
            throw CommandError("\(history): the model takes \(spec.inputShape) inputs but the data have \(set.inputs.cols)")
        }
        let loss = trainingRecord(reader).loss.flatMap(LossKind.init(rawValue:)) ?? .crossEntropy
        let analysis = try NTKAnalysis(inputs: set.inputs, targets: set.targets, labels: set.labels, loss: loss)
        let t = reader.snapshotCount
        var indices = Array(Swift.stride(from: 0, to: t, by: self.stride))
        if indices.last != t - 1 { indices.append(t - 1) }
        let bar = ProgressBar(total: indices.count, unit: "snapshot", quiet: output.quiet || output.json)
        for (done, k) in indices.enumerated() {
            try reader.load(snapshot: k, into: net)
            try analysis.add(step: reader.snapshotSteps[k], network: net)
            bar.update(done + 1)
        }
        bar.clear()
        return (analysis, spec, set.count)
    }

    func run() throws {
        let (analysis, spec, points) = try analyse()
        let rows = analysis.rows
        let lambda0 = analysis.lambda0
        let du = analysis.isOneHiddenReLU
        let width = spec.layers.first { $0.type == "dense" }?.out ?? 0
        let stays = du ? rows.allSatisfy { $0.lambdaMinH >= lambda0 / 2 } : false
        if let plot { try makePlot(rows, lambda0: lambda0, du: du, width: width).write(to: plot) }
        func num(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        if output.json {
            var obj: [String: Any] = ["history": history, "points": points, "lambda0": num(lambda0),
                                      "one_hidden_relu": du, "width": width]
            if du {
                obj["lambda_min_H0"] = num(rows.first?.lambdaMinH ?? .nan)
                obj["distance_H0_Hinf"] = num(analysis.distanceH0FromInfinity)
                obj["lambda_min_H_stays_above_half_lambda0"] = stays
                obj["max_distance_H"] = num(rows.map(\.distanceH).max() ?? .nan)
            }
            obj["max_weight_movement"] = num(rows.map(\.weightMovement).max() ?? .nan)
            obj["snapshots"] = rows.map { r -> [String: Any] in
                ["step": r.step, "loss": num(r.loss), "lambda_min_H": num(r.lambdaMinH), "distance_H": num(r.distanceH),
                 "lambda_min_K": num(r.lambdaMinKernel), "distance_K": num(r.distanceKernel),
                 "weight_movement": num(r.weightMovement), "parameter_movement": num(r.parameterMovement)]
            }
            printJSON(obj)
            return
        }
        print("history \(history): \(describe(spec)), \(points) points")
        print(String(format: "H^∞: λ₀ = λ_min(H^∞) = %.6g", lambda0))
        if du {
            print(String(format: "H(0): λ_min = %.6g, ‖H(0) − H^∞‖₂ = %.4g (m = %d)", rows.first?.lambdaMinH ?? .nan,
                         analysis.distanceH0FromInfinity, width))
            print("λ_min(H(t)) ≥ λ₀/2 at every analysed snapshot: \(stays ? "yes" : "no")")
        } else {
            print("not a one-hidden-layer ReLU network: Du et al.'s H is not computed (the empirical kernel K = J Jᵀ is)")
        }
        print("\n  step          loss   λmin(H)  λmin(H)/λ₀  ‖H−H0‖₂   λmin(K)   ‖K−K0‖₂  ‖W−W0‖/‖W0‖  ‖θ−θ0‖/‖θ0‖")
        for r in rows {
            print(String(format: "%6d  %12.5g  %8.4g  %10.4g  %8.3g  %8.4g  %8.3g  %11.4g  %11.4g", r.step, r.loss, r.lambdaMinH,
                         r.lambdaMinH / lambda0, r.distanceH, r.lambdaMinKernel, r.distanceKernel, r.weightMovement, r.parameterMovement))
        }
    }

    private func makePlot(_ rows: [NTKSnapshot], lambda0: Double, du: Bool, width: Int) -> LinePlot {
        var p = LinePlot(title: "NTK along \(URL(fileURLWithPath: history).lastPathComponent) (m = \(width))",
                         xLabel: "step", yLabel: "ratio")
        let x = rows.map { Double($0.step) }
        if du {
            p.series.append(.init(name: "λmin(H(t))/λ₀", x: x, y: rows.map { $0.lambdaMinH / lambda0 }))
            p.series.append(.init(name: "½ (λ₀/2 bound)", x: x, y: rows.map { _ in 0.5 }))
            p.series.append(.init(name: "‖H(t)−H(0)‖₂/λ₀", x: x, y: rows.map { $0.distanceH / lambda0 }))
        } else if let k0 = rows.first?.lambdaMinKernel, k0 > 0 {
            p.series.append(.init(name: "λmin(K(t))/λmin(K(0))", x: x, y: rows.map { $0.lambdaMinKernel / k0 }))
        }
        p.series.append(.init(name: "‖W(t)−W(0)‖/‖W(0)‖", x: x, y: rows.map(\.weightMovement)))
        if let l0 = rows.first?.loss, l0 > 0 {
            p.series.append(.init(name: "loss(t)/loss(0)", x: x, y: rows.map { $0.loss / l0 }))
        }
        return p
    }
}
