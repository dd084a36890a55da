/// A dense, row-major array of `Scalar` with a shape. Two-dimensional tensors are matrices
/// `[rows, cols]`; for networks the first axis is the batch (one sample per row, as in PyTorch).
public struct Tensor<Scalar: NNScalar>: Sendable {
    /// The extent of each axis.
    public private(set) var shape: [Int]
    /// The elements, row-major.
    public var data: [Scalar]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = Scalar.filledArray(0, count: shape.reduce(1, *))
    }

    /// A tensor filled with `value`.
    public init(repeating value: Scalar, shape: [Int]) {
        self.shape = shape
        self.data = Scalar.filledArray(value, count: shape.reduce(1, *))
    }

    /// A tensor over existing elements; `data.count` must equal the product of `shape`.
    public init(shape: [Int], data: [Scalar]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: \(data.count) elements for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    /// Extent of the first axis (1 for a scalar).
    public var rows: Int { shape.first ?? 1 }
    /// Elements per row (product of all axes after the first).
    public var cols: Int { shape.count <= 1 ? (shape.first.map { _ in 1 } ?? 1) : shape.dropFirst().reduce(1, *) }

    /// The same elements under another shape with the same number of elements.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Changes the shape in place, keeping the elements when the count is unchanged,
    /// otherwise reallocating zeros (used for reusable work buffers).
    public mutating func resize(_ newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n != data.count { data = Scalar.filledArray(0, count: n) }
        shape = newShape
    }

    /// Copies `other`'s shape and elements into this tensor's own storage, reallocating only when
    /// the element count changes. Unlike `self = other` (which shares the storage, so the next
    /// in-place write copies it again), work buffers stay allocated across steps.
    public mutating func assign(_ other: Tensor) {
        resize(other.shape)
        let n = count
        guard n > 0 else { return }
        other.data.withUnsafeBufferPointer { s in
            data.withUnsafeMutableBufferPointer { d in
                UnsafeMutableRawPointer(d.baseAddress!).copyMemory(from: s.baseAddress!, byteCount: n * MemoryLayout<Scalar>.stride)
            }
        }
    }

    /// Element access for 2-D tensors.
    public subscript(row: Int, col: Int) -> Scalar {
        get { data[row * cols + col] }
        set { data[row * cols + col] = newValue }
    }

    /// Converts to another scalar type.
    public func converted<T: NNScalar>(to: T.Type = T.self) -> Tensor<T> {
        Tensor<T>(shape: shape, data: data.map { T($0) })
    }

    /// Squared Frobenius norm, accumulated by BLAS.
    public var squaredNorm: Scalar {
        let n = count
        guard n > 0 else { return 0 }
        return data.withUnsafeBufferPointer { Scalar.dot(n: n, x: $0.baseAddress!, y: $0.baseAddress!) }
    }

    /// True when every element is finite.
    public var isFinite: Bool {
        data.withUnsafeBufferPointer { Scalar.maxAbs($0).isFinite }
    }

    /// Fills with zeros without reallocating.
    public mutating func zero() {
        data.withUnsafeMutableBufferPointer { Scalar.fill($0, with: 0) }
    }

    /// self ← self + alpha · other (BLAS axpy).
    public mutating func add(_ other: Tensor, scaledBy alpha: Scalar = 1) {
        add(other, scaledBy: alpha, on: .serial)
    }

    /// self ← self + alpha · other (BLAS axpy), split over `context`'s workers when it splits
    /// vectors (`ComputeContext.vectorParts`).
    public mutating func add(_ other: Tensor, scaledBy alpha: Scalar = 1, on context: ComputeContext) {
        let n = count
        precondition(other.count == n, "add: \(other.shape) vs \(shape)")
        guard n > 0 else { return }
        other.data.withUnsafeBufferPointer { x in
            data.withUnsafeMutableBufferPointer { y in
                let (xs, ys) = (x.baseAddress!, y.baseAddress!)
                context.run(n, parts: context.vectorParts(n)) { _, r in
                    Scalar.axpy(n: r.count, alpha: alpha, x: xs + r.lowerBound, y: ys + r.lowerBound)
                }
            }
        }
    }

    /// self ← alpha · self (BLAS scal).
    public mutating func scale(by alpha: Scalar) { scale(by: alpha, on: .serial) }

    /// self ← alpha · self (BLAS scal), split over `context`'s workers when it splits vectors.
    public mutating func scale(by alpha: Scalar, on context: ComputeContext) {
        let n = count
        guard n > 0 else { return }
        data.withUnsafeMutableBufferPointer { p in
            let xs = p.baseAddress!
            context.run(n, parts: context.vectorParts(n)) { _, r in Scalar.scal(n: r.count, alpha: alpha, x: xs + r.lowerBound) }
        }
    }

    /// Copies rows `indices` of a 2-D source into the first `indices.count` rows of self.
    public mutating func gatherRows(from source: Tensor, indices: ArraySlice<Int>) {
        let c = source.cols
        precondition(c == cols && indices.count <= rows, "gatherRows: shapes \(source.shape) → \(shape)")
        source.data.withUnsafeBufferPointer { s in
            data.withUnsafeMutableBufferPointer { d in
                for (k, r) in indices.enumerated() {
                    (d.baseAddress! + k * c).update(from: s.baseAddress! + r * c, count: c)
                }
            }
        }
    }
}

extension Tensor: Equatable {}

/// C ← α op(A) op(B) + β C for 2-D tensors (BLAS gemm). `c` is resized when β = 0.
public func gemm<S: NNScalar>(_ a: Tensor<S>, _ b: Tensor<S>, transposeA ta: Bool = false,
                              transposeB tb: Bool = false, into c: inout Tensor<S>,
                              alpha: S = 1, beta: S = 0) {
    let (ar, ac) = (a.rows, a.cols)
    let (br, bc) = (b.rows, b.cols)
    let m = ta ? ac : ar
    let k = ta ? ar : ac
    let n = tb ? br : bc
    precondition((tb ? bc : br) == k, "gemm: inner dimensions \(a.shape)\(ta ? "ᵀ" : "") × \(b.shape)\(tb ? "ᵀ" : "")")
    if beta == 0 { if c.shape != [m, n] { c.resize([m, n]) } } else {
        precondition(c.rows == m && c.cols == n, "gemm: output \(c.shape), expected [\(m), \(n)]")
    }
    let ldc = n
    a.data.withUnsafeBufferPointer { pa in
        b.data.withUnsafeBufferPointer { pb in
            c.data.withUnsafeMutableBufferPointer { pc in
                S.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha,
                       a: pa.baseAddress!, lda: ac, b: pb.baseAddress!, ldb: bc,
                       beta: beta, c: pc.baseAddress!, ldc: ldc)
            }
        }
    }
}

/// op(A) op(B) as a new tensor.
public func matmul<S: NNScalar>(_ a: Tensor<S>, _ b: Tensor<S>, transposeA ta: Bool = false,
                                transposeB tb: Bool = false) -> Tensor<S> {
    var c = Tensor<S>(zeros: [0])
    gemm(a, b, transposeA: ta, transposeB: tb, into: &c)
    return c
}
