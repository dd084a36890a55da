import Foundation
import LiftedTrain

// The random inputs, reference kernels and paths every test target shares. Random helpers take
// their arguments in one order: sizes, then distribution parameters, then `seed:`.

/// Deterministic N(0, std²) values (SplitMix64 from `seed`).
public func randomArray(_ n: Int, std: Double = 1, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in rng.normal() * std }
}

/// Deterministic values of N(0, std²) pushed at least `gap` away from zero (keeps central
/// differences off the kinks of ReLU-like functions).
public func randomArrayAvoidingZero(_ n: Int, std: Double = 1, gap: Double = 1e-2, seed: UInt64) -> [Double] {
    randomArray(n, std: std, seed: seed).map { $0 >= 0 ? $0 + gap : $0 - gap }
}

/// Deterministic tensor of N(0, std²) values (`randomArray` in the tensor's row-major order).
public func randomTensor(_ shape: [Int], std: Double = 1, seed: UInt64) -> Tensor<Double> {
    Tensor(shape: shape, data: randomArray(shape.reduce(1, *), std: std, seed: seed))
}

/// Deterministic uniform values in [0.02, 0.98] (pixel-like targets), `[rows, cols]`.
public func randomPixels(rows: Int, cols: Int, seed: UInt64) -> Tensor<Double> {
    var rng = SplitMix64(seed: seed)
    return .randomUniform(shape: [rows, cols], lo: 0.02, hi: 0.98, using: &rng)
}

/// A Double network from model JSON with every parameter drawn from N(0, weightStd²) and every
/// buffer at random (running variances positive, 0.5 + v²).
public func randomNetwork(_ json: String, weightStd: Double = 0.5, seed: UInt64) throws -> Network<Double> {
    var rng = SplitMix64(seed: seed)
    let net = try Network<Double>(spec: try ModelSpec.parse(json), rng: &rng)
    for (i, name) in net.parameters.names.enumerated() {
        let shape = net.parameters.values[i].shape
        try net.parameters.set(name, Tensor(shape: shape, data: randomArray(shape.reduce(1, *), std: weightStd,
                                                                            seed: seed &+ UInt64(i) &+ 1)))
    }
    for (i, name) in net.buffers.names.enumerated() {
        let c = net.buffers.values[i].count
        let v = randomArray(c, std: 0.3, seed: seed &+ 100 &+ UInt64(i))
        try net.buffers.set(name, Tensor(shape: [c], data: name.hasSuffix("running_var") ? v.map { 0.5 + $0 * $0 } : v))
    }
    return net
}

/// The naive product op(A)·op(B) with a triple loop, for row-major `a` [ar, ac] and `b` [br, bc].
public func naiveMatmul(_ a: [Double], rows ar: Int, cols ac: Int, transposeA ta: Bool,
                        _ b: [Double], rows br: Int, cols bc: Int, transposeB tb: Bool) -> [Double] {
    let (m, k) = ta ? (ac, ar) : (ar, ac)
    let n = tb ? br : bc
    precondition((tb ? bc : br) == k)
    func A(_ i: Int, _ p: Int) -> Double { ta ? a[p * ac + i] : a[i * ac + p] }
    func B(_ p: Int, _ j: Int) -> Double { tb ? b[j * bc + p] : b[p * bc + j] }
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += A(i, p) * B(p, j) }
            c[i * n + j] = s
        }
    }
    return c
}

/// Where the tests find the repository's committed files, and where they write their own.
public enum TestPaths {
    /// The package root (found from this file's path: Tests/TestSupport/Fixtures.swift).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    /// data/fixtures.
    public static let fixtures = root + "/data/fixtures"
    /// data/fixtures/tiny: 200 training and 100 test images of real MNIST and Fashion-MNIST.
    public static let tinyData = fixtures + "/tiny"

    /// A new, empty directory under the system's temporary folder, unique to the caller
    /// (`label` and a UUID in its name), so that tests running at once never share a path.
    /// The caller removes it.
    public static func scratchDirectory(_ label: String) throws -> String {
        let dir = NSTemporaryDirectory() + "lpom-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
