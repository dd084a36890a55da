import XCTest
@testable import LiftedTrain

/// The `Tensor` helpers that the layers and the training loop build on.
final class TensorTests: XCTestCase {
    func testShapeRowsAndCols() {
        let m = Tensor<Double>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(m.rows, 2)
        XCTAssertEqual(m.cols, 3)
        XCTAssertEqual(m[1, 0], 4)
        XCTAssertEqual(m[0, 2], 3)
        let v = Tensor<Double>(zeros: [4])
        XCTAssertEqual(v.rows, 4)
        XCTAssertEqual(v.cols, 1)
        let t = Tensor<Float>(zeros: [2, 3, 4])
        XCTAssertEqual(t.cols, 12)
        XCTAssertEqual(t.count, 24)
        XCTAssertEqual(m.reshaped([3, 2]).shape, [3, 2])
        XCTAssertEqual(m.reshaped([3, 2]).data, m.data)
    }

    func testResizeKeepsOrReallocates() {
        var t = Tensor<Double>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        t.resize([3, 2])
        XCTAssertEqual(t.data, [1, 2, 3, 4, 5, 6])
        t.resize([2, 2])
        XCTAssertEqual(t.shape, [2, 2])
        XCTAssertEqual(t.data, [0, 0, 0, 0])
    }

    func testAddScaleNormAndZero() {
        var x = Tensor<Double>(shape: [3], data: [1, -2, 2])
        XCTAssertEqual(x.squaredNorm, 9)
        x.add(Tensor(shape: [3], data: [1, 1, 1]), scaledBy: -2)
        XCTAssertEqual(x.data, [-1, -4, 0])
        x.scale(by: 0.5)
        XCTAssertEqual(x.data, [-0.5, -2, 0])
        x.zero()
        XCTAssertEqual(x.data, [0, 0, 0])
        XCTAssertEqual(Tensor<Float>(zeros: [0]).squaredNorm, 0)
    }

    func testIsFinite() {
        XCTAssertTrue(Tensor<Float>(shape: [2], data: [1, -3]).isFinite)
        XCTAssertFalse(Tensor<Float>(shape: [2], data: [1, .nan]).isFinite)
        XCTAssertFalse(Tensor<Double>(shape: [2], data: [-.infinity, 0]).isFinite)
        XCTAssertFalse(Tensor<Double>(shape: [3], data: [.nan, 5, .infinity]).isFinite)
    }

    func testGatherRows() {
        let src = Tensor<Float>(shape: [4, 2], data: [0, 1, 10, 11, 20, 21, 30, 31])
        var dst = Tensor<Float>(repeating: -1, shape: [3, 2])
        dst.gatherRows(from: src, indices: [3, 0][...])
        XCTAssertEqual(dst.data, [30, 31, 0, 1, -1, -1])
    }

    func testConversion() {
        let d = Tensor<Double>(shape: [2], data: [0.1, -3])
        let f: Tensor<Float> = d.converted()
        XCTAssertEqual(f.shape, [2])
        XCTAssertEqual(f.data, [Float(0.1), -3])
    }
}
