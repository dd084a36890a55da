import CZlib
import Foundation
import LiftedTrain

/// Targets beside reconstructions: a grid of up to 32 pairs (a row of targets above a row of
/// their reconstructions, 8 to a row), pixels in [0, 1] clamped, written as PNG or as SVG with
/// the PNG embedded.
struct ImageGrid {
    let targets: Tensor<Float>
    let reconstructions: Tensor<Float>
    /// [C, H, W] of one image (C = 3 is RGB; otherwise the first channel, grey).
    let shape: [Int]
    /// Each pixel becomes a scale × scale block in a `.png` (a 28 × 28 digit is 112 px at 4).
    var scale = PNG.defaultScale

    static let perRow = 8, maxPairs = 32, gap = 2

    /// The grid as 8-bit pixels (grey or RGB) and its size.
    func pixels() -> (data: [UInt8], width: Int, height: Int, channels: Int) {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let ch = c == 3 ? 3 : 1
        let pairs = min(Self.maxPairs, targets.rows)
        let cols = min(Self.perRow, max(1, pairs)), bands = (pairs + Self.perRow - 1) / Self.perRow
        let width = cols * (w + Self.gap) + Self.gap
        let height = bands * 2 * (h + Self.gap) + bands * Self.gap + Self.gap
        var out = [UInt8](repeating: 255, count: width * height * ch)
        let n = targets.cols
        func draw(_ t: Tensor<Float>, _ i: Int, x0: Int, y0: Int) {
            for y in 0..<h {
                for x in 0..<w {
                    for q in 0..<ch {
                        let v = t.data[i * n + (q * h + y) * w + x]
                        out[((y0 + y) * width + x0 + x) * ch + q] = UInt8(max(0, min(255, (v * 255).rounded())))
                    }
                }
            }
        }
        for i in 0..<pairs {
            let col = i % Self.perRow, band = i / Self.perRow
            let x0 = Self.gap + col * (w + Self.gap)
            let y0 = Self.gap + band * (2 * (h + Self.gap) + Self.gap)
            draw(targets, i, x0: x0, y0: y0)
            draw(reconstructions, i, x0: x0, y0: y0 + h + Self.gap)
        }
        return (out, width, height, ch)
    }

    /// Writes `.png`, or `.svg` embedding the PNG with a caption.
    func write(to path: String) throws {
        let (data, width, height, ch) = pixels()
        let png = PNG.encode(data, width: width, height: height, channels: ch)
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let bytes: Data
        if path.hasSuffix(".png") {
            let big = PNG.upscale(data, width: width, height: height, channels: ch, by: scale)
            bytes = PNG.encode(big.pixels, width: big.width, height: big.height, channels: ch)
        } else {
            let s = 4, caption = 28
            var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width * s)\" height=\"\(height * s + caption)\" font-family=\"sans-serif\" font-size=\"13\">\n"
            svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            svg += "<text x=\"6\" y=\"18\">targets (upper row of each pair) and reconstructions G(x̂) (lower row)</text>\n"
            svg += "<image x=\"0\" y=\"\(caption)\" width=\"\(width * s)\" height=\"\(height * s)\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(png.base64EncodedString())\"/>\n</svg>\n"
            bytes = Data(svg.utf8)
        }
        do { try bytes.write(to: url) } catch { throw CommandError("cannot write grid \(path): \(error.localizedDescription)") }
    }
}

/// A minimal PNG encoder: 8-bit grey or RGB, filter 0, the scanlines deflated by zlib
/// (`compress2`, level 9), or in stored (uncompressed) blocks with `deflate: false`.
enum PNG {
    /// The upscale factor of written grids: 28-pixel digits become 112 px.
    static let defaultScale = 4

    static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int, deflate: Bool = true) -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity((width * channels + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(y * width * channels)..<((y + 1) * width * channels)])
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, channels == 3 ? 2 : 0, 0, 0, 0])
        out += chunk("IDAT", (deflate ? compressed(raw) : nil) ?? stored(raw))
        out += chunk("IEND", [])
        return Data(out)
    }

    /// A zlib stream of `raw` from the linked zlib; nil if zlib fails (then stored blocks are used).
    static func compressed(_ raw: [UInt8]) -> [UInt8]? {
        var length = compressBound(uLong(raw.count))
        var z = [UInt8](repeating: 0, count: Int(length))
        let status = z.withUnsafeMutableBufferPointer { zp in
            raw.withUnsafeBufferPointer { compress2(zp.baseAddress, &length, $0.baseAddress, uLong($0.count), 9) }
        }
        guard status == Z_OK else { return nil }
        return Array(z.prefix(Int(length)))
    }

    /// A zlib stream of stored deflate blocks (at most 65535 bytes each) and the Adler-32.
    static func stored(_ raw: [UInt8]) -> [UInt8] {
        var z: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let len = min(65_535, raw.count - i)
            let last: UInt8 = i + len >= raw.count ? 1 : 0
            z += [last, UInt8(len & 0xff), UInt8(len >> 8), UInt8(~len & 0xff), UInt8((~len >> 8) & 0xff)]
            z += raw[i..<(i + len)]
            i += len
        } while i < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for v in raw { a = (a + UInt32(v)) % 65_521; b = (b + a) % 65_521 }
        return z + be32((b << 16) | a)
    }

    /// Each pixel as a `factor` × `factor` block (nearest neighbour), for grids people can read.
    static func upscale(_ pixels: [UInt8], width: Int, height: Int, channels: Int, by factor: Int)
        -> (pixels: [UInt8], width: Int, height: Int) {
        let f = max(1, factor)
        guard f > 1 else { return (pixels, width, height) }
        let w = width * f, rowBytes = w * channels
        var out = [UInt8](repeating: 0, count: rowBytes * height * f)
        for y in 0..<height {
            var row = [UInt8](repeating: 0, count: rowBytes)
            for x in 0..<width {
                for q in 0..<channels {
                    let v = pixels[(y * width + x) * channels + q]
                    for k in 0..<f { row[(x * f + k) * channels + q] = v }
                }
            }
            for k in 0..<f { out.replaceSubrange(((y * f + k) * rowBytes)..<((y * f + k + 1) * rowBytes), with: row) }
        }
        return (out, w, height * f)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
