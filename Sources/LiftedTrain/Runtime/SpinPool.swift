import Dispatch
import Foundation
import Synchronization

/// The worker threads of a `ComputeContext` (`run(_:parts:_:)`): after a region they spin on an
/// atomic generation counter for a while (≈ 0.1–1 ms), so the next region of a training step
/// starts at once, and only then sleep on a semaphore. `stop()` ends them (the context's
/// `WorkerThreads` calls it when the last copy of the context goes away).
///
/// Why not `DispatchQueue.concurrentPerform`: on this machine (a KVM guest) waking a sleeping
/// thread takes ~200 µs, and libdispatch's workers sleep between regions, so a split of a
/// 1M-element pass ran 1.08× and a 64K one 0.39× as fast as serially; with this pool the same
/// splits run 1.88× and 2.19× as fast (a stand-alone micro-benchmark of `y = 0.999 y + 0.001`
/// split in two, 2026-11-23). On HB-Net (12,000 samples, 2 threads) the epoch went from 2.01 s to
/// 1.60 s at width 16 and from 4.30 s to 3.54 s at width 32. OpenMP runtimes spin for the same reason.
final class SpinPool: @unchecked Sendable {
    /// Threads besides the caller.
    let extra: Int
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let workers: [Worker]
    // Written by `run` before `generation` is released, read by the workers after acquiring it.
    private var body: ((Int) -> Void)? = nil
    private var parts = 0
    /// Spin iterations before a worker sleeps.
    static let spins = 200_000

    final class Worker: @unchecked Sendable {
        let sleeping = Atomic<Bool>(false)
        let semaphore = DispatchSemaphore(value: 0)
    }

    init(extra: Int) {
        self.extra = extra
        workers = (0..<extra).map { _ in Worker() }
        for w in 0..<extra {
            // The thread holds the pool until it returns from `loop` (after `stop()`).
            let thread = Thread { self.loop(w) }
            thread.name = "lpom-worker-\(w + 1)"
            thread.start()
        }
    }

    private func loop(_ w: Int) {
        let me = workers[w]
        var seen = 0
        while true {
            var spun = 0
            while generation.load(ordering: .acquiring) == seen {
                spun += 1
                guard spun >= Self.spins else { continue }
                // Sleep, unless a region was posted meanwhile (then take the wake-up it may have sent).
                me.sleeping.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) != seen {
                    if !me.sleeping.exchange(false, ordering: .sequentiallyConsistent) { me.semaphore.wait() }
                } else {
                    me.semaphore.wait()
                }
                spun = 0
            }
            seen = generation.load(ordering: .acquiring)
            if stopped.load(ordering: .acquiring) { return }
            if w + 1 < parts, let b = body { b(w + 1) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Runs f(0) on the caller and f(1..<parts) on the workers (parts ≤ extra + 1), returning when
    /// all are done. A call made while another region runs (from a body, or from another thread)
    /// returns false without running anything, and the caller runs its parts itself.
    func run(_ parts: Int, _ f: (Int) -> Void) -> Bool {
        guard parts <= extra + 1, !busy.exchange(true, ordering: .acquiring) else { return false }
        withoutActuallyEscaping(f) { g in
            body = g
            self.parts = parts
            remaining.store(extra, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            for me in workers where me.sleeping.exchange(false, ordering: .sequentiallyConsistent) { me.semaphore.signal() }
            g(0)
            while remaining.load(ordering: .acquiring) > 0 {}
            body = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Ends the worker threads (after any region in progress); `run` must not be called afterwards.
    func stop() {
        stopped.store(true, ordering: .releasing)
        generation.add(1, ordering: .sequentiallyConsistent)
        for me in workers where me.sleeping.exchange(false, ordering: .sequentiallyConsistent) { me.semaphore.signal() }
    }
}
