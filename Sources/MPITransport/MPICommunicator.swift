import CMPI
import Foundation
import LiftedTrain

/// `MPI_COMM_WORLD` behind LiftedTrain's `Collective` seam (OpenMPI, launched by `mpirun`).
///
/// `MPI_Init` runs once per process, on first use (`shared`); a binary started without `mpirun`
/// would initialise as a singleton, rank 0 of 1 — but the command line never initialises MPI
/// unless `mpirun` started it (`launchedByMPIRun`), so a plain `lpom` run stays exactly as it was.
/// Errors return instead of aborting (`MPI_ERRORS_RETURN`), and a failed call ends the process
/// with one line naming the call (a peer that died is the usual cause).
///
/// The communicator counts the seconds spent inside MPI: `communicationSeconds` in calls that
/// move data (allreduce, posting sends and receives, broadcasts) and `waitSeconds` in calls that
/// block on another rank (wait, and the allreduce's share beyond the transfer is not separable:
/// blocking collectives count as communication).
public final class MPICommunicator: Collective {
    public let rank: Int
    public let size: Int
    /// Seconds inside data-moving MPI calls (allreduce, broadcast, posting messages).
    public private(set) var communicationSeconds = 0.0
    /// Seconds blocked in `wait` for a message or a non-blocking sum.
    public private(set) var waitSeconds = 0.0
    /// Bytes this rank sent by point-to-point messages and contributed to sums.
    public private(set) var bytesSent = 0

