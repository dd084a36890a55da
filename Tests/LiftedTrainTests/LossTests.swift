import XCTest
@testable import LiftedTrain
import TestSupport

/// Cross-entropy and squared error: value against the textbook formula, gradient by central
/// differences in Double, accuracy counts on hand-made outputs.
final class LossTests: XCTestCase {
    let (batch, classes) = (5, 4)
    let labels: [Int32] = [0, 3, 1, 1, 2]

    /// (1/b) Σᵣ −log softmax(yᵣ)[labelᵣ], written the obvious way (no max shift).
    private func naiveCrossEntropy(_ y: [Double], labels: [Int32], classes c: Int) -> Double {
        let b = labels.count
        var total = 0.0
        for r in 0..<b {
            let row = Array(y[(r * c)..<((r + 1) * c)])
            let z = row.map(exp).reduce(0, +)
            total += -log(exp(row[Int(labels[r])]) / z)
        }
        return total / Double(b)
    }

    /// (1/b) Σᵣ ½‖yᵣ − onehot(labelᵣ)‖²
    private func naiveSquaredError(_ y: [Double], labels: [Int32], classes c: Int) -> Double {
        var total = 0.0
        for (i, v) in y.enumerated() {
            let t: Double = Int(labels[i / c]) == i % c ? 1 : 0
            total += 0.5 * (v - t) * (v - t)
        }
        return total / Double(labels.count)
    }

    private func logits(seed: UInt64, std: Double = 2) -> [Double] { randomArray(batch * classes, std: std, seed: seed) }

    func testCrossEntropyValueMatchesNaiveFormula() {
        let y = logits(seed: 50)
        let (loss, _) = LossKind.crossEntropy.evaluate(Tensor(shape: [batch, classes], data: y), labels: labels)
        assertClose(loss, naiveCrossEntropy(y, labels: labels, classes: classes), rtol: 1e-13)
        let (lossF, _) = LossKind.crossEntropy.evaluate(Tensor(shape: [batch, classes], data: y.map { Float($0) }), labels: labels)
        assertClose(lossF, naiveCrossEntropy(y, labels: labels, classes: classes), rtol: 1e-5)
    }

    func testCrossEntropyKnownValues() {
        // Uniform logits: log c. Logits (log 1, log 3) with label 1: −log(3/4).
        let (l1, _) = LossKind.crossEntropy.evaluate(Tensor<Double>(zeros: [2, 4]), labels: [0, 3])
        assertClose(l1, log(4.0), rtol: 1e-15)
        let (l2, _) = LossKind.crossEntropy.evaluate(Tensor<Double>(shape: [1, 2], data: [0, log(3)]), labels: [1])
        assertClose(l2, -log(0.75), rtol: 1e-14)
    }

    func testCrossEntropyIsStableForHugeLogits() {
        // A naive exp overflows at 1000; the loss must be exact, not inf or NaN.
        let y: [Double] = [1000, 0, -1000, 0, 1000, 0]
        let t = Tensor<Float>(shape: [2, 3], data: y.map { Float($0) })
        var g = Tensor<Float>(zeros: [0])
        let (loss, correct) = LossKind.crossEntropy.evaluate(t, labels: [0, 0], gradient: &g)
        assertClose(loss, 500, rtol: 1e-6)  // rows: 0 and 1000
        XCTAssertEqual(correct, 1)
        XCTAssertTrue(g.isFinite)
        assertClose(g.data, [0.0, 0, 0, -0.5, 0.5, 0], rtol: 1e-6, atol: 1e-6)
    }

    func testCrossEntropyGradientMatchesCentralDifferences() {
        let y = logits(seed: 51)
        var g = Tensor<Double>(zeros: [0])
        _ = LossKind.crossEntropy.evaluate(Tensor(shape: [batch, classes], data: y), labels: labels, gradient: &g)
        XCTAssertEqual(g.shape, [batch, classes])
        assertGradient(g.data, of: {
            LossKind.crossEntropy.evaluate(Tensor(shape: [self.batch, self.classes], data: $0), labels: self.labels).loss
        }, at: y)
        // Each row of softmax − onehot sums to zero.
        for r in 0..<batch {
            XCTAssertEqual(g.data[(r * classes)..<((r + 1) * classes)].reduce(0, +), 0, accuracy: 1e-15)
        }
    }

    func testSquaredErrorValueMatchesNaiveFormula() {
        let y = logits(seed: 52, std: 1)
        let (loss, _) = LossKind.squaredError.evaluate(Tensor(shape: [batch, classes], data: y), labels: labels)
        assertClose(loss, naiveSquaredError(y, labels: labels, classes: classes), rtol: 1e-13)
        // One sample, output (1, 1), label 0: ½ (0² + 1²).
        let (l1, _) = LossKind.squaredError.evaluate(Tensor<Double>(shape: [1, 2], data: [1, 1]), labels: [0])
        XCTAssertEqual(l1, 0.5)
    }

    func testSquaredErrorGradientMatchesCentralDifferences() {
        let y = logits(seed: 53, std: 1)
        var g = Tensor<Double>(repeating: 99, shape: [batch, classes])
        _ = LossKind.squaredError.evaluate(Tensor(shape: [batch, classes], data: y), labels: labels, gradient: &g)
        assertGradient(g.data, of: {
            LossKind.squaredError.evaluate(Tensor(shape: [self.batch, self.classes], data: $0), labels: self.labels).loss
        }, at: y)
    }

    func testGradientVariantGivesTheSameLossAndFloatAgrees() {
        let y = logits(seed: 54)
        for kind in LossKind.allCases {
            var g = Tensor<Double>(zeros: [0])
            var gf = Tensor<Float>(zeros: [0])
            let a = kind.evaluate(Tensor(shape: [batch, classes], data: y), labels: labels)
            let b = kind.evaluate(Tensor(shape: [batch, classes], data: y), labels: labels, gradient: &g)
            let c = kind.evaluate(Tensor(shape: [batch, classes], data: y.map { Float($0) }), labels: labels, gradient: &gf)
            XCTAssertEqual(a.loss, b.loss, "\(kind)")
            XCTAssertEqual(a.correct, b.correct, "\(kind)")
            assertClose(c.loss, a.loss, rtol: 1e-5, "\(kind) Float")
            XCTAssertEqual(c.correct, a.correct, "\(kind) Float")
            assertClose(gf.data, g.data, rtol: 1e-5, atol: 1e-6, "\(kind) Float gradient")
        }
    }

    func testAccuracyCounts() {
        // Row argmaxes: 2, 0, 1, 0 (a tie between 0 and 1 goes to the first, as torch.argmax).
        let y = Tensor<Double>(shape: [4, 3], data: [0, 1, 5,
                                                     3, -1, 2,
                                                     -4, -2, -3,
                                                     7, 7, 1])
        for kind in LossKind.allCases {
            XCTAssertEqual(kind.evaluate(y, labels: [2, 0, 1, 0]).correct, 4, "\(kind)")
            XCTAssertEqual(kind.evaluate(y, labels: [2, 1, 1, 1]).correct, 2, "\(kind)")
            XCTAssertEqual(kind.evaluate(y, labels: [0, 1, 2, 2]).correct, 0, "\(kind)")
        }
    }

    func testRawValues() {
        XCTAssertEqual(LossKind(rawValue: "cross-entropy"), .crossEntropy)
        XCTAssertEqual(LossKind(rawValue: "squared-error"), .squaredError)
    }
}
