import ArgumentParser
import Foundation
import XCTest
@testable import lpom

/// Options whose values may start with a dash: negative numbers parse (`--snapshot -1`) or reach
/// `validate()`, which names the option, instead of failing with "Missing value".
final class OptionValueTests: CLITestCase {
    /// Every `lpom` command, with the arguments it needs to parse.
    let commands: [(ParsableCommand.Type, [String])] = [
        (TrainCommand.self, []), (EvalCommand.self, ["x.h5"]), (CompareCommand.self, []), (InspectCommand.self, ["x.h5"]),
        (SurfCommand.self, ["x.h5"]), (NTKCommand.self, ["x.h5"]), (BenchCommand.self, []),
        (ExportCommand.self, ["x.h5", "--metrics", "m.csv"]), (RunsCommand.self, []),
    ]
    /// The option groups of `lpom train` (the other commands use DataOptions too).
    let groups: [ParsableArguments.Type] = [TrainCoreOptions.self, TrainDetailOptions.self, DataOptions.self, ArchOptions.self,
                                            LPOMOptions.self, GGNOptions.self, GenerativeOptions.self, LiftedOptions.self]
    /// String options that hold numbers (lists).
    let numberLists = ["--layers", "--mu", "--seeds", "--threads", "--networks"]

    /// The `--names` of the options of `type` whose values are numbers (Int, Double, UInt64,
    /// optional or not), found by reflection: property `_batchSize` of type `Option<Optional<Int>>`
    /// is `--batch-size`.
    func numericOptions(_ type: ParsableArguments.Type, args: [String]) throws -> [String] {
        let value = try type.parse(args)
        return Mirror(reflecting: value).children.compactMap { child in
            guard let label = child.label, label.hasPrefix("_") else { return nil }
            let t = String(describing: Swift.type(of: child.value))
            guard t.hasPrefix("Option<"), ["Int", "Double", "UInt64"].contains(where: { t.contains("<\($0)>") }) else { return nil }
            return "--" + label.dropFirst().map { $0.isUppercase ? "-" + $0.lowercased() : String($0) }.joined()
        }
    }

    func testEveryNumericOptionTakesANegativeValue() throws {
        var checked: [String] = []
        for (type, args) in commands {
            // The option groups' options once, with train (which has all of them).
            let grouped = type == TrainCommand.self ? try groups.flatMap { try numericOptions($0, args: []) } : []
            let options = try numericOptions(type, args: args) + grouped + numberLists
            let help = type.helpMessage(columns: 10_000)
            for option in Set(options) where help.contains("  \(option) <") {
                checked.append(option)
                let message = parseError(type, args + [option, "-1"])
                XCTAssertFalse(message?.contains("Missing value") ?? false, "\(type) \(option) -1: \(message ?? "")")
                if let message { XCTAssertTrue(message.contains(option), "\(type) \(option) -1: \(message)") }
            }
        }
        XCTAssertGreaterThan(Set(checked).count, 55, "reflection found the numeric options: \(Set(checked).sorted())")
        XCTAssertTrue(checked.contains("--snapshot") && checked.contains("--lr") && checked.contains("--seed"))
    }

    func testNegativeValuesGetMustBePositiveMessages() {
        let cases: [([String], String)] = [
            (["--lr", "-1"], "--lr must be a positive number, got -1.0"),
            (["--epochs", "-2"], "--epochs must be at least 1, got -2"),
            (["--batch-size", "-5"], "--batch-size must be at least 1, got -5"),
            (["--mu", "-1"], "--mu must be a positive number or a comma-separated list of them (one per dense layer), got '-1'"),
            (["--train-limit", "-3"], "--train-limit must be ≥ 0, got -3"),
            (["--momentum", "-0.5"], "--momentum must be in [0, 1), got -0.5"),
        ]
        for (args, expected) in cases {
            XCTAssertEqual(parseError(args), expected)
        }
        XCTAssertEqual(try TrainCommand.parse(["--alpha", "0.2", "--seed", "3"]).seed, 3)
    }

    func testHelpShowsAsciiMinusInValues() {
        for (type, _) in commands {
            let help = type.helpMessage(columns: 10_000)
            // A number written with U+2212 where a value starts (maths such as U[−1,1] is fine).
            for line in help.split(separator: "\n") {
                XCTAssertNil(line.range(of: "(^|[\\s(,])−[0-9]", options: .regularExpression),
                             "\(type): a value to copy with a Unicode minus: \(line)")
            }
        }
    }
}
