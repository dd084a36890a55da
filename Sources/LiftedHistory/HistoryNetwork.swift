import Foundation

/// Rebuilding networks from history files alone.
extension Network where Scalar == Float {
    /// The network described by the history's `model` JSON with the parameters (and buffers)
    /// of snapshot `snapshot` (negative counts from the end: −1 is the final θ). Every parameter's
    /// shape in the file is checked against the model before any snapshot is read.
    public static func load(from reader: HistoryReader, snapshot: Int) throws -> Network<Float> {
        let spec: ModelSpec
        do { spec = try ModelSpec.parse(reader.model) } catch let e as ModelError {
            throw ModelError("\(reader.path): \(e.description)")
        }
        var rng = SplitMix64(seed: 0)
        let network: Network<Float>
        do { network = try Network<Float>(spec: spec, rng: &rng) } catch let e as ModelError {
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
        var values: [String: [Float]] = [:]
        for name in network.parameters.names { values[name] = try reader.parameter(name, snapshot: k) }
        var bufs: [String: [Float]] = [:]
        for name in network.buffers.names { bufs[name] = try reader.buffer(name, snapshot: k) }
        try network.load(parameters: values, buffers: bufs)
        return network
    }
}
