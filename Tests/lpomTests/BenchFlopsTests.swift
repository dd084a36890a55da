import XCTest
@testable import lpom

/// The gemm work `lpom bench` states its fraction of the sgemm rate against.
final class BenchFlopsTests: XCTestCase {
    func testEpochFlopsOfTheBenchmarkedMLP() {
        // 784-300-100-10, 60,000 samples: forward 2·(235,200 + 30,000 + 1,000) per sample,
        // dW the same again, dx for the last two layers 2·(30,000 + 1,000): 1,126,800 per sample.
        XCTAssertEqual(BenchCommand.epochFlops(hidden: [300, 100], samples: 60_000), 67_608_000_000)
    }

    func testEpochFlopsWithoutHiddenLayers() {
        // One layer 784→10: forward and dW only (no input gradient is formed), 2·2·7,840 per sample.
        XCTAssertEqual(BenchCommand.epochFlops(hidden: [], samples: 3), 3 * 4 * 7_840)
    }
}
