import XCTest
@testable import LiftedTrain

/// The flat, named parameter map.
final class ParametersTests: XCTestCase {
    func testRegisterAndLookUp() {
        let s = ParameterStore<Double>()
        XCTAssertEqual(s.register("a.weight", Tensor(shape: [2, 2], data: [1, 2, 3, 4])), 0)
        XCTAssertEqual(s.register("a.bias", Tensor(shape: [2], data: [5, 6])), 1)
        XCTAssertEqual(s.names, ["a.weight", "a.bias"])
        XCTAssertEqual(s.slot(of: "a.bias"), 1)
        XCTAssertNil(s.slot(of: "b"))
        XCTAssertEqual(s["a.weight"]?.data, [1, 2, 3, 4])
        XCTAssertNil(s["nope"])
        XCTAssertEqual(s.scalarCount, 6)
        XCTAssertEqual(s.grads.map(\.shape), [[2, 2], [2]])
        XCTAssertEqual(s.grads.map { $0.data.allSatisfy { $0 == 0 } }, [true, true])
        // Registering a name again replaces it in place.
        XCTAssertEqual(s.register("a.weight", Tensor(shape: [3], data: [7, 8, 9])), 0)
        XCTAssertEqual(s.names.count, 2)
        XCTAssertEqual(s["a.weight"]?.shape, [3])
        XCTAssertEqual(s.grads[0].shape, [3])
    }

    func testSetChecksNameAndSize() throws {
        let s = ParameterStore<Float>()
        s.register("w", Tensor(zeros: [2, 3]))
        try s.set("w", Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(s["w"]?.shape, [2, 3])
        XCTAssertEqual(s["w"]?.data, [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try s.set("v", Tensor(zeros: [6]))) { XCTAssertTrue("\($0)".contains("'v'"), "\($0)") }
        XCTAssertThrowsError(try s.set("w", Tensor(zeros: [5]))) { XCTAssertTrue("\($0)".contains("'w'"), "\($0)") }
    }

    func testFloatArraysAndFirstNonFinite() {
        let s = ParameterStore<Double>()
        s.register("a", Tensor(shape: [2], data: [0.1, -2]))
        s.register("b", Tensor(shape: [1], data: [3]))
        XCTAssertEqual(s.floatArrays(), ["a": [Float(0.1), -2], "b": [3]])
        XCTAssertNil(s.firstNonFinite())
        s.values[1].data[0] = .infinity
        XCTAssertEqual(s.firstNonFinite(), "b")
        s.values[0].data[1] = .nan
        XCTAssertEqual(s.firstNonFinite(), "a")
        let f = ParameterStore<Float>()
        f.register("x", Tensor(shape: [2], data: [1.5, 2.5]))
        XCTAssertEqual(f.floatArrays(), ["x": [1.5, 2.5]])
    }
}
