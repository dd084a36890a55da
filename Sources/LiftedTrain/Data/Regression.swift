import Foundation

/// The teacher–student regression task of Du et al. (2018) and Cai et al. (2019): inputs drawn
/// uniformly on the unit sphere of ℝ^d, labelled by a fixed random wide one-hidden-layer ReLU
/// network
///
///     y(x) = m^{-1/2} Σ_r a_r relu(w_rᵀx),   w_r ~ N(0, I_d),  a_r ~ unif{−1, +1}.
///
/// Everything is drawn from `seed` (independent SplitMix64 streams for the teacher and for the
/// training and test inputs), so the data set is reproducible from a history's training JSON.
public struct TeacherStudentTask: Sendable, Equatable {
    /// Input dimension d.
    public var inputDim: Int
    /// Hidden width m of the teacher.
    public var teacherWidth: Int
    /// Training samples n.
    public var samples: Int
    /// Test samples (drawn from their own stream: changing `samples` does not change them).
    public var testSamples: Int
    /// Seed of the teacher and the inputs.
    public var seed: UInt64

    /// A task description.
    public init(inputDim: Int, teacherWidth: Int, samples: Int, testSamples: Int, seed: UInt64) {
        self.inputDim = inputDim; self.teacherWidth = teacherWidth
        self.samples = samples; self.testSamples = testSamples; self.seed = seed
    }

    /// Stream numbers of `SplitMix64.stream(seed:_:)` (distinct from the training loop's epochs,
    /// which use 0, 1, 2 … on the *shuffling* seed; these are far away from any epoch count).
    static let teacherStream: UInt64 = 0x7EAC_0001
    static let trainStream: UInt64 = 0x7EAC_0002
    static let testStream: UInt64 = 0x7EAC_0003

    /// `n` points uniform on the unit sphere of ℝ^d (normalised Gaussian draws), as `[n, d]`.
    public static func unitSphere(count n: Int, dimension d: Int, using rng: inout SplitMix64) -> Tensor<Double> {
        var x = [Double](repeating: 0, count: n * d)
        for i in 0..<n {
            var s = 0.0
            for j in 0..<d { let v = rng.normal(); x[i * d + j] = v; s += v * v }
            let inv = 1 / max(s.squareRoot(), .leastNormalMagnitude)
            for j in 0..<d { x[i * d + j] *= inv }
        }
        return Tensor(shape: [n, d], data: x)
    }

    /// The teacher's weights: W `[m, d]` with N(0, 1) entries and a `[m]` of ±1.
    public func teacher() -> (w: Tensor<Double>, a: [Double]) {
        var rng = SplitMix64.stream(seed: seed, TeacherStudentTask.teacherStream)
        let w = Tensor<Double>.randomNormal(shape: [teacherWidth, inputDim], std: 1, using: &rng)
        let a = (0..<teacherWidth).map { _ in rng.next() & 1 == 0 ? -1.0 : 1.0 }
        return (w, a)
    }

    /// y = m^{-1/2} relu(X Wᵀ) a for inputs `[n, d]`, as `[n, 1]` (BLAS gemm and gemv).
    public static func teacherOutputs(_ x: Tensor<Double>, w: Tensor<Double>, a: [Double]) -> Tensor<Double> {
        var z = matmul(x, w, transposeB: true)
        z.data.withUnsafeMutableBufferPointer { Double.activationForward(.relu, alpha: 0, $0) }
        let n = x.rows, m = w.rows
        var y = Tensor<Double>(zeros: [n, 1])
        z.data.withUnsafeBufferPointer { pz in
            a.withUnsafeBufferPointer { pa in
                y.data.withUnsafeMutableBufferPointer { py in
                    Double.gemv(trans: false, m: n, n: m, alpha: 1 / Double(m).squareRoot(), a: pz.baseAddress!, lda: m,
                                x: pa.baseAddress!, beta: 0, y: py.baseAddress!)
                }
            }
        }
        return y
    }

    /// The most multiply-adds the teacher's outputs may cost, (n + n_test)·m·d: 2^36, seconds.
    public static let maxTeacherWork = 1 << 36

