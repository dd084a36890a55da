import Foundation

/// The network as the lifted methods see it: dense layers k = 0 … L−1 with packed weights
/// W̃_k = [W_k, b_k] (`[out, in + 1]`, the bias as the last column, so that every weight update
/// is one least-squares problem in the augmented input Ã = [A, 1]), one hidden activation φ
/// between them and an identity output (logits). Optional leading `normalize` layers are
/// applied to the data once.
///
/// The trainers read W̃ from the network's parameter store at their first step (`load`) and
/// write it back after every step (`store`), so histories, `eval` and `inspect` see an ordinary
/// multilayer perceptron evaluated by a forward pass.
final class LiftedNetwork<Scalar: NNScalar> {
    let network: Network<Scalar>
    /// The method's name, for errors.
    let method: String
    /// Number of dense layers L.
    let depth: Int
    /// Widths of the levels 0 … L (level 0: the input).
    let sizes: [Int]
    /// `layers.K` names of the dense layers.
    let names: [String]
    /// The hidden activation φ (identity for a network with one dense layer) and its parameter.
    let hidden: ActivationKind
    let alpha: Double
    let preprocess: [any Layer<Scalar>]
    private let weightSlots: [Int]
    private let biasSlots: [Int]
    /// W̃_k = [W_k, b_k], `[sizes[k+1], sizes[k] + 1]`.
    var weights: [Tensor<Scalar>] = []
    private var onesStorage: [Scalar] = []

    /// Reads the layout of `network`; `allowed` lists the hidden activations the method's closed
    /// forms cover (the error names them), and the output must be linear.
    init(network: Network<Scalar>, method: String, allowed: Set<ActivationKind>) throws {
        self.network = network
        self.method = method
        var pre: [any Layer<Scalar>] = []
        var dense: [(name: String, in: Int, out: Int)] = []
        var acts: [(ActivationKind, Double)] = []
        for (i, l) in network.spec.layers.enumerated() {
            switch l.type {
            case "normalize":
                guard dense.isEmpty else { throw ModelError("\(method): a normalize layer after a dense layer is not supported") }
                pre.append(network.layers[i])
            case "dense":
                guard let n = l.name, let a = l.in, let b = l.out else { throw ModelError("\(method): dense layer \(i) lacks name or sizes") }
                guard dense.count == acts.count else {
                    throw ModelError("\(method): dense layers must be separated by one activation (layer \(i))")
                }
                dense.append((n, a, b))
            default:
                guard let k = ActivationKind(rawValue: l.type) else {
                    throw ModelError("\(method) trains dense networks only; layer \(i) has type '\(l.type)'")
                }
                guard dense.count == acts.count + 1 else { throw ModelError("\(method): layer \(i) is a second activation in a row") }
                acts.append((k, l.alpha ?? k.defaultAlpha))
            }
        }
        guard !dense.isEmpty else { throw ModelError("\(method): the network has no dense layer") }
        if acts.count == dense.count {
            guard acts.last!.0 == .identity else {
                throw ModelError("\(method) needs a linear output layer (logits); the network ends with \(acts.last!.0.rawValue)")
            }
            acts.removeLast()
        }
        let kinds = Set(acts.map(\.0))
        guard kinds.count <= 1 else { throw ModelError("\(method): hidden layers must share one activation, found \(kinds.map(\.rawValue).sorted())") }
        hidden = acts.first?.0 ?? .identity
        alpha = acts.first?.1 ?? 0
        if !acts.isEmpty && !allowed.contains(hidden) {
            throw ModelError("--method \(method) needs \(allowed.map(\.rawValue).sorted().joined(separator: " or ")) hidden units; the network uses \(hidden.rawValue) (pass --activation relu)")
        }
        depth = dense.count
        preprocess = pre
        names = dense.map(\.name)
        sizes = [dense[0].in] + dense.map(\.out)
        weightSlots = try dense.map { d in
            guard let s = network.parameters.slot(of: d.name + ".weight") else { throw ModelError("\(method): no parameter \(d.name).weight") }
            return s
        }
        biasSlots = try dense.map { d in
            guard let s = network.parameters.slot(of: d.name + ".bias") else { throw ModelError("\(method): no parameter \(d.name).bias") }
            return s
        }
        weights = (0..<depth).map { Tensor(zeros: [sizes[$0 + 1], sizes[$0] + 1]) }
    }

