import ArgumentParser
import Foundation
import HistoryStore
import XCTest
import LiftedTrain
@testable import lpom

/// `lpom inspect` makes the check `lpom eval` makes (`Network.checked(against:)`, the model JSON
/// against the /theta and /buffers shapes) and refuses a history whose model lies about its
/// parameters — with one line and a non-zero exit — unless `--unchecked` asks to see it anyway.
final class InspectValidationTests: CLITestCase {
    /// The honest model: 4 → dense 3 → relu → dense 2.
    static let spec = ModelSpec.mlp(input: 4, hidden: [3], output: 2, activation: .relu)
    static let shapes: [(name: String, shape: [Int])] = [("layers.0.weight", [3, 4]), ("layers.0.bias", [3]),
                                                          ("layers.2.weight", [2, 3]), ("layers.2.bias", [2])]

    /// A history with the given model JSON and /theta declarations, one snapshot of ones.
    func history(_ name: String, model: ModelSpec = spec, theta: [(name: String, shape: [Int])] = shapes) throws -> String {
        let path = dir + "/\(name).h5"
        let writer = try HistoryWriter(path: path, model: model.json(), training: #"{"dataset": "mnist", "method": "sgd"}"#,
                                       createdBy: "lpom tests", parameters: theta, buffers: [])
        try writer.appendSnapshot(step: 0, parameters: Dictionary(uniqueKeysWithValues: theta.map {
            ($0.name, [Float](repeating: 1, count: $0.shape.reduce(1, *)))
        }), buffers: [:])
        try writer.close()
        return path
    }

    /// The three lies: a 2e9-wide layer, a missing parameter, a mis-shaped one; and a width the
    /// layer builder accepts (2²⁴) but the file cannot hold, refused before the 4·2²⁴ + 2²⁴·2
    /// weights are allocated.
    func lyingHistories() throws -> [(path: String, mentions: String)] {
        func widened(_ width: Int) -> ModelSpec {
            var spec = Self.spec
            spec.layers[0].out = width
            spec.layers[2].in = width
            return spec
        }
        return [
            (try history("wide", model: widened(2_000_000_000)), "need at least 12000000000 weights but /theta holds 23 values"),
            (try history("huge", model: widened(1 << 24)), "need at least 100663296 weights"),
            (try history("missing", theta: Array(Self.shapes.dropLast())), "/theta/layers.2.bias is missing"),
            (try history("misshaped", theta: Self.shapes.map { $0.name == "layers.0.weight" ? ($0.name, [3, 5]) : $0 }),
             "/theta/layers.0.weight has shape [3, 5] but the model needs [3, 4]"),
        ]
    }

    /// What `lpom <args>` would print for `error` and the status it would exit with.
    func report(_ error: Error) -> (message: String, status: Int32) {
        (LPOMCommand.message(for: error), LPOMCommand.exitCode(for: error).rawValue)
    }

    func testHonestHistoryIsInspected() throws {
        var inspect = try InspectCommand.parse([try history("honest"), "--json"])
        XCTAssertNoThrow(try inspect.run())
    }

    func testInspectRefusesEveryLyingHistoryAsEvalDoes() throws {
        for (path, mentions) in try lyingHistories() {
            var inspect = try InspectCommand.parse([path])
            var eval = try EvalCommand.parse([path, "--data-dir", fixtures])
            var inspectError: Error?, evalError: Error?
            XCTAssertThrowsError(try inspect.run()) { inspectError = $0 }
            XCTAssertThrowsError(try eval.run()) { evalError = $0 }
            guard let inspectError, let evalError else { continue }
            let (message, status) = report(inspectError)
            XCTAssertNotEqual(status, 0, message)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)")
            XCTAssertTrue(message.contains(path) && message.contains(mentions), message)
            XCTAssertTrue(message.contains("--unchecked"), message)
            // The same check: eval's message is inspect's without the --unchecked hint.
            XCTAssertTrue(message.hasPrefix(report(evalError).message), "\(message) vs \(report(evalError).message)")
            XCTAssertNotEqual(report(evalError).status, 0)
        }
    }

    /// `--unchecked` lists a lying file, its parameters as the file has them, marked UNCHECKED
    /// and naming the problem; `--json` says `"checked": false`.
    func testUncheckedListsALyingHistoryMarkedAsSuch() throws {
        for (path, mentions) in try lyingHistories() {
            var text = try InspectCommand.parse([path, "--unchecked"])
            let lines = try capturingStandardOutput { try text.run() }.split(separator: "\n").map(String.init)
            XCTAssertTrue(lines.first?.hasPrefix("UNCHECKED: \(path): ") ?? false, "\(lines)")
            XCTAssertTrue(lines.first?.contains(mentions) ?? false, "\(lines)")
            let model = lines.first { $0.hasPrefix("model") } ?? ""
            XCTAssertTrue(model.contains("UNCHECKED") && model.contains("in the file"), model)
            // The parameters as the file holds them (the 2e9 model claims far more).
            XCTAssertTrue(lines.contains { $0.hasPrefix("layers.0.weight") }, "\(lines)")
            var json = try InspectCommand.parse([path, "--unchecked", "--json"])
            let data = Data(try capturingStandardOutput { try json.run() }.utf8)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            XCTAssertEqual(object["checked"] as? Bool, false)
            XCTAssertTrue((object["problem"] as? String)?.contains(mentions) ?? false, "\(object)")
        }
        // An honest file says it was checked, and carries no UNCHECKED mark even with the flag.
        var honest = try InspectCommand.parse([try history("honest"), "--unchecked", "--json"])
        let data = Data(try capturingStandardOutput { try honest.run() }.utf8)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["checked"] as? Bool, true)
        XCTAssertNil(object["problem"])
        XCTAssertEqual(object["parameter_count"] as? Int, 3 * 4 + 3 + 2 * 3 + 2)
    }
}
