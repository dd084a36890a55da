import Foundation

/// A minimal SVG line chart: several series over a shared x axis, with axes, ticks and a legend.
struct LinePlot {
    struct Series { var name: String; var x: [Double]; var y: [Double] }
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series] = []
    var yRange: (Double, Double)? = nil

    private static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The chart as SVG text.
    func svg(width: Double = 640, height: Double = 400) -> String {
        let (l, r, t, b) = (70.0, 20.0, 40.0, 50.0)
        let pts = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite } }
        let xs = pts.map(\.0), ys = pts.map(\.1)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = yRange ?? (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1; y0 -= 0 }
        let pad = (y1 - y0) * 0.05
        if yRange == nil { y0 -= pad; y1 += pad }
        if x0 == x1 { x0 -= 1 }
        let pw = width - l - r, ph = height - t - b
        func px(_ x: Double) -> Double { l + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { t + (1 - (y - y0) / (y1 - y0)) * ph }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>\n"
        s += "<rect x=\"\(l)\" y=\"\(t)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#333\"/>\n"
        for i in 0...5 {
            let xv = x0 + Double(i) / 5 * (x1 - x0), yv = y0 + Double(i) / 5 * (y1 - y0)
            s += "<line x1=\"\(px(xv))\" y1=\"\(t)\" x2=\"\(px(xv))\" y2=\"\(t + ph)\" stroke=\"#eee\"/>"
            s += "<text x=\"\(px(xv))\" y=\"\(t + ph + 16)\" text-anchor=\"middle\">\(tick(xv))</text>\n"
            s += "<line x1=\"\(l)\" y1=\"\(py(yv))\" x2=\"\(l + pw)\" y2=\"\(py(yv))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(l - 6)\" y=\"\(py(yv) + 4)\" text-anchor=\"end\">\(tick(yv))</text>\n"
        }
        s += "<text x=\"\(l + pw / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16,\(t + ph / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (k, ser) in series.enumerated() {
            let c = LinePlot.colors[k % LinePlot.colors.count]
            let p = zip(ser.x, ser.y).filter { $0.0.isFinite && $0.1.isFinite }
                .map { String(format: "%.1f,%.1f", px($0.0), py(min(max($0.1, y0), y1))) }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.6\" points=\"\(p)\"/>\n"
            let ly = t + 14 + Double(k) * 16
            s += "<line x1=\"\(l + pw - 150)\" y1=\"\(ly - 4)\" x2=\"\(l + pw - 130)\" y2=\"\(ly - 4)\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(l + pw - 125)\" y=\"\(ly)\">\(escape(ser.name))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    private func tick(_ v: Double) -> String {
        if abs(v) >= 1000 || v == v.rounded() { return String(format: "%.0f", v) }
        return abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }

    /// Writes the SVG to `path`, creating folders.
    func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do { try svg().write(to: url, atomically: true, encoding: .utf8) } catch {
            throw CommandError("cannot write plot \(path): \(error.localizedDescription)")
        }
    }
}
