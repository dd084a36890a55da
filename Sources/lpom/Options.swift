import ArgumentParser
import Foundation
import ImageData
import LiftedTrain

extension DatasetName: ExpressibleByArgument {}
extension ActivationKind: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension Initialization: ExpressibleByArgument {}
extension LearningRateSchedule: ExpressibleByArgument {}

/// Where the data sets live.
struct DataOptions: ParsableArguments {
    @Option(help: "Directory holding mnist/ and fashion-mnist/ IDX files (default: $LPOM_DATA_DIR, else ./data). `bash data/setup.sh` fills it.")
    var dataDir: String?

    @Option(parsing: .number, help: "Use only the first N training images (0 = all; after --validation has held out the last ones). For quick runs.")
    var trainLimit: Int = 0

    @Option(parsing: .number, help: "Use only the first N test images (0 = all).")
    var testLimit: Int = 0

    @Option(parsing: .number, help: "Hold out the LAST N images of the training file (in file order) as a validation set; training uses the first count-N. Choices are made on it, the test set is evaluated once at the end. Default: 0 for train, 10000 for compare; eval reads it from the history.")
    var validation: Int?

    var directory: String {
        dataDir ?? ProcessInfo.processInfo.environment["LPOM_DATA_DIR"] ?? "data"
    }

    func validate() throws {
        guard trainLimit >= 0 else { throw ValidationError("--train-limit must be ≥ 0, got \(trainLimit)") }
        guard testLimit >= 0 else { throw ValidationError("--test-limit must be ≥ 0, got \(testLimit)") }
        if let validation, validation < 0 {
            throw ValidationError("--validation must be ≥ 0 (the number of training images held out), got \(validation)")
        }
    }

    /// Loads train and test sets as Float tensors (the training set without the last
    /// `--validation` images; see `splits`).
    func load(_ name: DatasetName) throws -> (train: TensorDataset<Float>, test: TensorDataset<Float>) {
        let s = try splits(name, holdOut: validation ?? 0)
        return (s.train, s.test)
    }
}

extension SingleValueParsingStrategy {
    /// A number, which may be negative: takes the next word even when it starts with a dash, so
    /// that `--snapshot -1` parses and `--lr -1` reaches `validate()` ("must be positive")
    /// instead of failing with "Missing value".
    static var number: SingleValueParsingStrategy { .unconditional }
}

/// How results are printed.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON object on stdout instead of tables.")
    var json = false

    @Flag(help: "No progress bar or per-epoch lines on stderr.")
    var quiet = false
}

/// Parses a comma-separated list of positive layer widths such as "300,100".
func parseLayers(_ text: String) throws -> [Int] {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty || trimmed == "none" { return [] }
    var out: [Int] = []
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
        guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v > 0 else {
            throw ValidationError("--layers takes comma-separated positive widths such as 300,100; '\(part)' in '\(text)' is not one")
        }
        guard v <= 100_000 else { throw ValidationError("--layers: width \(v) is too large (at most 100000)") }
        out.append(v)
    }
    return out
}

/// Writes a JSON object to stdout (sorted keys).
func printJSON(_ object: [String: Any]) {
    if let d = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
       let s = String(data: d, encoding: .utf8) {
        print(s)
    }
}

/// Writes one line to stderr.
func printErr(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// A failure of a command, printed as one line.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Wall-clock seconds since an arbitrary origin.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
