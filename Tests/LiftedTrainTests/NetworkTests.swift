import XCTest
@testable import LiftedTrain
import TestSupport

/// All parameters of a network as one flat vector, in store order.
func flatParameters<S: NNScalar>(_ net: Network<S>) -> [Double] {
    net.parameters.values.flatMap { $0.data.map { Double($0) } }
}

/// All parameter gradients as one flat vector, in store order.
func flatGradients<S: NNScalar>(_ net: Network<S>) -> [Double] {
    net.parameters.grads.flatMap { $0.data.map { Double($0) } }
}

/// Writes a flat vector back into the store.
func setFlatParameters<S: NNScalar>(_ net: Network<S>, _ flat: [Double]) {
    var offset = 0
    for i in net.parameters.values.indices {
        let n = net.parameters.values[i].count
        net.parameters.values[i].data = flat[offset..<(offset + n)].map { S($0) }
        offset += n
    }
    precondition(offset == flat.count)
}

/// Networks built from a `ModelSpec`: gradients of every parameter and of the input by central
/// differences in Double, for every activation; the model JSON; and the errors a bad spec gives.
final class NetworkTests: XCTestCase {
    let (batch, nIn, nOut) = (4, 3, 3)
    let labels: [Int32] = [2, 0, 1, 2]

    private func makeNetwork(_ spec: ModelSpec, seed: UInt64 = 60) -> Network<Double> {
        var rng = SplitMix64(seed: seed)
        let net = try! Network<Double>(spec: spec, rng: &rng)
        // Non-zero biases and O(1) weights, so that every term of the gradient matters.
        setFlatParameters(net, randomArray(net.parameters.scalarCount, std: 0.8, seed: seed + 1))
        return net
    }

    /// Back-propagated gradients of every parameter and of the input against central differences.
    private func checkNetworkGradients(_ net: Network<Double>, loss: LossKind, _ message: String,
                                       file: StaticString = #filePath, line: UInt = #line) {
        let x = randomArray(batch * nIn, seed: 62)
        let xt = Tensor<Double>(shape: [batch, nIn], data: x)
        var dOut = Tensor<Double>(zeros: [0])
        let out = net.forward(xt, training: true)
        XCTAssertEqual(out.shape, [batch, nOut], file: file, line: line)
        _ = loss.evaluate(out, labels: labels, gradient: &dOut)
        // Garbage in the gradient buffers must be overwritten, not accumulated into.
        for i in net.parameters.grads.indices { net.parameters.grads[i] = Tensor(repeating: 7, shape: net.parameters.values[i].shape) }
        let dx = net.backward(dOut, needInputGradient: true)!
        let analytic = flatGradients(net)
        let theta = flatParameters(net)

        assertGradient(analytic, of: { p in
            setFlatParameters(net, p)
            defer { setFlatParameters(net, theta) }
            return loss.evaluate(net.forward(xt), labels: self.labels).loss
        }, at: theta, "\(message): parameters", file: file, line: line)
        assertGradient(dx.data, of: { xx in
            loss.evaluate(net.forward(Tensor(shape: [self.batch, self.nIn], data: xx)), labels: self.labels).loss
        }, at: x, "\(message): input", file: file, line: line)
    }

    func testGradientOfEveryParameterForEveryActivation() {
        for kind in ActivationKind.allCases {
            let spec = ModelSpec.mlp(input: nIn, hidden: [4, 5], output: nOut, activation: kind,
                                     alpha: kind.usesAlpha ? testAlpha(kind) : nil)
            let net = makeNetwork(spec)
            XCTAssertEqual(net.layers.count, 5)
            XCTAssertEqual(net.parameters.scalarCount, (3 * 4 + 4) + (4 * 5 + 5) + (5 * 3 + 3))
            if kind.usesAlpha { XCTAssertEqual((net.layers[1] as! Activation<Double>).alpha, testAlpha(kind)) }
            checkNetworkGradients(net, loss: .crossEntropy, "\(kind)")
        }
    }

    func testGradientWithOutputActivationAndSquaredError() {
        let spec = ModelSpec.mlp(input: nIn, hidden: [4, 5], output: nOut, activation: .tanh, outputActivation: .sigmoid)
        XCTAssertEqual(spec.layers.last?.type, "sigmoid")
        checkNetworkGradients(makeNetwork(spec), loss: .squaredError, "tanh → sigmoid, squared error")
    }

