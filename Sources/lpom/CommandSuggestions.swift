import ArgumentParser
import Foundation
import LiftedTrain

extension LPOMCommand {
    /// The entry point: a first word that is no subcommand, but close to one, gets a suggestion
    /// ("lpom trian" → "did you mean 'train'?") instead of ArgumentParser's "Unexpected argument".
    static func main() {
        if let line = suggestion(for: Array(CommandLine.arguments.dropFirst())) {
            printErr(line)
            Foundation.exit(64)   // EX_USAGE, as ArgumentParser exits for a usage error
        }
        // OpenBLAS's kernels for this CPU's instruction set when it took an older CPU's: starts
        // this binary again with OPENBLAS_CORETYPE set (BLASKernelChoice in LiftedTrain).
        BLASKernelChoice.restartIfMisdetected()
        // Denormals flushed to zero before anything runs, so every thread created later inherits it
        // (`Denormals` in LiftedTrain; `LPOM_DENORMALS=ieee` keeps IEEE gradual underflow).
        Denormals.configureFromEnvironment()
        main(nil)
    }

    /// The names `lpom` takes as its first word.
    static var subcommandNames: [String] { configuration.subcommands.map { $0._commandName } + ["help"] }

    /// One line naming the closest subcommands when `arguments` starts with an unknown word; nil
    /// otherwise (options, a known subcommand, nothing).
    static func suggestion(for arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-"), !subcommandNames.contains(first) else { return nil }
        let ranked = subcommandNames.map { ($0, editDistance(first.lowercased(), $0)) }.sorted { $0.1 < $1.1 }
        let close = ranked.filter { $0.1 <= max(2, first.count / 3) || $0.0.hasPrefix(first.lowercased()) }.map(\.0)
        let all = subcommandNames.dropLast().joined(separator: ", ")
        guard !close.isEmpty else { return "lpom: unknown command '\(first)'; the commands are \(all) (lpom --help)" }
        return "lpom: unknown command '\(first)'; did you mean " + close.prefix(2).map { "'\($0)'" }.joined(separator: " or ") + "?"
    }

    /// Levenshtein distance (insertions, deletions, substitutions; a swap of neighbours counts 1).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty else { return y.count }
        guard !y.isEmpty else { return x.count }
        var d = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[x.count][y.count]
    }
}
