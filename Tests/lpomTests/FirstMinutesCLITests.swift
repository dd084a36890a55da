import ArgumentParser
import Foundation
import XCTest
@testable import lpom

/// What a new user meets first: the subcommand suggestion, `train --help` leading with the core
/// options, `eval --help` without options that mean nothing there.
final class FirstMinutesCLITests: CLITestCase {
    func testMistypedSubcommandsGetASuggestion() {
        XCTAssertEqual(LPOMCommand.suggestion(for: ["trian", "--epochs", "1"]), "lpom: unknown command 'trian'; did you mean 'train'?")
        XCTAssertTrue(LPOMCommand.suggestion(for: ["inspec", "x.h5"])?.contains("'inspect'") ?? false)
        XCTAssertTrue(LPOMCommand.suggestion(for: ["xyzzy"])?.contains("the commands are train, eval") ?? false)
        for fine in [["train"], ["eval", "x.h5"], ["--help"], ["--version"], ["help", "train"], []] {
            XCTAssertNil(LPOMCommand.suggestion(for: fine), "\(fine)")
        }
        XCTAssertEqual(LPOMCommand.editDistance("trian", "train"), 1, "a swap of neighbours is one edit")
        XCTAssertEqual(LPOMCommand.editDistance("", "runs"), 4)
    }

    func testTrainHelpLeadsWithTheCoreOptionsAndSaysWhatItTrains() throws {
        let help = TrainCommand.helpMessage(columns: 100)
        // Where an option's own line starts (the examples above the lists mention some too).
        let position = { (s: String) in help.range(of: s.hasPrefix("--") ? "\n  \(s) " : s)?.lowerBound ?? help.endIndex }
        for core in ["--method", "--dataset", "--layers", "--epochs", "--lr", "--batch-size", "--history"] {
            XCTAssertLessThan(position(core), position("--arch"), "\(core) before the architecture options")
            XCTAssertLessThan(position(core), position("--mu"), "\(core) before the LPOM options")
        }
        XCTAssertLessThan(position("CORE OPTIONS"), position("ARCHITECTURE"))
        XCTAssertTrue(TrainCommand.configuration.abstract.contains("GAN"))
        XCTAssertFalse(TrainCommand.configuration.abstract.contains("multilayer perceptron on"))
        // Options parse as before under their old names.
        let c = try TrainCommand.parse(["--method", "adam", "--lr", "0.01", "--momentum", "0.5", "--seed", "7"])
        XCTAssertEqual(c.method, .adam); XCTAssertEqual(c.lr, 0.01); XCTAssertEqual(c.momentum, 0.5); XCTAssertEqual(c.seed, 7)
    }

    func testEvalHelpListsOnlyWhatEvalUses() throws {
        let help = EvalCommand.helpMessage(columns: 100)
        XCTAssertFalse(help.contains("--quiet"), "eval prints no progress")
        XCTAssertFalse(help.contains("Default: 0 for train"), "no help text written for train")
        XCTAssertTrue(help.contains("--split") && help.contains("--data-dir"))
        let e = try EvalCommand.parse(["x.h5", "--test-limit", "5", "--validation", "20"])
        let d = try e.data
        XCTAssertEqual(d.testLimit, 5); XCTAssertEqual(d.validation, 20); XCTAssertNil(d.dataDir)
    }
}
