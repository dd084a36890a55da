import Foundation

/// A progress bar on stderr with rate and ETA. Redrawn in place (carriage return, clear line)
/// at most ten times a second when stderr is a terminal; silent otherwise (callers then print
/// one summary line per epoch).
final class ProgressBar {
    let total: Int
    let unit: String
    let enabled: Bool
    private let start: Double
    private var lastDraw = 0.0
    private var startCount: Int

    init(total: Int, unit: String = "step", startAt: Int = 0, quiet: Bool = false) {
        self.total = total
        self.unit = unit
        self.enabled = !quiet && isatty(STDERR_FILENO) != 0
        self.start = now()
        self.startCount = startAt
    }

    /// Shows `done` of `total` with a free-form suffix (loss, accuracy).
    func update(_ done: Int, suffix: String = "") {
        guard enabled else { return }
        let t = now()
        if done < total && t - lastDraw < 0.1 { return }
        lastDraw = t
        let elapsed = t - start
        let rate = elapsed > 0 ? Double(done - startCount) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = total > 0 ? min(width, width * done / total) : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let pct = total > 0 ? 100 * done / total : 100
        let line = "\r\u{1B}[2K\(bar) \(pct)% \(done)/\(total) \(String(format: "%.1f", rate)) \(unit)/s ETA \(formatDuration(eta)) \(suffix)"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the bar so a normal line can be printed.
    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
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
