import Foundation
import XCTest
@testable import lpom

/// Replays every input the fuzzers of `fuzz/` (scripts/fuzz.sh) found to trap, hang or allocate
/// what a file claimed — kept, minimised, in data/fuzz-regressions/<reader>/ — through the entry
/// points the fuzzers drive (`FuzzTargets`). Each must now be refused with a thrown one-line
/// error; before its fix each crashed the test process. The fuzzers themselves never run here.
final class FuzzRegressionTests: XCTestCase {
    /// data/fuzz-regressions.
    static let folder = CLITestCase.root + "/data/fuzz-regressions"

    /// The saved inputs of one reader, at least one.
    func inputs(_ reader: String) throws -> [String] {
        let dir = Self.folder + "/" + reader
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertFalse(names.isEmpty, "no saved inputs in \(dir)")
        return names.map { dir + "/" + $0 }
    }

    /// Seconds an input may take before the test process is ended: several of these inputs made
    /// HDF5 loop forever inside C, where no test can interrupt it, so a regression would otherwise
    /// hang the whole test run (CI's 90 minutes) instead of failing.
    static let watchdogSeconds = 60.0

    /// Ends the process with one line naming `path` unless `finished` is called in time.
    final class Watchdog: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        init(_ path: String, seconds: Double) {
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                lock.lock(); defer { lock.unlock() }
                guard !done else { return }
                FileHandle.standardError.write(Data("FuzzRegressionTests: \(path) still not refused after \(Int(seconds)) s (a reader hangs on it); ending the test run\n".utf8))
                _exit(1)   // not exit(): its handlers include HDF5's, which waits for the library the hung thread holds
            }
        }
        func finished() { lock.lock(); done = true; lock.unlock() }
    }

    /// Runs `body` on every saved input of `reader` and asserts a thrown error of one line.
    func assertRefused(_ reader: String, _ body: (String) throws -> Void) throws {
        for path in try inputs(reader) {
            let watchdog = Watchdog(path, seconds: Self.watchdogSeconds)
            defer { watchdog.finished() }
            do {
                try body(path)
                XCTFail("\(path) was accepted")
            } catch {
                let message = "\(error)"
                XCTAssertFalse(message.isEmpty || message.contains("\n"), "\(path): not one line: \(message)")
            }
        }
    }

    func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    func testSavedIDXInputsAreRefused() throws {
        try assertRefused("idx") { try FuzzTargets.idx(try bytes($0)) }
    }

    func testSavedHistoryInputsAreRefused() throws {
        try assertRefused("history") { try FuzzTargets.history(path: $0) }
    }

    func testSavedJSONInputsAreRefused() throws {
        try assertRefused("json") { try FuzzTargets.json(try bytes($0)) }
    }

    func testSavedImageInputsAreRefused() throws {
        try assertRefused("images") { try FuzzTargets.images(try bytes($0)) }
    }

    /// The seeds of the image-file fuzzer are valid files (a PNG and a .npy) that the readers
    /// accept, so that the fuzzer starts from inputs that reach the decoders.
    func testImageFuzzSeedsAreRead() throws {
        let dir = CLITestCase.root + "/fuzz/corpus/images"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".seed") }.sorted()
        XCTAssertEqual(names, ["f4-2x3.npy.seed", "gray-3x2.png.seed"])
        for n in names { XCTAssertNoThrow(try FuzzTargets.images(try bytes(dir + "/" + n)), n) }
        let png = try bytes(dir + "/gray-3x2.png.seed")
        XCTAssertThrowsError(try FuzzTargets.images(Array(png.prefix(png.count - 20))), "a truncated PNG")
    }

    /// The messages name the limit that refused the input (not some later, unrelated failure).
    func testRefusalsNameTheProblem() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "accepted" } catch { return "\(error)" }
        }
        let json = Self.folder + "/json/"
        XCTAssertTrue(message { try FuzzTargets.json(try bytes(json + "dense-weight-13G-values")) }
            .contains("past \(1 << 26) parameters"))
        XCTAssertTrue(message { try FuzzTargets.json(try bytes(json + "duplicate-layer-name-different-shape")) }
            .contains("layer names must be unique"))
        XCTAssertTrue(message { try FuzzTargets.json(try bytes(json + "teacher-student-negative-samples")) }
            .contains("expected 1 ≤ d ≤ 100000"))
        XCTAssertTrue(message { try FuzzTargets.idx(try bytes(Self.folder + "/idx/oom-header-claims-1.5GB")) }
            .contains("truncated payload: 0 bytes"))
    }
}
