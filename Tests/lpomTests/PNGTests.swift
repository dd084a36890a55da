import CZlib
import Foundation
import LiftedTrain
import TestSupport
import XCTest
@testable import lpom

/// A PNG read back with the system zlib, independently of `PNG.encode`: signature, chunk
/// order, every chunk's CRC-32 (zlib's `crc32`), IHDR, and the pixels of the IDAT stream
/// (zlib's `uncompress`, which checks the deflate blocks and the Adler-32), filter type 0.
struct DecodedPNG {
    var width = 0, height = 0, bitDepth = 0, colorType = 0
    var pixels: [UInt8] = []
    var channels: Int { colorType == 2 ? 3 : 1 }

    init(_ bytes: [UInt8]) throws {
        func fail(_ s: String) -> Error { CommandError("PNG: \(s)") }
        func be32(_ i: Int) -> Int { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw fail("bad signature") }
        var chunks: [(type: String, data: [UInt8])] = []
        var i = 8
        while i + 12 <= bytes.count {
            let length = be32(i)
            guard i + 12 + length <= bytes.count else { throw fail("chunk at \(i) runs past the end") }
            let body = Array(bytes[(i + 4)..<(i + 8 + length)])
            let crc = body.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) }
            guard crc == UInt(be32(i + 8 + length)) else { throw fail("CRC mismatch in chunk at \(i)") }
            chunks.append((String(decoding: body[0..<4], as: UTF8.self), Array(body[4...])))
            i += 12 + length
        }
        guard i == bytes.count else { throw fail("\(bytes.count - i) trailing bytes") }
        guard chunks.first?.type == "IHDR", chunks.first?.data.count == 13, chunks.last?.type == "IEND" else {
            throw fail("chunks \(chunks.map(\.type)): IHDR first and IEND last expected")
        }
        let h = chunks[0].data
        let header = h[0..<8].reduce(0) { $0 << 8 | Int($1) }
        (width, height, bitDepth, colorType) = (header >> 32, header & 0xFFFF_FFFF, Int(h[8]), Int(h[9]))
        guard bitDepth == 8, [0, 2].contains(colorType), h[10] == 0, h[11] == 0, h[12] == 0 else {
            throw fail("IHDR depth \(bitDepth) colour \(colorType) methods \(h[10...])")
        }
        let z = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        let row = width * channels + 1
        var raw = [UInt8](repeating: 0, count: row * height + 1)
        var length = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { r in
            z.withUnsafeBufferPointer { CZlib.uncompress(r.baseAddress, &length, $0.baseAddress, uLong($0.count)) }
        }
        guard status == Z_OK, Int(length) == row * height else {
            throw fail("zlib status \(status), \(length) bytes inflated for \(row * height)")
        }
        for y in 0..<height {
            guard raw[y * row] == 0 else { throw fail("row \(y) has filter \(raw[y * row])") }
            pixels += raw[(y * row + 1)..<((y + 1) * row)]
        }
    }
}

