import XCTest
@testable import LiftedTrain

// MARK: - Closeness

/// The worst element of a comparison `|actual − expected| ≤ atol + rtol·|expected|`
/// (NumPy's `allclose` rule), or the reason the arrays cannot be compared.
struct Mismatch: CustomStringConvertible {
    /// What went wrong, with the largest difference and its index.
    var description: String
}

/// Compares element-wise; nil when every element is close, otherwise the element that
/// violates the tolerance by the largest factor. NaN or an infinity in either array is a
/// mismatch unless both hold the same infinity.
func mismatch<S: BinaryFloatingPoint, T: BinaryFloatingPoint>(
    _ actual: [S], _ expected: [T], rtol: Double, atol: Double
) -> Mismatch? {
    guard actual.count == expected.count else {
        return Mismatch(description: "counts differ: \(actual.count) actual vs \(expected.count) expected")
    }
    var worst: (index: Int, ratio: Double, diff: Double)? = nil
    var largestDiff = (index: 0, diff: 0.0)
    for i in actual.indices {
        let a = Double(actual[i])
        let e = Double(expected[i])
        if a == e { continue }  // also equal infinities
        let diff = abs(a - e)
        if !diff.isFinite {
            return Mismatch(description: "element \(i): actual \(a), expected \(e) (not finite)")
        }
        if diff > largestDiff.diff { largestDiff = (i, diff) }
        let ratio = diff / (atol + rtol * abs(e))
        if ratio > 1, ratio > (worst?.ratio ?? 0) { worst = (i, ratio, diff) }
    }
    guard let w = worst else { return nil }
    return Mismatch(description: """
        element \(w.index): actual \(Double(actual[w.index])), expected \(Double(expected[w.index])), \
        |difference| \(w.diff) exceeds atol \(atol) + rtol \(rtol)·|expected|; \
        largest |difference| \(largestDiff.diff) at element \(largestDiff.index) of \(actual.count)
        """)
}

/// Asserts `|actual − expected| ≤ atol + rtol·|expected|` element-wise, reporting the worst
/// element (index, both values, difference) and the largest absolute difference.
func assertClose<S: BinaryFloatingPoint, T: BinaryFloatingPoint>(
    _ actual: [S], _ expected: [T], rtol: Double = 1e-12, atol: Double = 1e-12,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    if let m = mismatch(actual, expected, rtol: rtol, atol: atol) {
        XCTFail("assertClose: \(m)\(message().isEmpty ? "" : " — \(message())")", file: file, line: line)
    }
}

/// `assertClose` for tensors: the shapes must be equal too.
func assertClose<S: NNScalar, T: NNScalar>(
    _ actual: Tensor<S>, _ expected: Tensor<T>, rtol: Double = 1e-12, atol: Double = 1e-12,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.shape == expected.shape else {
        XCTFail("assertClose: shape \(actual.shape) vs expected \(expected.shape) \(message())", file: file, line: line)
        return
    }
    assertClose(actual.data, expected.data, rtol: rtol, atol: atol, message(), file: file, line: line)
}

/// `assertClose` for one number.
func assertClose<S: BinaryFloatingPoint, T: BinaryFloatingPoint>(
    _ actual: S, _ expected: T, rtol: Double = 1e-12, atol: Double = 1e-12,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    assertClose([actual], [expected], rtol: rtol, atol: atol, message(), file: file, line: line)
}

// MARK: - Gradient checks

/// Central differences (f(x + h eᵢ) − f(x − h eᵢ)) / 2h for every coordinate of `x`, in Double.
/// Truncation error is O(h²·f‴), rounding error O(ε·|f|/h): h = 1e-5 balances them at ~1e-10
/// for the O(1) functions of these tests.
func numericalGradient(at x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var xp = x
    var g = [Double](repeating: 0, count: x.count)
    for i in x.indices {
        xp[i] = x[i] + h
        let fPlus = f(xp)
        xp[i] = x[i] - h
        let fMinus = f(xp)
        xp[i] = x[i]
        g[i] = (fPlus - fMinus) / (2 * h)
    }
    return g
}

/// Asserts that `analytic` is the gradient of `f` at `x` (central differences, Double).
func assertGradient(_ analytic: [Double], of f: ([Double]) -> Double, at x: [Double],
                    rtol: Double = 1e-6, atol: Double = 1e-8, _ message: @autoclosure () -> String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
    let numeric = numericalGradient(at: x, f)
    assertClose(analytic, numeric, rtol: rtol, atol: atol, message(), file: file, line: line)
}

// MARK: - Data

/// Deterministic N(0, std²) values.
func randomArray(_ n: Int, std: Double = 1, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in rng.normal() * std }
}

/// Deterministic values of N(0, std²) pushed at least `gap` away from zero (keeps central
/// differences off the kinks of ReLU-like functions).
func randomArrayAvoidingZero(_ n: Int, std: Double = 1, gap: Double = 1e-2, seed: UInt64) -> [Double] {
    randomArray(n, std: std, seed: seed).map { $0 >= 0 ? $0 + gap : $0 - gap }
}

/// The naive product op(A)·op(B) with a triple loop, for row-major `a` [ar, ac] and `b` [br, bc].
func naiveMatmul(_ a: [Double], rows ar: Int, cols ac: Int, transposeA ta: Bool,
                 _ b: [Double], rows br: Int, cols bc: Int, transposeB tb: Bool) -> [Double] {
    let (m, k) = ta ? (ac, ar) : (ar, ac)
    let n = tb ? br : bc
    precondition((tb ? bc : br) == k)
    func A(_ i: Int, _ p: Int) -> Double { ta ? a[p * ac + i] : a[i * ac + p] }
    func B(_ p: Int, _ j: Int) -> Double { tb ? b[j * bc + p] : b[p * bc + j] }
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += A(i, p) * B(p, j) }
            c[i * n + j] = s
        }
    }
    return c
}

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
