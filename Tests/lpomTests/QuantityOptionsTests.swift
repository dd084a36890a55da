import XCTest
import LiftedTrain
@testable import lpom

/// The libraries' errors name quantities (μ, ridge ε, η, λ); the command line names the options.
final class QuantityOptionsTests: XCTestCase {
    func testEveryQuantityHasAnOptionOfTrain() throws {
        for q in TrainingQuantity.allCases {
            XCTAssertNotNil(try? TrainCommand.parse([q.option, "1"]), "\(q.option) is an option of lpom train")
        }
    }

    /// A real library error (a non-finite Gram matrix in GGN) carries the quantity, not the flag;
    /// the CLI report adds the flag.
    func testGGNErrorNamesTheStepSizeAndTheCLIAddsItsOption() {
        let gram = Tensor<Double>(shape: [2, 2], data: [.infinity, 0, 0, 1])
        XCTAssertThrowsError(try solveGram(gram, [1, 1], damping: 0)) { error in
            let library = "\(error)"
            XCTAssertTrue(library.contains("step size η"), library)
            XCTAssertFalse(library.contains("--"), "no command-line option in a library message: \(library)")
            XCTAssertEqual((error as? TrainingError)?.quantities, [.ggnStep])
            XCTAssertTrue(reported(error).hasSuffix("(GGN step size η: --ggn-step)"), reported(error))
        }
        XCTAssertEqual(reported(TrainingError("plain")), "plain")
    }

    func testLPOMSettingErrorsNameTheirQuantities() {
        var c = LPOMConfiguration()
        c.ridge = -1
        XCTAssertThrowsError(try c.validate(layers: 2)) { error in
            XCTAssertTrue(reported(error).contains("the ridge ε must be ≥ 0, got -1.0 (ridge ε: --ridge)"), reported(error))
        }
        c = LPOMConfiguration()
        c.mu = [1, 2, 3]
        XCTAssertThrowsError(try c.validate(layers: 2)) { error in
            XCTAssertTrue(reported(error).contains("3 values of μ for 2 dense layers") && reported(error).hasSuffix("(μ: --mu)"),
                          reported(error))
        }
    }
}
