import XCTest
@testable import LiftedTrain
import TestSupport

/// Winograd F(2×2, 3×3) convolutions against the naive loops, the im2col path and central differences.
final class WinogradTests: XCTestCase {
    func conv<S: NNScalar>(_: S.Type, c: Int, o: Int, h: Int, w: Int, seed: UInt64,
                           context: ComputeContext = .serial) -> (Conv2D<S>, ParameterStore<S>) {
        let store = ParameterStore<S>()
        let wt = randomArray(o * c * 9, std: 0.3, seed: seed).map { S($0) }, b = randomArray(o, seed: seed + 1).map { S($0) }
        let layer = Conv2D(name: "c", inChannels: c, outChannels: o, kernel: 3, stride: 1, padding: 1, inputHeight: h, inputWidth: w,
                           store: store, weight: Tensor(shape: [o, c, 3, 3], data: wt), bias: Tensor(shape: [o], data: b),
                           context: context)
        return (layer, store)
    }

    /// Shapes with partial eight-tile blocks (w/2 = 3, 7, 17, 31), non-square planes, C ≠ O, and
    /// (the last) planes large enough for several chunks per part.
    static let shapes = [(n: 3, c: 8, o: 8, h: 4, w: 6), (n: 5, c: 9, o: 11, h: 14, w: 14), (n: 2, c: 8, o: 16, h: 6, w: 34),
                         (n: 4, c: 16, o: 8, h: 16, w: 16), (n: 7, c: 8, o: 8, h: 64, w: 62)]

    func testForwardMatchesNaiveLoops() {
        for s in Self.shapes {
            let (layer, store) = conv(Double.self, c: s.c, o: s.o, h: s.h, w: s.w, seed: 3)
            XCTAssertTrue(layer.usesWinograd)
            if s.h == 64 { XCTAssertGreaterThan(s.n, 2 * layer.winogradChunk(s.n), "several chunks per part") }
            let x = randomArray(s.n * s.c * s.h * s.w, seed: 4)
            let y = layer.forward(Tensor(shape: [s.n, s.c * s.h * s.w], data: x), training: false)
            let ref = naiveConv2D(x, n: s.n, c: s.c, h: s.h, w: s.w, weight: store.values[0].data, bias: store.values[1].data,
                                  o: s.o, k: 3, stride: 1, padding: 1)
            assertClose(y.data, ref.y, rtol: 1e-12, atol: 1e-12, "\(s)")
        }
    }

    /// Forward, input gradient and parameter gradients equal the im2col path's (Double to 1e-12,
    /// Float to 1e-5), serial and split over two and three workers.
    func testEqualsIm2colPath() {
        func run<S: NNScalar>(_ t: S.Type, _ s: (n: Int, c: Int, o: Int, h: Int, w: Int), _ algorithm: ConvolutionAlgorithm, workers: Int)
            -> [[Double]] {
            let context = ComputeContext(workers: workers, convolution: algorithm)
            let (layer, store) = conv(S.self, c: s.c, o: s.o, h: s.h, w: s.w, seed: 7, context: context)
            XCTAssertEqual(layer.usesWinograd, algorithm == .auto)
            let x = Tensor(shape: [s.n, s.c, s.h, s.w], data: randomArray(s.n * s.c * s.h * s.w, seed: 8).map { S($0) })
            let y = layer.forward(x, training: true)
            let dx = layer.backward(Tensor(shape: y.shape, data: randomArray(y.count, seed: 9).map { S($0) }), needInput: true)!
            let eval = layer.forward(x, training: false)
            return [y.data, dx.data, store.grads[0].data, store.grads[1].data, eval.data].map { $0.map { Double($0) } }
        }
        let names = ["output", "input gradient", "weight gradient", "bias gradient", "eval output"]
        for s in Self.shapes {
            let reference = run(Double.self, s, .im2col, workers: 1)
            let floatReference = run(Float.self, s, .im2col, workers: 1)
            for workers in [1, 2, 3] {
                let got = run(Double.self, s, .auto, workers: workers)
                for i in names.indices { assertClose(got[i], reference[i], rtol: 1e-11, atol: 1e-11, "\(names[i]) \(s) ×\(workers)") }
                let gotFloat = run(Float.self, s, .auto, workers: workers)
                for i in names.indices { assertClose(gotFloat[i], floatReference[i], rtol: 1e-4, atol: 1e-4, "Float \(names[i]) \(s) ×\(workers)") }
            }
        }
    }

    func testGradientsByCentralDifferences() {
        let (layer, store) = conv(Double.self, c: 8, o: 9, h: 6, w: 4, seed: 11)
        XCTAssertTrue(layer.usesWinograd)
        assertLayerGradients(layer, store: store, input: randomTensor([2, 8, 6, 4], seed: 12))
    }

    func testFrozenInputGradientAndOddPlanesFallBack() {
        // Input gradient with the parameters frozen (generator inversion) equals the unfrozen one.
        let (layer, store) = conv(Double.self, c: 8, o: 8, h: 8, w: 8, seed: 13)
        let x = randomTensor([3, 8, 8, 8], seed: 14), r = randomTensor([3, 8, 8, 8], seed: 15)
        _ = layer.forward(x, training: true)
        let dx = layer.backward(r, needInput: true)!
        store.frozen = true
        _ = layer.forward(x, training: true)
        assertClose(layer.backward(r, needInput: true)!.data, dx.data, rtol: 1e-13, atol: 1e-13, "frozen dx")
        // Odd planes, stride 2, padding 0 or fewer than 8 channels take the im2col path.
        XCTAssertFalse(conv(Double.self, c: 8, o: 8, h: 7, w: 8, seed: 1).0.usesWinograd)
        XCTAssertFalse(conv(Double.self, c: 4, o: 8, h: 8, w: 8, seed: 1).0.usesWinograd)
        XCTAssertFalse(conv(Double.self, c: 8, o: 8, h: 8, w: 8, seed: 1, context: ComputeContext(convolution: .im2col)).0.usesWinograd)
    }
}