    func testGradientThroughANormalizeLayer() {
        let spec = ModelSpec(inputShape: [nIn], layers: [
            LayerSpec(type: "normalize", mean: 0.1307, std: 0.3081),
            LayerSpec(type: "dense", name: "layers.1", in: nIn, out: 4),
            LayerSpec(type: "elu", alpha: 0.5),
            LayerSpec(type: "dense", name: "layers.3", in: 4, out: nOut),
        ])
        checkNetworkGradients(makeNetwork(spec), loss: .crossEntropy, "normalize, elu")
    }

    func testForwardComposesTheLayers() throws {
        // A 1-hidden-layer ReLU network evaluated by hand.
        var rng = SplitMix64(seed: 1)
        let net = try Network<Double>(spec: .mlp(input: 2, hidden: [2], output: 1, activation: .relu), rng: &rng)
        try net.parameters.set("layers.0.weight", Tensor(shape: [2, 2], data: [1, -1, 2, 1]))
        try net.parameters.set("layers.0.bias", Tensor(shape: [2], data: [0, -1]))
        try net.parameters.set("layers.2.weight", Tensor(shape: [1, 2], data: [3, -2]))
        try net.parameters.set("layers.2.bias", Tensor(shape: [1], data: [0.5]))
        // x = (1, 2): h = relu(−1, 3) = (0, 3); y = 0·3 + 3·(−2) + 0.5 = −5.5
        // x = (2, 0): h = relu(2, 3) = (2, 3);   y = 6 − 6 + 0.5 = 0.5
        XCTAssertEqual(net.forward(Tensor(shape: [2, 2], data: [1, 2, 2, 0])).data, [-5.5, 0.5])
    }

    func testBackwardWithoutInputGradientGivesTheSameParameterGradients() {
        let net = makeNetwork(.mlp(input: nIn, hidden: [4, 5], output: nOut, activation: .softplus))
        let x = Tensor<Double>(shape: [batch, nIn], data: randomArray(batch * nIn, seed: 63))
        var dOut = Tensor<Double>(zeros: [0])
        _ = LossKind.crossEntropy.evaluate(net.forward(x, training: true), labels: labels, gradient: &dOut)
        XCTAssertNotNil(net.backward(dOut, needInputGradient: true))
        let withInput = flatGradients(net)
        for i in net.parameters.grads.indices { net.parameters.grads[i].zero() }
        XCTAssertNil(net.backward(dOut))
        XCTAssertEqual(flatGradients(net), withInput)
        XCTAssertTrue(net.parameters.grads.allSatisfy { $0.squaredNorm > 0 }, "every layer receives a gradient")
    }