/// `PNG.encode` against golden files written by `scripts/make_golden_png.py` (Python's zlib and
/// struct), and `ImageGrid` / `SampleGrid`: layout, the PNG they write, and their SVG wrappers.
final class PNGTests: CLITestCase {
    func golden(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixtures + "/png/" + name)))
    }

    func testSmallImagesMatchTheGoldenFilesByteForByte() throws {
        var grey: [UInt8] = []
        for y in 0..<3 { for x in 0..<5 { grey.append(UInt8((37 * x + 91 * y + 11) % 256)) } }
        XCTAssertEqual([UInt8](PNG.encode(grey, width: 5, height: 3, channels: 1, deflate: false)), try golden("gray-5x3.png"))
        var rgb: [UInt8] = []
        for y in 0..<2 {
            for x in 0..<3 {
                let r: Int = (50 * x + 20 * y) % 256, g: Int = (200 - 30 * x + 256) % 256, b: Int = (7 * x * y + 128) % 256
                rgb += [UInt8(r), UInt8(g), UInt8(b)]
            }
        }
        XCTAssertEqual([UInt8](PNG.encode(rgb, width: 3, height: 2, channels: 3, deflate: false)), try golden("rgb-3x2.png"))
        let decoded = try DecodedPNG(try golden("rgb-3x2.png"))
        XCTAssertEqual([decoded.width, decoded.height, decoded.channels], [3, 2, 3])
        XCTAssertEqual(decoded.pixels, rgb)
    }

    /// Images whose scanlines need several stored deflate blocks (at most 65535 bytes each),
    /// including a size that fills its blocks exactly, decode to the same pixels.
    func testLargeImagesSpanSeveralBlocksAndDecode() throws {
        var rng = SplitMix64(seed: 5)
        // (254 + 1)·514 = 131070 = 2·65535 bytes: two full blocks. 300×250 RGB: four blocks.
        for (w, h, c) in [(254, 514, 1), (300, 250, 3), (1, 1, 1)] {
            let px = (0..<(w * h * c)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let png = try DecodedPNG([UInt8](PNG.encode(px, width: w, height: h, channels: c, deflate: false)))
            XCTAssertEqual([png.width, png.height, png.channels], [w, h, c])
            XCTAssertTrue(png.pixels == px, "\(w)×\(h)×\(c): pixels differ after decoding")
        }
    }

    func testImageGridLaysOutTargetsAboveReconstructions() throws {
        // Two 2×3 grey pairs: targets 0.1·(k+1), reconstructions 0.5 + 0.1·k (k = pixel index).
        let n = 6
        let targets = Tensor<Float>(shape: [2, n], data: (0..<12).map { Float($0 % n + 1) / 10 + Float($0 / n) * 0.05 })
        let recon = Tensor<Float>(shape: [2, n], data: (0..<12).map { 0.5 + Float($0 % n) / 10 })
        let grid = ImageGrid(targets: targets, reconstructions: recon, shape: [1, 2, 3])
        let (data, width, height, channels) = grid.pixels()
        // Width 2·(3 + 2) + 2, height 2·(2 + 2) + 2 + 2.
        XCTAssertEqual([width, height, channels], [12, 12, 1])
        func at(_ x: Int, _ y: Int) -> UInt8 { data[y * width + x] }
        XCTAssertEqual(at(2, 2), UInt8((0.1 * 255 as Float).rounded()))                   // target 0, pixel 0
        XCTAssertEqual(at(4, 3), UInt8((0.6 * 255 as Float).rounded()))                   // target 0, pixel 5
        XCTAssertEqual(at(2, 6), UInt8((0.5 * 255 as Float).rounded()))                   // its reconstruction
        XCTAssertEqual(at(7, 2), UInt8(((0.1 + 0.05) * 255 as Float).rounded()))          // target 1
        XCTAssertEqual([at(0, 0), at(5, 2), at(2, 4), at(11, 11)], [255, 255, 255, 255]) // gaps stay white
        try grid.write(to: dir + "/grid.png")
        let png = try DecodedPNG([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/grid.png"))))
        XCTAssertEqual([png.width, png.height], [4 * 12, 4 * 12], "written 4× by default")
        XCTAssertEqual(png.pixels, PNG.upscale(data, width: 12, height: 12, channels: 1, by: 4).pixels)
        if png.pixels.count == 48 * 48 {
            XCTAssertEqual(png.pixels[(4 * 2 + 3) * 48 + 4 * 2 + 3], at(2, 2), "pixel (2, 2) fills the block at (8…11, 8…11)")
        }
        try grid.write(to: dir + "/grid.svg")
        XCTAssertEqual(try embeddedPNG(dir + "/grid.svg").pixels, data)
    }

    func testSampleGridClampsAndWritesPNGAndSVG() throws {
        let images: [[Float]] = [[0, 1, 0.5, 2], [-1, .nan, 0.25, 1]]
        let grid = SampleGrid(images: images, side: 2, columns: 3, gap: 1)
        let (w, h, bytes) = grid.pixels()
        XCTAssertEqual([w, h], [3 * 2 + 4, 2 + 2])
        XCTAssertEqual(Array(bytes[(1 * w + 1)...(1 * w + 2)]), [0, 255])      // image 0, row 0
        XCTAssertEqual(Array(bytes[(2 * w + 1)...(2 * w + 2)]), [128, 255])    // 0.5 rounds up; 2 clamps
        XCTAssertEqual(Array(bytes[(1 * w + 4)...(1 * w + 5)]), [0, 0])        // −1 clamps; NaN is black
        XCTAssertEqual(bytes[(1 * w + 7)], 255, "the empty third cell stays white")
        XCTAssertEqual(try DecodedPNG(grid.png()).pixels, bytes)
        try grid.write(to: dir + "/samples.png")
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/samples.png"))), grid.png(scale: 4))
        XCTAssertEqual(try DecodedPNG(grid.png(scale: 4)).width, 4 * w)
        try grid.write(to: dir + "/samples.svg")
        XCTAssertEqual(try embeddedPNG(dir + "/samples.svg").pixels, bytes)
    }

    /// Written PNGs are deflated by zlib: a smooth 8-bit image shrinks well below its raw size, a
    /// random one not much past it, and both decode (through zlib's own inflate) to their pixels.
    func testPNGsAreDeflatedAndUpscaledLosslessly() throws {
        var rng = SplitMix64(seed: 9)
        let smooth: [UInt8] = (0..<(280 * 280)).map { (i: Int) -> UInt8 in UInt8((i % 280) * 255 / 279) }
        let noise = (0..<(64 * 64 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let s = [UInt8](PNG.encode(smooth, width: 280, height: 280, channels: 1))
        XCTAssertLessThan(s.count, smooth.count / 20, "a gradient deflates")
        XCTAssertEqual(try DecodedPNG(s).pixels, smooth)
        let n = [UInt8](PNG.encode(noise, width: 64, height: 64, channels: 3))
        XCTAssertEqual(try DecodedPNG(n).pixels, noise)
        XCTAssertLessThan(n.count, noise.count + 200)
        let up = PNG.upscale([1, 2, 3, 4], width: 2, height: 2, channels: 1, by: 3)
        XCTAssertEqual([up.width, up.height], [6, 6])
        let top: [UInt8] = [1, 1, 1, 2, 2, 2], bottom: [UInt8] = [3, 3, 3, 4, 4, 4]
        XCTAssertEqual(up.pixels, top + top + top + bottom + bottom + bottom)
    }

    /// The PNG inside an SVG's `<image href="data:image/png;base64,…">`, after checking that
    /// the SVG parses as XML.
    func embeddedPNG(_ path: String) throws -> DecodedPNG {
        let xml = try XMLElements(String(contentsOfFile: path, encoding: .utf8))
        XCTAssertEqual(xml.elements.first?.name, "svg")
        let prefix = "data:image/png;base64,"
        let href = try XCTUnwrap(xml.named("image").first?.attributes["href"])
        XCTAssertTrue(href.hasPrefix(prefix))
        return try DecodedPNG([UInt8](try XCTUnwrap(Data(base64Encoded: String(href.dropFirst(prefix.count))))))
    }
}
