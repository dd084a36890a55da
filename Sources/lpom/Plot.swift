import Foundation

/// A minimal SVG line chart: several series over a shared x axis, with axes, ticks at round
/// values (1, 2, 5 × 10^k; whole numbers only when `integerX`, e.g. epochs) and a legend. Used on
/// its own or as one panel of a `PlotFigure`.
struct LinePlot {
    struct Series {
        var name: String; var x: [Double]; var y: [Double]
        /// A colour of its own (the same run in several panels); nil: by position.
        var color: String? = nil
    }
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series] = []
    /// A fixed y range; nil: the data's range, padded 5 %, clamped to `yLimits`.
    var yRange: (Double, Double)? = nil
    /// Bounds the padded range may not cross (an accuracy in % stays within 0…100, a loss ≥ 0).
    var yLimits: (lo: Double?, hi: Double?) = (nil, nil)
    /// Ticks on whole numbers of the x axis only (epochs).
    var integerX = false
    /// A value the x axis always includes (0 for epochs, so per-step curves start at the origin).
    var xIncludes: Double? = nil

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The chart as SVG text.
    func svg(width: Double = 640, height: Double = 400) -> String {
        var s = PlotFigure.header(width: width, height: height)
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(PlotFigure.escape(title))</text>\n"
        draw(into: &s, left: 0, top: 0, width: width, height: height)
        return s + "</svg>\n"
    }

    /// Round tick values covering lo…hi, about `count` of them (`integer`: whole-number steps).
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5, integer: Bool = false) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        if integer { step = max(1, step.rounded(.up)) }
        var out: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 { out.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return out
    }

    /// The y range drawn: `yRange`, or the data's padded and clamped to `yLimits`.
    func yBounds(_ ys: [Double]) -> (Double, Double) {
        if let r = yRange { return r }
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        if let lo = yLimits.lo { y0 = max(y0, lo) }
        if let hi = yLimits.hi { y1 = min(y1, hi) }
        return (y0, y1)
    }

    /// Draws the panel (axes, ticks, labels, curves, legend) into the rectangle at (left, top);
    /// the title row above the plot area is left to the caller.
    func draw(into s: inout String, left: Double, top: Double, width: Double, height: Double) {
        let (l, r, t, b) = (left + 70.0, 20.0, top + 40.0, 50.0)
        let pts = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite } }
        let xs = pts.map(\.0)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        if let v = xIncludes { x0 = min(x0, v); x1 = max(x1, v) }
        if x1 <= x0 { x0 -= 1; x1 += 1 }
        let (y0, y1) = yBounds(pts.map(\.1))
        let pw = width - (l - left) - r, ph = height - (t - top) - b
        func px(_ x: Double) -> Double { l + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { t + (1 - (y - y0) / (y1 - y0)) * ph }
        s += "<rect x=\"\(l)\" y=\"\(t)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#333\"/>\n"
        for xv in Self.ticks(x0, x1, integer: integerX) {
            s += "<line x1=\"\(px(xv))\" y1=\"\(t)\" x2=\"\(px(xv))\" y2=\"\(t + ph)\" stroke=\"#eee\"/>"
            s += "<text x=\"\(px(xv))\" y=\"\(t + ph + 16)\" text-anchor=\"middle\">\(tick(xv))</text>\n"
        }
        for yv in Self.ticks(y0, y1) {
            s += "<line x1=\"\(l)\" y1=\"\(py(yv))\" x2=\"\(l + pw)\" y2=\"\(py(yv))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(l - 6)\" y=\"\(py(yv) + 4)\" text-anchor=\"end\">\(tick(yv))</text>\n"
        }
        s += "<text x=\"\(l + pw / 2)\" y=\"\(t + ph + 38)\" text-anchor=\"middle\">\(PlotFigure.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(\(left + 16),\(t + ph / 2)) rotate(-90)\" text-anchor=\"middle\">\(PlotFigure.escape(yLabel))</text>\n"
        let legendWidth = 36 + 7.5 * Double(series.map(\.name.count).max() ?? 0)
        let legendHeight = 16 * Double(series.count) + 4
        // The legend goes in the right-hand corner (top or bottom) that fewer points cross.
        func crossing(_ top: Bool) -> Int {
            pts.filter { p in
                let (x, y) = (px(p.0), py(min(max(p.1, y0), y1)))
                return x >= l + pw - legendWidth - 8 && (top ? y <= t + legendHeight + 4 : y >= t + ph - legendHeight - 4)
            }.count
        }
        let legendTop = crossing(true) <= crossing(false) ? t : t + ph - legendHeight - 2
        for (k, ser) in series.enumerated() {
            let c = ser.color ?? Self.colors[k % Self.colors.count]
            let xy = zip(ser.x, ser.y).filter { $0.0.isFinite && $0.1.isFinite }.map { (px($0.0), py(min(max($0.1, y0), y1))) }
            let p = xy.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.6\" points=\"\(p)\"/>\n"
            // Few points (per-epoch values of a short run): mark each, so that a single one shows.
            if xy.count <= 30 {
                for (x, y) in xy { s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\"/>", x, y, c) }
                s += "\n"
            }
            let ly = legendTop + 14 + Double(k) * 16, lx = l + pw - legendWidth
            s += "<rect x=\"\(lx - 4)\" y=\"\(ly - 12)\" width=\"\(legendWidth)\" height=\"16\" fill=\"white\" fill-opacity=\"0.8\"/>"
            s += "<line x1=\"\(lx)\" y1=\"\(ly - 4)\" x2=\"\(lx + 20)\" y2=\"\(ly - 4)\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(lx + 25)\" y=\"\(ly)\">\(PlotFigure.escape(ser.name))</text>\n"
        }
    }

    private func tick(_ v: Double) -> String {
        if abs(v) >= 1000 || v == v.rounded() { return String(format: "%.0f", v) }
        return abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    /// Writes the SVG to `path`, creating folders.
    func write(to path: String) throws { try PlotFigure.write(svg(), to: path) }
}

/// Several `LinePlot` panels stacked vertically under one title (loss and accuracy on panels of
/// their own, each with its own y axis).
struct PlotFigure {
    var title: String
    var panels: [LinePlot]

    func svg(width: Double = 640, panelHeight: Double = 300) -> String {
        let height = 30 + panelHeight * Double(panels.count)
        var s = Self.header(width: width, height: height)
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(Self.escape(title))</text>\n"
        for (i, p) in panels.enumerated() {
            let top = 10 + panelHeight * Double(i)
            s += "<text x=\"\(width / 2)\" y=\"\(top + 34)\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(p.title))</text>\n"
            p.draw(into: &s, left: 0, top: top + 10, width: width, height: panelHeight - 10)
        }
        return s + "</svg>\n"
    }

    func write(to path: String) throws { try Self.write(svg(), to: path) }

    static func header(width: Double, height: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }

    static func write(_ svg: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try svg.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw CommandError("cannot write plot \(path): \(error.localizedDescription)")
        }
    }
}
