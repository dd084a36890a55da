import Foundation
import HistoryStore
import LiftedHistory
import LiftedTrain
import XCTest

/// The glue from a history to a network: `Network.load(from:snapshot:)` rebuilds the network of
/// the `model` JSON with the values of one snapshot (parameters and batch-norm buffers, checked
/// against the model first), and `HistoryReader.load(snapshot:into:)` swaps snapshots in place.
final class HistoryNetworkTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lpom-history-network-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// dense 4 → 3, batch norm (parameters and buffers), ReLU, dense 3 → 2.
    static let spec = try! ModelSpec.parse("""
        {"input_shape": [4], "layers": [
          {"name": "layers.0", "type": "dense", "in": 4, "out": 3},
          {"name": "layers.1", "type": "batchnorm", "channels": 3},
          {"type": "relu"},
          {"name": "layers.3", "type": "dense", "in": 3, "out": 2}]}
        """)

    /// Every value of `store` moved by a different amount per element and per snapshot `salt`.
    static func shifted(_ store: ParameterStore<Float>, salt: Float) -> [String: [Float]] {
        store.floatArrays().mapValues { $0.enumerated().map { $0.element + salt * Float($0.offset + 1) / 8 } }
    }

    /// Ones for every declared array (for declarations that differ from the network's).
    static func ones(_ declarations: [(name: String, shape: [Int])]) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: declarations.map { ($0.name, [Float](repeating: 1, count: $0.shape.reduce(1, *))) })
    }

    /// Writes a history of `network` with `snapshots` snapshots, t-th of values shifted by t (or
    /// ones where `parameters`/`buffers` declare other arrays), and returns its path and the values.
    func writeHistory(_ network: Network<Float>, parameters: [(name: String, shape: [Int])]? = nil,
                      buffers: [(name: String, shape: [Int])]? = nil, snapshots: Int = 2)
        throws -> (path: String, values: [(parameters: [String: [Float]], buffers: [String: [Float]])]) {
        let path = directory.appendingPathComponent("run.h5").path
        let writer = try HistoryWriter(path: path, model: network.spec.json(), training: "{}", createdBy: "tests",
                                       parameters: parameters ?? network.parameters.shapes,
                                       buffers: buffers ?? network.buffers.shapes)
        var written: [(parameters: [String: [Float]], buffers: [String: [Float]])] = []
        for t in 0..<snapshots {
            let entry = (parameters: parameters.map(Self.ones) ?? Self.shifted(network.parameters, salt: Float(t)),
                         buffers: buffers.map(Self.ones) ?? Self.shifted(network.buffers, salt: Float(t) + 0.5))
            try writer.appendSnapshot(step: 10 * t, parameters: entry.parameters, buffers: entry.buffers)
            written.append(entry)
        }
        try writer.close()
        return (path, written)
    }

    func testLoadsEverySnapshotWithItsBuffers() throws {
        var rng = SplitMix64(seed: 4)
        let original = try Network<Float>(spec: Self.spec, rng: &rng)
        let (path, written) = try writeHistory(original)
        let reader = try HistoryReader(path: path)
        defer { reader.close() }

        let last = try Network<Float>.load(from: reader, snapshot: -1)
        XCTAssertEqual(last.spec, Self.spec)
        XCTAssertEqual(last.parameters.floatArrays(), written[1].parameters)
        XCTAssertEqual(last.buffers.floatArrays(), written[1].buffers)
        // The same network as the one whose values were written: same outputs (eval mode uses the buffers).
        try original.load(parameters: written[1].parameters, buffers: written[1].buffers)
        let x = Tensor<Float>(shape: [5, 4], data: (0..<20).map { Float($0 % 7) / 3 - 1 })
        XCTAssertEqual(last.forward(x).data, original.forward(x).data)

        let first = try Network<Double>.load(from: reader, snapshot: 0)
        XCTAssertEqual(first.parameters.floatArrays(), written[0].parameters)
        XCTAssertEqual(first.buffers.floatArrays(), written[0].buffers)

        try reader.load(snapshot: 0, into: last)
        XCTAssertEqual(last.parameters.floatArrays(), written[0].parameters)
        XCTAssertEqual(last.buffers.floatArrays(), written[0].buffers)
        let values = try reader.values(at: 1, for: first)
        XCTAssertEqual(values.parameters, written[1].parameters)
        XCTAssertEqual(values.buffers, written[1].buffers)
    }

    /// Runs `load(from:snapshot:)` and checks it throws a one-line ModelError naming the file and `text`.
    func assertRefuses(_ path: String, snapshot: Int = -1, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reader = try HistoryReader(path: path)
        defer { reader.close() }
        XCTAssertThrowsError(try Network<Float>.load(from: reader, snapshot: snapshot), file: file, line: line) { error in
            let message = (error as? ModelError)?.description ?? "not a ModelError: \(error)"
            XCTAssertTrue(message.hasPrefix(path + ": ") && message.contains(text), "'\(message)' lacks '\(text)'", file: file, line: line)
        }
    }

    func testRefusesHistoriesThatDoNotFitTheModel() throws {
        var rng = SplitMix64(seed: 5)
        let network = try Network<Float>(spec: Self.spec, rng: &rng)
        var wider = network.parameters.shapes
        wider[0].shape = [3, 5]
        try assertRefuses(try writeHistory(network, parameters: wider).path, "/theta/layers.0.weight has shape [3, 5] but the model needs [3, 4]")
        try assertRefuses(try writeHistory(network, parameters: Array(network.parameters.shapes.dropLast())).path,
                          "the model needs parameter 'layers.3.bias' but /theta/layers.3.bias is missing")
        try assertRefuses(try writeHistory(network, buffers: []).path, "/buffers/layers.1.running_mean is missing or not of shape [3]")
        let path = try writeHistory(network).path
        try assertRefuses(path, snapshot: 2, "snapshot 2 does not exist (the file holds 2")
        try assertRefuses(path, snapshot: -3, "snapshot -3 does not exist")
        try assertRefuses(try writeHistory(network, snapshots: 0).path, "holds no complete snapshot")
    }
}
