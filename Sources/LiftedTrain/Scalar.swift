import CBLAS
import CLAPACKE
import Foundation

/// The floating-point types the numerics run in: `Float` for training, `Double` for checks.
///
/// Every matrix product goes through BLAS (`sgemm`/`dgemm`); every per-element loop is a
/// static kernel implemented once generically (`Kernels.swift`) and specialised here for each
/// concrete type, so generic layer code pays one dynamic call per *buffer*, never per element.
public protocol NNScalar: BinaryFloatingPoint, ElementaryScalar, ImageScalar, Sendable, CustomStringConvertible
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
    /// Solves A X = B in place for symmetric positive definite A (n × n, row-major, overwritten by
    /// its Cholesky factor) and B (n × nrhs, row-major). Returns LAPACK's `info` (0 = success).
    static func choleskySolve(n: Int, nrhs: Int, a: UnsafeMutablePointer<Self>,
                              b: UnsafeMutablePointer<Self>) -> Int32
    /// Symmetric eigenvalues of A (n × n, row-major, destroyed), ascending. Returns `info`.
    static func symmetricEigenvalues(n: Int, a: UnsafeMutablePointer<Self>,
                                     w: UnsafeMutablePointer<Self>) -> Int32

    /// Applies φ in place.
    static func activationForward(_ kind: ActivationKind, alpha: Self, _ x: UnsafeMutableBufferPointer<Self>)
    /// dy ← dy ⊙ φ′(z), given the pre-activation z and the output y = φ(z).
    static func activationBackward(_ kind: ActivationKind, alpha: Self, z: UnsafeBufferPointer<Self>,
                                   y: UnsafeBufferPointer<Self>, dy: UnsafeMutableBufferPointer<Self>)
    /// y ← φ(x) into a separate buffer of the same size.
    static func activationForward(_ kind: ActivationKind, alpha: Self, from x: UnsafeBufferPointer<Self>,
                                  into y: UnsafeMutableBufferPointer<Self>)
    /// dx ← dy ⊙ φ′(z) into a separate buffer of the same size.
    static func activationBackward(_ kind: ActivationKind, alpha: Self, z: UnsafeBufferPointer<Self>,
                                   y: UnsafeBufferPointer<Self>, dy: UnsafeBufferPointer<Self>,
                                   into dx: UnsafeMutableBufferPointer<Self>)
    /// Row-wise softmax cross-entropy on logits `[b, c]`; writes ∂(mean loss)/∂logits into `grad`
    /// (may alias nothing) and returns (summed loss, number of correct argmax predictions).
    static func softmaxCrossEntropy(logits: UnsafeBufferPointer<Self>, labels: UnsafeBufferPointer<Int32>,
                                    classes: Int, grad: UnsafeMutableBufferPointer<Self>?, scale: Self) -> (Double, Int)
    /// Adam update of one parameter buffer (see `Adam`).
    static func adamStep(p: UnsafeMutableBufferPointer<Self>, g: UnsafeBufferPointer<Self>,
                         m: UnsafeMutableBufferPointer<Self>, v: UnsafeMutableBufferPointer<Self>,
                         lr: Self, beta1: Self, beta2: Self, eps: Self, correction1: Self, correction2: Self)
    /// z ← x ⊙ y element-wise (z may alias x or y).
    static func multiply(_ x: UnsafeBufferPointer<Self>, _ y: UnsafeBufferPointer<Self>,
                         into z: UnsafeMutableBufferPointer<Self>)
    /// Largest |x_i| (0 for an empty buffer); NaN if any element is NaN.
    static func maxAbs(_ x: UnsafeBufferPointer<Self>) -> Self
    /// out ← (1 − θ) x + θ c over `count` elements (out may alias x); returns
    /// (Σ (c − x)², Σ (out − x)², Σ x²) — the relaxed fixed-point step and its change, in one pass.
    static func relax(_ x: UnsafePointer<Self>, toward c: UnsafePointer<Self>, theta: Self,
                      into out: UnsafeMutablePointer<Self>, count: Int) -> (Double, Double, Double)
    /// FISTA's gradient-mapping step in place: W⁺ = Y − s Δ, then Δ ← W⁺ − prev, prev ← W⁺;
    /// returns ⟨Δ, W⁺ − prev⟩ (the restart test) for the Δ and prev passed in.
    static func gradientMappingStep(y: UnsafePointer<Self>, delta: UnsafeMutablePointer<Self>,
                                    prev: UnsafeMutablePointer<Self>, scale: Self, count: Int) -> Double
    /// Clamps every element to [lo, hi].
    static func clamp(_ x: UnsafeMutableBufferPointer<Self>, lo: Self, hi: Self)
    /// An array of `count` copies of `value` (a memset, not a generic per-element loop).
    static func filledArray(_ value: Self, count: Int) -> [Self]
    /// Sets every element to `value`.
    static func fill(_ x: UnsafeMutableBufferPointer<Self>, with value: Self)
    /// Converts from Float32 (history files); for `Float` this returns the same storage.
    static func fromFloats(_ a: [Float]) -> [Self]
    /// Converts to Float32 (history files); for `Float` this returns the same storage.
    static func toFloats(_ a: [Self]) -> [Float]
    /// Converts from Double (random draws).
    static func fromDoubles(_ a: [Double]) -> [Self]
    /// Converts to Double (diagnostics); for `Double` this returns the same storage.
    static func toDoubles(_ a: [Self]) -> [Double]
    /// Converts pixel bytes to scalars, scaled by `scale`.
    static func fromBytes(_ bytes: UnsafeBufferPointer<UInt8>, scale: Self, into out: UnsafeMutableBufferPointer<Self>)
}

