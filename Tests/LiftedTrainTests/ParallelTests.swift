import Foundation
import XCTest
@testable import LiftedTrain
import TestSupport

/// Splitting a batch over a context's workers (`ComputeContext.run`) computes what the serial
/// pass computes.
final class ParallelTests: XCTestCase {
    func testRangesCoverTheCountInOrder() {
        for count in [0, 1, 5, 100, 101] {
            for parts in 1...4 {
                let rs = (0..<parts).map { ComputeContext.range($0, of: parts, count: count) }
                XCTAssertEqual(rs.first!.lowerBound, 0)
                XCTAssertEqual(rs.last!.upperBound, count)
                for i in 1..<parts { XCTAssertEqual(rs[i].lowerBound, rs[i - 1].upperBound) }
                XCTAssertLessThanOrEqual(rs.map(\.count).max()! - rs.map(\.count).min()!, 1, "\(count) in \(parts)")
            }
        }
        let three = ComputeContext(workers: 3)
        XCTAssertEqual(three.parts(100, minimumPerPart: 40), 2)
        XCTAssertEqual(three.parts(100, minimumPerPart: 200), 1)
        XCTAssertEqual(three.parts(100, minimumPerPart: 1), 3)
        XCTAssertEqual(ComputeContext.serial.parts(100, minimumPerPart: 1), 1)
    }

    /// A context's worker threads end when the last copy of it goes away (contexts are made per
    /// run and per test, so their threads must not pile up).
    func testWorkerThreadsStopWithTheirContext() throws {
        func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }
        let before = threads()
        for _ in 0..<10 {
            let context = ComputeContext(workers: 3)
            var hits = [Int](repeating: 0, count: 3)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                context.run(3, parts: 3) { i, r in p[i] = r.count }
            }
            XCTAssertEqual(hits, [1, 1, 1])
        }
        var after = threads()
        for _ in 0..<200 where after > before { usleep(10_000); after = threads() }
        XCTAssertLessThanOrEqual(after, before, "20 worker threads of 10 dropped contexts still run")
    }

    /// Tensor axpy and scal split over the workers while OpenBLAS is single-threaded: same result
    /// (up to rounding).
    func testVectorOperationsSplitWhenBLASIsSingleThreaded() {
        let blas = BLASThreads.current
        defer { BLASThreads.set(blas) }
        let n = 300_001
        let x = Tensor(shape: [n], data: randomArray(n, seed: 1).map { Float($0) })
        let y0 = Tensor(shape: [n], data: randomArray(n, seed: 2).map { Float($0) })
        func apply(_ context: ComputeContext) -> [Float] {
            var y = y0; y.add(x, scaledBy: 0.7, on: context); y.scale(by: -1.3, on: context); return y.data
        }
        let serial = apply(.serial)
        BLASThreads.set(1)
        XCTAssertEqual(ComputeContext(workers: 3).vectorParts(n), 1, "only image networks split vector operations")
        let image = ComputeContext.training(ModelSpec(inputShape: [1, 4, 4], layers: []), threads: 3)
        XCTAssertTrue(image.splitsVectors)
        XCTAssertEqual(image.blasThreads, 1)
        XCTAssertEqual(image.vectorParts(n), 3)
        XCTAssertFalse(ComputeContext.training(ModelSpec(inputShape: [16], layers: []), threads: 3).splitsVectors)
        // The split moves which elements fall in OpenBLAS's vector tails: equal up to an ulp or so.
        XCTAssertNil(mismatch(apply(image), serial, rtol: 1e-6, atol: 1e-6).map(\.description))
        BLASThreads.set(2)
        XCTAssertEqual(image.vectorParts(n), 1, "OpenBLAS threads the operation itself")
    }

    /// conv (gathered input gradient) + BN + ReLU + max-pool + stride-2 conv (col2im input gradient)
    /// + BN + ReLU + conv + global pool + dense; 37 samples of 48×48, so each part walks several
    /// im2col chunks of uneven sizes.
    static let json = """
    {"input_shape": [1, 48, 48], "layers": [
      {"name": "l.0", "type": "conv2d", "in_channels": 1, "out_channels": 8, "kernel": 3, "padding": 1},
      {"name": "l.1", "type": "batchnorm", "channels": 8},
      {"type": "relu"},
      {"type": "maxpool2d", "kernel": 2},
      {"name": "l.4", "type": "conv2d", "in_channels": 8, "out_channels": 6, "kernel": 3, "stride": 2, "padding": 1},
      {"name": "l.5", "type": "batchnorm", "channels": 6},
      {"type": "relu"},
      {"name": "l.7", "type": "conv2d", "in_channels": 6, "out_channels": 6, "kernel": 3, "padding": 1},
      {"type": "global_avgpool"},
      {"name": "l.9", "type": "dense", "in": 6, "out": 3}]}
    """

    struct Pass {
        var train: [Double], eval: [Double], dx: [Double], grads: [[Double]], buffers: [[Double]], frozenDx: [Double]
    }

    /// One training forward and backward, an eval forward, and a frozen (input-gradient) pass.
    func pass(workers: Int) throws -> Pass {
        var rng = SplitMix64(seed: 5)
        let net = try Network<Double>(spec: try ModelSpec.parse(Self.json), context: ComputeContext(workers: workers), rng: &rng)
        let n = 37
        let x = Tensor(shape: [n, 48 * 48], data: randomArray(n * 48 * 48, seed: 6))
        let r = Tensor(shape: [n, 3], data: randomArray(n * 3, seed: 7))
        let train = net.forward(x, training: true).data
        let dx = net.backward(r, needInputGradient: true)!.data
        let grads = net.parameters.grads.map(\.data)
        let eval = net.forward(x, training: false).data
        net.inputGradientMode = true
        _ = net.forward(x, training: true)
        let frozenDx = net.backward(r, needInputGradient: true)!.data
        return Pass(train: train, eval: eval, dx: dx, grads: grads, buffers: net.buffers.values.map(\.data), frozenDx: frozenDx)
    }

    func testConvNetworkSplitEqualsSerial() throws {
        let serial = try pass(workers: 1)
        for workers in [2, 3] {
            let blas = BLASThreads.current
            let split = try pass(workers: workers)
            XCTAssertEqual(BLASThreads.current, blas, "OpenBLAS threads restored after the splits")
            func check(_ a: [Double], _ b: [Double], _ what: String) {
                if let m = mismatch(a, b, rtol: 1e-11, atol: 1e-13) { XCTFail("\(workers) workers, \(what): \(m)") }
            }
            check(split.train, serial.train, "training output")
            check(split.eval, serial.eval, "eval output")
            check(split.dx, serial.dx, "input gradient")
            check(split.frozenDx, serial.frozenDx, "frozen input gradient")
            for i in serial.grads.indices { check(split.grads[i], serial.grads[i], "gradient \(i)") }
            for i in serial.buffers.indices { check(split.buffers[i], serial.buffers[i], "buffer \(i)") }
        }
    }
}
