import XCTest
@testable import LiftedTrain

/// `BatchOrder`: passes of fresh permutations cut into batches, numbered across passes.
final class BatchOrderTests: XCTestCase {
    func permutation(_ n: Int, seed: UInt64, stream: UInt64) -> [Int] {
        var rng = SplitMix64.stream(seed: seed, stream)
        return randomPermutation(n, using: &rng)
    }

    func testEpochsKeepTheIncompleteBatchAndVisitEverySampleOnce() {
        var order = BatchOrder(samples: 23, batchSize: 5, seed: 4)
        XCTAssertEqual(order.batchesPerPass, 5)
        for p in 0..<3 {
            let batches = (0..<5).map { Array(order.indices(ofBatch: 5 * p + $0)) }
            XCTAssertEqual(batches.map(\.count), [5, 5, 5, 5, 3])
            XCTAssertEqual(batches.flatMap { $0 }, permutation(23, seed: 4, stream: UInt64(p)), "pass \(p) is stream \(p)")
            XCTAssertEqual(order.pass(ofBatch: 5 * p + 4), p)
        }
    }

    func testFullBatchesOnlySkipTheRemainderOfEachPass() {
        var order = BatchOrder(samples: 23, batchSize: 5, seed: 4, firstStream: 1, fullBatchesOnly: true)
        XCTAssertEqual(order.batchesPerPass, 4)
        for p in 0..<3 {
            let batches = (0..<4).map { Array(order.indices(ofBatch: 4 * p + $0)) }
            XCTAssertEqual(batches.map(\.count), [5, 5, 5, 5])
            XCTAssertEqual(batches.flatMap { $0 }, Array(permutation(23, seed: 4, stream: UInt64(p) + 1).prefix(20)))
        }
    }

    /// Any batch can be asked for first (resumption): the same indices as in sequence.
    func testRandomAccessMatchesSequentialOrder() {
        var sequential = BatchOrder(samples: 17, batchSize: 4, seed: 9, firstStream: 1, fullBatchesOnly: true)
        let all = (0..<20).map { Array(sequential.indices(ofBatch: $0)) }
        for j in [13, 0, 19, 4, 3, 8] {
            var fresh = BatchOrder(samples: 17, batchSize: 4, seed: 9, firstStream: 1, fullBatchesOnly: true)
            XCTAssertEqual(Array(fresh.indices(ofBatch: j)), all[j], "batch \(j)")
            XCTAssertEqual(Array(sequential.indices(ofBatch: j)), all[j], "batch \(j) after others")
        }
    }
}