    func testParameterNamesFollowPyTorchSequential() throws {
        var rng = SplitMix64(seed: 2)
        let net = try Network<Float>(spec: .mlp(input: 3, hidden: [4, 5], output: 2, activation: .relu), rng: &rng)
        XCTAssertEqual(net.parameters.shapes.map(\.name),
                       ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                        "layers.4.weight", "layers.4.bias"])
        XCTAssertEqual(net.parameters.shapes.map(\.shape), [[4, 3], [4], [5, 4], [5], [2, 5], [2]])
        XCTAssertEqual(net.outputSize, 2)
        XCTAssertEqual(net.inputSize, 3)
        XCTAssertTrue(net.parameters.values[1].data.allSatisfy { $0 == 0 }, "biases start at zero")
    }

    func testInitializationIsSeededAndScaled() {
        let spec = ModelSpec.mlp(input: 400, hidden: [300], output: 10, activation: .relu)
        func weights(_ seed: UInt64, _ initialization: Initialization = .auto) -> [Float] {
            var rng = SplitMix64(seed: seed)
            return try! Network<Float>(spec: spec, initialization: initialization, rng: &rng).parameters.values[0].data
        }
        XCTAssertEqual(weights(5), weights(5))
        XCTAssertNotEqual(weights(5), weights(6))
        func std(_ w: [Float]) -> Double {
            let mean = w.reduce(0.0) { $0 + Double($1) } / Double(w.count)
            return (w.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(w.count)).squareRoot()
        }
        // 120 000 draws: the sample std is within 1% of the target with overwhelming probability.
        assertClose(std(weights(7)), (2.0 / 400).squareRoot(), rtol: 0.01, atol: 0, "He for ReLU")
        assertClose(std(weights(7, .xavier)), (2.0 / 700).squareRoot(), rtol: 0.01, atol: 0, "Xavier")
        let u = weights(7, .uniform)
        XCTAssertLessThanOrEqual(u.map(abs).max()!, Float(1 / 20.0))
        XCTAssertGreaterThan(u.map(abs).max()!, Float(0.99 / 20.0))
    }

    // MARK: Model JSON

    func testModelJSONRoundTrip() throws {
        for kind in ActivationKind.allCases {
            let spec = ModelSpec.mlp(input: 784, hidden: [300, 100], output: 10, activation: kind,
                                     alpha: kind.usesAlpha ? 0.25 : nil)
            XCTAssertEqual(try ModelSpec.parse(spec.json()), spec, "\(kind)")
        }
        let withNormalize = ModelSpec(inputShape: [2], layers: [LayerSpec(type: "normalize", mean: 0.5, std: 0.25),
                                                                LayerSpec(type: "dense", name: "layers.1", in: 2, out: 1)])
        XCTAssertEqual(try ModelSpec.parse(withNormalize.json()), withNormalize)
    }

    func testModelJSONIsCompactAndSorted() {
        let spec = ModelSpec.mlp(input: 2, hidden: [3], output: 1, activation: .leakyRelu, alpha: 0.5)
        XCTAssertEqual(spec.json(), """
            {"input_shape":[2],"layers":[{"in":2,"name":"layers.0","out":3,"type":"dense"},\
            {"alpha":0.5,"type":"leaky_relu"},{"in":3,"name":"layers.2","out":1,"type":"dense"}]}
            """)
    }

    func testParsesTheHistoryFormatExample() throws {
        // The example `model` attribute of HISTORY-FORMAT.md.
        let json = """
            {"input_shape": [20],
             "layers": [{"name": "layers.0", "type": "dense", "in": 20, "out": 500},
                        {"type": "relu"},
                        {"name": "layers.2", "type": "dense", "in": 500, "out": 784},
                        {"type": "sigmoid"}]}
            """
        let spec = try ModelSpec.parse(json)
        XCTAssertEqual(spec, .mlp(input: 20, hidden: [500], output: 784, activation: .relu, outputActivation: .sigmoid))
        let shape = try XCTUnwrap(spec.mlpShape)
        XCTAssertEqual(shape.sizes, [20, 500, 784])
        XCTAssertEqual(shape.activation, .relu)
        XCTAssertEqual(shape.outputActivation, .sigmoid)
    }

    func testMLPShape() throws {
        let s = try XCTUnwrap(ModelSpec.mlp(input: 5, hidden: [4, 3], output: 2, activation: .elu, alpha: 0.3).mlpShape)
        XCTAssertEqual(s.sizes, [5, 4, 3, 2])
        XCTAssertEqual(s.activation, .elu)
        XCTAssertEqual(s.alpha, 0.3)
        XCTAssertEqual(s.outputActivation, .identity)
        var mixed = ModelSpec.mlp(input: 5, hidden: [4, 3], output: 2, activation: .relu)
        mixed.layers[3] = LayerSpec(type: "tanh")
        XCTAssertNil(mixed.mlpShape, "two hidden activations are not a plain MLP")
    }

    // MARK: Bad specs

    private func assertModelError(_ spec: ModelSpec, mentions fragments: [String],
                                  file: StaticString = #filePath, line: UInt = #line) {
        var rng = SplitMix64(seed: 0)
        XCTAssertThrowsError(try Network<Double>(spec: spec, rng: &rng), file: file, line: line) { error in
            guard let e = error as? ModelError else {
                return XCTFail("expected ModelError, got \(type(of: error)): \(error)", file: file, line: line)
            }
            for f in fragments {
                XCTAssertTrue(e.description.contains(f), "'\(e.description)' should mention '\(f)'", file: file, line: line)
            }
        }
    }

    private func assertParseError(_ json: String, mentions fragments: [String],
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelSpec.parse(json), file: file, line: line) { error in
            guard let e = error as? ModelError else {
                return XCTFail("expected ModelError, got \(type(of: error)): \(error)", file: file, line: line)
            }
            for f in fragments {
                XCTAssertTrue(e.description.contains(f), "'\(e.description)' should mention '\(f)'", file: file, line: line)
            }
        }
    }

    func testMismatchedSizesAreRejected() {
        let spec = ModelSpec(inputShape: [3], layers: [
            LayerSpec(type: "dense", name: "layers.0", in: 3, out: 4),
            LayerSpec(type: "relu"),
            LayerSpec(type: "dense", name: "layers.2", in: 5, out: 2),
        ])
        assertModelError(spec, mentions: ["layer 2", "layers.2", "5 inputs", "receives 4"])
        let wrongInput = ModelSpec(inputShape: [6], layers: [LayerSpec(type: "dense", name: "layers.0", in: 3, out: 4)])
        assertModelError(wrongInput, mentions: ["layer 0", "3 inputs", "receives 6"])
    }

    func testUnknownLayerTypeIsRejected() {
        let spec = ModelSpec(inputShape: [3], layers: [
            LayerSpec(type: "dense", name: "layers.0", in: 3, out: 4),
            LayerSpec(type: "gelu"),
        ])
        assertModelError(spec, mentions: ["layer 1", "unknown type", "gelu"])
    }

    func testMissingFieldsAreRejected() {
        for (missing, layer) in [("out", LayerSpec(type: "dense", name: "layers.0", in: 3)),
                                 ("in", LayerSpec(type: "dense", name: "layers.0", out: 2)),
                                 ("name", LayerSpec(type: "dense", in: 3, out: 2))] {
            assertModelError(ModelSpec(inputShape: [3], layers: [layer]), mentions: ["layer 0", "'\(missing)'"])
        }
        assertModelError(ModelSpec(inputShape: [3], layers: [LayerSpec(type: "normalize", mean: 0.1)]),
                         mentions: ["normalize", "std"])
        assertModelError(ModelSpec(inputShape: [3], layers: [LayerSpec(type: "normalize", mean: 0.1, std: 0)]),
                         mentions: ["positive 'std'"])
    }

    func testImpossibleShapesAreRejected() {
        assertModelError(ModelSpec(inputShape: [3], layers: []), mentions: ["no layers"])
        for shape in [[], [0], [2, 3]] {
            assertModelError(ModelSpec(inputShape: shape, layers: [LayerSpec(type: "relu")]), mentions: ["input_shape"])
        }
        assertModelError(ModelSpec(inputShape: [3], layers: [LayerSpec(type: "dense", name: "layers.0", in: 3, out: 0)]),
                         mentions: ["impossible size"])
    }

    func testBadJSONIsRejectedWithAMessage() {
        assertParseError(#"{"input_shape": [3]}"#, mentions: ["lacks 'layers'"])
        assertParseError(#"{"input_shape": [3], "layers": [{"name": "layers.0", "in": 3, "out": 2}]}"#,
                         mentions: ["lacks 'type'"])
        assertParseError(#"{"input_shape": [3], "layers": [{"type": "dense", "name": "l", "in": "three", "out": 2}]}"#,
                         mentions: ["wrong type", "layers", ".in"])
        assertParseError(#"{"input_shape": [3], "layers": ["#, mentions: ["not valid"])
    }

    // MARK: Loading parameters

    func testLoadChecksNamesAndSizes() throws {
        var rng = SplitMix64(seed: 3)
        let net = try Network<Double>(spec: .mlp(input: 2, hidden: [3], output: 2, activation: .tanh), rng: &rng)
        var values = net.parameters.floatArrays()
        values["layers.0.bias"] = [1, 2, 3]
        try net.load(parameters: values)
        XCTAssertEqual(net.parameters["layers.0.bias"]?.data, [1, 2, 3])
        XCTAssertEqual(net.parameters["layers.0.bias"]?.shape, [3])

        var short = values
        short["layers.2.weight"] = [1, 2]
        XCTAssertThrowsError(try net.load(parameters: short)) { e in
            XCTAssertTrue("\(e)".contains("layers.2.weight"), "\(e)")
        }
        var missing = values
        missing["layers.2.bias"] = nil
        XCTAssertThrowsError(try net.load(parameters: missing)) { e in
            XCTAssertTrue("\(e)".contains("missing parameter 'layers.2.bias'"), "\(e)")
        }
    }
}