    /// Checks the sizes before `make` allocates anything (they may come from a history's training
    /// JSON): the ranges `lpom train` accepts (1 ≤ d ≤ 100000, 1 ≤ m ≤ 1000000, n ≥ 1,
    /// n_test ≥ 0), every array the task builds (inputs n·d, teacher weights m·d, hidden
    /// activations n·m, for training and test) within `LayerFactory.maxElements` values, and the
    /// teacher's work within `maxTeacherWork`. Throws a one-line `ModelError`.
    public func checkSizes() throws {
        let (d, m, n, t) = (inputDim, teacherWidth, samples, testSamples)
        guard (1...100_000).contains(d), (1...1_000_000).contains(m), n >= 1, t >= 0 else {
            throw ModelError("teacher-student task with input dimension \(d), teacher width \(m), \(n) samples and \(t) "
                + "test samples (expected 1 ≤ d ≤ 100000, 1 ≤ m ≤ 1000000, samples ≥ 1, test samples ≥ 0)")
        }
        let arrays = [[n, d], [t, d], [m, d], [n, m], [t, m]]
        guard arrays.allSatisfy({ LayerFactory<Double>.elementCount($0) != nil }),
              let work = LayerFactory<Double>.elementCount([n + t, m]).map({ $0.multipliedReportingOverflow(by: d) }),
              !work.overflow, work.partialValue <= Self.maxTeacherWork else {
            throw ModelError("teacher-student task of \(n) + \(t) samples, input dimension \(d) and teacher width \(m) is "
                + "too large (at most \(LayerFactory<Double>.maxElements) values per array and \(Self.maxTeacherWork) "
                + "multiply-adds)")
        }
    }

    /// The training and test sets.
    public func make<S: NNScalar>(_ type: S.Type = S.self) -> (train: TensorDataset<S>, test: TensorDataset<S>) {
        let (w, a) = teacher()
        func set(_ stream: UInt64, _ n: Int) -> TensorDataset<S> {
            var rng = SplitMix64.stream(seed: seed, stream)
            let x = TeacherStudentTask.unitSphere(count: n, dimension: inputDim, using: &rng)
            let y = TeacherStudentTask.teacherOutputs(x, w: w, a: a)
            return TensorDataset(inputs: Tensor(shape: x.shape, data: S.fromDoubles(x.data)),
                                 targets: Tensor(shape: y.shape, data: S.fromDoubles(y.data)))
        }
        return (set(TeacherStudentTask.trainStream, samples), set(TeacherStudentTask.testStream, testSamples))
    }
}

/// A regression task built from MNIST / Fashion-MNIST images: "bottom-half ink".
///
/// The input is the image (pixels x/255) with its bottom half — rows `rows/2 ..< rows` — set to
/// zero; the target is the mean intensity (x/255, in [0, 1]) of that hidden bottom half. The
/// network thus predicts how much ink the lower half of a digit or garment holds from its upper
/// half. Inputs keep the full `rows × cols` size, so the model takes the same inputs as the
/// classifiers. The class labels are kept beside the targets for reference.
public enum BottomHalfInk {
    /// The regression version of an image set whose inputs are `[N, rows · cols]`; throws a
    /// one-line `ModelError` for images of another size.
    public static func make<S: NNScalar>(from images: TensorDataset<S>, rows: Int = 28, cols: Int = 28) throws -> TensorDataset<S> {
        let f = rows * cols
        guard images.inputs.cols == f else {
            throw ModelError("the bottom-half-ink task needs \(rows)×\(cols) images (\(f) pixels), got \(images.inputs.cols) pixels per image")
        }
        let top = (rows / 2) * cols
        let hidden = f - top
        let n = images.count
        // v = (0 … 0, 1/h … 1/h): the target is X v.
        var v = S.filledArray(S(1) / S(hidden), count: f)
        v.withUnsafeMutableBufferPointer { S.fill(UnsafeMutableBufferPointer(rebasing: $0[0..<top]), with: 0) }
        var y = Tensor<S>(zeros: [n, 1])
        var x = images.inputs
        if n > 0 {
            x.data.withUnsafeBufferPointer { px in
                v.withUnsafeBufferPointer { pv in
                    y.data.withUnsafeMutableBufferPointer { py in
                        S.gemv(trans: false, m: n, n: f, alpha: 1, a: px.baseAddress!, lda: f, x: pv.baseAddress!,
                               beta: 0, y: py.baseAddress!)
                    }
                }
            }
        }
        x.data.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { S.fill(UnsafeMutableBufferPointer(rebasing: p[(i * f + top)..<((i + 1) * f)]), with: 0) }
        }
        return TensorDataset(inputs: x, targets: y, labels: images.labels)
    }

    /// One line for histories and reports.
    public static let description = "bottom-half ink: input = image (x/255) with rows 14-27 zeroed; target = mean of x/255 over rows 14-27"
}
