import TestSupport
import XCTest
@testable import LiftedTrain

/// The lifted trainers as trainers: objectives that the papers' block updates cannot increase,
/// convergence on a tiny teacher problem, and the refusals (activation, memory, batch, resume).
final class LiftedTrainingTests: XCTestCase {
    func trainer(_ method: LiftedMethod, _ net: Network<Double>, _ configure: (inout LiftedConfiguration) -> Void = { _ in })
        throws -> any Trainer<Double> {
        var c = LiftedConfiguration()
        configure(&c)
        switch method {
        case .admm: return try ADMMTrainer(network: net, configuration: c)
        case .bcd: return try BCDTrainer(network: net, configuration: c)
        case .penalty: return try PenaltyTrainer(network: net, configuration: c)
        case .askari: return try AskariTrainer(network: net, configuration: c)
        }
    }

    /// The objectives the methods' block updates each minimise (or decrease) exactly: ADMM's J
    /// without multiplier updates (every iteration a warm-start one, no ridge), BCD's F, Askari's
    /// G, and MAC's E_Q at a fixed μ. None may increase from one iteration to the next.
    func testObjectivesDoNotIncrease() throws {
        for method in LiftedMethod.allCases {
            let (net, x, labels) = try LiftedTestData.problem(sizes: [6, 9, 7, 3], samples: 40, seed: 21)
            let t = try trainer(method, net) {
                $0.admmWarmStart = 1000; $0.ridge = 0; $0.penaltyGrowth = 1; $0.askariSteps = 5
            }
            var last = Double.infinity
            for i in 0..<12 {
                let r = try t.step(inputs: x, labels: labels)
                let f = try XCTUnwrap(r.extra["\(method.rawValue)_objective"], "\(method): no objective")
                XCTAssertLessThanOrEqual(f, last * (1 + 1e-10) + 1e-13, "\(method): objective rose at iteration \(i + 1)")
                last = f
            }
        }
    }

    /// Taylor et al.'s blocks are each solved globally, so without multiplier updates J cannot
    /// rise after any single block update (W, a, z of every layer, W_L, z_L).
    func testADMMObjectiveDoesNotIncreaseBlockByBlock() throws {
        let (net, x, labels) = try LiftedTestData.problem(sizes: [6, 9, 7, 3], samples: 40, seed: 22)
        let t = try ADMMTrainer(network: net, configuration: { var c = LiftedConfiguration(); c.admmWarmStart = 1000; c.ridge = 0; return c }())
        _ = try t.step(inputs: x, labels: labels)
        var last = t.objective().total, blocks = 0
        t.afterBlock = { name in
            let j = t.objective().total
            XCTAssertLessThanOrEqual(j, last * (1 + 1e-10) + 1e-12, "J rose after block \(name): \(last) → \(j)")
            last = j; blocks += 1
        }
        for _ in 0..<6 { _ = try t.step(inputs: x, labels: labels) }
        XCTAssertEqual(blocks, 6 * 8)
    }

    /// Every method fits a small teacher problem: training accuracy of the forward network after
    /// 40 iterations well above chance (1/3), and above the initial network's.
    func testEveryMethodLearnsATinyTeacherProblem() throws {
        for method in LiftedMethod.allCases {
            let (net, x, labels) = try LiftedTestData.problem(sizes: [5, 24, 3], samples: 90, seed: 31)
            let t = try trainer(method, net) { $0.admmWarmStart = 5 }
            let first = try t.step(inputs: x, labels: labels)
            for _ in 0..<40 { _ = try t.step(inputs: x, labels: labels) }
            let (_, correct) = LossKind.squaredError.evaluate(net.forward(x), labels: labels)
            let accuracy = Double(correct) / Double(labels.count)
            XCTAssertGreaterThan(accuracy, 0.8, "\(method): training accuracy \(accuracy) after 41 iterations")
            XCTAssertGreaterThan(accuracy, first.accuracy + 0.1, "\(method): from \(first.accuracy) to \(accuracy)")
        }
    }