    /// n ones (kept between calls).
    func ones(_ n: Int) -> [Scalar] {
        if onesStorage.count != n { onesStorage = Scalar.filledArray(1, count: n) }
        return onesStorage
    }

    /// W̃ from the network's parameters.
    func load() {
        for k in 0..<depth {
            let d = sizes[k], m = sizes[k + 1]
            let w = network.parameters.values[weightSlots[k]], b = network.parameters.values[biasSlots[k]]
            weights[k].data.withUnsafeMutableBufferPointer { pt in
                for r in 0..<m {
                    for c in 0..<d { pt[r * (d + 1) + c] = w.data[r * d + c] }
                    pt[r * (d + 1) + d] = b.data[r]
                }
            }
        }
    }

    /// W̃ into the network's parameters.
    func store() {
        for k in 0..<depth {
            let d = sizes[k], m = sizes[k + 1]
            let wSlot = weightSlots[k], bSlot = biasSlots[k]
            weights[k].data.withUnsafeBufferPointer { pt in
                network.parameters.values[wSlot].data.withUnsafeMutableBufferPointer { pw in
                    for r in 0..<m {
                        UnsafeMutableRawPointer(pw.baseAddress! + r * d)
                            .copyMemory(from: pt.baseAddress! + r * (d + 1), byteCount: d * MemoryLayout<Scalar>.stride)
                    }
                }
                network.parameters.values[bSlot].data.withUnsafeMutableBufferPointer { pb in
                    for r in 0..<m { pb[r] = pt[r * (d + 1) + d] }
                }
            }
        }
    }

    /// z ← Ã W̃_kᵀ = A W_kᵀ + 1 b_kᵀ (BLAS: the bias as a k = 1 product with a column of ones,
    /// then the weights added to it), for A of `[n, sizes[k]]`.
    func affine(_ a: Tensor<Scalar>, layer k: Int, into z: inout Tensor<Scalar>) {
        let n = a.rows, d = sizes[k], m = sizes[k + 1]
        precondition(a.cols == d, "\(method): layer \(k) takes \(d) inputs, got \(a.cols)")
        z.resize([n, m])
        let one = ones(n)
        weights[k].data.withUnsafeBufferPointer { pw in
            a.data.withUnsafeBufferPointer { pa in
                one.withUnsafeBufferPointer { po in
                    z.data.withUnsafeMutableBufferPointer { pz in
                        Scalar.gemm(transA: false, transB: true, m: n, n: m, k: 1, alpha: 1, a: po.baseAddress!, lda: 1,
                                    b: pw.baseAddress! + d, ldb: d + 1, beta: 0, c: pz.baseAddress!, ldc: m)
                        Scalar.gemm(transA: false, transB: true, m: n, n: m, k: d, alpha: 1, a: pa.baseAddress!, lda: d,
                                    b: pw.baseAddress!, ldb: d + 1, beta: 1, c: pz.baseAddress!, ldc: m)
                    }
                }
            }
        }
    }

    /// φ in place (the hidden activation).
    func phi(_ t: inout Tensor<Scalar>) {
        let kind = hidden, a = Scalar(alpha)
        t.data.withUnsafeMutableBufferPointer { Scalar.activationForward(kind, alpha: a, $0) }
    }

    /// The input after the leading `normalize` layers.
    func prepared(_ inputs: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = inputs
        for p in preprocess { x = p.forward(x, training: false) }
        return x
    }

    /// Pre-activations Z_k and activations A_k (k = 1 … L; A_0 = `input`, A_L = Z_L) of a
    /// forward pass with the current W̃.
    func forward(_ input: Tensor<Scalar>) -> (z: [Tensor<Scalar>], a: [Tensor<Scalar>]) {
        var z = [Tensor<Scalar>(zeros: [0])], a = [input]
        for k in 0..<depth {
            var zk = Tensor<Scalar>(zeros: [0])
            affine(a[k], layer: k, into: &zk)
            var ak = zk
            if k + 1 < depth { phi(&ak) }
            z.append(zk); a.append(ak)
        }
        return (z, a)
    }

