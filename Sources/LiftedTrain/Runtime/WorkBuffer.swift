/// A layer's work array, kept between steps at one address (llm.c's preallocated activation
/// memory): kernels read and write it through `pointer`, so a layer's pass needs no
/// `withUnsafe…` scope (nor an exclusive access) per work array. It grows, never shrinks;
/// the layer that owns it uses it from one pass at a time, and the parts of a split
/// (`ComputeContext.run`) write disjoint slices of it.
final class WorkBuffer<Scalar: NNScalar> {
    /// The first element (`capacity` elements are allocated and initialised).
    private(set) var pointer: UnsafeMutablePointer<Scalar>
    private(set) var capacity: Int
    /// How many leading elements `ones(_:)` last filled with 1.
    private var onesFilled = 0

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
        capacity = 1
    }

    deinit { pointer.deallocate() }

    /// At least `count` elements: a large enough buffer is kept as it is (its contents too),
    /// a smaller one is replaced by zeros.
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Scalar> {
        if capacity < count {
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            Scalar.fill(UnsafeMutableBufferPointer(start: pointer, count: count), with: 0)
            capacity = count
            onesFilled = 0
        }
        return pointer
    }

    /// `count` zeros (for sums the kernels accumulate into).
    func zeros(_ count: Int) -> UnsafeMutablePointer<Scalar> {
        reserve(count)
        Scalar.fill(UnsafeMutableBufferPointer(start: pointer, count: count), with: 0)
        onesFilled = 0
        return pointer
    }

    /// `count` ones (bias sums and rank-1 bias terms by BLAS), refilled only when `count` changes.
    func ones(_ count: Int) -> UnsafePointer<Scalar> {
        if onesFilled != count {
            reserve(count)
            Scalar.fill(UnsafeMutableBufferPointer(start: pointer, count: count), with: 1)
            onesFilled = count
        }
        return UnsafePointer(pointer)
    }
}