    /// Methods built on ReLU's closed forms refuse a sigmoid network in one line naming the fix;
    /// MAC (gradient steps on its blocks) takes it.
    func testReluMethodsRefuseSigmoid() throws {
        let (net, _, _) = try LiftedTestData.problem(sizes: [4, 5, 3], samples: 4, seed: 1, activation: .sigmoid)
        for method in [LiftedMethod.admm, .bcd, .askari] {
            XCTAssertThrowsError(try trainer(method, net)) { e in
                let s = "\(e)"
                XCTAssertTrue(s.contains("relu") && s.contains("sigmoid") && !s.contains("\n"), "\(method): \(s)")
            }
        }
        XCTAssertNoThrow(try trainer(.penalty, net))
    }

    /// The memory check comes before any allocation: the error names the sizes, nothing is kept.
    func testMemoryBudgetIsCheckedBeforeAllocating() throws {
        let (net, x, labels) = try LiftedTestData.problem(sizes: [6, 9, 3], samples: 50, seed: 2)
        for method in LiftedMethod.allCases {
            let t = try trainer(method, net) { $0.memoryBudget = 1000 }
            XCTAssertThrowsError(try t.step(inputs: x, labels: labels)) { e in
                XCTAssertTrue("\(e)".contains("50 training samples") && "\(e)".contains("--train-limit"), "\(method): \(e)")
            }
            let fits = try trainer(method, net) { $0.memoryBudget = 1e9 }
            XCTAssertNoThrow(try fits.step(inputs: x, labels: labels), "\(method)")
        }
        let admm = try ADMMTrainer(network: net, configuration: { var c = LiftedConfiguration(); c.memoryBudget = 1000; return c }())
        _ = try? admm.step(inputs: x, labels: labels)
        XCTAssertNil(admm.run.data, "the refused run captured the data")
        XCTAssertTrue(admm.z.isEmpty, "the refused run allocated its variables")
    }

    /// A run that cannot stay finite (here: an input of 1e200) stops with one line, never a trap:
    /// the trainer throws before storing non-finite weights, or reports a non-finite loss, on which
    /// the loop stops with its own one line.
    func testNonFiniteRunStopsWithOneLine() throws {
        var (net, x, labels) = try LiftedTestData.problem(sizes: [4, 6, 3], samples: 20, seed: 4)
        x.data[7] = 1e200   // its squares overflow: the Gram matrices are not finite
        for method in LiftedMethod.allCases {
            let before = net.parameters.values.map(\.data)
            let t = try trainer(method, net)
            do {
                let r = try t.step(inputs: x, labels: labels)
                XCTAssertFalse(r.loss.isFinite, "\(method): a 1e200 input gave a finite loss")
                XCTAssertNil(net.parameters.firstNonFinite(), "\(method): non-finite weights were stored")
            } catch {
                XCTAssertTrue(error is TrainingError && !"\(error)".contains("\n"), "\(method): \(error)")
                XCTAssertEqual(net.parameters.values.map(\.data), before, "\(method): weights changed by a failed step")
            }
        }
    }

    /// A full-batch method refuses a batch that is not its training set, and accepts the same set
    /// in another row order (the loop reshuffles every epoch).
    func testFullBatchRefusesAnotherBatchAndAcceptsAShuffle() throws {
        let (net, x, labels) = try LiftedTestData.problem(sizes: [4, 6, 3], samples: 20, seed: 3)
        let t = try trainer(.bcd, net)
        _ = try t.step(inputs: x, labels: labels)
        var shuffled = Tensor<Double>(zeros: [20, 4])
        let order = Array((0..<20).reversed())
        shuffled.gatherRows(from: x, indices: order[...])
        XCTAssertNoThrow(try t.step(inputs: shuffled, labels: order.map { labels[$0] }))
        var half = Tensor<Double>(zeros: [10, 4])
        half.gatherRows(from: x, indices: Array(0..<10)[...])
        XCTAssertThrowsError(try t.step(inputs: half, labels: Array(labels.prefix(10)))) { e in
            XCTAssertTrue("\(e)".contains("full-batch"), "\(e)")
        }
        XCTAssertThrowsError(try t.importState([:])) { e in XCTAssertTrue("\(e)".contains("cannot resume"), "\(e)") }
    }
}