@inline(__always) func blasTrans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: NNScalar {
    public static func filledArray(_ value: Float, count: Int) -> [Float] { [Float](repeating: value, count: count) }
    public static func fill(_ x: UnsafeMutableBufferPointer<Float>, with value: Float) { x.update(repeating: value) }
    public static func fromFloats(_ a: [Float]) -> [Float] { a }
    public static func toFloats(_ a: [Float]) -> [Float] { a }
    public static func fromDoubles(_ a: [Double]) -> [Float] { a.map { Float($0) } }
    public static func toDoubles(_ a: [Float]) -> [Double] { a.map { Double($0) } }
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
    public static func choleskySolve(n: Int, nrhs: Int, a: UnsafeMutablePointer<Float>,
                                     b: UnsafeMutablePointer<Float>) -> Int32 {
        BLASProfile.time { spotrfs(n: n, nrhs: nrhs, a: a, b: b) }
    }
    private static func spotrfs(n: Int, nrhs: Int, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>) -> Int32 {
        // A is symmetric, so its row-major array is A in column-major order too: factor it there
        // ('U' in column-major is the row-major lower triangle, A = L Lᵀ) without LAPACKE's
        // transposed copies, then the two triangular solves row-major through BLAS.
        let info = LAPACKE_spotrf_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n))
        if info != 0 { return info }
        for t in [CblasNoTrans, CblasTrans] {
            cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, t, CblasNonUnit, Int32(n), Int32(nrhs), 1, a, Int32(n), b, Int32(nrhs))
        }
        return 0
    }
    public static func symmetricEigenvalues(n: Int, a: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_ssyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "L")), Int32(n), a, Int32(n), w)
    }
    public static func activationForward(_ kind: ActivationKind, alpha: Float, _ x: UnsafeMutableBufferPointer<Float>) {
        Kernels.activationForward(kind, alpha: alpha, x)
    }
    public static func activationBackward(_ kind: ActivationKind, alpha: Float, z: UnsafeBufferPointer<Float>,
                                          y: UnsafeBufferPointer<Float>, dy: UnsafeMutableBufferPointer<Float>) {
        Kernels.activationBackward(kind, alpha: alpha, z: z, y: y, dy: dy)
    }
    public static func activationForward(_ kind: ActivationKind, alpha: Float, from x: UnsafeBufferPointer<Float>,
                                         into y: UnsafeMutableBufferPointer<Float>) {
        Kernels.activationForward(kind, alpha: alpha, from: x, into: y)
    }
    public static func activationBackward(_ kind: ActivationKind, alpha: Float, z: UnsafeBufferPointer<Float>,
                                          y: UnsafeBufferPointer<Float>, dy: UnsafeBufferPointer<Float>,
                                          into dx: UnsafeMutableBufferPointer<Float>) {
        Kernels.activationBackward(kind, alpha: alpha, z: z, y: y, dy: dy, into: dx)
    }
    public static func softmaxCrossEntropy(logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
                                           classes: Int, grad: UnsafeMutableBufferPointer<Float>?, scale: Float) -> (Double, Int) {
        Kernels.softmaxCrossEntropy(logits: logits, labels: labels, classes: classes, grad: grad, scale: scale)
    }
    public static func adamStep(p: UnsafeMutableBufferPointer<Float>, g: UnsafeBufferPointer<Float>,
                                m: UnsafeMutableBufferPointer<Float>, v: UnsafeMutableBufferPointer<Float>,
                                lr: Float, beta1: Float, beta2: Float, eps: Float, correction1: Float, correction2: Float) {
        Kernels.adamStep(p: p, g: g, m: m, v: v, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                         correction1: correction1, correction2: correction2)
    }
    public static func multiply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>,
                                into z: UnsafeMutableBufferPointer<Float>) { Kernels.multiply(x, y, into: z) }
    public static func maxAbs(_ x: UnsafeBufferPointer<Float>) -> Float { Kernels.maxAbs(x) }
    public static func clamp(_ x: UnsafeMutableBufferPointer<Float>, lo: Float, hi: Float) { Kernels.clamp(x, lo: lo, hi: hi) }
    public static func relax(_ x: UnsafePointer<Float>, toward c: UnsafePointer<Float>, theta: Float,
                             into out: UnsafeMutablePointer<Float>, count: Int) -> (Double, Double, Double) {
        Kernels.relax(x, toward: c, theta: theta, into: out, count: count)
    }
    public static func gradientMappingStep(y: UnsafePointer<Float>, delta: UnsafeMutablePointer<Float>,
                                           prev: UnsafeMutablePointer<Float>, scale: Float, count: Int) -> Double {
        Kernels.gradientMappingStep(y: y, delta: delta, prev: prev, scale: scale, count: count)
    }
    public static func fromBytes(_ bytes: UnsafeBufferPointer<UInt8>, scale: Float, into out: UnsafeMutableBufferPointer<Float>) {
        Kernels.fromBytes(bytes, scale: scale, into: out)
    }
}

