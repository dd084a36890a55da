import Foundation
import HistoryStore
import LiftedTrain

/// Rebuilding networks from history files alone.
extension Network {
    /// The network described by the history's `model` JSON with the parameters (and buffers)
    /// of snapshot `snapshot` (negative counts from the end: −1 is the final θ). Every parameter's
    /// shape in the file is checked against the model before any snapshot is read. Layer types
    /// defined outside `LiftedTrain` are built by `extensions` (e.g. `[ArchFromOpt.layers]`);
    /// the network runs under `context`.
    public static func load(from reader: HistoryReader, snapshot: Int, extensions: [any LayerExtension] = [],
                            context: ComputeContext = .serial) throws -> Network<Scalar> {
        let spec: ModelSpec
        do { spec = try ModelSpec.parse(reader.model) } catch let e as ModelError {
            throw ModelError("\(reader.path): \(e.description)")
        }
        var rng = SplitMix64(seed: 0)
        let network: Network<Scalar>
        do { network = try Network<Scalar>(spec: spec, context: context, extensions: extensions, rng: &rng) } catch let e as ModelError {
            throw ModelError("\(reader.path): \(e.description)")
        }
        let t = reader.snapshotCount
        guard t > 0 else { throw ModelError("\(reader.path): holds no complete snapshot") }
        let k = snapshot < 0 ? t + snapshot : snapshot
        guard k >= 0 && k < t else {
            throw ModelError("\(reader.path): snapshot \(snapshot) does not exist (the file holds \(t), index 0…\(t - 1) or −1…−\(t))")
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
        try reader.load(snapshot: k, into: network)
        return network
    }
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
