import CBLAS
import Foundation

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