extension Double: NNScalar {
    public static func filledArray(_ value: Double, count: Int) -> [Double] { [Double](repeating: value, count: count) }
    public static func fill(_ x: UnsafeMutableBufferPointer<Double>, with value: Double) { x.update(repeating: value) }
    public static func fromFloats(_ a: [Float]) -> [Double] { a.map { Double($0) } }
    public static func toFloats(_ a: [Double]) -> [Float] { a.map { Float($0) } }
    public static func fromDoubles(_ a: [Double]) -> [Double] { a }
    public static func toDoubles(_ a: [Double]) -> [Double] { a }
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
    public static func choleskySolve(n: Int, nrhs: Int, a: UnsafeMutablePointer<Double>,
                                     b: UnsafeMutablePointer<Double>) -> Int32 {
        let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), a, Int32(n))
        if info != 0 { return info }
        return LAPACKE_dpotrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), Int32(nrhs), a, Int32(n), b, Int32(nrhs))
    }
    public static func symmetricEigenvalues(n: Int, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "L")), Int32(n), a, Int32(n), w)
    }
    public static func activationForward(_ kind: ActivationKind, alpha: Double, _ x: UnsafeMutableBufferPointer<Double>) {
        Kernels.activationForward(kind, alpha: alpha, x)
    }
    public static func activationBackward(_ kind: ActivationKind, alpha: Double, z: UnsafeBufferPointer<Double>,
                                          y: UnsafeBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>) {
        Kernels.activationBackward(kind, alpha: alpha, z: z, y: y, dy: dy)
    }
    public static func activationForward(_ kind: ActivationKind, alpha: Double, from x: UnsafeBufferPointer<Double>,
                                         into y: UnsafeMutableBufferPointer<Double>) {
        Kernels.activationForward(kind, alpha: alpha, from: x, into: y)
    }
    public static func activationBackward(_ kind: ActivationKind, alpha: Double, z: UnsafeBufferPointer<Double>,
                                          y: UnsafeBufferPointer<Double>, dy: UnsafeBufferPointer<Double>,
                                          into dx: UnsafeMutableBufferPointer<Double>) {
        Kernels.activationBackward(kind, alpha: alpha, z: z, y: y, dy: dy, into: dx)
    }
    public static func softmaxCrossEntropy(logits: UnsafeBufferPointer<Double>, labels: UnsafeBufferPointer<Int32>,
                                           classes: Int, grad: UnsafeMutableBufferPointer<Double>?, scale: Double) -> (Double, Int) {
        Kernels.softmaxCrossEntropy(logits: logits, labels: labels, classes: classes, grad: grad, scale: scale)
    }
    public static func adamStep(p: UnsafeMutableBufferPointer<Double>, g: UnsafeBufferPointer<Double>,
                                m: UnsafeMutableBufferPointer<Double>, v: UnsafeMutableBufferPointer<Double>,
                                lr: Double, beta1: Double, beta2: Double, eps: Double, correction1: Double, correction2: Double) {
        Kernels.adamStep(p: p, g: g, m: m, v: v, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                         correction1: correction1, correction2: correction2)
    }
    public static func multiply(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
                                into z: UnsafeMutableBufferPointer<Double>) { Kernels.multiply(x, y, into: z) }
    public static func maxAbs(_ x: UnsafeBufferPointer<Double>) -> Double { Kernels.maxAbs(x) }
    public static func clamp(_ x: UnsafeMutableBufferPointer<Double>, lo: Double, hi: Double) { Kernels.clamp(x, lo: lo, hi: hi) }
    public static func relax(_ x: UnsafePointer<Double>, toward c: UnsafePointer<Double>, theta: Double,
                             into out: UnsafeMutablePointer<Double>, count: Int) -> (Double, Double, Double) {
        Kernels.relax(x, toward: c, theta: theta, into: out, count: count)
    }
    public static func gradientMappingStep(y: UnsafePointer<Double>, delta: UnsafeMutablePointer<Double>,
                                           prev: UnsafeMutablePointer<Double>, scale: Double, count: Int) -> Double {
        Kernels.gradientMappingStep(y: y, delta: delta, prev: prev, scale: scale, count: count)
    }
    public static func fromBytes(_ bytes: UnsafeBufferPointer<UInt8>, scale: Double, into out: UnsafeMutableBufferPointer<Double>) {
        Kernels.fromBytes(bytes, scale: scale, into: out)
    }
}

