import CBLAS
import CLAPACKE
import Foundation

/// The floating-point types the numerics run in: `Float` for training, `Double` for checks.
///
/// The requirements are only what differs between the two types: the BLAS and LAPACK routine
/// (`sgemm` or `dgemm`, …) behind each product and solve, and the C maths functions
/// (`ElementaryScalar`). Both conformances are below, one function each. Every per-element
/// operation (activations, losses, optimiser steps, conversions, the image kernels) is written
/// once, generically, in `Kernels/`, and marked `@specialized(where T == Float)` and
/// `@specialized(where T == Double)`: the compiler emits a concrete version for each type and
/// the generic entry jumps to it after one type check, so generic layer code pays one check per
/// *buffer*, never per element (`NNScalar+Kernels.swift` gives them their `Scalar.` names).
/// `SIMDScalar` lets the Winograd transforms use eight-lane vectors of either type (and, through
/// `SIMD`, asks for `Codable`).
public protocol NNScalar: BinaryFloatingPoint, ElementaryScalar, SIMDScalar, Codable, Sendable, CustomStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// C ← α op(A) op(B) + β C, row-major; op(A) is m × k, op(B) is k × n.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y ← α op(A) x + β y, row-major A of m × n.
    static func gemv(trans: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
    /// A ← α x yᵀ + A, row-major A of m × n.
    static func ger(m: Int, n: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafePointer<Self>,
                    a: UnsafeMutablePointer<Self>, lda: Int)
    /// y ← α x + y.
    static func axpy(n: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
    /// x ← α x.
    static func scal(n: Int, alpha: Self, x: UnsafeMutablePointer<Self>)
    /// xᵀ y.
    static func dot(n: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>) -> Self
    /// Factors the symmetric positive definite A = L Lᵀ in place (n × n, row-major; L is left in
    /// the lower triangle). Returns LAPACK's `info` (0 = success, k > 0: the leading minor of
    /// order k is not positive definite). The solves are `choleskySolve` and `solveRight`.
    static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Self>) -> Int32
    /// B ← op(L)⁻¹ B (left: B is n × cols) or B ← B op(L)⁻¹ (right: B is rows × n) for the lower
    /// triangular L (n × n, row-major), op(L) = Lᵀ when `transpose`: BLAS trsm.
    static func triangularSolve(right: Bool, transpose: Bool, n: Int, other: Int, l: UnsafePointer<Self>,
                                b: UnsafeMutablePointer<Self>)
    /// Symmetric eigenvalues of A (n × n, row-major, destroyed), ascending. Returns `info`.
    static func symmetricEigenvalues(n: Int, a: UnsafeMutablePointer<Self>,
                                     w: UnsafeMutablePointer<Self>) -> Int32

}

@inline(__always) func blasTrans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: NNScalar {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // One output row is a matrix–vector product: sgemm would first pack all of op(B), which
        // dominates when m = 1 (one sample through a wide dense layer).
        if m == 1 {
            BLASProfile.time {
                cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                            alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            }
            return
        }
        BLASProfile.time {
            cblas_sgemm(CblasRowMajor, blasTrans(transA), blasTrans(transB), Int32(m), Int32(n), Int32(k),
                        alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
    public static func gemv(trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        BLASProfile.time {
            cblas_sgemv(CblasRowMajor, blasTrans(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
        }
    }
    public static func ger(m: Int, n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                           a: UnsafeMutablePointer<Float>, lda: Int) {
        BLASProfile.time {
            cblas_sger(CblasRowMajor, Int32(m), Int32(n), alpha, x, 1, y, 1, a, Int32(lda))
        }
    }
    public static func axpy(n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        BLASProfile.time {
            cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
        }
    }
    public static func scal(n: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
        BLASProfile.time {
            cblas_sscal(Int32(n), alpha, x, 1)
        }
    }
    public static func dot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        BLASProfile.time { cblas_sdot(Int32(n), x, 1, y, 1) }
    }
    public static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Float>) -> Int32 {
        // A is symmetric, so its row-major array is A in column-major order too: factor it there
        // ('U' in column-major is the row-major lower triangle, A = L Lᵀ) without LAPACKE's
        // transposed copies.
        BLASProfile.time { LAPACKE_spotrf_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n)) }
    }
    public static func triangularSolve(right: Bool, transpose: Bool, n: Int, other: Int, l: UnsafePointer<Float>,
                                       b: UnsafeMutablePointer<Float>) {
        BLASProfile.time {
            cblas_strsm(CblasRowMajor, right ? CblasRight : CblasLeft, CblasLower, blasTrans(transpose), CblasNonUnit,
                        Int32(right ? other : n), Int32(right ? n : other), 1, l, Int32(n), b, Int32(right ? n : other))
        }
    }
    public static func symmetricEigenvalues(n: Int, a: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_ssyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "L")), Int32(n), a, Int32(n), w)
    }
}

