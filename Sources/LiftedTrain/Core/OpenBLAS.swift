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

/// Which OpenBLAS kernels run (OpenBLAS honours `OPENBLAS_CORETYPE`; some machines' environments
/// set it, e.g. to Haswell: AVX2 kernels even though the CPU has AVX-512; `BLASKernelChoice`
/// corrects a choice below the CPU's instruction set when nobody set it).
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
/// OpenBLAS's own pool threads (a product on more than one BLAS thread) were created before
/// `main` with IEEE arithmetic. Measured (OpenBLAS 0.3.21, `DenormalsTests`): the columns a pool
/// thread computes come out flushed when the caller flushes or when the pool thread was created by
/// a flushing thread, so a flushing caller was already enough; lpom's start-up still stops that
/// pool (`restartBLASPool`) so that OpenBLAS starts a new one from the first threaded call's
/// thread and every thread of the process runs with one setting.
public enum Denormals {
    static let mask: UInt32 = 0x8040

    /// Whether denormals are flushed on the calling thread (false where the CPU is not x86-64).
    public static var flushedOnThisThread: Bool { lpom_fp_control_get() & mask == mask }

    /// Flushes (true) or keeps (false) denormals on the calling thread.
    public static func setOnThisThread(flush: Bool) {
        let c = lpom_fp_control_get()
        lpom_fp_control_set(flush ? c | mask : c & ~mask)
    }

    /// lpom's start-up: flush unless the environment asks for IEEE arithmetic (`LPOM_DENORMALS=ieee`),
    /// and OpenBLAS's pool restarted under the setting.
    public static func configureFromEnvironment() {
        let flush = ProcessInfo.processInfo.environment["LPOM_DENORMALS"]?.lowercased() != "ieee"
        setOnThisThread(flush: flush)
        if flush { restartBLASPool() }
    }

    /// Stops OpenBLAS's thread pool; its next threaded product starts a new pool from the calling
    /// thread, whose threads inherit that thread's denormal setting (call it with no BLAS call
    /// running).
    public static func restartBLASPool() { _ = blas_thread_shutdown_() }

    /// "flushed to zero" or "ieee" (the calling thread's setting), for records.
    public static var description: String { flushedOnThisThread ? "flushed to zero" : "ieee" }
}

/// OpenBLAS kernels for the CPU's instruction set when OpenBLAS's own choice is an older CPU's.
///
/// OpenBLAS built with DYNAMIC_ARCH picks its kernels from the CPU's family and model when the
/// library loads; a model newer than the library (Debian 12's 0.3.21 on a Xeon of family 6 model
/// 207, 2026-12-06) falls back to Prescott, SSE3 kernels: sgemm ran at 32 GFLOP/s there against
/// 155 with the Cooperlake kernels the CPU can run. The choice is made before `main`, and OpenBLAS
/// reads `OPENBLAS_CORETYPE` only then, so `lpom` starts itself again (`execv` of its own binary,
/// the same arguments and process id) with `OPENBLAS_CORETYPE` set, once, before anything else
/// runs. It does so only when the chosen kernels lack AVX2 while the CPU has it — a misdetection,
/// not a preference: Haswell or Zen kernels on an AVX-512 CPU stay. `OPENBLAS_CORETYPE` already in
/// the environment is the user's choice and always wins; `LPOM_BLAS_CORE=keep` keeps OpenBLAS's.
/// Results differ from the slow kernels' in the last bits (another summation order), as between
/// any two kernels.
public enum BLASKernelChoice {
    /// The instruction-set level of an OpenBLAS x86-64 kernel family (its `openblas_get_corename`
    /// name): 0 SSE only, 1 AVX, 2 AVX2 and FMA, 3 AVX-512, 4 AVX-512 BF16. nil for names not listed.
    static func level(ofKernel name: String) -> Int? {
        switch name.lowercased() {
        case "katmai", "coppermine", "northwood", "prescott", "banias", "core2", "penryn", "dunnington", "nehalem",
             "atom", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat": return 0
        case "sandybridge", "bulldozer", "piledriver": return 1
        case "haswell", "steamroller", "excavator", "zen": return 2
        case "skylakex": return 3
        case "cooperlake", "sapphirerapids": return 4
        default: return nil
        }
    }

