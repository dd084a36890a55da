import Foundation
import HistoryStore
import LiftedTrain

/// Rebuilding networks from history files alone.
extension Network {
    /// The network described by the history's `model` JSON, with fresh parameters, after
    /// checking that every parameter and buffer it needs is in the file (`/theta/<name>`,
    /// `/buffers/<name>`) with the shape it needs. No snapshot is read. What `load` checks before
    /// reading values, and what `lpom inspect` checks before describing a file. Throws a one-line
    /// `ModelError` naming the file and the problem. Layer types defined outside `LiftedTrain`
    /// are built by `extensions` (e.g. `[ArchFromOpt.layers]`); the network runs under `context`.
    public static func checked(against reader: HistoryReader, extensions: [any LayerExtension] = [],
                               context: ComputeContext = .serial) throws -> Network<Scalar> {
        let spec: ModelSpec
        do { spec = try ModelSpec.parse(reader.model) } catch let e as ModelError {
            throw ModelError("\(reader.path): \(e.description)")
        }
        // Before building (which allocates every weight): a model whose declared layer sizes need
        // more weights than the file holds values cannot match it, however large it claims to be.
        let held = reader.parameterShapes.values.reduce(0) { saturatingAdd($0, $1.reduce(1, saturatingMultiply)) }
        let needed = declaredWeightCount(spec.layers)
        guard needed <= held else {
            throw ModelError("\(reader.path): the model's layer sizes need at least \(needed) weights but /theta holds \(held) values")
        }
        var rng = SplitMix64(seed: 0)
        let network: Network<Scalar>
        do { network = try Network<Scalar>(spec: spec, context: context, extensions: extensions, rng: &rng) } catch let e as ModelError {
            throw ModelError("\(reader.path): \(e.description)")
        }
        for (name, shape) in network.parameters.shapes {
            guard let fileShape = reader.parameterShapes[name] else {
                throw ModelError("\(reader.path): the model needs parameter '\(name)' but /theta/\(name) is missing")
            }
            guard fileShape == shape else {
                throw ModelError("\(reader.path): /theta/\(name) has shape \(fileShape) but the model needs \(shape)")
            }
        }
        for (name, shape) in network.buffers.shapes {
            guard reader.bufferShapes[name] == shape else {
                throw ModelError("\(reader.path): /buffers/\(name) is missing or not of shape \(shape)")
            }
        }
        return network
    }

    /// The network described by the history's `model` JSON with the parameters (and buffers)
    /// of snapshot `snapshot` (negative counts from the end: −1 is the final θ). Every parameter's
    /// shape in the file is checked against the model (`checked(against:)`) before any snapshot
    /// is read.
    public static func load(from reader: HistoryReader, snapshot: Int, extensions: [any LayerExtension] = [],
                            context: ComputeContext = .serial) throws -> Network<Scalar> {
        let network = try checked(against: reader, extensions: extensions, context: context)
        let t = reader.snapshotCount
        guard t > 0 else { throw ModelError("\(reader.path): holds no complete snapshot") }
        let k = snapshot < 0 ? t + snapshot : snapshot
        guard k >= 0 && k < t else {
            throw ModelError("\(reader.path): snapshot \(snapshot) does not exist (the file holds \(t), index 0…\(t - 1) or −1…−\(t))")
        }
        try reader.load(snapshot: k, into: network)
        return network
    }

    /// A lower bound on the weights `layers` need, read from their declared sizes without building
    /// anything: in·out for a dense layer, in·out·k² for a convolution, summed, and recursively
    /// inside recurrence blocks (each block holds its own weights, even when applied several times).
    /// Saturates at `Int.max`.
    static func declaredWeightCount(_ layers: [LayerSpec]) -> Int {
        layers.reduce(0) { total, l in
            let own: Int
            switch l.type {
            case "dense": own = saturatingMultiply(l.in ?? 0, l.out ?? 0)
            case "conv2d", "conv_transpose2d":
                let k = saturatingMultiply(l.kernel ?? 0, l.kernel ?? 0)
                own = saturatingMultiply(saturatingMultiply(l.inChannels ?? 0, l.outChannels ?? 0), k)
            default: own = 0
            }
            let inner = nestedBlocks(of: l).reduce(0) { saturatingAdd($0, declaredWeightCount($1)) }
            return saturatingAdd(total, saturatingAdd(own, inner))
        }
    }
}

/// The layer sequences an extension layer nests in its payload's `blocks` (a recurrence's blocks
/// T_k), if that field decodes as lists of layers; none otherwise.
private func nestedBlocks(of layer: LayerSpec) -> [[LayerSpec]] {
    guard let blocks = layer.payload?.fields["blocks"], let data = try? JSONEncoder().encode(blocks) else { return [] }
    return (try? JSONDecoder().decode([[LayerSpec]].self, from: data)) ?? []
}

/// a·b for non-negative sizes, `Int.max` on overflow (negative sizes count as 0).
private func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
    let (p, overflow) = max(0, a).multipliedReportingOverflow(by: max(0, b))
    return overflow ? .max : p
}

/// a + b for non-negative counts, `Int.max` on overflow.
private func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (s, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : s
}

/// The one way snapshots reach a network: `HistoryReader.snapshot(_:)` reads the named arrays,
/// `Network.load(parameters:buffers:)` takes them.
extension HistoryReader {
    /// The values of snapshot `t` (negative counts from the end) of exactly the parameters and
    /// buffers `network` holds, by name, for `Network.load(parameters:buffers:)` or a consumer
    /// that loads snapshots itself (surfing's `GeneratorSnapshots`).
    public func values<Scalar>(at t: Int, for network: Network<Scalar>) throws
        -> (parameters: [String: [Float]], buffers: [String: [Float]]) {
        let s = try snapshot(t, parameters: network.parameters.names, buffers: network.buffers.names)
        return (s.parameters, s.buffers)
    }

    /// Replaces `network`'s parameters and buffers by those of snapshot `t` (the shapes are
    /// those `Network.load(from:snapshot:)` checked against the file).
    public func load<Scalar>(snapshot t: Int, into network: Network<Scalar>) throws {
        let v = try values(at: t, for: network)
        try network.load(parameters: v.parameters, buffers: v.buffers)
    }
}