extension Double: NNScalar {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 1 {   // as for Float: a matrix–vector product, without packing op(B)
            cblas_dgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_dgemm(CblasRowMajor, blasTrans(transA), blasTrans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func gemv(trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>) {
        cblas_dgemv(CblasRowMajor, blasTrans(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
    public static func ger(m: Int, n: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafePointer<Double>,
                           a: UnsafeMutablePointer<Double>, lda: Int) {
        cblas_dger(CblasRowMajor, Int32(m), Int32(n), alpha, x, 1, y, 1, a, Int32(lda))
    }
    public static func axpy(n: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(n), alpha, x, 1, y, 1)
    }
    public static func scal(n: Int, alpha: Double, x: UnsafeMutablePointer<Double>) {
        cblas_dscal(Int32(n), alpha, x, 1)
    }
    public static func dot(n: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        cblas_ddot(Int32(n), x, 1, y, 1)
    }
    public static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n))   // as for Float
    }
    public static func triangularSolve(right: Bool, transpose: Bool, n: Int, other: Int, l: UnsafePointer<Double>,
                                       b: UnsafeMutablePointer<Double>) {
        cblas_dtrsm(CblasRowMajor, right ? CblasRight : CblasLeft, CblasLower, blasTrans(transpose), CblasNonUnit,
                    Int32(right ? other : n), Int32(right ? n : other), 1, l, Int32(n), b, Int32(right ? n : other))
    }
    public static func symmetricEigenvalues(n: Int, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "L")), Int32(n), a, Int32(n), w)
    }
}

extension NNScalar {
    /// Solves A X = B in place for symmetric positive definite A (n × n, row-major, overwritten by
    /// its Cholesky factor) and B (n × nrhs, row-major): A = L Lᵀ, then L Y = B and Lᵀ X = Y.
    /// Returns LAPACK's `info` (0 = success).
    public static func choleskySolve(n: Int, nrhs: Int, a: UnsafeMutablePointer<Self>,
                                     b: UnsafeMutablePointer<Self>) -> Int32 {
        let info = choleskyFactor(n: n, a: a)
        if info != 0 { return info }
        triangularSolve(right: false, transpose: false, n: n, other: nrhs, l: a, b: b)
        triangularSolve(right: false, transpose: true, n: n, other: nrhs, l: a, b: b)
        return 0
    }

    /// B ← B A⁻¹ for A = L Lᵀ factored by `choleskyFactor` and B of `rows` × n, row-major (the
    /// lifted methods' systems, samples as rows): B L⁻ᵀ, then · L⁻¹.
    public static func solveRight(n: Int, rows: Int, factor: UnsafePointer<Self>, b: UnsafeMutablePointer<Self>) {
        triangularSolve(right: true, transpose: true, n: n, other: rows, l: factor, b: b)
        triangularSolve(right: true, transpose: false, n: n, other: rows, l: factor, b: b)
    }
}
