/// The processes of a distributed run as the numerics see them: a rank among `size`, sums over
/// all ranks, and non-blocking messages to one rank. LiftedTrain never sees the transport: the
/// command line implements this over MPI (target `Distributed`); `SingleProcess` is the run of
/// one process, where every sum is the value itself and no message is ever sent.
///
/// Every rank must call the collective operations (`sum`, `startSum`) in the same order with
/// the same counts; point-to-point messages are matched by source and tag. Buffers handed to a
/// non-blocking operation must stay allocated and untouched until its request completes.
public protocol Collective: AnyObject {
    /// This process's rank, 0 ..< size.
    var rank: Int { get }
    /// Number of processes.
    var size: Int { get }
    /// values ← Σ over ranks of values, in place; every rank gets the sum (an allreduce).
    func sum<S: NNScalar>(_ values: UnsafeMutableBufferPointer<S>)
    /// values ← max over ranks of values, in place.
    func maximum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Starts `sum` without waiting for it: `values` hold the sum once the request completes.
    func startSum(_ values: UnsafeMutableBufferPointer<Double>) -> CollectiveRequest
    /// Starts sending `values` to rank `to` with `tag`.
    func send<S: NNScalar>(_ values: UnsafeBufferPointer<S>, to: Int, tag: Int) -> CollectiveRequest
    /// Starts receiving into `values` from rank `from` with `tag`.
    func receive<S: NNScalar>(_ values: UnsafeMutableBufferPointer<S>, from: Int, tag: Int) -> CollectiveRequest
    /// Whether a message from rank `from` with `tag` is waiting to be received (never blocks).
    func probe(from: Int, tag: Int) -> Bool
    /// Blocks until `request` completes.
    func wait(_ request: CollectiveRequest)
    /// Whether `request` has completed (never blocks; completes it if it has).
    func test(_ request: CollectiveRequest) -> Bool
    /// values of rank `root` ← every rank's `values` (a broadcast).
    func broadcast(_ values: UnsafeMutableRawBufferPointer, root: Int)
}

/// An operation started by a `Collective`; the implementation keeps its handle in here.
open class CollectiveRequest {
    /// Whether the operation has completed.
    public var done = false
    public init() {}
}

extension Collective {
    /// `sum` of an array.
    public func sum<S: NNScalar>(_ values: inout [S]) {
        values.withUnsafeMutableBufferPointer { sum($0) }
    }

    /// `sum` of a tensor's elements.
    public func sum<S: NNScalar>(_ tensor: inout Tensor<S>) {
        tensor.data.withUnsafeMutableBufferPointer { sum($0) }
    }

    /// The maximum over ranks of one number.
    public func maximum(_ x: Double) -> Double {
        var v = [x]
        v.withUnsafeMutableBufferPointer { maximum($0) }
        return v[0]
    }

    /// Whether this is the only process.
    public var isSingle: Bool { size == 1 }
}

/// One process: rank 0 of 1. Sums and maxima are the values themselves; there is no other rank
/// to send to, so a message is a programming error.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum<S: NNScalar>(_ values: UnsafeMutableBufferPointer<S>) {}
    public func maximum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func startSum(_ values: UnsafeMutableBufferPointer<Double>) -> CollectiveRequest {
        let r = CollectiveRequest(); r.done = true; return r
    }
    public func send<S: NNScalar>(_ values: UnsafeBufferPointer<S>, to: Int, tag: Int) -> CollectiveRequest {
        preconditionFailure("SingleProcess: no rank \(to) to send to")
    }
    public func receive<S: NNScalar>(_ values: UnsafeMutableBufferPointer<S>, from: Int, tag: Int) -> CollectiveRequest {
        preconditionFailure("SingleProcess: no rank \(from) to receive from")
    }
    public func probe(from: Int, tag: Int) -> Bool { false }
    public func wait(_ request: CollectiveRequest) {}
    public func test(_ request: CollectiveRequest) -> Bool { true }
    public func broadcast(_ values: UnsafeMutableRawBufferPointer, root: Int) {}
}

/// The share of a global mini-batch that rank `rank` of `size` trains on in data-parallel mode:
/// rows ⌊r·B/N⌋ ..< ⌊(r+1)·B/N⌋ of the B rows every rank draws in the same order.
public func dataShard(rows: Int, rank: Int, size: Int) -> Range<Int> {
    (rank * rows / size)..<((rank + 1) * rows / size)
}

/// A trainer that can split every global mini-batch over the ranks of a `Collective` and compute
/// the iterates one process would compute on the whole batch (data-parallel training).
public protocol DataParallelTraining: AnyObject {
    /// The ranks sharing each batch; nil (or one rank): the whole batch is trained here.
    var collective: (any Collective)? { get set }
}

extension GradientTrainer: DataParallelTraining {}
