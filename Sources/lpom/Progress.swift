import Foundation

/// A progress bar on stderr with rate and ETA. Redrawn in place (carriage return, clear line)
/// at most ten times a second when stderr is a terminal; never drawn otherwise, so that logs
/// hold only the whole lines written through `line(_:)` (the per-epoch summaries). Quiet
/// writes nothing at all. The terminal test, the clock and the output are parameters so that
/// tests can drive the bar.
final class ProgressBar {
    let total: Int
    let unit: String
    /// Whether the bar is drawn: not quiet, and on a terminal.
    let enabled: Bool
    /// Whether nothing at all is written.
    let quiet: Bool
    private let clock: () -> Double
    private let sink: (String) -> Void
    private let start: Double
    private var lastDraw = -Double.infinity
    private var startCount: Int

    init(total: Int, unit: String = "step", startAt: Int = 0, quiet: Bool = false,
         terminal: Bool = isatty(STDERR_FILENO) != 0, clock: @escaping () -> Double = now,
         sink: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = total
        self.unit = unit
        self.quiet = quiet
        self.enabled = !quiet && terminal
        self.clock = clock
        self.sink = sink
        self.start = clock()
        self.startCount = startAt
    }

    /// Shows `done` of `total` with a free-form suffix (loss, accuracy).
    func update(_ done: Int, suffix: String = "") {
        guard enabled else { return }
        let t = clock()
        if done < total && t - lastDraw < 0.1 { return }
        lastDraw = t
        sink("\r\u{1B}[2K" + text(done, elapsed: t - start, suffix: suffix))
    }

    /// The bar's text after `elapsed` seconds: the rate counts the steps done since `startAt`
    /// (a resumed run does not count the steps it skipped), ETA = remaining / rate ("?" before
    /// any rate is known).
    func text(_ done: Int, elapsed: Double, suffix: String = "") -> String {
        let rate = elapsed > 0 ? Double(done - startCount) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .nan
        let width = 24
        let filled = total > 0 ? min(width, width * done / total) : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let pct = total > 0 ? 100 * done / total : 100
        return "\(bar) \(pct)% \(done)/\(total) \(String(format: "%.1f", rate)) \(unit)/s ETA \(formatDuration(eta)) \(suffix)"
    }

    /// Clears the bar so a normal line can be printed.
    func clear() {
        guard enabled else { return }
        sink("\r\u{1B}[2K")
    }

    /// Writes one whole line (a summary), clearing the bar first; nothing when quiet.
    func line(_ text: String) {
        guard !quiet else { return }
        clear()
        sink(text + "\n")
    }
}

/// "1:05" / "2:03:04" / "12s".
func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    if t < 60 { return "\(t)s" }
    if t < 3600 { return String(format: "%d:%02d", t / 60, t % 60) }
    return String(format: "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60)
}