    /// The level of a CPU from its `/proc/cpuinfo` flags (the same scale as `level(ofKernel:)`).
    static func level(ofFlags flags: Set<String>) -> Int {
        let avx512 = ["avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd"].allSatisfy(flags.contains)
        if avx512 && flags.contains("avx512_bf16") { return 4 }
        if avx512 { return 3 }
        if flags.contains("avx2") && flags.contains("fma") { return 2 }
        if flags.contains("avx") { return 1 }
        return 0
    }

    /// Kernels without AVX2 (a name this list knows): the only choice of OpenBLAS's lpom replaces.
    static func lacksAVX2(_ kernel: String) -> Bool { level(ofKernel: kernel).map { $0 < 2 } ?? false }

    /// The kernels to ask OpenBLAS for instead of `kernel`, on a CPU with `flags` from `vendor`
    /// (e.g. "GenuineIntel", "AuthenticAMD"); nil when OpenBLAS's choice stands.
    public static func better(than kernel: String, flags: Set<String>, vendor: String) -> String? {
        guard lacksAVX2(kernel) else { return nil }
        switch level(ofFlags: flags) {
        case 4: return "Cooperlake"
        case 3: return "SkylakeX"
        case 2: return vendor == "AuthenticAMD" ? "Zen" : "Haswell"
        default: return nil
        }
    }

    /// This CPU's vendor and flags, from /proc/cpuinfo (empty where there is none).
    public static func cpu() -> (vendor: String, flags: Set<String>) {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return ("", []) }
        var vendor = "", flags = Set<String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
            if key == "vendor_id", vendor.isEmpty { vendor = value }
            if key == "flags" { flags = Set(value.split(separator: " ").map(String.init)); break }
        }
        return (vendor, flags)
    }

    /// What OpenBLAS chose before lpom started itself again with other kernels (nil when it did not).
    public static var replaced: String? { ProcessInfo.processInfo.environment["LPOM_BLAS_CORE_REPLACED"] }

    /// lpom's start-up: when OpenBLAS took kernels below the CPU's instruction set and nobody chose
    /// them (`OPENBLAS_CORETYPE` unset, `LPOM_BLAS_CORE` not "keep"), start this binary again with
    /// the better kernels. Returns only when it does not (or when `execv` fails: the run goes on
    /// with OpenBLAS's kernels). `LPOM_BLAS_CORE_TEST="KERNEL;FLAGS"` makes it see KERNEL and the
    /// space-separated FLAGS instead of the real ones (for tests on a CPU OpenBLAS knows).
    public static func restartIfMisdetected() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["LPOM_BLAS_CORE"]?.lowercased() != "keep" else { return }
        var kernel = BLASCore.name
        let test = env["LPOM_BLAS_CORE_TEST"]?.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
        if let test { kernel = String(test[0]) }
        guard lacksAVX2(kernel) else { return }   // /proc/cpuinfo unread
        var (vendor, flags) = cpu()
        if let test, test.count > 1 { flags = Set(test[1].split(separator: " ").map(String.init)) }
        guard let target = better(than: kernel, flags: flags, vendor: vendor) else { return }
        setenv("OPENBLAS_CORETYPE", target, 1)
        setenv("LPOM_BLAS_CORE_REPLACED", kernel, 1)
        let args = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // execv returned: it failed; carry on with OpenBLAS's kernels (and say so).
        unsetenv("OPENBLAS_CORETYPE"); unsetenv("LPOM_BLAS_CORE_REPLACED")
        FileHandle.standardError.write(Data("note: OpenBLAS runs \(kernel) kernels on a CPU that can run \(target) (slower products); set OPENBLAS_CORETYPE=\(target) to use them\n".utf8))
    }
}
