import LiftedTrain
#if canImport(XCTest)
import XCTest
#endif

// The one closeness check of every test target: `|actual − expected| ≤ atol + rtol·|expected|`
// element-wise (NumPy's `allclose` rule). NaN on either side is a failure, never a pass.
// `swift build` compiles this target too; without XCTest (a macOS machine with only the
// command-line tools) it builds without the assertions, which only the test targets use.

/// The worst element of a failed comparison, or the reason the arrays cannot be compared.
public struct Mismatch: CustomStringConvertible {
    /// What went wrong, with the largest difference and its index.
    public var description: String
}

/// Compares element-wise; nil when every element is close, otherwise the element that
/// violates the tolerance by the largest factor. NaN on either side, or an infinity against
/// anything but the same infinity, is a mismatch.
public func mismatch<S: BinaryFloatingPoint, T: BinaryFloatingPoint>(
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
        if a == e { continue }  // also equal infinities; NaN is never equal
        let diff = abs(a - e)
        if !diff.isFinite {
            return Mismatch(description: "element \(i) of \(actual.count): actual \(a), expected \(e) (not finite)")
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

#if canImport(XCTest)
/// Asserts `|actual − expected| ≤ atol + rtol·|expected|` element-wise, reporting the worst
/// element (index, both values, difference) and the largest absolute difference with its index.
/// Fails when either side holds a NaN.
public func assertClose<S: BinaryFloatingPoint, T: BinaryFloatingPoint>(
    _ actual: [S], _ expected: [T], rtol: Double = 1e-12, atol: Double = 1e-12,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    if let m = mismatch(actual, expected, rtol: rtol, atol: atol) {
        XCTFail("assertClose: \(m)\(message().isEmpty ? "" : " — \(message())")", file: file, line: line)
    }
}

/// `assertClose` for tensors: the shapes must be equal too.
public func assertClose<S: NNScalar, T: NNScalar>(
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
public func assertClose<S: BinaryFloatingPoint, T: BinaryFloatingPoint>(
    _ actual: S, _ expected: T, rtol: Double = 1e-12, atol: Double = 1e-12,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    assertClose([actual], [expected], rtol: rtol, atol: atol, message(), file: file, line: line)
}

#endif

// MARK: - Gradient checks

/// Central differences (f(x + h eᵢ) − f(x − h eᵢ)) / 2h for every coordinate of `x`, in Double.
/// Truncation error is O(h²·f‴), rounding error O(ε·|f|/h): h = 1e-5 balances them at ~1e-10
/// for the O(1) functions of these tests.
public func numericalGradient(at x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
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

#if canImport(XCTest)
/// Asserts that `analytic` is the gradient of `f` at `x` (central differences, Double).
public func assertGradient(_ analytic: [Double], of f: ([Double]) -> Double, at x: [Double],
                           rtol: Double = 1e-6, atol: Double = 1e-8, _ message: @autoclosure () -> String = "",
                           file: StaticString = #filePath, line: UInt = #line) {
    let numeric = numericalGradient(at: x, f)
    assertClose(analytic, numeric, rtol: rtol, atol: atol, message(), file: file, line: line)
}
#endif
