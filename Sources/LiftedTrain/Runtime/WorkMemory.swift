#if canImport(Glibc)
import Glibc
#endif

/// The C allocator's policy for the per-step work arrays of training.
public enum WorkMemory {
    /// Keeps freed memory in the process instead of returning it to the system after every
    /// step. Each training step allocates and frees the same few arrays of megabytes
    /// (activations, gradients); with glibc's defaults every one of them is a fresh `mmap` or a
    /// trimmed heap top, so the next step page-faults all of it in again (5–10% of a
    /// convolutional epoch). Arrays under 64 MB come from the heap, which is trimmed only above
    /// 512 MB free; the peak footprint is unchanged. A no-op where glibc's `mallopt` is absent.
    public static func keepFreedBuffers() {
        #if canImport(Glibc)
        // <malloc.h> does not import into Swift: look mallopt up, with its parameter numbers.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, topPad: Int32 = -2, mmapThreshold: Int32 = -3
        _ = mallopt(mmapThreshold, 64 << 20)
        _ = mallopt(trimThreshold, 512 << 20)
        _ = mallopt(topPad, 64 << 20)
        #endif
    }
}
