import XCTest
@testable import LiftedTrain

/// The fused LPOM kernels and Float's SIMD exp/softmax against their plain Double loops.
final class FusedKernelsTests: XCTestCase {
    func values(_ n: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in rng.uniform() * 4 - 2 }
    }

    func testSIMDExpMatchesLibraryExp() {
        var xs: [Float] = stride(from: -100, through: 88, by: 0.37).map { Float($0) }
        xs += [0, -0, 1e-8, -1e-8, 88.3, -87.3, -87.4, -1000, 100]
        var e = xs
        e.withUnsafeMutableBufferPointer { FloatSIMD.exp($0.baseAddress!, $0.count) }
        for (x, y) in zip(xs, e) {
            let ref = Foundation.exp(Double(min(max(x, -87.336_54), 88.376_26)))
            XCTAssertEqual(Double(y), ref, accuracy: 3e-7 * ref, "exp(\(x))")
        }
        var nan: [Float] = [.nan, 1, 2, 3, 4, 5, 6, 7, .nan]
        nan.withUnsafeMutableBufferPointer { FloatSIMD.exp($0.baseAddress!, $0.count) }
        XCTAssertTrue(nan[0].isNaN && nan[8].isNaN && !nan[1].isNaN)
    }

    func testFloatSoftmaxMatchesDoubleReference() {
        let (b, c) = (13, 10)
        let logits = values(b * c, seed: 3).map { $0 * 5 }
        let labels: [Int32] = (0..<b).map { Int32($0 % c) }
        var gd = [Double](repeating: 0, count: b * c), gf = [Float](repeating: 0, count: b * c)
        let lf = logits.map { Float($0) }
        let (ld, cd) = logits.withUnsafeBufferPointer { pl in labels.withUnsafeBufferPointer { py in
            gd.withUnsafeMutableBufferPointer { Kernels.softmaxCrossEntropy(logits: pl, labels: py, classes: c, grad: $0, scale: 0.5) } } }
        let (lF, cF) = lf.withUnsafeBufferPointer { pl in labels.withUnsafeBufferPointer { py in
            gf.withUnsafeMutableBufferPointer { Float.softmaxCrossEntropy(logits: pl, labels: py, classes: c, grad: $0, scale: 0.5) } } }
        let (lN, cN) = lf.withUnsafeBufferPointer { pl in labels.withUnsafeBufferPointer { py in
            Float.softmaxCrossEntropy(logits: pl, labels: py, classes: c, grad: nil, scale: 1) } }
        XCTAssertEqual(cd, cF); XCTAssertEqual(cd, cN)
        XCTAssertEqual(lF, ld, accuracy: 1e-5 * abs(ld)); XCTAssertEqual(lN, lF)
        for i in 0..<(b * c) { XCTAssertEqual(Double(gf[i]), gd[i], accuracy: 1e-6) }
    }

    func checkRelax<S: NNScalar>(_: S.Type, n: Int, tolerance: Double) {
        let x = values(n, seed: 1), cc = values(n, seed: 2), theta = 0.3
        let xs = x.map { S($0) }, cs = cc.map { S($0) }
        var out = [S](repeating: 0, count: n)
        let (dc, dout, xx) = xs.withUnsafeBufferPointer { px in cs.withUnsafeBufferPointer { pc in
            out.withUnsafeMutableBufferPointer { S.relax(px.baseAddress!, toward: pc.baseAddress!, theta: S(theta), into: $0.baseAddress!, count: n) } } }
        var rdc = 0.0, rdout = 0.0, rxx = 0.0
        for i in 0..<n {
            let o = (1 - theta) * x[i] + theta * cc[i]
            XCTAssertEqual(Double(out[i]), o, accuracy: tolerance)
            rdc += (cc[i] - x[i]) * (cc[i] - x[i]); rdout += (o - x[i]) * (o - x[i]); rxx += x[i] * x[i]
        }
        XCTAssertEqual(dc, rdc, accuracy: tolerance * rdc); XCTAssertEqual(dout, rdout, accuracy: tolerance * rdout)
        XCTAssertEqual(xx, rxx, accuracy: tolerance * rxx)
        // In place (out aliasing x), as the output prox uses it.
        var inPlace = xs
        _ = cs.withUnsafeBufferPointer { pc in inPlace.withUnsafeMutableBufferPointer {
            S.relax(UnsafePointer($0.baseAddress!), toward: pc.baseAddress!, theta: S(theta), into: $0.baseAddress!, count: n) } }
        XCTAssertEqual(inPlace, out)
    }

    func testRelaxFloat() { checkRelax(Float.self, n: 37, tolerance: 1e-5) }
    func testRelaxDouble() { checkRelax(Double.self, n: 37, tolerance: 1e-12) }

    func checkGradientMapping<S: NNScalar>(_: S.Type, n: Int, tolerance: Double) {
        let y = values(n, seed: 4), d = values(n, seed: 5), p = values(n, seed: 6), s = 0.7
        var delta = d.map { S($0) }, prev = p.map { S($0) }
        let ys = y.map { S($0) }
        let dot = ys.withUnsafeBufferPointer { py in delta.withUnsafeMutableBufferPointer { pd in prev.withUnsafeMutableBufferPointer { pp in
            S.gradientMappingStep(y: py.baseAddress!, delta: pd.baseAddress!, prev: pp.baseAddress!, scale: S(s), count: n) } } }
        var ref = 0.0
        for i in 0..<n {
            let next = y[i] - s * d[i], step = next - p[i]
            ref += d[i] * step
            XCTAssertEqual(Double(prev[i]), next, accuracy: tolerance)
            XCTAssertEqual(Double(delta[i]), step, accuracy: tolerance)
        }
        XCTAssertEqual(dot, ref, accuracy: tolerance * Double(n))
    }

    func testGradientMappingStepFloat() { checkGradientMapping(Float.self, n: 45, tolerance: 1e-5) }
    func testGradientMappingStepDouble() { checkGradientMapping(Double.self, n: 45, tolerance: 1e-12) }
}
