import XCTest
import LiftedTrain
@testable import Surfing

/// Deterministic N(0, 1) values.
func randomArray(_ n: Int, seed: UInt64, std: Double = 1) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in rng.normal() * std }
}

/// Largest |a − b| and a failure naming it when above atol + rtol·|b|.
func assertClose(_ a: [Double], _ b: [Double], rtol: Double = 1e-12, atol: Double = 1e-12, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): sizes", file: file, line: line)
    var worst = 0.0, at = 0
    for i in 0..<min(a.count, b.count) {
        let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if excess > worst || !a[i].isFinite { worst = a[i].isFinite ? excess : .infinity; at = i }
    }
    if worst > 0 { XCTFail("\(what): largest difference at \(at): \(a[at]) vs \(b[at])", file: file, line: line) }
}

/// A network from JSON with every parameter and buffer drawn at random (running variances
/// positive), in Double.
func randomNetwork(_ json: String, seed: UInt64, weightStd: Double = 0.5) throws -> Network<Double> {
    var rng = SplitMix64(seed: seed)
    let net = try Network<Double>(spec: try ModelSpec.parse(json), rng: &rng)
    for (i, name) in net.parameters.names.enumerated() {
        let c = net.parameters.values[i].count
        try net.parameters.set(name, Tensor(shape: net.parameters.values[i].shape, data: randomArray(c, seed: seed &+ UInt64(i) &+ 1, std: weightStd)))
    }
    for (i, name) in net.buffers.names.enumerated() {
        let c = net.buffers.values[i].count
        let v = randomArray(c, seed: seed &+ 100 &+ UInt64(i), std: 0.3)
        try net.buffers.set(name, Tensor(shape: [c], data: name.hasSuffix("running_var") ? v.map { 0.5 + $0 * $0 } : v))
    }
    return net
}

/// The parameters and buffers of a network as a snapshot.
func snapshot<S>(_ net: Network<S>) -> (parameters: [String: [Float]], buffers: [String: [Float]]) {
    (net.parameters.floatArrays(), net.buffers.floatArrays())
}
