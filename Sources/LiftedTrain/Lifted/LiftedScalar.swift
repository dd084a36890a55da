import CBLAS
import CLAPACKE

/// The scalar types the lifted trainers run in: `NNScalar` plus a right-hand Cholesky solve
/// (samples are rows here, so the systems of the papers, written with samples as columns, are
/// solved from the right) and the per-entry proximal maps of the splittings.
///
/// Every per-entry kernel is written once generically (`LiftedKernels`) and specialised here
/// for each concrete type, as `NNScalar`'s kernels are: generic trainer code pays one dynamic
/// call per buffer, never per element.
public protocol LiftedScalar: NNScalar {
    /// Factors the symmetric positive definite A = L Lᵀ in place (n × n, row-major; L is left
    /// in the lower triangle). Returns LAPACK's `info` (0 = success, k > 0: the leading minor
    /// of order k is not positive definite).
    static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Self>) -> Int32
    /// B ← B A⁻¹ for the factored A = L Lᵀ (`choleskyFactor`) and B of `rows` × n, row-major:
    /// two triangular solves from the right (BLAS trsm), B L⁻ᵀ then · L⁻¹.
    static func solveRight(n: Int, rows: Int, factor: UnsafePointer<Self>, b: UnsafeMutablePointer<Self>)
    /// The ReLU splitting's per-entry minimiser, element-wise:
    /// z ← argmin_z γ (a − max(z, 0))² + β (z − m)²  (see `LiftedKernels.reluProx`).
    static func reluProx(a: UnsafePointer<Self>, m: UnsafePointer<Self>, gamma: Self, beta: Self,
                         into z: UnsafeMutablePointer<Self>, count: Int)
}

extension Float: LiftedScalar {
    public static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Float>) -> Int32 {
        // Row-major A is column-major Aᵀ = A: 'U' in column-major is the row-major lower triangle.
        BLASProfile.time { LAPACKE_spotrf_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n)) }
    }
    public static func solveRight(n: Int, rows: Int, factor: UnsafePointer<Float>, b: UnsafeMutablePointer<Float>) {
        BLASProfile.time {
            cblas_strsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(rows), Int32(n), 1,
                        factor, Int32(n), b, Int32(n))
            cblas_strsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, Int32(rows), Int32(n), 1,
                        factor, Int32(n), b, Int32(n))
        }
    }
    public static func reluProx(a: UnsafePointer<Float>, m: UnsafePointer<Float>, gamma: Float, beta: Float,
                                into z: UnsafeMutablePointer<Float>, count: Int) {
        LiftedKernels.reluProx(a: a, m: m, gamma: gamma, beta: beta, into: z, count: count)
    }
}

extension Double: LiftedScalar {
    public static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Double>) -> Int32 {
        BLASProfile.time { LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n)) }
    }
    public static func solveRight(n: Int, rows: Int, factor: UnsafePointer<Double>, b: UnsafeMutablePointer<Double>) {
        BLASProfile.time {
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(rows), Int32(n), 1,
                        factor, Int32(n), b, Int32(n))
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, Int32(rows), Int32(n), 1,
                        factor, Int32(n), b, Int32(n))
        }
    }
    public static func reluProx(a: UnsafePointer<Double>, m: UnsafePointer<Double>, gamma: Double, beta: Double,
                                into z: UnsafeMutablePointer<Double>, count: Int) {
        LiftedKernels.reluProx(a: a, m: m, gamma: gamma, beta: beta, into: z, count: count)
    }
}

/// Per-entry kernels of the lifted methods, generic once, specialised by `LiftedScalar`.
enum LiftedKernels {
    /// z = argmin_z γ (a − max(z, 0))² + β (z − m)², γ ≥ 0, β > 0, entry by entry.
    ///
    /// This is Taylor et al. 2016's z-update for ReLU (the entries of z_l decouple and, for a
    /// piecewise-linear h, each is solved in closed form) and Zeng et al. 2019's
    /// U-update (the ReLU proximal map). The objective is a parabola on each side of 0:
    /// on z ≥ 0 its minimiser is max(0, (γa + βm)/(γ + β)), on z ≤ 0 it is min(0, m); the
    /// better of the two is the global minimiser (ties go to the z ≥ 0 branch).
    @inline(__always)
    static func reluProx<T: BinaryFloatingPoint>(a: UnsafePointer<T>, m: UnsafePointer<T>, gamma: T, beta: T,
                                                 into z: UnsafeMutablePointer<T>, count: Int) {
        let inv = 1 / (gamma + beta)
        for i in 0..<count {
            let ai = a[i], mi = m[i]
            let zp = max(0, (gamma * ai + beta * mi) * inv)
            let zn = min(0, mi)
            let dp = ai - zp, ep = zp - mi
            let en = zn - mi
            let fp = gamma * dp * dp + beta * ep * ep
            let fn = gamma * ai * ai + beta * en * en
            z[i] = fp <= fn ? zp : zn
        }
    }
}
