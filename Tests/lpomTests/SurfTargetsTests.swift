import Foundation
import HistoryStore
import ImageData
import LiftedTrain
import Surfing
import TestSupport
import XCTest
@testable import lpom

/// `lpom surf --targets FILE` and `--save FILE`, and the readers behind them (PNG, .npy).
final class SurfTargetsTests: CLITestCase {
    /// The h5py-written generator: k = 3, output 6×6 = 36 pixels.
    let generator = CLITestCase.root + "/data/fixtures/h5py-generator.h5"

    /// A float64 or uint8 `.npy` file written byte by byte from NumPy's format description
    /// (magic, version 1.0, little-endian header length, dict padded to 64 bytes, C-order data).
    func writeNPY(_ path: String, shape: [Int], doubles: [Double]? = nil, bytes: [UInt8]? = nil) throws {
        let descr = doubles != nil ? "<f8" : "|u1"
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        if let doubles { for d in doubles { withUnsafeBytes(of: d.bitPattern.littleEndian) { out += $0 } } }
        if let bytes { out += bytes }
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    /// Latents in a .npy file → inverted, saved; the saved file holds x̂, G(x̂), x* and the
    /// per-trial numbers of the run, and its `generated` dataset read back as image targets gives
    /// exactly those images as the trials' signals. Fails if --save wrote rows out of order or
    /// G(x̂) of another snapshot, or if --targets mis-scaled float pixels.
    func testLatentTargetsSaveAndReadBack() throws {
        let latents: [Double] = [0.3, -0.2, 0.5, -0.7, 0.1, 0.9]
        try writeNPY(dir + "/x.npy", shape: [2, 3], doubles: latents)
        let args = [generator, "--targets", dir + "/x.npy", "--steps", "1500", "--seed", "4", "--quiet"]
        let setup = try SurfSetup(SurfCommand.parse(args))
        XCTAssertEqual(setup.trials.count, 2)
        assertClose(setup.trials.truth!.data.map(Double.init), latents, rtol: 1e-7, atol: 1e-7)
        let results = try setup.inverter.run(setup.trials)
        var c = try SurfCommand.parse(args + ["--save", dir + "/out.h5", "--json"])
        _ = try capturingStandardOutput { try c.run() }
        let x = try HDF5Arrays.read(path: dir + "/out.h5", dataset: "x_hat")
        XCTAssertEqual(x.shape, [2, 3])
        assertClose(x.values, results.flatMap(\.x), rtol: 1e-6, atol: 1e-6)
        let star = try HDF5Arrays.read(path: dir + "/out.h5", dataset: "x_star")
        assertClose(star.values, latents, rtol: 1e-7, atol: 1e-7)
        let it = try HDF5Arrays.read(path: dir + "/out.h5", dataset: "iterations")
        XCTAssertEqual(it.values, results.map { Double($0.iterations) })
        let ok = try HDF5Arrays.read(path: dir + "/out.h5", dataset: "success")
        XCTAssertEqual(ok.values, results.map { $0.success == true ? 1 : 0 })
        let g = try HDF5Arrays.read(path: dir + "/out.h5", dataset: "generated")
        XCTAssertEqual(g.shape, [2, 36])
        let expected = setup.problem.generate(Tensor(shape: [2, 3], data: x.values.map(Float.init)))
        assertClose(g.values, expected.data.map(Double.init), rtol: 1e-6, atol: 1e-6)
        // The saved images as targets (an HDF5 dataset of floats in [0, 1]).
        let back = try SurfSetup(SurfCommand.parse([generator, "--targets", dir + "/out.h5:generated", "--quiet"]))
        XCTAssertNil(back.trials.truth)
        assertClose(back.trials.signals.data.map(Double.init), g.values, rtol: 1e-7, atol: 1e-7)
        XCTAssertEqual(back.settings.plateauWindow, 1000, "x* unknown: a plateau stops the final phase")
        // --save never overwrites.
        XCTAssertNotNil(parseError(SurfCommand.self, args + ["--save", dir + "/out.h5"]))
    }

    /// uint8 pixels are divided by 255 (the history's data scale).
    func testIntegerPixelsAreScaled() throws {
        let pixels = (0..<72).map { UInt8(($0 * 7) % 256) }
        try writeNPY(dir + "/y.npy", shape: [2, 6, 6], bytes: pixels)
        let s = try SurfSetup(SurfCommand.parse([generator, "--targets", dir + "/y.npy", "--quiet"]))
        assertClose(s.trials.signals.data.map(Double.init), pixels.map { Double($0) / 255 }, rtol: 1e-6, atol: 1e-7)
    }

    /// One line and a non-zero exit for each bad target file.
    func testBadTargetsAreRefusedInOneLine() throws {
        try writeNPY(dir + "/wide.npy", shape: [2, 5], doubles: [Double](repeating: 0.1, count: 10))
        try writeNPY(dir + "/nan.npy", shape: [1, 36], doubles: [Double](repeating: 0.5, count: 35) + [.nan])
        try writeNPY(dir + "/big.npy", shape: [1, 36], doubles: [Double](repeating: 2, count: 36))
        try Data("not an image\n".utf8).write(to: URL(fileURLWithPath: dir + "/note.txt"))
        let png = CLITestCase.root + "/data/fixtures/png/gray-filters-28x28.png"
        let cases: [(String, String)] = [
            (dir + "/wide.npy", "rows hold 5 values"), (dir + "/nan.npy", "NaN"), (dir + "/big.npy", "outside [0, 1]"),
            (dir + "/note.txt", "not a PNG, .npy, HDF5 or IDX file"), (png, "28×28, the generator outputs 6×6"),
            (dir + "/none.npy", "no such file"),
        ]
        for (file, expected) in cases {
            var c = try SurfCommand.parse([generator, "--targets", file, "--quiet"])
            do {
                try c.run()
                XCTFail("\(file) accepted")
            } catch {
                let message = SurfCommand.message(for: error)
                XCTAssertTrue(message.contains(expected), "\(file): \(message)")
                XCTAssertFalse(message.contains("\n"), "one line: \(message)")
            }
        }
    }

    /// The PNG decoder on a fixture written by scripts/make_filtered_png.py (standard-library
    /// Python, every row filter type 0–4): pixel (y, x) = (7x + 11y + xy) mod 256. Fails if any
    /// filter is undone wrongly (e.g. Paeth's tie order, or Average rounding up).
    func testPNGDecoderUndoesEveryFilter() throws {
        let image = try PNGImage(path: CLITestCase.root + "/data/fixtures/png/gray-filters-28x28.png")
        XCTAssertEqual([image.width, image.height, image.channels], [28, 28, 1])
        var expected: [UInt8] = []
        for y in 0..<28 { for x in 0..<28 { expected.append(UInt8((7 * x + 11 * y + x * y) % 256)) } }
        XCTAssertEqual(image.samples, expected)
        XCTAssertThrowsError(try PNGImage(bytes: [1, 2, 3], name: "x")) { XCTAssertTrue("\($0)".contains("not a PNG")) }
    }
}
