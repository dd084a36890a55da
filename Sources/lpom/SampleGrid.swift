import Foundation

/// A grid of grayscale images (values in [0, 1]) written as PNG, or as SVG embedding that PNG.
struct SampleGrid {
    /// Images, each `side × side` row-major.
    var images: [[Float]]
    var side: Int
    var columns = 8
    var gap = 2

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

    /// PNG bytes (8-bit grayscale, uncompressed deflate blocks: no zlib needed).
    func png() -> [UInt8] {
        let (w, h, px) = pixels()
        var raw: [UInt8] = []
        raw.reserveCapacity((w + 1) * h)
        for y in 0..<h { raw.append(0); raw.append(contentsOf: px[(y * w)..<((y + 1) * w)]) }
        var z: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65_535, raw.count - i)
            let final: UInt8 = i + n >= raw.count ? 1 : 0
            z.append(final)
            z.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)])
            z.append(contentsOf: raw[i..<(i + n)])
            i += n
        } while i < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        z.append(contentsOf: be32((b << 16) | a))
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", be32(UInt32(w)) + be32(UInt32(h)) + [8, 0, 0, 0, 0])
        out += chunk("IDAT", z)
        out += chunk("IEND", [])
        return out
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
            try data.write(to: URL(fileURLWithPath: path))
        }
    }

    private func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    private func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        return be32(UInt32(body.count)) + t + body + be32(crc32(t + body))
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
