import ArgumentParser
import Foundation
import XCTest
import LiftedTrain
import TestSupport
@testable import lpom

/// What the command-line test classes share: the repository's fixtures, a fresh temporary
/// directory per test (removed afterwards), the message ArgumentParser would print for a
/// parse failure, and the process-wide compute settings the commands change (threads, the
/// convolution algorithm, the recorded argv), put back after each test so that no test runs
/// with what an earlier one left behind.
class CLITestCase: XCTestCase {
    /// The repository root.
    static let root = TestPaths.root
    /// data/fixtures/tiny: 200 training and 100 test images of real MNIST and Fashion-MNIST.
    let fixtures = TestPaths.tinyData
    /// This test's scratch directory.
    var dir = ""

    /// The process state `lpom train`/`surf` set: OpenBLAS's thread count (everything else travels
    /// in a run's `ComputeContext`).
    private var savedBLASThreads: Int?

    override func setUpWithError() throws {
        dir = try TestPaths.scratchDirectory("\(type(of: self))")
        savedBLASThreads = BLASThreads.current
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        if let savedBLASThreads { BLASThreads.set(savedBLASThreads) }
        TrainCommand.recordedArguments = nil
    }

    /// The message ArgumentParser would print for `C.parse(args)`, or nil when it parses.
    func parseError<C: ParsableCommand>(_ type: C.Type, _ args: [String]) -> String? {
        do { _ = try C.parse(args); return nil } catch { return C.message(for: error) }
    }

    /// What `body` prints to stdout (file descriptor 1 is pointed at a file in `dir` meanwhile).
    func capturingStandardOutput(_ body: () throws -> Void) throws -> String {
        let path = dir + "/stdout-\(UUID().uuidString)"
        fflush(stdout)
        let saved = dup(1)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard saved >= 0, fd >= 0, dup2(fd, 1) >= 0 else { throw CommandError("cannot redirect stdout to \(path)") }
        close(fd)
        do {
            try body()
            fflush(stdout)
            dup2(saved, 1)
            close(saved)
        } catch {
            fflush(stdout)
            dup2(saved, 1)
            close(saved)
            throw error
        }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    /// `parseError` for `lpom train`.
    func parseError(_ args: [String]) -> String? { parseError(TrainCommand.self, args) }
}
