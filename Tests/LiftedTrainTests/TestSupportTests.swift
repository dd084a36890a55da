import XCTest
@testable import LiftedTrain
import TestSupport

/// The check on the helpers themselves: a comparison or a gradient check that cannot fail
/// would make every test below vacuous.
final class TestSupportTests: XCTestCase {
    func testMismatchReportsTheWorstElement() {
        XCTAssertNil(mismatch([1.0, 2.0, 3.0], [1.0, 2.0 + 1e-13, 3.0], rtol: 1e-12, atol: 0))
        let m = mismatch([1.0, 2.5, 3.0, 7.0], [1.0, 2.0, 3.0, 7.1], rtol: 0, atol: 1e-3)
        XCTAssertNotNil(m)
        XCTAssertTrue(m!.description.contains("element 1"), m!.description)
        XCTAssertTrue(m!.description.contains("0.5"), m!.description)
        // Relative tolerance scales with |expected|.
        XCTAssertNil(mismatch([1000.0], [1000.5], rtol: 1e-3, atol: 0))
        XCTAssertNotNil(mismatch([1.0], [1.5], rtol: 1e-3, atol: 0))
    }

    func testMismatchRejectsNaNAndCountDifferences() {
        XCTAssertNotNil(mismatch([Double.nan], [1.0], rtol: 1, atol: 1))
        XCTAssertNotNil(mismatch([1.0], [Double.nan], rtol: 1, atol: 1))
        XCTAssertNotNil(mismatch([Double.infinity], [1.0], rtol: 1, atol: 1))
        XCTAssertNil(mismatch([Double.infinity], [Double.infinity], rtol: 0, atol: 0))
        XCTAssertNotNil(mismatch([1.0, 2.0], [1.0], rtol: 1, atol: 1))
        XCTAssertNil(mismatch([Float(1)], [1.0 + 1e-8], rtol: 1e-6, atol: 0))
        // NaN against NaN is not "close", whatever the tolerance.
        XCTAssertNotNil(mismatch([Double.nan], [Double.nan], rtol: 1, atol: 1))
        XCTAssertNotNil(mismatch([Double.infinity], [-Double.infinity], rtol: 1, atol: 1))
    }

    /// `assertClose` itself (not only `mismatch`) records exactly one failure when either side
    /// holds a NaN — the two helpers it replaced passed when the expected value was NaN — and
    /// the failure names the element. Failures are captured by `recordFailure` below.
    func testAssertCloseFailsOnNaNOnEitherSide() {
        let expectedNaN = failures { assertClose([1.0, 2.0, 3.0], [1.0, Double.nan, 3.0], rtol: 1, atol: 1) }
        XCTAssertEqual(expectedNaN.count, 1, "\(expectedNaN)")
        XCTAssertTrue(expectedNaN.first?.contains("element 1") ?? false, "\(expectedNaN)")
        let actualNaN = failures { assertClose([Float.nan], [Float(0)], rtol: 1, atol: 1) }
        XCTAssertEqual(actualNaN.count, 1, "\(actualNaN)")
        XCTAssertEqual(failures { assertClose(Double.nan, Double.nan, rtol: 1, atol: 1) }.count, 1)
        XCTAssertEqual(failures { assertClose(Tensor<Double>(shape: [2], data: [0, .nan]),
                                              Tensor<Double>(shape: [2], data: [0, 1]), rtol: 1, atol: 1) }.count, 1)
        // A close pair records nothing; a far one records the largest difference and its index.
        XCTAssertEqual(failures { assertClose([1.0, 2.0], [1.0, 2.0 + 1e-13]) }, [])
        let far = failures { assertClose([0.0, 5.0, 1.0], [0.0, 1.0, 0.0], rtol: 0, atol: 0.5) }
        XCTAssertEqual(far.count, 1)
        XCTAssertTrue(far.first?.contains("largest |difference| 4.0 at element 1 of 3") ?? false, "\(far)")
    }

    /// The failures `body` records, captured instead of failing this test.
    private var captured: [String]? = nil
    private func failures(_ body: () -> Void) -> [String] {
        captured = []
        body()
        defer { captured = nil }
        return captured ?? []
    }

    override func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int,
                                expected: Bool) {
        if captured != nil {
            captured?.append(description)
        } else {
            super.recordFailure(withDescription: description, inFile: filePath, atLine: lineNumber, expected: expected)
        }
    }

    func testNumericalGradientOfAKnownFunction() {
        // f(x) = Σ xᵢ³ + x₀x₁ ⇒ ∇f = 3xᵢ² + (x₁, x₀, 0)
        let x = [0.3, -1.2, 2.0]
        let f: ([Double]) -> Double = { $0.reduce(0) { $0 + $1 * $1 * $1 } + $0[0] * $0[1] }
        let exact = [3 * 0.09 - 1.2, 3 * 1.44 + 0.3, 12.0]
        assertClose(numericalGradient(at: x, f), exact, rtol: 1e-8, atol: 1e-8)
        // A wrong gradient (one coordinate off by 1e-4) is detected at the default tolerance.
        var wrong = exact
        wrong[1] += 1e-4
        XCTAssertNotNil(mismatch(wrong, numericalGradient(at: x, f), rtol: 1e-6, atol: 1e-8))
    }

    func testNaiveMatmulOfAKnownProduct() {
        // [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50]
        let a = [1.0, 2, 3, 4], b = [5.0, 6, 7, 8]
        XCTAssertEqual(naiveMatmul(a, rows: 2, cols: 2, transposeA: false, b, rows: 2, cols: 2, transposeB: false),
                       [19, 22, 43, 50])
        // Aᵀ B = [1 3; 2 4] [5 6; 7 8] = [26 30; 38 44]
        XCTAssertEqual(naiveMatmul(a, rows: 2, cols: 2, transposeA: true, b, rows: 2, cols: 2, transposeB: false),
                       [26, 30, 38, 44])
    }
}
