import Foundation

/// A grid of grayscale images (values in [0, 1]) written as PNG, or as SVG embedding that PNG.
struct SampleGrid {
    /// Images, each `side × side` row-major.
    var images: [[Float]]
    var side: Int
    var columns = 8
    var gap = 2
    /// Each pixel becomes a scale × scale block in a `.png`.
    var scale = PNG.defaultScale

    /// The grid as 8-bit pixel rows (white gaps).
    func pixels() -> (width: Int, height: Int, bytes: [UInt8]) {
        let rows = (images.count + columns - 1) / columns
        let w = columns * side + (columns + 1) * gap, h = rows * side + (rows + 1) * gap
        var out = [UInt8](repeating: 255, count: w * h)
        for (k, img) in images.enumerated() {
            let x0 = gap + (k % columns) * (side + gap), y0 = gap + (k / columns) * (side + gap)
            for r in 0..<side {
                for c in 0..<side {
                    let v = img[r * side + c]
                    out[(y0 + r) * w + x0 + c] = UInt8(max(0, min(255, (v.isFinite ? v : 0) * 255)).rounded())
                }
            }
        }
        return (w, h, out)
    }

    /// PNG bytes (8-bit grayscale, deflated; `PNG.encode`, shared with `lpom surf --grid`), each
    /// pixel a `scale` × `scale` block.
    func png(scale: Int = 1) -> [UInt8] {
        let (w, h, px) = pixels()
        let big = PNG.upscale(px, width: w, height: h, channels: 1, by: scale)
        return [UInt8](PNG.encode(big.pixels, width: big.width, height: big.height, channels: 1))
    }

    /// Writes `.png`, or `.svg` (the PNG embedded, scaled 3× without smoothing).
    func write(to path: String) throws {
        let data = Data(png())
        if path.hasSuffix(".svg") {
            let (w, h, _) = pixels()
            let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(3 * w)" height="\(3 * h)" viewBox="0 0 \(w) \(h)">
            <image width="\(w)" height="\(h)" style="image-rendering:pixelated" href="data:image/png;base64,\(data.base64EncodedString())"/>
            </svg>

            """
            try svg.write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            try Data(png(scale: scale)).write(to: URL(fileURLWithPath: path))
        }
    }
}
