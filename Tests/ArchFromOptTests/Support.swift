import XCTest
import LiftedTrain

/// Asserts |a − e| ≤ atol + rtol·|e| element-wise, naming the worst element.
func assertClose(_ a: [Double], _ e: [Double], rtol: Double = 1e-12, atol: Double = 1e-12, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    guard a.count == e.count else { XCTFail("counts \(a.count) vs \(e.count) \(message)", file: file, line: line); return }
    var worst = (i: -1, ratio: 1.0)
    for i in a.indices {
        let r = abs(a[i] - e[i]) / (atol + rtol * abs(e[i]))
        if !(r <= worst.ratio) { worst = (i, r.isNaN ? .infinity : r) }
    }
    if worst.i >= 0 {
        XCTFail("element \(worst.i): \(a[worst.i]) vs expected \(e[worst.i]) \(message)", file: file, line: line)
    }
}

/// Central differences of f at x (Double, h = 1e-5).
func numericalGradient(at x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var xp = x
    return x.indices.map { i in
        xp[i] = x[i] + h; let fp = f(xp)
        xp[i] = x[i] - h; let fm = f(xp)
        xp[i] = x[i]
        return (fp - fm) / (2 * h)
    }
}

/// Deterministic N(0, std²) values.
func randomArray(_ n: Int, std: Double = 1, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in rng.normal() * std }
}
