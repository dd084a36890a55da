#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One snapshot as the training thread hands it to the file: the arrays are Swift values, so
/// the job owns them (see `HistoryWriter`, "Background writing", for where the copy happens).
struct SnapshotJob {
    /// Row index of the snapshot in `/theta`, `/buffers` and `/snapshot_step`.
    let row: Int
    let step: Int
    let parameters: [String: [Float]]
    let buffers: [String: [Float]]
    let state: [String: [Double]]?
    /// Float parts of the resume state, converted to float64 when the job is written (on the
    /// writer's thread with background writing), so the trainer hands its arrays over uncopied.
    var floatState: [String: [Float]] = [:]
    /// Metric rows recorded since the previous snapshot, written with it.
    let metrics: PendingMetrics

    /// The resume state to write: `state` with `floatState` converted and added.
    var fullState: [String: [Double]]? {
        guard state != nil || !floatState.isEmpty else { return nil }
        var all = state ?? [:]
        for (name, values) in floatState { all[name] = values.map(Double.init) }
        return all
    }
}

/// Metric rows not yet in the file; with `rewriteLast` the first replaces the last written row
/// (more values for the step of that row).
struct PendingMetrics {
    var rows: [(step: Int, values: [String: Double])] = []
    var rewriteLast = false
}

/// A pthread mutex with one condition variable.
///
/// `@unchecked Sendable`: the mutex and condition live at fixed addresses from `init` to
/// `deinit` and are only used through the pthread calls, which are made for this.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` with the mutex held.
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Inside `locked` only: waits until `ready()` holds (the mutex is released while waiting).
    func wait(until ready: () -> Bool) {
        while !ready() { pthread_cond_wait(condition, mutex) }
    }

    /// Inside `locked` only: wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// The background half of `HistoryWriter(…, writing: .background)`: one thread that commits
/// snapshots to the file in the order they were submitted, at most `capacity` at a time (the
/// one being written included); `submit` blocks while that many are in flight.
///
/// After the first failed commit the thread writes nothing more: the jobs still queued are
/// dropped, and `submit`, `finish` and every later call throw that failure.
///
/// Why `@unchecked Sendable` is sound: every `var` below is read and written with `monitor`
/// locked, except `thread`, which only the owner's thread touches (`start`, `finish`).
/// `commit` — every HDF5 call of the file — runs only on the worker thread, between `start`
/// and the `pthread_join` in `finish`; the owner makes no HDF5 call on the file in that time.
/// So the library is used by one thread at a time whether or not it was built thread-safe.
final class SnapshotPipeline: @unchecked Sendable {
    /// Most snapshots in flight (queued or being written).
    let capacity: Int
    private let monitor = Monitor()
    private let commit: (SnapshotJob) throws -> Void
    private var jobs: [SnapshotJob] = []
    private var writing = false
    private var stopping = false
    private var failure: Error?
    private var committed: (count: Int, lastStep: Int?)
    private var thread: pthread_t? = nil

    /// A pipeline for a file that already holds `count` snapshots, the last at `lastStep`.
    init(capacity: Int, committed count: Int, lastStep: Int?, commit: @escaping (SnapshotJob) throws -> Void) {
        precondition(capacity >= 1)
        self.capacity = capacity
        self.committed = (count, lastStep)
        self.commit = commit
    }

    /// Starts the worker thread.
    func start(path: String) throws {
        let context = Unmanaged.passRetained(self).toOpaque()
        var id = pthread_t()
        let status = pthread_create(&id, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<SnapshotPipeline>.fromOpaque(raw).takeRetainedValue().work()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<SnapshotPipeline>.fromOpaque(context).release()
            throw HistoryError(path, "cannot start the background writer thread (\(String(cString: strerror(status))))")
        }
        thread = id
    }

    /// Snapshots completely in the file, and the step of the last.
    var committedSnapshots: (count: Int, lastStep: Int?) { monitor.locked { committed } }

    /// Queues `job`, first waiting while `capacity` snapshots are in flight; throws the
    /// failure of an earlier commit instead.
    func submit(_ job: SnapshotJob) throws {
        try monitor.locked {
            monitor.wait { failure != nil || jobs.count + (writing ? 1 : 0) < capacity }
            if let failure { throw failure }
            jobs.append(job)
            monitor.broadcast()
        }
    }

    /// Waits until every submitted snapshot is written (or dropped after a failure), stops the
    /// worker and joins it; returns the failure, if any. Afterwards the caller's thread may use
    /// HDF5 again. Calling it again only returns the failure.
    func finish() -> Error? {
        monitor.locked {
            stopping = true
            monitor.broadcast()
        }
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
        return monitor.locked { failure }
    }

    private func work() {
        H5.prepare() // HDF5's error stack is per thread in a thread-safe build: silence this one's
        while true {
            let next: SnapshotJob? = monitor.locked {
                monitor.wait { !jobs.isEmpty || stopping }
                guard !jobs.isEmpty else { return nil }
                writing = true
                return jobs.removeFirst()
            }
            guard let job = next else { return }
            var error: Error? = nil
            do { try commit(job) } catch let e { error = e }
            monitor.locked {
                writing = false
                if let error {
                    failure = failure ?? error
                    jobs.removeAll()
                } else {
                    committed = (job.row + 1, job.step)
                }
                monitor.broadcast()
            }
        }
    }
}
