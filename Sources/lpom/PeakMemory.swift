import Foundation

/// The process's peak resident memory (Linux: VmHWM of /proc/self/status), and its reset
/// (writing 5 to /proc/self/clear_refs, Linux ≥ 4.0) so that a run in a longer process can be
/// measured on its own. Memory kept from earlier runs in the same process (freed buffers the
/// allocator holds, data sets) still counts: compare methods' memory in separate processes.
enum PeakMemory {
    /// Starts a new peak at the current resident size (no effect where unsupported).
    static func reset() {
        guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        h.write(Data("5".utf8))
        try? h.close()
    }

    /// Peak resident memory in MB since the start or the last `reset`, nil where unknown.
    static func megabytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kb = Double(parts[1]) { return kb / 1024 }
        }
        return nil
    }
}
