import CBLAS
import Foundation
import Synchronization

/// OpenBLAS's thread count: process state of the C library (one setting for every caller in the
/// process), and the only place this package changes it. A run sets it once from its
/// `ComputeContext` (`configureOpenBLAS()`); a split (`ComputeContext.run`) and LPOM's concurrent
/// levels switch it to one thread while their workers call BLAS, and restore it afterwards. It
/// changes how a product is scheduled, not what it computes beyond rounding.
public enum BLASThreads {
    /// Sets the number of OpenBLAS threads (at least 1).
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    /// The current number of OpenBLAS threads.
    public static var current: Int { Int(openblas_get_num_threads()) }
}

/// Accounting of the wall time spent inside BLAS/LAPACK calls on Float (for `lpom bench`).
///
/// A process-wide clock, as `getrusage` is: it observes every BLAS call of the process while a
/// `measure` runs (on any thread, including the losses' and optimizers' calls that no
/// `ComputeContext` reaches) and never changes a result. Its counters are atomic; outside
/// `measure` it costs one relaxed load and a branch per call. Overlapping `measure`s see each
/// other's calls.
public enum BLASProfile {
    private static let active = Atomic<Int>(0)
    private static let nanoseconds = Atomic<Int>(0)

    /// Runs `body` with BLAS calls timed; returns its result and the seconds spent inside BLAS meanwhile.
    public static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, blasSeconds: Double) {
        let start = nanoseconds.load(ordering: .relaxed)
        active.add(1, ordering: .relaxed)
        defer { active.subtract(1, ordering: .relaxed) }
        let result = try body()
        return (result, Double(nanoseconds.load(ordering: .relaxed) - start) * 1e-9)
    }

    @inline(__always) static func time<T>(_ body: () -> T) -> T {
        guard active.load(ordering: .relaxed) > 0 else { return body() }
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        let r = body()
        clock_gettime(CLOCK_MONOTONIC, &t1)
        nanoseconds.add((t1.tv_sec - t0.tv_sec) * 1_000_000_000 + (t1.tv_nsec - t0.tv_nsec), ordering: .relaxed)
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

/// Denormal (subnormal) floats flushed to zero: flush-to-zero and denormals-are-zero on x86-64
/// (MXCSR bits 15 and 6), per thread; threads created afterwards inherit the setting (Linux copies
/// the creating thread's floating-point state), so `lpom` sets it once at start-up, before any
/// worker exists. Why: the surfing inversion of a trained generator meets denormal gradients
/// (through saturated sigmoid outputs), and on Intel CPUs a product with denormal operands takes
/// microcode assists: sgemm fell from 97 to 0.7 GFLOP/s on such operands, and `lpom surf` on the
/// DCGAN k = 20 generator ran at 2.5 instead of 0.64 ms per trial-step (Xeon model 207, 2026-12-06;
/// AMD CPUs pay little, which is why earlier machines did not show it). TensorFlow flushes
/// denormals in its kernels the same way; PyTorch keeps them unless `torch.set_flush_denormal`.
/// A value that would be denormal (|x| < 1.2e-38) becomes 0; results that never pass through one
/// are unchanged to the bit. `LPOM_DENORMALS=ieee` keeps IEEE gradual underflow.
/// OpenBLAS's own pool threads (a product on more than one BLAS thread) were created when the
/// library loaded and keep the default.
public enum Denormals {
    static let mask: UInt32 = 0x8040

    /// Whether denormals are flushed on the calling thread (false where the CPU is not x86-64).
    public static var flushedOnThisThread: Bool { lpom_fp_control_get() & mask == mask }

    /// Flushes (true) or keeps (false) denormals on the calling thread.
    public static func setOnThisThread(flush: Bool) {
        let c = lpom_fp_control_get()
        lpom_fp_control_set(flush ? c | mask : c & ~mask)
    }

    /// lpom's start-up: flush unless the environment asks for IEEE arithmetic (`LPOM_DENORMALS=ieee`).
    public static func configureFromEnvironment() {
        setOnThisThread(flush: ProcessInfo.processInfo.environment["LPOM_DENORMALS"]?.lowercased() != "ieee")
    }

    /// "flushed to zero" or "ieee" (the calling thread's setting), for records.
    public static var description: String { flushedOnThisThread ? "flushed to zero" : "ieee" }
}
