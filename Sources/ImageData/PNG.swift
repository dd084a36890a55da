import CZlib
import Foundation

/// A decoded PNG image (W3C PNG specification, 2nd ed.): non-interlaced, 8 or 16 bits per
/// sample, grey, grey + alpha, RGB or RGBA (16-bit samples keep their high byte). Samples are
/// row-major, `channels` per pixel. Palette images, interlacing and other bit depths are refused
/// with a one-line `DataError`.
public struct PNGImage: Equatable, Sendable {
    public let width: Int, height: Int, channels: Int
    /// `height · width · channels` samples.
    public let samples: [UInt8]

    /// The largest image accepted (pixels), checked before anything is allocated.
    public static let maxPixels = 1 << 26

    /// Reads and decodes a PNG file.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path: path, "cannot read the file")
        }
        try self.init(bytes: [UInt8](data), name: path)
    }

    /// Decodes PNG bytes; `name` stands for the path in error messages.
    public init(bytes b: [UInt8], name: String = "<memory>") throws {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard b.count >= 8, Array(b[0..<8]) == signature else { throw DataError(path: name, "not a PNG file (no PNG signature)") }
        func u32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
        var pos = 8
        var header: (w: Int, h: Int, depth: Int, color: Int, interlace: Int)? = nil
        var idat: [UInt8] = []
        var ended = false
        while pos + 8 <= b.count && !ended {
            let length = u32(pos)
            let type = String(decoding: b[(pos + 4)..<(pos + 8)], as: UTF8.self)
            guard length >= 0, pos + 12 + length <= b.count else { throw DataError(path: name, "truncated PNG chunk '\(type)'") }
            let body = pos + 8
            switch type {
            case "IHDR":
                guard length >= 13 else { throw DataError(path: name, "PNG header too short") }
                header = (u32(body), u32(body + 4), Int(b[body + 8]), Int(b[body + 9]), Int(b[body + 12]))
            case "IDAT": idat.append(contentsOf: b[body..<(body + length)])
            case "IEND": ended = true
            default: break
            }
            pos = body + length + 4   // skip the CRC
        }
        guard let h = header else { throw DataError(path: name, "PNG without a header chunk") }
        let channelsOf = [0: 1, 2: 3, 4: 2, 6: 4]
        guard let channels = channelsOf[h.color] else {
            throw DataError(path: name, "PNG colour type \(h.color) (palette or invalid) is not supported; save it as greyscale or RGB")
        }
        guard h.depth == 8 || h.depth == 16 else { throw DataError(path: name, "PNG bit depth \(h.depth) is not supported (8 or 16)") }
        guard h.interlace == 0 else { throw DataError(path: name, "interlaced PNG is not supported") }
        guard h.w > 0, h.h > 0, h.w <= Self.maxPixels, h.h <= Self.maxPixels, h.w * h.h <= Self.maxPixels else { throw DataError(path: name, "PNG size \(h.w)×\(h.h) is empty or too large") }
        guard !idat.isEmpty else { throw DataError(path: name, "PNG without image data") }
        let bpp = channels * h.depth / 8, stride = h.w * bpp
        var raw = [UInt8](repeating: 0, count: h.h * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            idat.withUnsafeBufferPointer { inp in uncompress(out.baseAddress, &rawLength, inp.baseAddress, uLong(inp.count)) }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else {
            throw DataError(path: name, "PNG image data is corrupt or the wrong size (zlib status \(status))")
        }
        // Undo the per-row filters (None, Sub, Up, Average, Paeth).
        var pixels = [UInt8](repeating: 0, count: h.h * stride)
        for y in 0..<h.h {
            let filter = raw[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride
            for x in 0..<stride {
                let a = x >= bpp ? Int(pixels[dst + x - bpp]) : 0
                let up = y > 0 ? Int(pixels[dst - stride + x]) : 0
                let c = x >= bpp && y > 0 ? Int(pixels[dst - stride + x - bpp]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = up
                case 3: predictor = (a + up) / 2
                case 4:
                    let p = a + up - c, pa = abs(p - a), pb = abs(p - up), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? up : c)
                default: throw DataError(path: name, "PNG row \(y) has an invalid filter type \(filter)")
                }
                pixels[dst + x] = UInt8((Int(raw[src + x]) + predictor) & 0xFF)
            }
        }
        width = h.w; height = h.h; self.channels = channels
        samples = h.depth == 8 ? pixels : stride2(pixels)
    }
}

/// The high byte of every 16-bit big-endian sample.
private func stride2(_ p: [UInt8]) -> [UInt8] { Swift.stride(from: 0, to: p.count, by: 2).map { p[$0] } }