    /// Sum of the widths of the hidden levels.
    var hiddenWidth: Int { sizes.dropFirst().dropLast().reduce(0, +) }
    /// The widest level.
    var widest: Int { sizes.max() ?? 0 }

    /// Bytes per training sample of a full-batch method that keeps `hidden` matrices per hidden
    /// level, `output` per output level (Y included), the input copy and `scratch` buffers of the
    /// widest level.
    func bytesPerSample(hidden: Int, output: Int, scratch: Int) -> Double {
        Double(MemoryLayout<Scalar>.stride * (hidden * hiddenWidth + output * sizes[depth] + sizes[0] + scratch * widest))
    }
}

/// The whole training set a full-batch lifted method works on, captured at its first step.
///
/// The lifted methods keep per-sample variables (activations, pre-activations, multipliers)
/// from one iteration to the next, so every step must see the same samples in the same row
/// order. The loop hands a full-batch trainer the whole set in a new shuffle every epoch; a
/// full-batch iteration does not depend on the order of the samples, so the trainer keeps the
/// order of its first step and only checks that later batches hold the same samples (the same
/// count, label histogram and input sum).
struct FullBatch<Scalar: NNScalar> {
    /// A⁰ after the leading `normalize` layers, `[N, d]`.
    var inputs: Tensor<Scalar>
    var labels: [Int32]
    /// One-hot Y, `[N, classes]`.
    var targets: Tensor<Scalar>
    private var histogram: [Int]
    private var sum: Double

    init(inputs: Tensor<Scalar>, labels: [Int32], classes: Int) throws {
        guard labels.count == inputs.rows else { throw TrainingError("\(labels.count) labels for \(inputs.rows) samples") }
        self.inputs = inputs
        self.labels = labels
        targets = Tensor(zeros: [labels.count, classes])
        for (r, y) in labels.enumerated() {
            guard y >= 0 && Int(y) < classes else { throw TrainingError("label \(y) outside the network's \(classes) outputs") }
            targets.data[r * classes + Int(y)] = 1
        }
        histogram = FullBatch.histogram(labels, classes: classes)
        sum = FullBatch.total(inputs)
    }

    /// Whether `inputs`/`labels` (in any row order) are the captured samples.
    func matches(inputs other: Tensor<Scalar>, labels l: [Int32]) -> Bool {
        guard other.rows == inputs.rows, l.count == labels.count else { return false }
        guard FullBatch.histogram(l, classes: targets.cols) == histogram else { return false }
        let s = FullBatch.total(other)
        return abs(s - sum) <= 1e-4 * max(1, abs(sum))
    }

    private static func histogram(_ labels: [Int32], classes: Int) -> [Int] {
        var h = [Int](repeating: 0, count: classes + 1)
        for y in labels { h[y >= 0 && Int(y) < classes ? Int(y) : classes] += 1 }
        return h
    }

    private static func total(_ t: Tensor<Scalar>) -> Double {
        let one = Scalar.filledArray(1, count: t.count)
        return t.data.withUnsafeBufferPointer { p in one.withUnsafeBufferPointer { o in
            Double(Scalar.dot(n: t.count, x: p.baseAddress!, y: o.baseAddress!))
        } }
    }
}

/// The memory check the full-batch methods make before allocating their per-sample variables.
public enum LiftedMemory {
    /// Throws one `TrainingError` line when `bytes` exceed `budget` (0 = no limit).
    public static func check(bytes: Double, budget: Double, method: String, samples: Int, what: String) throws {
        guard budget > 0, bytes > budget else { return }
        throw TrainingError(String(format: "--method %@ keeps %@ for all %d training samples: about %.2f GB, more than the %.2f GB allowed; train on a subset (--train-limit) or raise --lifted-memory",
                                   method, what, samples, bytes / 1e9, budget / 1e9))
    }
}
