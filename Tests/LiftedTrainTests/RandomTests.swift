import XCTest
@testable import LiftedTrain

/// SplitMix64 and the random helpers: reproducibility (same seed, same stream), golden values of
/// the generator, and rough distribution checks with bounds of ≥ 5 standard deviations.
final class RandomTests: XCTestCase {
    func testGoldenValues() {
        // Printed by scripts/reference_splitmix64.py (the reference algorithm of Steele, Lea &
        // Flood 2014 / Vigna's splitmix64.c, written independently in Python).
        let expected: [UInt64: [UInt64]] = [
            0: [16294208416658607535, 7960286522194355700, 487617019471545679, 17909611376780542444, 1961750202426094747],
            1234567: [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821],
        ]
        for (seed, values) in expected {
            var g = SplitMix64(seed: seed)
            XCTAssertEqual((0..<5).map { _ in g.next() }, values, "seed \(seed)")
        }
    }

    func testSameSeedSameStream() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42), c = SplitMix64(seed: 43)
        let sa = (0..<100).map { _ in a.next() }
        XCTAssertEqual(sa, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(sa, (0..<100).map { _ in c.next() })
        var u1 = SplitMix64(seed: 7), u2 = SplitMix64(seed: 7)
        XCTAssertEqual((0..<50).map { _ in u1.normal() }, (0..<50).map { _ in u2.normal() })
    }

    func testStreamsAreDeterministicAndDistinct() {
        func head(_ g: SplitMix64) -> [UInt64] { var g = g; return (0..<8).map { _ in g.next() } }
        XCTAssertEqual(head(.stream(seed: 9, 3)), head(.stream(seed: 9, 3)))
        let heads = (0..<20).map { head(.stream(seed: 9, UInt64($0))) }
        XCTAssertEqual(Set(heads.map { $0[0] }).count, 20, "streams 0..<20 of one seed must differ")
        XCTAssertNotEqual(head(.stream(seed: 9, 0)), head(.stream(seed: 10, 0)))
        XCTAssertNotEqual(head(.stream(seed: 9, 0)), head(SplitMix64(seed: 9)))
    }

    func testUniformAndNormalMoments() {
        var g = SplitMix64(seed: 11)
        let n = 20_000
        let u = (0..<n).map { _ in g.uniform() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let uMean = u.reduce(0, +) / Double(n)
        XCTAssertEqual(uMean, 0.5, accuracy: 0.011)  // sd of the mean 0.002
        let z = (0..<n).map { _ in g.normal() }
        XCTAssertTrue(z.allSatisfy(\.isFinite))
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.036)      // sd 0.007
        XCTAssertEqual(variance, 1, accuracy: 0.05)   // sd 0.01
        XCTAssertEqual(Double(z.filter { abs($0) < 1 }.count) / Double(n), 0.6827, accuracy: 0.017)  // sd 0.0033
    }

    func testPermutationIsAPermutation() {
        for n in [0, 1, 2, 3, 10, 1000] {
            var g = SplitMix64(seed: UInt64(n))
            let p = randomPermutation(n, using: &g)
            XCTAssertEqual(p.sorted(), Array(0..<n), "n = \(n)")
        }
        var g1 = SplitMix64(seed: 5), g2 = SplitMix64(seed: 5), g3 = SplitMix64(seed: 6)
        let p = randomPermutation(100, using: &g1)
        XCTAssertEqual(p, randomPermutation(100, using: &g2))
        XCTAssertNotEqual(p, randomPermutation(100, using: &g3))
        XCTAssertNotEqual(p, Array(0..<100))
    }

    func testPermutationsAreUniform() {
        // 6000 permutations of 3: each of the 6 orders ~1000 times (sd 29).
        var g = SplitMix64(seed: 12)
        var counts: [[Int]: Int] = [:]
        for _ in 0..<6000 { counts[randomPermutation(3, using: &g), default: 0] += 1 }
        XCTAssertEqual(counts.count, 6)
        for (perm, count) in counts { XCTAssertEqual(Double(count), 1000, accuracy: 150, "\(perm)") }
    }

    func testRandomTensors() {
        var g1 = SplitMix64(seed: 13), g2 = SplitMix64(seed: 13)
        let a = Tensor<Float>.randomNormal(shape: [3, 4], std: 2, using: &g1)
        XCTAssertEqual(a.shape, [3, 4])
        XCTAssertEqual(a, Tensor<Float>.randomNormal(shape: [3, 4], std: 2, using: &g2))
        let u = Tensor<Double>.randomUniform(shape: [1000], lo: -0.5, hi: 2, using: &g1)
        XCTAssertTrue(u.data.allSatisfy { $0 >= -0.5 && $0 < 2 })
        XCTAssertLessThan(u.data.min()!, -0.45)
        XCTAssertGreaterThan(u.data.max()!, 1.95)
        let big = Tensor<Double>.randomNormal(shape: [20_000], std: 3, using: &g1)
        XCTAssertEqual((big.squaredNorm / 20_000).squareRoot(), 3, accuracy: 0.08)  // sd 0.015
    }
}