    private init() {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
            atexit { var finalized: Int32 = 0; MPI_Finalized(&finalized); if finalized == 0 { MPI_Finalize() } }
        }
        MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(cmpi_comm_world(), &r)
        MPI_Comm_size(cmpi_comm_world(), &s)
        rank = Int(r); size = Int(s)
    }

    /// The world communicator (initialising MPI on first use).
    public static let shared = MPICommunicator()

    /// Whether `mpirun` (or `mpiexec`) started this process: OpenMPI sets the world size in the
    /// environment of every rank it launches.
    public static var launchedByMPIRun: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    /// The world size `mpirun` announced in the environment (1 without mpirun), read without
    /// initialising MPI.
    public static var announcedSize: Int { Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] ?? "") ?? 1 }

    /// The rank `mpirun` announced (0 without mpirun), read without initialising MPI.
    public static var announcedRank: Int { Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] ?? "") ?? 0 }

    private func check(_ code: Int32, _ call: String) {
        guard code != MPI_SUCCESS else { return }
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &buffer, &length)
        let text = String(cString: buffer)
        FileHandle.standardError.write("lpom: rank \(rank) of \(size): \(call) failed (\(text)); another rank has probably died — the job ends\n".data(using: .utf8)!)
        MPI_Abort(cmpi_comm_world(), 1)
        exit(1)
    }

    private func datatype<S: NNScalar>(_: S.Type) -> MPI_Datatype {
        MemoryLayout<S>.size == 4 ? cmpi_float() : cmpi_double()
    }

    private func timed<T>(_ wait: Bool = false, _ body: () -> T) -> T {
        let t0 = MPI_Wtime()
        let r = body()
        if wait { waitSeconds += MPI_Wtime() - t0 } else { communicationSeconds += MPI_Wtime() - t0 }
        return r
    }

    public func sum<S: NNScalar>(_ values: UnsafeMutableBufferPointer<S>) {
        guard size > 1, values.count > 0 else { return }
        bytesSent += values.count * MemoryLayout<S>.size
        let code = timed { MPI_Allreduce(cmpi_in_place(), values.baseAddress, Int32(values.count), datatype(S.self), cmpi_sum(), cmpi_comm_world()) }
        check(code, "MPI_Allreduce")
    }

    public func maximum(_ values: UnsafeMutableBufferPointer<Double>) {
        guard size > 1, values.count > 0 else { return }
        let code = timed { MPI_Allreduce(cmpi_in_place(), values.baseAddress, Int32(values.count), cmpi_double(), cmpi_max(), cmpi_comm_world()) }
        check(code, "MPI_Allreduce")
    }

    /// An MPI request in flight.
    final class Request: CollectiveRequest {
        var handle: MPI_Request? = nil
    }

    public func startSum(_ values: UnsafeMutableBufferPointer<Double>) -> CollectiveRequest {
        let r = Request()
        guard size > 1 else { r.done = true; return r }
        let code = timed { MPI_Iallreduce(cmpi_in_place(), values.baseAddress, Int32(values.count), cmpi_double(), cmpi_sum(), cmpi_comm_world(), &r.handle) }
        check(code, "MPI_Iallreduce")
        return r
    }

    public func send<S: NNScalar>(_ values: UnsafeBufferPointer<S>, to: Int, tag: Int) -> CollectiveRequest {
        let r = Request()
        bytesSent += values.count * MemoryLayout<S>.size
        let code = timed { MPI_Isend(values.baseAddress, Int32(values.count), datatype(S.self), Int32(to), Int32(tag), cmpi_comm_world(), &r.handle) }
        check(code, "MPI_Isend to rank \(to)")
        return r
    }

    public func receive<S: NNScalar>(_ values: UnsafeMutableBufferPointer<S>, from: Int, tag: Int) -> CollectiveRequest {
        let r = Request()
        let code = timed { MPI_Irecv(values.baseAddress, Int32(values.count), datatype(S.self), Int32(from), Int32(tag), cmpi_comm_world(), &r.handle) }
        check(code, "MPI_Irecv from rank \(from)")
        return r
    }

    public func probe(from: Int, tag: Int) -> Bool {
        var flag: Int32 = 0
        let code = timed { MPI_Iprobe(Int32(from), Int32(tag), cmpi_comm_world(), &flag, cmpi_status_ignore()) }
        check(code, "MPI_Iprobe from rank \(from)")
        return flag != 0
    }

    public func wait(_ request: CollectiveRequest) {
        guard !request.done, let r = request as? Request else { return }
        let code = timed(true) { MPI_Wait(&r.handle, cmpi_status_ignore()) }
        check(code, "MPI_Wait")
        r.done = true
    }

    public func test(_ request: CollectiveRequest) -> Bool {
        guard !request.done, let r = request as? Request else { return true }
        var flag: Int32 = 0
        let code = timed { MPI_Test(&r.handle, &flag, cmpi_status_ignore()) }
        check(code, "MPI_Test")
        if flag != 0 { r.done = true }
        return r.done
    }

    public func broadcast(_ values: UnsafeMutableRawBufferPointer, root: Int) {
        guard size > 1, values.count > 0 else { return }
        let code = timed { MPI_Bcast(values.baseAddress, Int32(values.count), cmpi_byte(), Int32(root), cmpi_comm_world()) }
        check(code, "MPI_Bcast")
    }

    /// Waits for every rank (start-up and shutdown only, never inside training).
    public func barrier() {
        check(timed { MPI_Barrier(cmpi_comm_world()) }, "MPI_Barrier")
    }

    /// Ends the whole job: every rank stops with `code` (after a one-line error on one rank).
    public func abort(_ code: Int32) -> Never {
        MPI_Abort(cmpi_comm_world(), code)
        exit(code)
    }

    /// Ends this process and, when MPI runs, the whole job (`MPI_Abort`), with `code`. Safe
    /// whether or not MPI was initialised, and never waits for another rank.
    public static func endJob(_ code: Int32) -> Never {
        var initialized: Int32 = 0, finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        if initialized != 0 && finalized == 0 { MPI_Abort(cmpi_comm_world(), code) }
        _exit(code)
    }

    /// Wall time by MPI's clock, in seconds.
    public static func wallTime() -> Double { MPI_Wtime() }
}