/// BLAS thread control (OpenBLAS). One thread per concurrent task avoids oversubscribing the cores.
public enum BLASThreads {
    /// Sets the number of OpenBLAS threads and of `Parallel.workers` (the cores a run may use).
    public static func set(_ n: Int) {
        setLibrary(n)
        Parallel.workers = max(1, n)
    }
    /// Sets the number of OpenBLAS threads only.
    static func setLibrary(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    /// The current number of OpenBLAS threads.
    public static var current: Int { Int(openblas_get_num_threads()) }
}

/// Optional accounting of the wall time spent inside BLAS/LAPACK calls on Float (for `lpom bench`).
/// Off by default; when off it costs one branch per call.
public enum BLASProfile {
    /// Whether calls are timed.
    nonisolated(unsafe) public static var enabled = false
    /// Seconds accumulated since the last `reset()`.
    nonisolated(unsafe) public static var seconds = 0.0
    /// Sets the accumulated time to zero.
    public static func reset() { seconds = 0 }

    @inline(__always) static func time<T>(_ body: () -> T) -> T {
        guard enabled else { return body() }
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        let r = body()
        clock_gettime(CLOCK_MONOTONIC, &t1)
        seconds += Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9
        return r
    }
}

/// Which OpenBLAS kernels run (OpenBLAS honours `OPENBLAS_CORETYPE`, which this machine's
/// environment sets to Haswell: AVX2 kernels even though the CPU has AVX-512).
public enum BLASCore {
    /// OpenBLAS's name for the kernels in use (e.g. "Haswell", "SkylakeX", "Cooperlake").
    public static var name: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build description, starting with its version (e.g. "OpenBLAS 0.3.26 DYNAMIC_ARCH …").
    public static var config: String { String(cString: openblas_get_config()) }
}
