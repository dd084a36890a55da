import XCTest
@testable import LiftedTrain
import TestSupport

/// Convolutional networks built from model JSON: shapes, names, error messages, gradients.
final class ConvNetworkTests: XCTestCase {
    static let json = """
    {"input_shape": [1, 6, 6], "layers": [
      {"name": "layers.0", "type": "conv2d", "in_channels": 1, "out_channels": 3, "kernel": 3, "padding": 1},
      {"name": "layers.1", "type": "batchnorm", "channels": 3, "eps": 1e-5, "momentum": 0.1},
      {"type": "relu"},
      {"type": "maxpool2d", "kernel": 2},
      {"name": "layers.4", "type": "conv_transpose2d", "in_channels": 3, "out_channels": 2, "kernel": 2, "stride": 2},
      {"type": "avgpool2d", "kernel": 2},
      {"type": "global_avgpool"},
      {"name": "layers.7", "type": "dense", "in": 2, "out": 4}]}
    """

    func testBuildsShapesAndNamesFromJSON() throws {
        let spec = try ModelSpec.parse(Self.json)
        XCTAssertEqual(try ModelSpec.parse(spec.json()), spec, "JSON round trip")
        var rng = SplitMix64(seed: 1)
        let net = try Network<Float>(spec: spec, rng: &rng)
        XCTAssertEqual(net.parameters.shapes.map(\.name), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                                           "layers.4.weight", "layers.4.bias", "layers.7.weight", "layers.7.bias"])
        XCTAssertEqual(net.parameters["layers.0.weight"]!.shape, [3, 1, 3, 3])
        XCTAssertEqual(net.parameters["layers.4.weight"]!.shape, [3, 2, 2, 2])
        XCTAssertEqual(net.buffers.names, ["layers.1.running_mean", "layers.1.running_var"])
        XCTAssertEqual(net.inputSize, 36)
        XCTAssertEqual(net.outputSize, 4)
        // Flat rows [n, 36] are the same memory as [n, 1, 6, 6].
        let out = net.forward(Tensor(shape: [5, 36], data: (0..<180).map { Float($0 % 7) / 7 }))
        XCTAssertEqual(out.shape, [5, 4])
        XCTAssertTrue(out.isFinite)
    }

    func testBadConvolutionalModelsAreRefusedWithReasons() {
        func message(_ json: String) -> String {
            do { var rng = SplitMix64(seed: 0); _ = try Network<Float>(spec: try ModelSpec.parse(json), rng: &rng); return "" }
            catch { return "\(error)" }
        }
        XCTAssertTrue(message("""
            {"input_shape": [1, 4, 4], "layers": [{"name": "a", "type": "conv2d", "in_channels": 2, "out_channels": 3, "kernel": 3}]}
            """).contains("takes 2 channels but receives 1"))
        XCTAssertTrue(message("""
            {"input_shape": [1, 4, 4], "layers": [{"name": "a", "type": "conv2d", "in_channels": 1, "out_channels": 3, "kernel": 5}]}
            """).contains("does not fit"))
        XCTAssertTrue(message("""
            {"input_shape": [16], "layers": [{"name": "a", "type": "conv2d", "in_channels": 1, "out_channels": 3, "kernel": 3}]}
            """).contains("[channels, height, width]"))
        XCTAssertTrue(message("""
            {"input_shape": [1, 4, 4], "layers": [{"type": "maxpool2d"}]}
            """).contains("needs 'kernel'"))
        XCTAssertTrue(message("""
            {"input_shape": [1, 4, 4], "layers": [{"type": "conv9d"}]}
            """).contains("unknown type 'conv9d'"))
    }

    /// Central differences through the whole network (Double): every parameter and the input.
    func testWholeNetworkGradients() throws {
        var rng = SplitMix64(seed: 2)
        let net = try Network<Double>(spec: try ModelSpec.parse(Self.json), rng: &rng)
        let x = randomArray(3 * 36, seed: 40)
        let r = randomArray(3 * 4, seed: 41)
        func loss(_ xv: [Double]) -> Double {
            zip(net.forward(Tensor(shape: [3, 36], data: xv), training: true).data, r).reduce(0) { $0 + $1.0 * $1.1 }
        }
        _ = net.forward(Tensor(shape: [3, 36], data: x), training: true)
        let dx = net.backward(Tensor(shape: [3, 4], data: r), needInputGradient: true)!
        let grads = net.parameters.grads.map(\.data)
        assertGradient(dx.data, of: loss, at: x, rtol: 1e-5, atol: 1e-7, "input")
        for (i, name) in net.parameters.names.enumerated() {
            let v0 = net.parameters.values[i].data
            assertGradient(grads[i], of: { v in
                net.parameters.values[i].data = v
                defer { net.parameters.values[i].data = v0 }
                return loss(x)
            }, at: v0, rtol: 1e-5, atol: 1e-7, name)
        }
    }
}
