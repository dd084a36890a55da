import Foundation
import XCTest
@testable import LiftedTrain
import TestSupport

/// Equivalences: every BLAS/LAPACK entry point of `NNScalar` against a naive loop or a
/// known answer, in Float and Double, on non-square shapes so that a swapped dimension or
/// leading dimension shows.
final class BLASTests: XCTestCase {
    private let transposes = [(false, false), (true, false), (false, true), (true, true)]

    /// C ← α op(A) op(B) + β C with a non-zero C, m = 3, n = 5, k = 4, all four transposes.
    private func checkGemm<S: NNScalar>(_: S.Type, rtol: Double) {
        let (m, n, k) = (3, 5, 4)
        let alpha = 1.5, beta = -0.5
        for (ta, tb) in transposes {
            let (ar, ac) = ta ? (k, m) : (m, k)
            let (br, bc) = tb ? (n, k) : (k, n)
            let a = randomArray(ar * ac, seed: 1)
            let b = randomArray(br * bc, seed: 2)
            let c0 = randomArray(m * n, seed: 3)
            let ab = naiveMatmul(a, rows: ar, cols: ac, transposeA: ta, b, rows: br, cols: bc, transposeB: tb)
            let expected = zip(ab, c0).map { alpha * $0 + beta * $1 }

            var c = c0.map { S($0) }
            let sa = a.map { S($0) }, sb = b.map { S($0) }
            S.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: S(alpha), a: sa, lda: ac, b: sb, ldb: bc,
                   beta: S(beta), c: &c, ldc: n)
            assertClose(c, expected, rtol: rtol, atol: rtol, "\(S.self) gemm transA \(ta) transB \(tb)")

            // The Tensor front end: shapes inferred from the operands, β = 0 resizes C.
            let ta2 = Tensor<S>(shape: [ar, ac], data: sa), tb2 = Tensor<S>(shape: [br, bc], data: sb)
            let product = matmul(ta2, tb2, transposeA: ta, transposeB: tb)
            XCTAssertEqual(product.shape, [m, n])
            assertClose(product.data, ab, rtol: rtol, atol: rtol, "\(S.self) matmul transA \(ta) transB \(tb)")

            var acc = Tensor<S>(shape: [m, n], data: c0.map { S($0) })
            gemm(ta2, tb2, transposeA: ta, transposeB: tb, into: &acc, alpha: S(alpha), beta: S(beta))
            assertClose(acc.data, expected, rtol: rtol, atol: rtol, "\(S.self) Tensor gemm transA \(ta) transB \(tb)")
        }
    }

    func testGemmMatchesNaiveTripleLoopDouble() { checkGemm(Double.self, rtol: 1e-13) }
    func testGemmMatchesNaiveTripleLoopFloat() { checkGemm(Float.self, rtol: 1e-5) }

    func testGemmHonoursLeadingDimensions() {
        // A is the left 3 × 2 block of a 3 × 4 buffer; C the left 3 × 2 block of a 3 × 3 buffer.
        let big = randomArray(12, seed: 4)
        let a = (0..<3).flatMap { r in big[(r * 4)..<(r * 4 + 2)] }
        let b = randomArray(4, seed: 5)  // 2 × 2
        var c = [Double](repeating: 7, count: 9)
        Double.gemm(transA: false, transB: false, m: 3, n: 2, k: 2, alpha: 1, a: big, lda: 4, b: b, ldb: 2,
                    beta: 0, c: &c, ldc: 3)
        let expected = naiveMatmul(Array(a), rows: 3, cols: 2, transposeA: false, b, rows: 2, cols: 2, transposeB: false)
        assertClose([c[0], c[1], c[3], c[4], c[6], c[7]], expected, rtol: 1e-13, atol: 1e-13)
        XCTAssertEqual([c[2], c[5], c[8]], [7, 7, 7], "gemm wrote outside the 3 × 2 block of C")
    }

    func testMatmulOfAKnownProduct() {
        // [1 2 3; 4 5 6] · [1 0; 0 1; 1 1] = [4 5; 10 11]
        let a = Tensor<Float>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor<Float>(shape: [3, 2], data: [1, 0, 0, 1, 1, 1])
        XCTAssertEqual(matmul(a, b), Tensor(shape: [2, 2], data: [4, 5, 10, 11]))
    }

    private func checkGemv<S: NNScalar>(_: S.Type, rtol: Double) {
        let (m, n) = (4, 3)
        let a = randomArray(m * n, seed: 6)
        for trans in [false, true] {
            let (xn, yn) = trans ? (m, n) : (n, m)
            let x = randomArray(xn, seed: 7), y0 = randomArray(yn, seed: 8)
            let ax = naiveMatmul(a, rows: m, cols: n, transposeA: trans, x, rows: xn, cols: 1, transposeB: false)
            let expected = zip(ax, y0).map { 2 * $0 + 0.25 * $1 }
            var y = y0.map { S($0) }
            S.gemv(trans: trans, m: m, n: n, alpha: 2, a: a.map { S($0) }, lda: n, x: x.map { S($0) },
                   beta: 0.25, y: &y)
            assertClose(y, expected, rtol: rtol, atol: rtol, "\(S.self) gemv trans \(trans)")
        }
    }

    func testGemvMatchesNaiveDouble() { checkGemv(Double.self, rtol: 1e-13) }
    func testGemvMatchesNaiveFloat() { checkGemv(Float.self, rtol: 1e-5) }

    private func checkGer<S: NNScalar>(_: S.Type, rtol: Double) {
        let (m, n) = (3, 4)
        let x = randomArray(m, seed: 9), y = randomArray(n, seed: 10), a0 = randomArray(m * n, seed: 11)
        var expected = a0
        for i in 0..<m { for j in 0..<n { expected[i * n + j] += -0.5 * x[i] * y[j] } }
        var a = a0.map { S($0) }
        S.ger(m: m, n: n, alpha: -0.5, x: x.map { S($0) }, y: y.map { S($0) }, a: &a, lda: n)
        assertClose(a, expected, rtol: rtol, atol: rtol, "\(S.self) ger")
    }

    func testGerMatchesNaiveDouble() { checkGer(Double.self, rtol: 1e-13) }
    func testGerMatchesNaiveFloat() { checkGer(Float.self, rtol: 1e-5) }

    private func checkVectorOps<S: NNScalar>(_: S.Type) {
        let x: [S] = [1, -2, 3], y0: [S] = [0.5, 0.25, -1]
        var y = y0
        S.axpy(n: 3, alpha: 2, x: x, y: &y)
        XCTAssertEqual(y, [2.5, -3.75, 5])
        var z = x
        S.scal(n: 3, alpha: -0.5, x: &z)
        XCTAssertEqual(z, [-0.5, 1, -1.5])
        XCTAssertEqual(S.dot(n: 3, x: x, y: y0), 0.5 - 0.5 - 3)
    }

    func testAxpyScalDot() {
        checkVectorOps(Float.self)
        checkVectorOps(Double.self)
    }

    /// A = Mᵀ M + n I (symmetric positive definite), B = A X for a known X; solve for X.
    private func checkCholeskySolve<S: NNScalar>(_: S.Type, rtol: Double) {
        let (n, nrhs) = (4, 3)
        let mat = randomArray(n * n, seed: 12)
        var a = naiveMatmul(mat, rows: n, cols: n, transposeA: true, mat, rows: n, cols: n, transposeB: false)
        for i in 0..<n { a[i * n + i] += Double(n) }
        let x = randomArray(n * nrhs, seed: 13)
        let b = naiveMatmul(a, rows: n, cols: n, transposeA: false, x, rows: n, cols: nrhs, transposeB: false)
        var sa = a.map { S($0) }, sb = b.map { S($0) }
        let info = S.choleskySolve(n: n, nrhs: nrhs, a: &sa, b: &sb)
        XCTAssertEqual(info, 0)
        assertClose(sb, x, rtol: rtol, atol: rtol, "\(S.self) choleskySolve")
    }

    func testCholeskySolveRecoversAKnownSolutionDouble() { checkCholeskySolve(Double.self, rtol: 1e-12) }
    func testCholeskySolveRecoversAKnownSolutionFloat() { checkCholeskySolve(Float.self, rtol: 1e-4) }

    func testCholeskySolveOfASmallSystemByHand() {
        // [4 2; 2 3] x = [2; 5]  ⇒  x = [-0.5, 2]
        var a: [Double] = [4, 2, 2, 3]
        var b: [Double] = [2, 5]
        XCTAssertEqual(Double.choleskySolve(n: 2, nrhs: 1, a: &a, b: &b), 0)
        assertClose(b, [-0.5, 2.0], rtol: 1e-14, atol: 1e-14)
    }

    func testCholeskySolveReportsAnIndefiniteMatrix() {
        // [1 2; 2 1] has eigenvalues 3 and −1: the factorisation fails at the second pivot.
        var a: [Double] = [1, 2, 2, 1]
        var b: [Double] = [1, 1]
        XCTAssertEqual(Double.choleskySolve(n: 2, nrhs: 1, a: &a, b: &b), 2)
    }

    private func checkEigenvalues<S: NNScalar>(_: S.Type, rtol: Double) {
        // The 1-D Laplacian tridiag(−1, 2, −1) of size n has eigenvalues 2 − 2cos(jπ/(n+1)).
        let n = 5
        var a = [S](repeating: 0, count: n * n)
        for i in 0..<n {
            a[i * n + i] = 2
            if i + 1 < n { a[i * n + i + 1] = -1; a[(i + 1) * n + i] = -1 }
        }
        var w = [S](repeating: 0, count: n)
        XCTAssertEqual(S.symmetricEigenvalues(n: n, a: &a, w: &w), 0)
        let expected = (1...n).map { 2 - 2 * cos(Double($0) * .pi / Double(n + 1)) }
        assertClose(w, expected, rtol: rtol, atol: rtol, "\(S.self) eigenvalues (ascending)")
    }

    func testSymmetricEigenvaluesOfTheLaplacianDouble() { checkEigenvalues(Double.self, rtol: 1e-13) }
    func testSymmetricEigenvaluesOfTheLaplacianFloat() { checkEigenvalues(Float.self, rtol: 1e-5) }

    func testSymmetricEigenvaluesOfARotatedDiagonal() {
        // Q diag(−3, 0.5, 4) Qᵀ with Q a rotation by θ in the (0, 2) plane.
        let (c, s) = (cos(0.7), sin(0.7))
        let q = [c, 0, -s, 0, 1, 0, s, 0, c]
        let d = [-3.0, 0.5, 4.0]
        var qd = q
        for i in 0..<3 { for j in 0..<3 { qd[i * 3 + j] *= d[j] } }
        var a = naiveMatmul(qd, rows: 3, cols: 3, transposeA: false, q, rows: 3, cols: 3, transposeB: true)
        var w = [Double](repeating: 0, count: 3)
        XCTAssertEqual(Double.symmetricEigenvalues(n: 3, a: &a, w: &w), 0)
        assertClose(w, d, rtol: 1e-13, atol: 1e-13)
    }

    func testBLASThreadControl() {
        let before = BLASThreads.current
        // OpenBLAS's thread count is process state: restore it for later tests.
        defer { BLASThreads.set(before) }
        BLASThreads.set(1)
        XCTAssertEqual(BLASThreads.current, 1)
        BLASThreads.set(0)  // clamped to one thread
        XCTAssertEqual(BLASThreads.current, 1)
    }

    /// `BLASProfile.measure` counts the Float BLAS calls inside it (and only those) and no more
    /// than the wall time they take.
    func testBLASProfileMeasuresOnlyInsideItsScope() {
        let a = randomTensor([200, 200], seed: 1).data.map { Float($0) }
        let t = Tensor(shape: [200, 200], data: a)
        func products(_ k: Int) { for _ in 0..<k { _ = matmul(t, t) } }
        let (_, none) = BLASProfile.measure { }
        XCTAssertEqual(none, 0)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (_, blas) = BLASProfile.measure { products(20) }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        XCTAssertGreaterThan(blas, 0)
        XCTAssertLessThanOrEqual(blas, wall)
        products(5)   // outside any measure: not counted by the next one
        let (_, empty) = BLASProfile.measure { }
        XCTAssertEqual(empty, 0)
    }
}
