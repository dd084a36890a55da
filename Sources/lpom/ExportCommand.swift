import ArgumentParser
import Foundation
import HistoryStore
import LiftedTrain
import Surfing

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a snapshot as safetensors (PyTorch state_dict names), the metrics as CSV, or generator samples.",
        discussion: """
        The safetensors file holds every parameter and buffer of the snapshot and, for each batch-norm \
        layer, `<name>.num_batches_tracked` (int64, the snapshot's step), so that \
        `module.load_state_dict(safetensors.torch.load_file(FILE))` loads strictly into the module \
        `lpom_history.build_model` builds; its metadata holds the model JSON, the step and the history.

        Examples:
          lpom export run.h5 --output final.safetensors
          lpom export run.h5 --snapshot 0 --output init.safetensors --metrics curves.csv
          lpom export gan.h5 --samples samples.safetensors --sample-count 64 --seed 1
        """)

    @Argument(help: "History file.")
    var history: String

    @Option(parsing: .number, help: "Snapshot index: 0 is θ_0, -1 (default) the final θ, -2 the one before …")
    var snapshot: Int = -1

    @Option(name: [.short, .long], help: "Write the snapshot to this safetensors file.")
    var output: String?

    @Option(help: "Write every metric to this CSV file: a `step` column, one column per metric, empty where not recorded.")
    var metrics: String?

    @Option(help: "Generator histories: write latents x (tensor `latent` [n, k], drawn from the run's prior) and G(x) in eval mode (tensor `output` [n, *output shape]) of the snapshot to this safetensors file.")
    var samples: String?

    @Option(parsing: .number, help: "Number of latents for --samples.")
    var sampleCount: Int = 16

    @Option(parsing: .number, help: "Seed of the latents for --samples.")
    var seed: UInt64 = 0

    func validate() throws {
        guard output != nil || metrics != nil || samples != nil else {
            throw ValidationError("nothing to export: give --output FILE.safetensors, --metrics FILE.csv or --samples FILE.safetensors")
        }
        guard sampleCount >= 1 && sampleCount <= 100_000 else { throw ValidationError("--sample-count must be in 1…100000, got \(sampleCount)") }
    }

    func run() throws {
        let reader = try HistoryReader(path: history)
        defer { reader.close() }
        let t = reader.snapshotCount
        let k = snapshot < 0 ? t + snapshot : snapshot
        guard k >= 0 && k < t else {
            throw CommandError("--snapshot \(snapshot) is outside the \(t) snapshots of \(history) (0 … \(t - 1), or -1 … -\(t) from the end)")
        }
        if let output { try exportSnapshot(reader, k, to: output) }
        if let metrics { try exportMetrics(reader, to: metrics) }
        if let samples { try exportSamples(reader, k, to: samples) }
    }

    private func exportSnapshot(_ reader: HistoryReader, _ k: Int, to path: String) throws {
        let snap = try reader.snapshot(k)
        let step = reader.snapshotSteps[k]
        var st = SafeTensorsWriter()
        for name in reader.parameterShapes.keys.sorted(by: naturalOrder) {
            st.add(name, shape: reader.parameterShapes[name]!, snap.parameters[name] ?? [])
        }
        for name in reader.bufferShapes.keys.sorted(by: naturalOrder) {
            st.add(name, shape: reader.bufferShapes[name]!, snap.buffers[name] ?? [])
            if name.hasSuffix(".running_mean") {
                st.add(String(name.dropLast(".running_mean".count)) + ".num_batches_tracked", shape: [], [Int64(step)])
            }
        }
        st.metadata = ["format": "pt", "lpom_model": reader.model, "lpom_history": history,
                       "lpom_snapshot": String(k), "lpom_step": String(step)]
        try st.write(to: path)
        print("snapshot \(k) (step \(step)) of \(history) → \(path) (\(reader.parameterShapes.count) parameters, \(reader.bufferShapes.count) buffers)")
    }

    private func exportMetrics(_ reader: HistoryReader, to path: String) throws {
        let steps = try reader.metricSteps()
        let names = reader.metricNames.sorted(by: naturalOrder)
        let columns = try names.map { try reader.metric($0) }
        var text = (["step"] + names).joined(separator: ",") + "\n"
        for (i, s) in steps.enumerated() {
            var row = [String(s)]
            for c in columns {
                let v = i < c.count ? c[i] : .nan
                row.append(v.isFinite ? "\(v)" : (v.isNaN ? "" : (v > 0 ? "inf" : "-inf")))
            }
            text += row.joined(separator: ",") + "\n"
        }
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw CommandError("\(path): cannot write the CSV file (\(error.localizedDescription))")
        }
        print("\(steps.count) rows × \(names.count) metrics of \(history) → \(path)")
    }

    private func exportSamples(_ reader: HistoryReader, _ k: Int, to path: String) throws {
        let record = trainingRecord(reader)
        let network = try loadNetwork(from: reader, snapshot: k)
        let latent = network.inputSize
        let prior = record.latentPrior.flatMap(LatentDistribution.init(rawValue:))
            ?? LatentDistribution.prior(forTrainingMethod: record.method)
        var rng = SplitMix64(seed: seed)
        let x: Tensor<Float> = prior == .normal
            ? .randomNormal(shape: [sampleCount, latent], std: 1, using: &rng)
            : .randomUniform(shape: [sampleCount, latent], lo: -1, hi: 1, using: &rng)
        let y = network.forward(x, training: false)
        var st = SafeTensorsWriter()
        st.add("latent", shape: [sampleCount] + network.spec.inputShape, x.data)
        st.add("output", shape: [sampleCount] + network.outputShape, y.data)
        st.metadata = ["lpom_history": history, "lpom_snapshot": String(k), "lpom_step": String(reader.snapshotSteps[k]),
                       "prior": prior.rawValue, "seed": String(seed)]
        try st.write(to: path)
        print("\(sampleCount) latents (\(prior.rawValue) prior, seed \(seed)) and G(x) of snapshot \(k) of \(history) → \(path)")
    }
}
